"""Which project an impulse probably belongs to, and why.

First the user's own rules, in their order; then what the user chose the
last time they tracked the same series (same UID) or, failing that, an
event with the same subject; else nothing. The reason is shown next to the
suggestion ("rule: subject contains 'Standup'", "same series as Tue 4 Nov").
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa

from app.extensions import db
from app.impulses import rules as rules_mod
from app.impulses.rules import ListedRule
from app.models import Occurrence, Project, Rule, TimeEntry


@dataclass(frozen=True)
class Suggestion:
    """A suggested project (``project_id`` None: no suggestion) and the reason."""

    project_id: int | None
    project_name: str = ""
    project_colour: str = ""
    reason: str = ""


NONE = Suggestion(None)


@dataclass(frozen=True)
class Past:
    """The project of the latest entry tracked from a series or a subject."""

    project_id: int
    name: str
    colour: str
    start: datetime


def suggest_for(
    user_id: int,
    occurrences: Sequence[Occurrence],
    tz: ZoneInfo,
    rules: Sequence[Rule | ListedRule] | None = None,
) -> dict[int, Suggestion]:
    """Suggestions for many occurrences by id, in two queries (rules unless given, history)."""
    if rules is None:
        rules = rules_mod.user_rules(user_id)
    by_uid, by_summary = _history(user_id, occurrences)
    return {
        occ.id: choose(occ, rules, by_uid.get(occ.uid), by_summary.get(occ.summary or ""), tz)
        for occ in occurrences
    }


def suggest(user_id: int, occurrence: Occurrence, tz: ZoneInfo) -> Suggestion:
    """The suggestion for one occurrence."""
    return suggest_for(user_id, [occurrence], tz)[occurrence.id]


def choose(
    occ: Occurrence,
    rules: Sequence[Rule | ListedRule],
    series: Past | None,
    subject: Past | None,
    tz: ZoneInfo,
) -> Suggestion:
    """The suggestion for ``occ`` from the rules, else the latest choice for its
    series (same UID), else for its subject (``latest_choices``)."""
    rule = rules_mod.first_fitting(rules, occ)
    if rule is not None:
        return Suggestion(
            rule.project_id, rule.project.name, rule.project.colour, rules_mod.describe(rule)
        )
    past, label = series, "same series as"
    if past is None and _subject_counts(occ):
        past, label = subject, "same subject as"
    if past is None:
        return NONE
    when = past.start.astimezone(tz).strftime("%a %-d %b")
    return Suggestion(past.project_id, past.name, past.colour, f"{label} {when}")


def _subject_counts(occ: Occurrence) -> bool:
    # An availability-only feed titles every event "Busy": the same subject says nothing.
    feed = occ.feed
    return bool(occ.summary) and (feed is None or feed.detail_level != "availability_only")


def _ranked(uid_in: Any, summary_in: Any) -> sa.Select[Any]:
    """The user's entries tracked from an occurrence whose UID fits ``uid_in`` or whose
    subject fits ``summary_in``, each numbered newest first within its series
    (``by_uid``) and within its subject (``by_summary``).

    A series (subject) that fits is numbered over all its entries, so its row 1 is
    its latest choice whichever other series and subjects fit.
    """
    newest = (TimeEntry.start.desc(), TimeEntry.id.desc())
    return (
        sa.select(
            Occurrence.uid,
            Occurrence.summary,
            Project.id.label("project_id"),
            Project.name,
            Project.colour,
            TimeEntry.start,
            sa.func.row_number().over(partition_by=Occurrence.uid, order_by=newest).label("by_uid"),
            sa.func.row_number()
            .over(partition_by=Occurrence.summary, order_by=newest)
            .label("by_summary"),
        )
        .join(Occurrence, TimeEntry.occurrence_id == Occurrence.id)
        .join(Project, TimeEntry.project_id == Project.id)
        .where(
            TimeEntry.user_id == sa.bindparam("user_id"),
            # Only the user's own projects (entries only ever point to those):
            # lets PostgreSQL read the user's few projects instead of hashing
            # every user's (1 ms of the query's 1.2 ms with 1,000 users).
            Project.user_id == sa.bindparam("user_id"),
            Project.archived.is_(False),
            sa.or_(uid_in, summary_in),
        )
    )


@functools.cache
def _history_select() -> sa.Select[Any]:
    """The history query with bound parameters, built once per process (building it
    and its SQL cache key cost more than running it)."""
    return _latest(
        _ranked(
            Occurrence.uid.in_(sa.bindparam("uids", expanding=True)),
            Occurrence.summary.in_(sa.bindparam("summaries", expanding=True)),
        )
    )


def latest_choices(uids: sa.Select[Any], summaries: sa.Select[Any]) -> sa.Subquery:
    """The tracked choices for the series in ``uids`` and the subjects in ``summaries``
    (two selects of one column), numbered, for a query that shows those occurrences
    to join: rows with ``by_uid == 1`` are each series' latest choice, those with
    ``by_summary == 1`` each subject's (the ``Past`` of ``choose``); a row can be both.

    The other rows are left in (unlike ``_latest``): the join's condition asks for
    row 1 anyway, and the outer select that would drop them is a tenth of the
    panel's statement, which must stay short enough for psycopg to cache its
    parsing (``test_panel_statement_fits_psycopg_cache``).
    """
    return _ranked(Occurrence.uid.in_(uids), Occurrence.summary.in_(summaries)).subquery("history")


def _latest(ranked_select: sa.Select[Any]) -> sa.Select[Any]:
    """The rows of ``_ranked`` that are a series' or a subject's latest choice."""
    ranked = ranked_select.subquery()
    return sa.select(ranked).where(sa.or_(ranked.c.by_uid == 1, ranked.c.by_summary == 1))


def _history(
    user_id: int, occurrences: Sequence[Occurrence]
) -> tuple[dict[str, Past], dict[str, Past]]:
    """The latest tracked choice per UID and per subject among ``occurrences``'."""
    uids = {occ.uid for occ in occurrences}
    summaries = {occ.summary for occ in occurrences if occ.summary}
    if not uids:
        return {}, {}
    rows = db.session.execute(
        _history_select(),
        {"user_id": user_id, "uids": sorted(uids), "summaries": sorted(summaries)},
    )
    by_uid: dict[str, Past] = {}
    by_summary: dict[str, Past] = {}
    for row in rows:
        past = Past(row.project_id, row.name, row.colour, row.start)
        if row.by_uid == 1:
            by_uid[row.uid] = past
        if row.by_summary == 1:
            by_summary[row.summary] = past
    return by_uid, by_summary
