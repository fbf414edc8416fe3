"""Rounding of tracked times to the user's step (5, 6, 10, 15 minutes).

Rounding happens on the user's wall clock, not on UTC: in a zone offset by
a fraction of an hour (Asia/Kathmandu is +05:45) "round to 15 minutes" must
land on :00/:15/:30/:45 as the user reads them.
"""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

STEPS = (0, 5, 6, 10, 15)
MODES = ("nearest", "up")


def round_instant(instant: datetime, step_minutes: int, tz: ZoneInfo, direction: str) -> datetime:
    """``instant`` moved to a multiple of ``step_minutes`` of local time.

    ``direction`` is "nearest", "down" or "up". A step of 0 only drops seconds.
    """
    if step_minutes <= 0:
        return instant.replace(second=0, microsecond=0)
    offset = instant.astimezone(tz).utcoffset() or timedelta()
    step = step_minutes * 60
    local_seconds = (instant + offset).timestamp()
    units = local_seconds / step
    if direction == "up":
        rounded = math.ceil(units)
    elif direction == "down":
        rounded = math.floor(units)
    else:
        rounded = math.floor(units + 0.5)
    return datetime.fromtimestamp(rounded * step, UTC) - offset


def round_range(
    start: datetime, end: datetime, step_minutes: int, mode: str, tz: ZoneInfo
) -> tuple[datetime, datetime]:
    """The tracked range for an event's [start, end) under the user's rounding.

    "nearest" rounds both ends to the nearest step; "up" widens the range to
    whole steps (start down, end up), so an entry is never shorter than the
    meeting. A range that rounding would collapse keeps one step.
    """
    if mode == "up":
        new_start = round_instant(start, step_minutes, tz, "down")
        new_end = round_instant(end, step_minutes, tz, "up")
    else:
        new_start = round_instant(start, step_minutes, tz, "nearest")
        new_end = round_instant(end, step_minutes, tz, "nearest")
    if step_minutes > 0 and end > start and new_end <= new_start:
        new_end = new_start + timedelta(minutes=step_minutes)
    return new_start, new_end
