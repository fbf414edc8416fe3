"""Security suite wiring: the tally printed at the end of the run."""

from __future__ import annotations

from typing import Any

from tests.security.tally import TALLY


def pytest_terminal_summary(terminalreporter: Any) -> None:
    if not TALLY.bad_inputs and not TALLY.rows_lost:
        return
    terminalreporter.section("security tally")
    terminalreporter.write_line(TALLY.line())
    for note in TALLY.notes[:30]:
        terminalreporter.write_line(f"  {note}")
    if len(TALLY.notes) > 30:
        terminalreporter.write_line(f"  … and {len(TALLY.notes) - 30} more")
