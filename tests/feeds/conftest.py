"""Fixtures for the feed engine tests: our own calendars and the shared corpus.

The ``--ics-corpus`` option itself is registered in ``tests/conftest.py``;
the corpus path comes from it, else ``TIMEPULSE_ICS_CORPUS``, else
``../shared/ics-corpus`` beside the repository.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import pytest

CALENDARS = Path(__file__).resolve().parents[1] / "calendars"
DEFAULT_CORPUS = Path(__file__).resolve().parents[2] / ".." / "shared" / "ics-corpus"


def corpus_path(config: pytest.Config) -> Path:
    option = config.getoption("--ics-corpus", default=None)
    return Path(option or os.environ.get("TIMEPULSE_ICS_CORPUS") or DEFAULT_CORPUS).resolve()


@pytest.fixture
def calendar_bytes() -> Callable[[str], bytes]:
    """Read one of our fixtures from tests/calendars/ by file name."""

    def read(name: str) -> bytes:
        return (CALENDARS / name).read_bytes()

    return read


@pytest.fixture
def ics_corpus(request: pytest.FixtureRequest) -> Path:
    """The shared real-world corpus, or skip when it is not there."""
    path = corpus_path(request.config)
    if not (path / "EXPECTATIONS.tsv").is_file():
        pytest.skip(f"ICS corpus not found at {path} (set TIMEPULSE_ICS_CORPUS or --ics-corpus)")
    return path
