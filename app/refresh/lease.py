"""Leases: two workers never refresh one feed at once.

A lease is taken with one conditional UPDATE, which the database applies
atomically on every backend: it succeeds only when nobody holds the feed or
the holder's lease has expired (a crashed worker). The same UPDATE can record
the first progress step, and a finished refresh gives the lease back in the
UPDATE that records it (``releasing_values``). Progress is written with
small committed UPDATEs so the status endpoint, reading in another session,
sees a refresh move along.
"""

from __future__ import annotations

import functools
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
import sqlalchemy.orm as so

from app.models import Feed

PROGRESS_STEPS = ("queued", "fetching", "parsing", "saving", "done", "error")


def acquire_lease(
    session: so.Session,
    feed_id: int,
    owner: str,
    *,
    now: datetime,
    seconds: int,
    progress: str | None = None,
) -> bool:
    """Take the feed's lease for ``seconds``; False when someone else holds it.

    With ``progress``, the same UPDATE also records that step — but only on
    a feed that will be refreshed (not paused, still has its link), so a
    paused feed's progress is left as it was. One statement, one commit.
    """
    statement = _taking(progress is not None, ())
    result = session.execute(statement, _taking_params(feed_id, owner, now, seconds, progress))
    session.commit()
    return bool(result.rowcount == 1)  # type: ignore[attr-defined]


def take_lease(
    session: so.Session,
    feed_id: int,
    owner: str,
    *,
    now: datetime,
    seconds: int,
    progress: str | None,
    columns: tuple[sa.Column[Any], ...],
) -> sa.Row[Any] | None:
    """``acquire_lease`` that also reads ``columns`` of the leased row (None: not leased).

    The same conditional UPDATE with ``RETURNING`` (PostgreSQL, SQLite ≥ 3.35):
    the refresh learns what it needs about the feed without loading it. When
    the session has no transaction open (a refresh's usual start) the UPDATE
    goes through ``short_connection``: the session's bookkeeping for a
    transaction cost as much as the statement. Otherwise the caller's
    pending work is committed with the lease, as ``acquire_lease`` does.
    """
    statement = _taking(progress is not None, columns)
    rows = _lease_rows(session, statement, _taking_params(feed_id, owner, now, seconds, progress))
    return rows[0] if rows else None


def take_leases(
    session: so.Session,
    feed_ids: list[int],
    owner: str,
    *,
    now: datetime,
    seconds: int,
    progress: str | None,
    columns: tuple[sa.Column[Any], ...],
) -> dict[int, sa.Row[Any]]:
    """``take_lease`` for a batch of feeds in one statement: the leased rows by id.

    A feed another refresh holds (or one that is gone) is missing from the
    answer. The rows hold ``id`` and ``columns``.
    """
    if not feed_ids:
        return {}
    statement = _taking(progress is not None, (Feed.__table__.c.id, *columns), many=True)
    params = _taking_params(0, owner, now, seconds, progress)
    params["p_id"] = list(feed_ids)
    return {row.id: row for row in _lease_rows(session, statement, params)}


def _lease_rows(
    session: so.Session, statement: sa.Update, params: dict[str, Any]
) -> list[sa.Row[Any]]:
    """Run a lease UPDATE … RETURNING and commit it (see ``take_lease``)."""
    if session.in_transaction():
        rows = list(session.execute(statement, params))
        session.commit()
        return rows
    with short_connection(engine_of(session)) as connection:
        rows = list(connection.execute(statement, params))
        connection.commit()
    return rows


def short_connection(engine: sa.Engine) -> sa.Connection:
    """A connection for a few statements that end in one commit, without the session.

    On PostgreSQL it is in autocommit: each statement is its own
    transaction, which spares the round trips of BEGIN and COMMIT, so use
    it only for work that is one statement or need not be atomic. SQLite
    keeps its transaction: there BEGIN and COMMIT cost no round trip, and
    switching to autocommit and back costs a PRAGMA each way.
    """
    connection = engine.connect()
    if engine.dialect.name == "postgresql":
        return connection.execution_options(isolation_level="AUTOCOMMIT")
    return connection


def engine_of(session: so.Session) -> sa.Engine:
    """The engine ``session`` reads and writes feeds through."""
    bind = session.get_bind(mapper=Feed)  # type: ignore[arg-type]
    return bind if isinstance(bind, sa.Engine) else bind.engine


