"""Ingest benchmark: the plain libraries against our engine, in one run.

For Exchange-like feeds of 100, 1,000 and 10,000 events (``bench/generate.py``)
it measures, over the same 120-day window:

- naive: ``icalendar.Calendar.from_ical`` + ``recurring_ical_events.of(cal).between``
- ours: ``read_calendar`` + ``expand`` (plus ``body_fingerprint``, the cost of
  recognising an unchanged feed)

Each measurement runs in a fresh Python process, so that neither path profits
from the other's caches and peak memory (max RSS) is the path's own.

    .venv/bin/python -m bench.ingest                 # 100, 1000, 10000
    .venv/bin/python -m bench.ingest --sizes 100 1000
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
import warnings
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from bench.generate import FeedSpec, generate_feed, window

DEFAULT_SIZES = (100, 1_000, 10_000)


def measure(path_name: str, feed: Path, events: int) -> dict[str, Any]:
    """Run one path on one feed in this process; time, count and peak RSS."""
    data = feed.read_bytes()
    start, end = window(FeedSpec(events))
    _import(path_name)  # imports are not part of the measured work
    baseline = _rss_mib()
    began, began_cpu = time.perf_counter(), time.process_time()
    count = (_naive if path_name == "naive" else _ours)(data, start, end)
    result: dict[str, Any] = {
        "seconds": time.perf_counter() - began,
        "cpu_seconds": time.process_time() - began_cpu,
        "occurrences": count,
    }
    if path_name == "ours":
        from app.feeds.engine import body_fingerprint

        began = time.perf_counter()
        body_fingerprint(data)
        result["fingerprint_seconds"] = time.perf_counter() - began
    result["peak_rss_mib"] = _rss_mib()
    result["work_mib"] = result["peak_rss_mib"] - baseline
    return result


def _rss_mib() -> float:
    """Peak resident memory of this process so far (Linux reports KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _import(path_name: str) -> None:
    if path_name == "naive":
        import icalendar  # noqa: F401
        import recurring_ical_events  # noqa: F401
    else:
        import app.feeds.engine  # noqa: F401


def _naive(data: bytes, start: Any, end: Any) -> int:
    import icalendar
    import recurring_ical_events

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        calendar = icalendar.Calendar.from_ical(data)
        return len(recurring_ical_events.of(calendar).between(start, end))


def _ours(data: bytes, start: Any, end: Any) -> int:
    from app.feeds.engine import expand, read_calendar

    parsed = read_calendar(data)
    return len(expand(parsed, start, end, default_tz=ZoneInfo("UTC")))


def _child(path_name: str, feed: Path, events: int) -> dict[str, Any]:
    command = [sys.executable, "-m", "bench.ingest", "--child", path_name, str(feed), str(events)]
    completed = subprocess.run(command, capture_output=True, text=True, check=True)
    return json.loads(completed.stdout)


def run(sizes: tuple[int, ...]) -> list[dict[str, Any]]:
    rows = []
    with tempfile.TemporaryDirectory() as folder:
        for events in sizes:
            feed = Path(folder) / f"feed-{events}.ics"
            feed.write_bytes(generate_feed(FeedSpec(events)))
            naive = _child("naive", feed, events)
            ours = _child("ours", feed, events)
            rows.append(
                {
                    "events": events,
                    "mib": feed.stat().st_size / 2**20,
                    "naive": naive,
                    "ours": ours,
                    "ratio": naive["seconds"] / ours["seconds"],
                    "cpu_ratio": naive["cpu_seconds"] / ours["cpu_seconds"],
                }
            )
            _print_row(rows[-1])
    return rows


def _print_row(row: dict[str, Any]) -> None:
    naive, ours = row["naive"], row["ours"]
    print(
        f"{row['events']:>7,} events {row['mib']:6.1f} MiB | "
        f"naive {naive['seconds']:7.2f} s (cpu {naive['cpu_seconds']:6.2f}) "
        f"+{naive['work_mib']:4.0f} MiB {naive['occurrences']:>5} occ | "
        f"ours {ours['seconds']:6.2f} s (cpu {ours['cpu_seconds']:5.2f}) "
        f"+{ours['work_mib']:4.0f} MiB {ours['occurrences']:>5} occ | "
        f"{row['ratio']:5.1f}x faster (cpu {row['cpu_ratio']:4.1f}x) | "
        f"unchanged-feed hash {ours['fingerprint_seconds'] * 1000:.0f} ms",
        flush=True,
    )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=list(DEFAULT_SIZES))
    parser.add_argument(
        "--child", nargs=3, metavar=("PATH", "FEED", "EVENTS"), help=argparse.SUPPRESS
    )
    args = parser.parse_args(argv)
    if args.child:
        path_name, feed, events = args.child
        print(json.dumps(measure(path_name, Path(feed), int(events))))
        return
    print(
        "Window: 120 days (90 back, 30 ahead). Wall and CPU seconds of the work alone "
        "(imports excluded). Memory: growth of each process's peak RSS over its RSS "
        "after imports (importing app pulls in Flask, ~45 MiB, not counted). Our path "
        "finds a few more occurrences: the last days of Exchange all-day series."
    )
    run(tuple(args.sizes))


if __name__ == "__main__":
    main()
