"""The impulse panel: one day's occurrences from the user's active feeds.

A fixed number of queries however many impulses the day has: the feeds
with the day's occurrences (each with its latest entry id and the latest
tracked choices of its series and subject, for suggestions) in one, the
rules (unless the caller has them: the dashboard loads them with the
projects), and the entries whose source changed.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, fields
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa
import sqlalchemy.orm as so

from app import timeutil
from app.extensions import db
from app.feeds.catalogue import CATALOGUE
from app.feeds.catalogue import Entry as CatalogueEntry
from app.impulses.changes import PendingChange, describe_change, pending_changes
from app.impulses.rules import ListedRule, user_rules
from app.impulses.suggest import (
    NONE,
    Past,
    Suggestion,
    choose,
    latest_choices,
    suggest,
    suggest_for,
)
from app.impulses.tracking import latest_entry_id
from app.models import Feed, Occurrence, Rule, TimeEntry, User

# Bounding the start column from below lets the (user_id, start) index do
# the work (DESIGN.md, "Performance"). Timed meetings longer than two days
# and all-day events longer than a month are not expected in a work calendar.
LONGEST_TIMED = timedelta(days=2)
LONGEST_ALL_DAY = timedelta(days=31)


@dataclass(slots=True)
class PanelFeed:
    """What the panel reads of a feed; the rest (sync state) stays in the database."""

    id: int
    name: str
    colour: str
    paused: bool
    detail_level: str


@dataclass(slots=True)
class PanelOccurrence:
    """What the panel reads of an occurrence (rules and suggestions included).

    The panel's rows are plain values, not ORM objects: loading them through the
    session's ORM path cost more than the query itself (0.13 ms a view). Only a
    row re-rendered after an action shows the ``Occurrence`` the action loaded.
    """

    id: int
    feed_id: int
    uid: str
    start: datetime
    end: datetime
    all_day: bool
    summary: str
    location: str
    organizer: str
    busy_status: str | None
    status: str | None
    state: str
    removed_at: datetime | None
    feed: PanelFeed


def _columns(model: Any, cls: type, skip: tuple[str, ...] = ()) -> tuple[Any, ...]:
    return tuple(getattr(model, f.name) for f in fields(cls) if f.name not in skip)


# In the order of the classes' fields, which are built from them.
PANEL_FEED_COLUMNS = _columns(Feed, PanelFeed)
PANEL_OCCURRENCE_COLUMNS = _columns(Occurrence, PanelOccurrence, skip=("feed",))

BUSY_LABELS = {
    "BUSY": "busy",
    "TENTATIVE": "tentative",
    "FREE": "free",
    "OOF": "away",
    "WORKINGELSEWHERE": "working elsewhere",
}


@dataclass(frozen=True)
class Filters:
    """What the panel hides; remembered in the dashboard's query string."""

    hide_free: bool = False
    hide_all_day: bool = False
    show_done: bool = False

    @classmethod
    def from_args(cls, args: Mapping[str, Any]) -> Filters:
        def on(name: str) -> bool:
            return str(args.get(name, "")).lower() in ("1", "on", "true", "yes")

        return cls(on("hide_free"), on("hide_all_day"), on("show_done"))

    def as_args(self) -> dict[str, str]:
        """Only the filters that are on, for ``url_for``."""
        return {name: "1" for name, value in vars(self).items() if value}


@dataclass
class Impulse:
    """An occurrence as the panel shows it."""

    occurrence: Occurrence | PanelOccurrence
    suggestion: Suggestion = NONE
    entry_id: int | None = None
    # An entry of this impulse whose calendar event changed, waiting for the user.
    changed_entry_id: int | None = None
    # The user's zone, in which the row shows its times.
    zone: ZoneInfo | None = None

    @property
    def id(self) -> int:
        return self.occurrence.id

    @property
    def state(self) -> str:
        return self.occurrence.state

    @property
    def is_free(self) -> bool:
        return (self.occurrence.busy_status or "").upper() == "FREE"

    @property
    def is_cancelled(self) -> bool:
        return (self.occurrence.status or "").upper() == "CANCELLED"

    @property
    def is_removed(self) -> bool:
        return self.occurrence.removed_at is not None

    @property
    def busy_label(self) -> str:
        return BUSY_LABELS.get((self.occurrence.busy_status or "").upper(), "")

    def time_label(self, day: date) -> str:
        """ "all day", or "09:00–09:30" in the user's zone, a weekday before an end
        (or start) that falls on another day than ``day``: "09:00–Tue 01:00"."""
        occ = self.occurrence
        if occ.all_day:
            return "all day"
        zone = self.zone or ZoneInfo("UTC")
        return f"{_clock(occ.start, zone, day)}–{_clock(occ.end, zone, day)}"


