"""Detail-level verdicts on the shared real-world corpus (skipped when it is absent).

MANIFEST.tsv's ``features`` column lists ``availability-summaries(Busy,Free;N)``
for files whose N events carry busy-state subjects. A file is genuinely
availability-only when *every* event has one (N equals ``n_vevents``); all
other files have real subjects and must not be flagged.
"""

from __future__ import annotations

import csv
import re
from datetime import date
from pathlib import Path

import pytest

from app.errors import FeedError
from app.feeds.diagnose import diagnose
from tests.feeds.diagnose_support import corpus_dir, read_report

# Wide enough for every file's dates; each file's own RRULEs stay bounded by it.
WINDOW = (date(2000, 1, 1), date(2030, 1, 1))
AVAILABILITY = re.compile(r"availability-summaries\(([^;]*);(\d+)\)")


def _corpus() -> Path | None:
    path = corpus_dir()
    return path if (path / "MANIFEST.tsv").is_file() else None


def _rows() -> list[dict[str, str]]:
    path = _corpus()
    if path is None:
        return []
    with (path / "MANIFEST.tsv").open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle, delimiter="\t"))


def _availability_only(row: dict[str, str]) -> bool:
    match = AVAILABILITY.search(row["features"])
    return bool(match) and int(match.group(2)) == int(row["n_vevents"])


ROWS = _rows()
pytestmark = pytest.mark.skipif(
    not ROWS, reason="ICS corpus not found (set TIMEPULSE_ICS_CORPUS or --ics-corpus)"
)


@pytest.fixture
def corpus(request: pytest.FixtureRequest) -> Path:
    option = request.config.getoption("--ics-corpus", default=None)
    return Path(option) if option else corpus_dir()


def test_corpus_has_both_kinds() -> None:
    flagged = [r for r in ROWS if _availability_only(r)]
    assert flagged and len(flagged) < len(ROWS)


@pytest.mark.parametrize("row", ROWS, ids=[r["local_path"] for r in ROWS])
def test_detail_level_verdict(row: dict[str, str], corpus: Path) -> None:
    data = (corpus / row["local_path"]).read_bytes()
    try:
        report = read_report(data, *WINDOW)
    except (FeedError, ValueError) as exc:
        # Reading broken files is the parse step's job, tested there.
        pytest.skip(f"does not parse here: {exc}")
    level, found = diagnose(report.occurrences, event_count=report.event_count)
    if _availability_only(row):
        assert level == "availability_only"
        assert "availability_only" in {d.code for d in found}
    else:
        assert level != "availability_only"
