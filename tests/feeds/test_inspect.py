"""``timepulse feeds inspect``: the JSON contract, the table, exit codes."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from app.feeds.inspect_cli import inspect
from tests.feeds.conftest import CALENDARS
from tests.support.feed_server import FeedServer

ROOT = Path(__file__).resolve().parents[2]
JUNE = ("--from", "2025-06-01", "--to", "2025-07-01")


def run(*args: str, stdin: bytes | None = None, env: dict[str, str] | None = None):  # type: ignore[no-untyped-def]
    return CliRunner().invoke(inspect, list(args), input=stdin, env=env)


def test_json_contract() -> None:
    result = run(str(CALENDARS / "exchange_allday_until.ics"), *JUNE, "--tz", "Europe/Berlin")
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    assert set(report) == {"prodid", "events", "detail_level", "diagnostics", "occurrences"}
    assert report["prodid"] == "Microsoft Exchange Server 2010"
    assert report["events"] == 2
    assert report["detail_level"] in ("availability_only", "limited", "full", "unknown")
    first = report["occurrences"][0]
    assert first == {
        "uid": "040000008200E00074C5B7101A82E0080000000011",
        "recurrence_id": "2025-06-04",
        "start": "2025-06-04",
        "end": "2025-06-05",
        "all_day": True,
        "summary": "Away",
        "location": "",
        "busy_status": "OOF",
        "status": None,
        "private": False,
    }
    assert report["occurrences"][-1]["start"] == "2025-06-27"


def test_timed_occurrences_in_the_chosen_zone_and_cancelled_hidden() -> None:
    ics = (
        b"BEGIN:VCALENDAR\nVERSION:2.0\nPRODID:-//t//EN\n"
        b"BEGIN:VEVENT\nUID:a\nSUMMARY:Call\nDTSTART:20250610T080000Z\nDTEND:20250610T090000Z\nEND:VEVENT\n"
        b"BEGIN:VEVENT\nUID:b\nSUMMARY:Gone\nSTATUS:CANCELLED\nDTSTART:20250611T080000Z\nEND:VEVENT\n"
        b"END:VCALENDAR\n"
    )
    shown = json.loads(run("-", *JUNE, "--tz", "America/New_York", stdin=ics).output)
    assert [(o["uid"], o["start"], o["end"]) for o in shown["occurrences"]] == [
        ("a", "2025-06-10T04:00:00-04:00", "2025-06-10T05:00:00-04:00")
    ]
    everything = json.loads(run("-", *JUNE, "--include-cancelled", stdin=ics).output)
    assert [o["status"] for o in everything["occurrences"]] == [None, "CANCELLED"]
    assert everything["occurrences"][1]["start"] == "2025-06-11T08:00:00+00:00"


def test_window_is_local_dates_of_tz() -> None:
    ics = (
        b"BEGIN:VCALENDAR\nVERSION:2.0\nBEGIN:VEVENT\nUID:late\nSUMMARY:x\n"
        b"DTSTART:20250601T230000Z\nDTEND:20250601T233000Z\nEND:VEVENT\nEND:VCALENDAR\n"
    )
    # 23:00 UTC on 1 June is already 2 June in Tokyo.
    tokyo = json.loads(
        run(
            "-", "--from", "2025-06-02", "--to", "2025-06-03", "--tz", "Asia/Tokyo", stdin=ics
        ).output
    )
    utc = json.loads(run("-", "--from", "2025-06-02", "--to", "2025-06-03", stdin=ics).output)
    assert len(tokyo["occurrences"]) == 1 and utc["occurrences"] == []


def test_diagnostics_listed_and_exit_zero() -> None:
    result = run(str(CALENDARS / "exchange_malformed.ics"), *JUNE)
    assert result.exit_code == 0
    codes = {d["code"] for d in json.loads(result.output)["diagnostics"]}
    assert {"series_skipped", "series_repaired", "timezone_unknown"} <= codes


def test_table_format() -> None:
    result = run(str(CALENDARS / "exchange_allday_until.ics"), *JUNE, "--format", "table")
    assert result.exit_code == 0
    assert "Microsoft Exchange Server 2010" in result.output
    assert "2025-06-27 (all day)" in result.output
    assert "Away (moved)" in result.output


@pytest.mark.parametrize(
    ("source", "stdin", "words"),
    [
        ("-", b"<!DOCTYPE html><html>Sign in to Outlook</html>", "web page"),
        ("/no/such/file.ics", None, "Cannot read"),
    ],
)
def test_unreadable_source_exits_2_with_one_line(
    source: str, stdin: bytes | None, words: str
) -> None:
    result = run(source, stdin=stdin)
    assert result.exit_code == 2
    assert words in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_bad_options_are_refused() -> None:
    assert run("-", "--tz", "Mars/Olympus", stdin=b"").exit_code == 2
    assert run("-", "--from", "2025-07-01", "--to", "2025-06-01", stdin=b"").exit_code == 2


def test_fetches_https_source(feed_server: FeedServer) -> None:
    secret = "/owa/calendar/abcdef0123456789/calendar.ics"
    feed_server.route(secret, body=(CALENDARS / "exchange_allday_until.ics").read_bytes())
    result = run(feed_server.url(secret), *JUNE, env={"TIMEPULSE_ALLOW_PRIVATE_FEEDS": "1"})
    assert result.exit_code == 0, result.output + result.stderr
    assert len(json.loads(result.output)["occurrences"]) == 8


def test_fetch_failure_exits_2(feed_server: FeedServer) -> None:
    feed_server.route("/gone.ics", status=404, body="Not found")
    result = run(feed_server.url("/gone.ics"), env={"TIMEPULSE_ALLOW_PRIVATE_FEEDS": "1"})
    assert result.exit_code == 2
    assert len(result.stderr.strip().splitlines()) == 1


@pytest.mark.skipif(not (ROOT / "app" / "cli.py").exists(), reason="app/cli.py not written yet")
def test_installed_command(tmp_path: Path) -> None:
    script = Path(sys.executable).with_name("timepulse")
    if not script.exists():
        pytest.skip("the timepulse console script is not installed in this environment")
    completed = subprocess.run(
        [str(script), "feeds", "inspect", str(CALENDARS / "exchange_allday_until.ics"), *JUNE],
        capture_output=True,
        check=False,
        timeout=120,
        cwd=tmp_path,
    )
    assert completed.returncode == 0, completed.stderr
    assert len(json.loads(completed.stdout)["occurrences"]) == 8