def _clock(value: datetime, zone: ZoneInfo, day: date) -> str:
    local = value.astimezone(zone)
    clock = f"{local.hour:02d}:{local.minute:02d}"  # strftime("%H:%M"), at a fifth of the cost
    return clock if local.date() == day else f"{local.strftime('%a')} {clock}"


@dataclass
class Panel:
    day: date
    today: date
    filters: Filters
    feeds: list[PanelFeed]
    impulses: list[Impulse]
    hidden: dict[str, int] = field(default_factory=dict)
    changes: list[PendingChange] = field(default_factory=list)

    @property
    def prev_day(self) -> date:
        return self.day - timedelta(days=1)

    @property
    def next_day(self) -> date:
        return self.day + timedelta(days=1)

    @property
    def availability_only(self) -> list[PanelFeed]:
        return [f for f in self.feeds if f.detail_level == "availability_only" and not f.paused]

    @property
    def availability_help(self) -> CatalogueEntry:
        """What the troubleshooting page says about availability-only feeds."""
        return CATALOGUE["availability_only"]

    def args(self, **override: str) -> dict[str, str]:
        """Query arguments for this day and these filters, for ``url_for``."""
        return {"day": self.day.isoformat(), **self.filters.as_args(), **override}

    @property
    def active_feeds(self) -> list[PanelFeed]:
        return [f for f in self.feeds if not f.paused]


def parse_day(raw: str | None, today: date) -> date:
    """``?day=YYYY-MM-DD``; anything unreadable means today."""
    try:
        return date.fromisoformat(raw) if raw else today
    except ValueError:
        return today


def build_panel(
    user: User, day: date, filters: Filters, rules: Sequence[Rule | ListedRule] | None = None
) -> Panel:
    """Everything the panel template needs for ``day`` in the user's zone.

    ``rules``: the user's rules (``user_rules``) when the caller has them already.
    """
    tz = timeutil.zone(user.timezone)
    feeds, rows = _feeds_and_day(user.id, day, tz)
    if rows and rules is None:
        rules = user_rules(user.id)
    impulses = [
        Impulse(occ, choose(occ, rules or [], series, subject, tz), entry_id, zone=tz)
        for occ, entry_id, series, subject in rows
    ]
    visible, hidden = _apply_filters(impulses, filters)
    changes = [describe_change(entry, user) for entry in pending_changes(user.id)]
    changed = {c.entry.occurrence_id: c.entry.id for c in changes}
    for impulse in visible:
        impulse.changed_entry_id = changed.get(impulse.id)
    return Panel(
        day=day,
        today=timeutil.today(tz),
        filters=filters,
        feeds=feeds,
        impulses=visible,
        hidden=hidden,
        changes=changes,
    )


DayRow = tuple[PanelOccurrence, int | None, Past | None, Past | None]
# Where ``_feeds_and_day_select``'s columns are in a row.
_FEED = slice(0, len(PANEL_FEED_COLUMNS))
_OCCURRENCE = slice(_FEED.stop, _FEED.stop + len(PANEL_OCCURRENCE_COLUMNS))
_LATEST_ENTRY = _OCCURRENCE.stop
_FEED_RANK = _LATEST_ENTRY + 1
_HISTORY = slice(_FEED_RANK + 1, None)


