"""The security tally: how many bad inputs the suite threw at Timepulse and how
they ended.

Every security test that sends something hostile or malformed records it
here; ``tests/security/conftest.py`` prints the totals at the end of the run
and ``test_zz_tally.py`` fails the run when anything crashed or a row was
lost. Later suites (hostile feeds, fuzzing, crash safety) add their counts
through the same two functions, ``record`` and ``observe``.

The counts are per process, so the line is exact for a plain ``pytest`` run
(no xdist).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass
class Tally:
    bad_inputs: int = 0  # hostile or malformed inputs tried
    # ...answered the way the test expects: a 4xx refusal with its message, a
    # form that ignored the foreign ids, markup shown escaped.
    classified_errors: int = 0
    crashes: int = 0  # ...that ended in a 500 or an unexpected exception
    rows_lost: int = 0  # rows that changed or vanished where nothing should have
    notes: list[str] = field(default_factory=list)  # what crashed, lost rows or went unclassified

    def line(self) -> str:
        return (
            f"Security tally: {self.bad_inputs} bad inputs tried, "
            f"{self.classified_errors} classified errors, {self.crashes} crashes, "
            f"{self.rows_lost} rows lost"
        )


TALLY = Tally()


def record(
    *,
    bad_inputs: int = 0,
    classified_errors: int = 0,
    crashes: int = 0,
    rows_lost: int = 0,
    note: str | None = None,
) -> None:
    """Add counts; ``note`` says what crashed or lost rows (shown in the summary)."""
    TALLY.bad_inputs += bad_inputs
    TALLY.classified_errors += classified_errors
    TALLY.crashes += crashes
    TALLY.rows_lost += rows_lost
    if note:
        TALLY.notes.append(note)


def observe(response: Any, what: str, *, expected: tuple[int, ...] = (400, 404, 405, 429)) -> None:
    """Record one bad input sent over HTTP and how the app answered it.

    A status in ``expected`` is a classified error (a deliberate 503 too);
    any other 5xx is a crash; any other answer is neither (the test
    asserting on it says what is wrong).
    """
    status = response.status_code
    classified = status in expected
    record(
        bad_inputs=1,
        classified_errors=int(classified),
        crashes=int(status >= 500 and not classified),
        note=None if classified else f"{what}: HTTP {status}",
    )


def lost(count: int, what: str) -> None:
    """Record rows that changed or vanished where nothing should have."""
    if count:
        record(rows_lost=count, note=f"{what}: {count} rows changed or lost")
