"""Database wiring: SQLite pragmas for the embedded default, and on
PostgreSQL, read-only transactions ended with COMMIT so prepared statements
last and pooled connections checked without a round trip on every checkout."""

from __future__ import annotations

import select
import time
from collections.abc import Callable
from typing import Any

import sqlalchemy as sa
from flask import Flask
from sqlalchemy.engine import Connection

from app.extensions import db


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    # WAL lets the refresh thread write while pages read; foreign keys are
    # off by default in SQLite and our cascades depend on them.
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    # In WAL mode NORMAL is still corruption-safe; it skips the fsync on each
    # commit, so a power cut (not a crash) can lose the last commits. A
    # refresh commits twice, and those fsyncs were a fifth of an unchanged one.
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.close()


# psycopg prepares a statement on its fifth use on a connection, and forgets
# every prepared statement on ROLLBACK (it cannot tell what the rolled-back
# transaction did to them). Ending each request's session rolls back, so no
# page ever ran a prepared statement and PostgreSQL planned every query on
# every view. A transaction that ran nothing but SELECTs ends the same either
# way, so such a transaction is committed instead; one that wrote anything,
# or ended in an error, is still rolled back.
_WROTE = "timepulse_wrote"


def _note_writes(conn: Connection, _cursor: Any, statement: str, *_: Any) -> None:
    if statement.lstrip()[:6].upper() != "SELECT":
        conn.info[_WROTE] = True


def _forget_writes(conn: Connection) -> None:
    conn.info.pop(_WROTE, None)


def _end_read_only_with_commit(exc: BaseException | None) -> None:
    session = db.session()
    if exc is not None or not session.in_transaction():
        return
    if session.new or session.dirty or session.deleted:
        return  # never commit what a view left behind
    if not session.connection().info.get(_WROTE):
        session.expire_on_commit = False  # nothing changed; objects stay readable
        session.commit()


# SQLAlchemy's pool_pre_ping sends a SELECT 1 on every checkout: a tenth
# of an unchanged refresh, which checks a connection out twice. Instead a
# connection is looked at before it is handed out. When PostgreSQL ends a
# session (a restart, pg_terminate_backend, idle_session_timeout) it sends
# the reason and closes the socket, so an idle connection with anything to
# read is dead, which a poll with no timeout tells without a round trip. A
# connection idle for longer than IDLE_PING_SECONDS may have been dropped
# silently (a firewall, a lost network), so it gets pre-ping's SELECT 1.
# A connection that breaks while in use still fails that one use, as it
# would with pre-ping; SQLAlchemy then drops the pool's older connections.
IDLE_PING_SECONDS = 30.0
_CHECKED_IN = "timepulse_checked_in"


def _note_checkin(_dbapi_connection: Any, record: Any) -> None:
    record.info[_CHECKED_IN] = time.monotonic()


def _liveness_check(dialect: sa.Dialect) -> Callable[[Any, Any, Any], None]:
    """The pool's checkout listener for ``dialect``'s connections."""
    errors = dialect.loaded_dbapi.Error

    def check(dbapi_connection: Any, record: Any, _proxy: Any) -> None:
        since = record.info.pop(_CHECKED_IN, None)
        if since is None:
            return  # just connected
        if _closed_by_server(dbapi_connection, errors):
            raise sa.exc.DisconnectionError("the database server ended the connection")
        if time.monotonic() - since > IDLE_PING_SECONDS:
            try:
                dialect.do_ping(dbapi_connection)
            except errors as exc:
                # As pre-ping: one dead idle connection makes the others suspect.
                raise sa.exc.InvalidatePoolError("the database did not answer") from exc

    return check


def _closed_by_server(dbapi_connection: Any, errors: type[Exception]) -> bool:
    """True when an idle connection has something to read: the server's goodbye."""
    try:
        descriptor = dbapi_connection.fileno()
    except errors:
        return True  # closed on our side already
    if not hasattr(select, "poll"):  # Windows
        return bool(select.select([descriptor], [], [], 0)[0])
    poller = select.poll()
    poller.register(descriptor, select.POLLIN)
    return bool(poller.poll(0))


def init_app(app: Flask) -> None:
    with app.app_context():
        engine = db.engine
        if engine.dialect.name == "sqlite":
            sa.event.listen(engine, "connect", _sqlite_pragmas)
        elif engine.dialect.name == "postgresql":
            sa.event.listen(engine, "before_cursor_execute", _note_writes)
            sa.event.listen(engine, "commit", _forget_writes)
            sa.event.listen(engine, "rollback", _forget_writes)
            sa.event.listen(engine.pool, "checkin", _note_checkin)
            sa.event.listen(engine.pool, "checkout", _liveness_check(engine.dialect))
            # Runs before Flask-SQLAlchemy's teardown removes the session
            # (teardown functions run in reverse order of registration).
            app.teardown_appcontext(_end_read_only_with_commit)