def _feeds_and_day(user_id: int, day: date, tz: ZoneInfo) -> tuple[list[PanelFeed], list[DayRow]]:
    """The user's feeds by name and the day query's rows (``_day_select``), each with
    the latest choices of its series and subject, in one query: every feed
    outer-joined to its occurrences of the day."""
    feeds: dict[int, tuple[int, PanelFeed]] = {}  # by id: (rank by name, feed)
    day_rows: dict[int, DayRow] = {}
    # Through the connection, not the session: plain rows, no ORM (see PanelOccurrence).
    rows = db.session.connection().execute(_feeds_and_day_select(), _day_params(user_id, day, tz))
    for row in rows:
        ranked = feeds.get(row[0])
        if ranked is None:
            ranked = feeds[row[0]] = (row[_FEED_RANK], PanelFeed(*row[_FEED]))
        occ_id = row[_OCCURRENCE.start]
        if occ_id is None:
            continue
        # An occurrence comes once per history row it joined (none, or one for its
        # series and one for its subject, or one for both), in a row.
        occ, entry_id, series, subject = day_rows.get(occ_id) or (
            PanelOccurrence(*row[_OCCURRENCE], feed=ranked[1]),
            row[_LATEST_ENTRY],
            None,
            None,
        )
        uid, summary, project_id, name, colour, start, by_uid, by_summary = row[_HISTORY]
        if project_id is not None:
            past = Past(project_id, name, colour, start)
            if by_uid == 1 and uid == occ.uid:
                series = past
            if by_summary == 1 and summary == occ.summary:
                subject = past
        day_rows[occ_id] = (occ, entry_id, series, subject)
    by_rank = sorted(feeds.values(), key=lambda ranked: ranked[0])
    return [feed for _, feed in by_rank], list(day_rows.values())


@functools.cache
def _feeds_and_day_select() -> sa.Select[Any]:
    """The user's feeds and ``_day_select`` as one query, built once per process:
    the columns of ``PanelFeed``, of ``PanelOccurrence``, the latest entry's id,
    the feed's rank, then the history's eight (``latest_choices``)."""
    # The day query's conditions go into the join's ON: a feed without occurrences
    # that day (or paused) still gives one row, with no occurrence. The rank keeps
    # the feeds' order by name in the database's collation.
    feed_rank = sa.func.dense_rank().over(order_by=(Feed.name, Feed.id))
    # The suggestions' history: the series and subjects of the user's occurrences
    # of the day (paused feeds' too, which is harmless: rows join on UID or subject).
    # Joined once (a CTE joined twice would start the statement with WITH, which
    # app/database.py takes for a write and rolls back, losing prepared statements).
    # A short alias: written 28 times, and psycopg parses a statement over 4 KiB
    # anew on every run (test_panel_statement_fits_psycopg_cache).
    day_occ = so.aliased(Occurrence, name="day_occ")
    history = latest_choices(
        sa.select(day_occ.uid).where(*_day_conditions(day_occ)),
        sa.select(day_occ.summary).where(*_day_conditions(day_occ)),
    )
    h = history.c
    return (
        sa.select(
            *PANEL_FEED_COLUMNS,
            *PANEL_OCCURRENCE_COLUMNS,
            _latest_entry(),
            feed_rank,
            *(h.uid, h.summary, h.project_id, h.name, h.colour, h.start, h.by_uid, h.by_summary),
        )
        .select_from(Feed)
        .outerjoin(
            Occurrence,
            sa.and_(Occurrence.feed_id == Feed.id, Feed.paused.is_(False), *_day_conditions()),
        )
        .outerjoin(
            history,
            sa.or_(
                sa.and_(h.by_uid == 1, h.uid == Occurrence.uid),
                sa.and_(h.by_summary == 1, h.summary == Occurrence.summary),
            ),
        )
        .where(Feed.user_id == sa.bindparam("user_id"))
        .order_by(Occurrence.id.is_(None), *_day_order())
    )


def _apply_filters(
    impulses: list[Impulse], filters: Filters
) -> tuple[list[Impulse], dict[str, int]]:
    hidden = {"done": 0, "free": 0, "all_day": 0}
    visible = []
    for impulse in impulses:
        if impulse.state != "new" and not filters.show_done:
            hidden["done"] += 1
        elif filters.hide_free and impulse.is_free:
            hidden["free"] += 1
        elif filters.hide_all_day and impulse.occurrence.all_day:
            hidden["all_day"] += 1
        else:
            visible.append(impulse)
    return visible, hidden


