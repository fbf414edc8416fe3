"""Runs last in tests/security: nothing crashed and no row was lost.

Named ``zz`` so pytest collects it after every other module in the folder;
the counts come from ``tests/security/tally.py``.
"""

from tests.security.tally import TALLY


def test_no_bad_input_crashed_anything():
    assert TALLY.crashes == 0, TALLY.notes


def test_no_bad_input_lost_a_row():
    assert TALLY.rows_lost == 0, TALLY.notes
