"""The dashboard's small chart of the week's hours per day, worked out in Python.

The template only writes the numbers out: working them out there (a lookup,
a division and three format calls per day, the top of the scale in a loop
of its own) cost twice as much as the rest of the chart.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from datetime import date, timedelta

from app.timeutil import format_duration

# The scale's top is at least 8 hours, so a light day looks light.
MIN_TOP = 8 * 3600
BAR_AREA = 60  # height of the tallest bar, in the chart's units; the baseline is at 80


@dataclass(frozen=True)
class DayBar:
    """One day's column: its bar (when it has time) and its labels."""

    day: date
    x: int  # left edge of the bar
    seconds: float
    y: str  # top of the bar, "%.2f"
    height: str  # "%.2f"
    value_y: str  # where the total is written above the bar, "%.2f"
    total: str  # "1:30", "0:00"
    weekday: str  # "Mon", under the column
    name: str  # "Monday 3 Nov", for the table screen readers read

    @property
    def centre(self) -> int:
        return self.x + 12


# strftime costs more than the rest of a column; a week's days come back all week.
@functools.lru_cache(maxsize=64)
def _weekday(day: date) -> str:
    return day.strftime("%a")


@functools.lru_cache(maxsize=64)
def _day_name(day: date) -> str:
    return day.strftime("%A %-d %b")


def week_bars(days: list[date], totals: dict[date, timedelta]) -> list[DayBar]:
    """A column per day of ``days`` (a week), from the time per day in ``totals``."""
    seconds = [totals[day].total_seconds() if totals.get(day) else 0.0 for day in days]
    top = max([MIN_TOP, *seconds])
    bars = []
    for index, (day, value) in enumerate(zip(days, seconds, strict=True)):
        height = value / top * BAR_AREA
        bars.append(
            DayBar(
                day=day,
                x=index * 40 + 8,
                seconds=value,
                y=f"{80 - height:.2f}",
                height=f"{height:.2f}",
                value_y=f"{76 - height:.2f}",
                total=format_duration(totals[day]) if totals.get(day) else "0:00",
                weekday=_weekday(day),
                name=_day_name(day),
            )
        )
    return bars