def day_impulses(
    user: User, day: date, rules: Sequence[Rule | ListedRule] | None = None
) -> list[Impulse]:
    """Every impulse of the local ``day`` (all states), with suggestions."""
    tz = timeutil.zone(user.timezone)
    rows = db.session.execute(_day_select(), _day_params(user.id, day, tz)).all()
    return _impulses(user.id, [(occ, entry_id) for occ, entry_id in rows], tz, rules)


def _impulses(
    user_id: int,
    rows: list[tuple[Occurrence, int | None]],
    tz: ZoneInfo,
    rules: Sequence[Rule | ListedRule] | None,
) -> list[Impulse]:
    occurrences = [row[0] for row in rows]
    suggestions = suggest_for(user_id, occurrences, tz, rules)
    return [
        Impulse(occ, suggestions.get(occ.id, NONE), entry_id, zone=tz) for occ, entry_id in rows
    ]


def day_query(user: User, day: date) -> sa.Select[Any]:
    """(Occurrence, latest entry id) overlapping the local ``day``, feed loaded.

    Timed occurrences overlap [local midnight, next local midnight). All-day
    ones are stored at UTC midnight of their dates, so they are matched by
    date, whatever the user's zone. Removed occurrences only stay when tracked.
    """
    return _day_select().params(_day_params(user.id, day, timeutil.zone(user.timezone)))


def _day_params(user_id: int, day: date, tz: ZoneInfo) -> dict[str, Any]:
    day_start, day_end = timeutil.day_bounds(day, tz)
    midnight = datetime.combine(day, time(), tzinfo=UTC)
    return {
        "user_id": user_id,
        "day_start": day_start,
        "day_end": day_end,
        "timed_from": day_start - LONGEST_TIMED,
        "midnight": midnight,
        "all_day_from": midnight - LONGEST_ALL_DAY,
    }


@functools.cache
def _day_select() -> sa.Select[Any]:
    """The day query with bound parameters (``_day_params``), built once per process:
    building it and its SQL cache key cost more than running it."""
    return (
        sa.select(Occurrence, _latest_entry())
        .join(Occurrence.feed)
        .options(so.contains_eager(Occurrence.feed))
        .where(Feed.paused.is_(False), *_day_conditions())
        .order_by(*_day_order())
    )


def _day_order() -> tuple[Any, ...]:
    return (Occurrence.all_day.desc(), Occurrence.start, Occurrence.summary, Occurrence.id)


def _latest_entry() -> Any:
    return (
        sa.select(sa.func.max(TimeEntry.id))
        .where(TimeEntry.occurrence_id == Occurrence.id)
        .correlate(Occurrence)
        .scalar_subquery()
    )


def _day_conditions(occ: Any = Occurrence) -> tuple[Any, ...]:
    """The day query's conditions on an occurrence (``occ``: the entity or an alias),
    but for its feed's: not paused."""
    day_start: sa.BindParameter[Any] = sa.bindparam("day_start")
    day_end: sa.BindParameter[Any] = sa.bindparam("day_end")
    midnight: sa.BindParameter[Any] = sa.bindparam("midnight")
    timed = sa.and_(
        occ.all_day.is_(False),
        occ.start < day_end,
        occ.start >= sa.bindparam("timed_from"),
        sa.or_(occ.end > day_start, occ.start >= day_start),
    )
    all_day = sa.and_(
        occ.all_day.is_(True),
        occ.start <= midnight,
        occ.start >= sa.bindparam("all_day_from"),
        occ.end > midnight,
    )
    return (
        occ.user_id == sa.bindparam("user_id"),
        sa.or_(timed, all_day),
        sa.or_(occ.removed_at.is_(None), occ.state == "tracked"),
    )


def load_impulse(user: User, occ: Occurrence) -> Impulse:
    """One impulse, for a row re-rendered after an action."""
    tz = timeutil.zone(user.timezone)
    changed = db.session.scalar(
        sa.select(sa.func.max(TimeEntry.id)).where(
            TimeEntry.occurrence_id == occ.id, TimeEntry.source_change.is_not(None)
        )
    )
    return Impulse(occ, suggest(user.id, occ, tz), latest_entry_id(occ), changed, zone=tz)
