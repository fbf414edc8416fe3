"""Fill a user's account with projects, rules, feeds, occurrences and time entries.

Shared by the statement-count tests and ``bench/dashboard.py``'s sanity
checks: ``scale`` multiplies every kind of row, so a page that runs a fixed
number of SQL statements runs the same number at scale 1 and scale 10.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import sqlalchemy.orm as so

from app.models import Feed, Occurrence, Project, Rule, TimeEntry


@dataclass(frozen=True)
class Days:
    """The local days the pages look at."""

    today: date
    other: date  # the impulse panel's ?day=


def populate(session: so.Session, user_id: int, zone: ZoneInfo, days: Days, scale: int) -> None:
    """Add ``scale`` × a small account's worth of rows for ``user_id``; commits."""
    projects = [
        Project(user_id=user_id, name=f"Project {scale}-{n}", colour="#336699")
        for n in range(3 * scale)
    ]
    feeds = [
        Feed(user_id=user_id, name=f"Calendar {scale}-{n}", kind="upload",
             url_fingerprint=f"fp-{scale}-{n}", detail_level="full_details")
        for n in range(scale)
    ]  # fmt: skip
    session.add_all(projects + feeds)
    session.flush()
    session.add_all(
        Rule(user_id=user_id, position=n, field="subject", operator="contains",
             pattern=f"Topic {n}", project_id=projects[n % len(projects)].id)
        for n in range(2 * scale)
    )  # fmt: skip
    for day in (days.today, days.other, days.today - timedelta(days=14)):
        _day(session, user_id, zone, day, projects, feeds, scale)
    session.commit()


def _day(
    session: so.Session,
    user_id: int,
    zone: ZoneInfo,
    day: date,
    projects: list[Project],
    feeds: list[Feed],
    scale: int,
) -> None:
    """``8 × scale`` meetings on ``day``: some tracked (one changed since), some not."""
    base = datetime.combine(day, time(8), tzinfo=zone)
    for n in range(8 * scale):
        start = base + timedelta(minutes=5 * n)
        occ = Occurrence(
            feed_id=feeds[n % len(feeds)].id, user_id=user_id, uid=f"{scale}-{day}-{n}@bench",
            start=start, end=start + timedelta(minutes=30), summary=f"Topic {n % 5} sync",
            location="Room 1", busy_status="BUSY", content_hash=f"h{n}",
            state="tracked" if n % 2 else "new",
        )  # fmt: skip
        session.add(occ)
        session.flush()
        if n % 2:
            session.add(
                TimeEntry(
                    user_id=user_id, project_id=projects[n % len(projects)].id,
                    description=occ.summary, start=occ.start, end=occ.end,
                    occurrence_id=occ.id, source_snapshot={"summary": occ.summary},
                    source_change="moved" if n % 4 == 1 else None,
                )
            )  # fmt: skip
        else:
            session.add(
                TimeEntry(user_id=user_id, project_id=projects[n % len(projects)].id,
                          description=f"Work {n}", start=start + timedelta(hours=6),
                          end=start + timedelta(hours=6, minutes=20))
            )  # fmt: skip