@functools.cache
def _taking(
    with_progress: bool, columns: tuple[sa.Column[Any], ...], many: bool = False
) -> sa.Update:
    """The lease UPDATE, built once per shape: only its parameters change per call.

    ``many``: ``p_id`` is a list of ids (an expanding ``IN``) rather than one id.
    """
    feeds = Feed.__table__.c
    values: dict[str, Any] = {
        "lease_owner": sa.bindparam("p_owner", type_=feeds.lease_owner.type),
        "lease_expires_at": sa.bindparam("p_expires", type_=feeds.lease_expires_at.type),
    }
    if with_progress:
        idle = sa.or_(feeds.paused.is_(True), feeds.url_encrypted.is_(None))
        step = sa.bindparam("p_progress", type_=feeds.progress.type)
        values["progress"] = sa.case((idle, feeds.progress), else_=step)
    statement = (
        sa.update(Feed.__table__)
        .where(
            feeds.id.in_(sa.bindparam("p_id", expanding=True))
            if many
            else feeds.id == sa.bindparam("p_id", type_=feeds.id.type),
            sa.or_(
                feeds.lease_owner.is_(None),
                feeds.lease_expires_at < sa.bindparam("p_now", type_=feeds.lease_expires_at.type),
            ),
        )
        .values(**values)
    )
    return statement.returning(*columns) if columns else statement


def _taking_params(
    feed_id: int, owner: str, now: datetime, seconds: int, progress: str | None
) -> dict[str, Any]:
    params = {
        "p_id": feed_id,
        "p_owner": owner[:64],
        "p_expires": now + timedelta(seconds=seconds),
        "p_now": now,
    }
    if progress is not None:
        _check_step(progress)
        params["p_progress"] = progress
    return params


def releasing_values(owner: str | sa.BindParameter[str]) -> dict[str, Any]:
    """Column values that give the lease back only if ``owner`` still holds it.

    Assigned to a loaded ``Feed`` (or put in a Core UPDATE of ``feeds``) they
    become part of the UPDATE that records the refresh, so releasing costs no
    statement of its own. ``owner`` may be a bound parameter (a statement
    built once), given the first 64 characters of the owner's name. Both CASEs read
    the row as it was before the UPDATE (SQL evaluates every SET against the
    old row), so a lease another worker took over is left alone.
    """
    feeds = Feed.__table__.c
    ours = feeds.lease_owner == (owner[:64] if isinstance(owner, str) else owner)
    return {
        "lease_owner": sa.case((ours, sa.null()), else_=feeds.lease_owner),
        "lease_expires_at": sa.case((ours, sa.null()), else_=feeds.lease_expires_at),
    }


def requeue(session: so.Session, feed_ids: list[int], owner: str, *, now: datetime) -> None:
    """Give back the leases ``owner`` holds on ``feed_ids`` and make the feeds due
    at ``now``, "queued": the next claim hands them out again. One statement."""
    if not feed_ids:
        return
    feeds = Feed.__table__.c
    session.execute(
        sa.update(Feed)
        .where(feeds.id.in_(feed_ids), feeds.lease_owner == owner[:64])
        .values(lease_owner=None, lease_expires_at=None, next_refresh_at=now, progress="queued")
        .execution_options(synchronize_session=False)
    )
    session.commit()


def release_lease(session: so.Session, feed_id: int, owner: str) -> None:
    """Give the lease back (only if we still hold it)."""
    session.execute(
        sa.update(Feed)
        .where(Feed.id == feed_id, Feed.lease_owner == owner[:64])
        .values(lease_owner=None, lease_expires_at=None)
        .execution_options(synchronize_session=False)
    )
    session.commit()


def set_progress(session: so.Session, feed_id: int, progress: str) -> None:
    """Record how far the refresh got, committed at once for the status endpoint."""
    _check_step(progress)
    session.execute(
        sa.update(Feed)
        .where(Feed.id == feed_id)
        .values(progress=progress)
        .execution_options(synchronize_session=False)
    )
    session.commit()


def _check_step(progress: str) -> None:
    if progress not in PROGRESS_STEPS:
        raise ValueError(f"unknown progress step {progress!r}")
