"""Time at the edge: converting between UTC instants and the user's zone.

The database holds aware UTC instants only. A person thinks in local dates
and wall-clock times, which DST makes irregular (a day may have 23 or 25
hours), so every conversion goes through ``zoneinfo`` here.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from app.errors import ValidationError


def zone(name: str | None) -> ZoneInfo:
    """The user's zone; an unknown name falls back to UTC rather than crash."""
    try:
        return ZoneInfo(name or "UTC")
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


def validate_zone(name: str) -> str:
    if name not in known_zones():
        raise ValidationError(f"“{name}” is not a time zone we know.", field="timezone")
    return name


_ZONES: list[str] = []


def known_zones() -> list[str]:
    if not _ZONES:
        _ZONES.extend(sorted(z for z in available_timezones() if "/" in z or z == "UTC"))
    return _ZONES


def now() -> datetime:
    return datetime.now(UTC)


def local_midnight(day: date, tz: ZoneInfo) -> datetime:
    """The UTC instant at which ``day`` starts in ``tz``."""
    return datetime.combine(day, time(), tzinfo=tz).astimezone(UTC)


def day_bounds(day: date, tz: ZoneInfo) -> tuple[datetime, datetime]:
    """[start, end) of a local day as UTC instants (23 or 25 h on DST days)."""
    return local_midnight(day, tz), local_midnight(day + timedelta(days=1), tz)


def week_start(day: date, first_weekday: int) -> date:
    return day - timedelta(days=(day.weekday() - first_weekday) % 7)


def week_days(first: date) -> list[date]:
    return [first + timedelta(days=i) for i in range(7)]


def today(tz: ZoneInfo) -> date:
    return now().astimezone(tz).date()


def parse_local(day: str, clock: str, tz: ZoneInfo) -> datetime:
    """Parse a local date and HH:MM (or H:MM) into an aware UTC instant.

    A wall-clock time that does not exist (02:30 on the spring-forward day)
    is refused with a message rather than silently moved; a repeated one
    (autumn) is read as the first of the two.
    """
    clock = clock.strip()
    if len(clock) == 4 and clock[1] == ":":
        clock = "0" + clock
    try:
        naive = datetime.combine(date.fromisoformat(day), time.fromisoformat(clock))
    except ValueError as exc:
        raise ValidationError("Enter a date as YYYY-MM-DD and a time as HH:MM.") from exc
    instant = naive.replace(tzinfo=tz).astimezone(UTC)
    if instant.astimezone(tz).replace(tzinfo=None) != naive:
        raise ValidationError(
            f"{clock} does not exist on {naive:%-d %b %Y} in {tz.key}: the clocks jump "
            "forward that night. Enter a time after the change."
        )
    return instant


def parse_duration(text: str) -> timedelta:
    """Accept "1:30", "90m", "1.5h", "1h 30m" or plain minutes ("45")."""
    raw = text.strip().lower().replace(" ", "")
    try:
        if ":" in raw:
            hours, minutes = raw.split(":", 1)
            result = timedelta(hours=int(hours or 0), minutes=int(minutes or 0))
        elif "h" in raw:
            hours, _, rest = raw.partition("h")
            result = timedelta(hours=float(hours or 0))
            result += timedelta(minutes=int(rest.rstrip("m") or 0))
        else:
            result = timedelta(minutes=float(raw.rstrip("m")))
    except (ValueError, OverflowError) as exc:
        raise ValidationError("Enter a duration like 1:30, 90m or 1.5h.", "duration") from exc
    if result <= timedelta(0):
        raise ValidationError("The duration must be more than zero.", "duration")
    if result > timedelta(days=7):
        raise ValidationError("A duration can be at most a week.", "duration")
    return result


def split_by_local_day(
    start: datetime, end: datetime, tz: ZoneInfo
) -> Iterator[tuple[date, timedelta]]:
    """Yield (local date, seconds on it) for an interval crossing midnights."""
    day = start.astimezone(tz).date()
    while True:
        day_start, day_end = day_bounds(day, tz)
        if day_start >= end:
            return
        part = min(end, day_end) - max(start, day_start)
        if part > timedelta(0):
            yield day, part
        day += timedelta(days=1)


def format_duration(delta: timedelta | float) -> str:
    """h:mm, the way timesheets show durations."""
    seconds = delta.total_seconds() if isinstance(delta, timedelta) else delta
    minutes = int(round(seconds / 60))
    return f"{minutes // 60}:{minutes % 60:02d}"
