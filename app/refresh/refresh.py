"""Refresh one feed: the one function the web app, the CLI, threads and workers call.

``refresh_feed`` takes the feed's lease, fetches with the stored validators,
stops early when nothing changed (304, or the same body fingerprint — no
parsing), otherwise parses and expands the window, reconciles in one
transaction and records a sync run. Failures keep the last good data, are
recorded with their kind and original (redacted) message, and back off.

The feed URL is decrypted here and goes nowhere else: not into log lines,
not into exception messages, not into sync runs (every stored or logged
message passes ``scrub_text`` with the URL as an extra guard).
"""

from __future__ import annotations

import functools
import logging
import random
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
import sqlalchemy.orm as so
from blinker import Namespace
from flask import Flask, current_app

from app.errors import FeedError, FeedErrorKind
from app.extensions import db
from app.feeds import engine
from app.feeds.catalogue import diagnostic
from app.feeds.diagnose import is_stale
from app.feeds.fetch import FetchPolicy, fetch_feed, scrub_text
from app.feeds.types import FeedReport, FetchResult
from app.models import Feed, SyncRun, utcnow
from app.refresh.apply import (
    active_count,
    active_count_query,
    owner_zone,
    read_report,
    store_report,
)
from app.refresh.lease import (
    engine_of,
    release_lease,
    releasing_values,
    requeue,
    set_progress,
    short_connection,
    take_lease,
    take_leases,
)
from app.refresh.policy import backoff_seconds, clamp_interval, fetch_policy, refresh_window
from app.refresh.reconcile import Counts, reconcile
from app.refresh.secrets import feed_cipher

log = logging.getLogger("timepulse.refresh")

Fetch = Callable[..., FetchResult]

LEASE_SECONDS = 10 * 60
NOT_FOUND_PAUSE_AFTER = 3
KEEP_SYNC_RUNS = 200
# An unchanged refresh trims the history only about once in this many runs
# (every other outcome trims it every time): the history of a calendar that
# never changes still stays near KEEP_SYNC_RUNS, and the cheapest refresh
# saves a statement.
PRUNE_UNCHANGED_EVERY = 20
INTERNAL_ERROR = "internal"
# Findings this module adds on top of the engine's diagnosis.
_STATE_CODES = frozenset({"feed_held", "stale_feed"})
_FEEDS = Feed.__table__
_SYNC_RUNS = SyncRun.__table__
# What a refresh reads with its lease (UPDATE … RETURNING): all an unchanged
# refresh needs, so it records itself in Core statements without loading the
# feed; a changed one loads it after the fetch.
_LEASED = tuple(
    _FEEDS.c[name]
    for name in (
        "paused", "url_encrypted", "full_reimport", "etag", "last_modified", "content_hash",
        "refresh_interval", "last_change_at", "held", "diagnostics",
    )
)  # fmt: skip


@dataclass(frozen=True, slots=True)
class RefreshResult:
    """How one refresh ended: ok, unchanged, held, error or skipped (with why)."""

    feed_id: int
    outcome: str
    counts: Counts | None = None
    http_status: int | None = None
    error_kind: str | None = None
    error_message: str | None = None
    duration_ms: int = 0

    def summary(self) -> str:
        """One line for the CLI and logs; never holds the URL."""
        line = f"feed {self.feed_id}: {self.outcome}"
        if self.counts is not None and self.outcome in ("ok", "held"):
            c = self.counts
            line += f" (new {c.new}, changed {c.changed}, removed {c.removed}, "
            line += f"unchanged {c.unchanged})"
        if self.error_kind:
            line += f" [{self.error_kind}] {self.error_message or ''}".rstrip()
        return line + f" in {self.duration_ms} ms"


@dataclass
class _Run:
    """What one refresh carries from step to step."""

    app: Flask
    session: so.Session
    feed_id: int
    now: datetime
    started: float
    owner: str = ""
    url: str = ""
    # Set once the lease went back in the commit that recorded the refresh.
    released: bool = False

    def scrub(self, text: str | None) -> str | None:
        return scrub_text(text, [self.url]) if text and self.url else text

    def elapsed_ms(self) -> int:
        return int((time.monotonic() - self.started) * 1000)


def refresh_feed(
    feed_id: int,
    *,
    worker_id: str,
    now: datetime | None = None,
    fetch: Fetch = fetch_feed,
    policy: FetchPolicy | None = None,
) -> RefreshResult:
    """Refresh feed ``feed_id`` once, inside an app context.

    ``worker_id`` names the lease holder; ``fetch`` and ``policy`` default to
    the guarded fetch under the app's policy. Returns outcome "skipped" when
    another refresh holds the lease or the feed is paused or gone. Never
    raises for feed problems: they are recorded on the feed and its history.
    """
    app: Flask = current_app._get_current_object()  # type: ignore[attr-defined]
    run = _Run(app, db.session(), feed_id, now or utcnow(), time.monotonic(), owner=worker_id)
    leased = take_lease(
        run.session,
        feed_id,
        worker_id,
        now=run.now,
        seconds=_lease_seconds(app),
        progress="fetching",
        columns=_LEASED,
    )
    return _refresh_one(run, leased, fetch, policy or fetch_policy(app))


def refresh_feeds(
    feed_ids: list[int],
    *,
    worker_id: str,
    fetch: Fetch = fetch_feed,
    policy: FetchPolicy | None = None,
) -> list[RefreshResult]:
    """Refresh a batch of feeds one after the other, inside an app context.

    What ``refresh_feed`` does for each, with the batch's round trips
    shared: one UPDATE takes every lease, and on PostgreSQL the records of
    unchanged feeds (most of a cycle) are written together at the end, in
    one round trip (``_Deferred``). Until then such a feed keeps its lease,
    so a worker that dies mid-batch loses only time: the leases expire and
    the feeds are claimed again. A batch that has run for half the lease
    (slow servers, each up to the fetch timeout) puts the feeds it has not
    started back in the queue. Results come in the order of ``feed_ids``.
    """
    app: Flask = current_app._get_current_object()  # type: ignore[attr-defined]
    session, seconds = db.session(), _lease_seconds(app)
    engine = engine_of(session)
    leased = take_leases(
        session,
        feed_ids,
        worker_id,
        now=utcnow(),
        seconds=seconds,
        progress="fetching",
        columns=_LEASED,
    )
    batch_leased.send(app, feed_ids=list(leased))
    policy = policy or fetch_policy(app)
    deferred = _Deferred() if engine.dialect.name == "postgresql" else None
    results: list[RefreshResult] = []
    # The leases were all taken now, and later feeds must be done well before
    # theirs expire: past half the lease the rest goes back in the queue.
    budget = time.monotonic() + seconds / 2
    try:
        for position, feed_id in enumerate(feed_ids):
            if position and time.monotonic() > budget:
                results += _requeue_rest(session, feed_ids[position:], leased, worker_id)
                break
            run = _Run(app, session, feed_id, utcnow(), time.monotonic(), owner=worker_id)
            result = _refresh_one(run, leased.get(feed_id), fetch, policy, deferred)
            feed_refreshed.send(app, result=result)
            results.append(result)
    finally:
        # Even when the batch broke off: the feeds done so far are recorded.
        gone = deferred.write(engine) if deferred else set()
    return [_gone(r.feed_id) if r.feed_id in gone else r for r in results]


# Sent in the refreshing thread by ``refresh_feeds``, for observers that
# attribute a batch's work feed by feed (the benchmarks): after the lease,
# with the ids leased, and after each feed, with its result.
_signals = Namespace()
batch_leased = _signals.signal("batch-leased")
feed_refreshed = _signals.signal("feed-refreshed")


def _requeue_rest(
    session: so.Session, feed_ids: list[int], leased: dict[int, sa.Row[Any]], owner: str
) -> list[RefreshResult]:
    """The feeds a batch had no time left for: leases back, due again at once."""
    requeue(session, [f for f in feed_ids if f in leased], owner, now=utcnow())
    log.warning("batch out of time: %s feed(s) queued again", len(feed_ids))
    why = "the batch ran out of time; queued again"
    return [RefreshResult(feed_id, "skipped", error_message=why) for feed_id in feed_ids]


def _gone(feed_id: int) -> RefreshResult:
    """The result for a feed deleted while it was being refreshed."""
    return RefreshResult(feed_id, "skipped", error_message="gone")


def _lease_seconds(app: Flask) -> int:
    return int(app.config.get("TIMEPULSE_LEASE_SECONDS", LEASE_SECONDS))


def _refresh_one(
    run: _Run,
    leased: sa.Row[Any] | None,
    fetch: Fetch,
    policy: FetchPolicy,
    deferred: _Deferred | None = None,
) -> RefreshResult:
    """Refresh the feed ``leased`` describes (None: its lease was not taken)."""
    if leased is None:
        log.info("feed %s: skipped, another refresh holds its lease", run.feed_id)
        return RefreshResult(run.feed_id, "skipped", error_message="already being refreshed")
    try:
        return _refresh_leased(run, leased, fetch, policy, deferred)
    except Exception as exc:  # a bug or a database failure: record it, keep the data
        run.session.rollback()
        return _record_failure(run, INTERNAL_ERROR, _internal_message(run, exc), None, None)
    finally:
        if not run.released:
            run.session.rollback()
            release_lease(run.session, run.feed_id, run.owner)


def _refresh_leased(
    run: _Run, feed: sa.Row[Any], fetch: Fetch, policy: FetchPolicy, deferred: _Deferred | None
) -> RefreshResult:
    """``feed`` holds the ``_LEASED`` columns as the lease found them."""
    if feed.paused or feed.url_encrypted is None:
        return RefreshResult(run.feed_id, "skipped", error_message="paused or gone")
    run.url = feed_cipher(run.app).decrypt(feed.url_encrypted)
    full = feed.full_reimport
    validators = (None, None) if full else (feed.etag, feed.last_modified)
    # "fetching" was recorded with the lease (not on a paused or gone feed).
    try:
        fetched = fetch(run.url, etag=validators[0], last_modified=validators[1], policy=policy)
    except FeedError as err:
        return _feed_failure(run, err)
    if fetched.not_modified:
        return _record_unchanged(run, feed, fetched, deferred)
    fingerprint = engine.body_fingerprint(fetched.body)
    if not full and fingerprint == feed.content_hash:
        return _record_unchanged(run, feed, fetched, deferred)
    return _parse_and_apply(run, fetched, fingerprint, full)


def _parse_and_apply(
    run: _Run, fetched: FetchResult, fingerprint: str, full: bool
) -> RefreshResult:
    set_progress(run.session, run.feed_id, "parsing")
    feed = _feed(run)
    zone = owner_zone(run.session, feed)
    window = refresh_window(run.now, feed.import_from, zone)
    try:
        report = read_report(fetched.body, window, zone, scrub=run.scrub)
    except FeedError as err:
        return _feed_failure(run, err)
    set_progress(run.session, run.feed_id, "saving")
    feed = _feed(run)
    counts = reconcile(
        run.session,
        feed,
        report.occurrences,
        now=run.now,
        window=window,
        fingerprint=fingerprint,
        force=full,
    )
    if counts.held:
        return _record_held(run, feed, fetched, counts)
    return _record_applied(run, feed, fetched, fingerprint, report, counts)


# --- recording outcomes --------------------------------------------------------


def _record_unchanged(
    run: _Run, feed: sa.Row[Any], fetched: FetchResult, deferred: _Deferred | None = None
) -> RefreshResult:
    """The cheapest refresh: the feed's UPDATE and the run's INSERT, one commit.

    No ORM object: the values are what ``_succeeded`` and ``_finish`` would
    set on a loaded feed (an ORM flush writes only the changed columns; the
    row ends up the same). The sync run counts the active occurrences in its
    own INSERT and returns the count. The statements go through a plain
    connection rather than the session: the session's bookkeeping for a
    transaction cost as much as the two statements themselves. On
    PostgreSQL both are one statement (``_unchanged_record``).

    With ``deferred`` (a batch on PostgreSQL) the record joins the batch's,
    written when the batch ends; the result then carries no counts.
    """
    params = _success_values(run, fetched, feed.refresh_interval)
    optional = []
    if feed.held is not None:
        params["held"] = None
        optional.append("held")
    diagnostics = _state_findings(run, None, feed.last_change_at, feed.diagnostics)
    if diagnostics != feed.diagnostics:
        params["diagnostics"] = diagnostics
        optional.append("diagnostics")
    params["progress"] = "done"
    params = {f"p_{name}": value for name, value in params.items()}
    params |= {"p_id": run.feed_id, "p_owner": run.owner[:64]}
    # The session wrote nothing since the lease; end the read the stale check
    # may have made through it, which must not outlive the writes below. A
    # COMMIT, not a ROLLBACK: psycopg drops its prepared statements on ROLLBACK.
    if run.session.in_transaction():
        run.session.commit()
    duration = run.elapsed_ms()
    params["p_last_duration_ms"] = duration
    params |= {
        "p_feed_id": run.feed_id,
        "p_started_at": run.now,
        "p_duration_ms": duration,
        "p_http_status": fetched.status,
        "p_bytes": len(fetched.body),
    }
    prune = random.randrange(PRUNE_UNCHANGED_EVERY) == 0
    if deferred is not None:
        deferred.add(tuple(optional), params, prune)
        run.released = True  # by the batch's records
        counts = None
    else:
        # On PostgreSQL the record is one statement (``_unchanged_record``);
        # on SQLite, leaving the block without the commit (an error) rolls
        # both statements back.
        with short_connection(engine_of(run.session)) as connection:
            unchanged = _write_unchanged(connection, tuple(optional), params)
            if prune:
                _prune_history(connection, run.feed_id)
            connection.commit()
        run.released = True
        counts = Counts(unchanged=int(unchanged))
    result = RefreshResult(run.feed_id, "unchanged", counts, fetched.status, None, None, duration)
    log.info("%s", result.summary())
    return result


class _Deferred:
    """The records of a batch's unchanged feeds, written together when it ends.

    Each is the statement ``_record_unchanged`` runs on PostgreSQL, without
    its RETURNING; given all parameter sets at once, psycopg sends them in a
    pipeline: one round trip for the batch instead of one per feed. Each
    record is still its own statement (autocommit), so one feed deleted
    meanwhile leaves no trace and takes no other record with it.
    """

    def __init__(self) -> None:
        self.records: dict[tuple[str, ...], list[dict[str, Any]]] = {}
        self.prune: list[int] = []

    def __bool__(self) -> bool:
        return bool(self.records)

    def add(self, optional: tuple[str, ...], params: dict[str, Any], prune: bool) -> None:
        self.records.setdefault(optional, []).append(params)
        if prune:
            self.prune.append(params["p_id"])

    def write(self, engine: sa.Engine) -> set[int]:
        """Write the records; returns the ids of feeds deleted meanwhile (not recorded)."""
        missing = 0
        with short_connection(engine) as connection:
            for optional, params in self.records.items():
                statement = _unchanged_record(optional, returning=False)
                missing += len(params) - connection.execute(statement, params).rowcount
            gone = set()
            if missing:  # rare: ask which feeds are still there
                ids = [params["p_id"] for group in self.records.values() for params in group]
                kept = sa.select(_FEEDS.c.id).where(_FEEDS.c.id.in_(ids))
                gone = set(ids) - set(connection.scalars(kept))
            for feed_id in self.prune:
                _prune_history(connection, feed_id)
            connection.commit()
        self.records.clear()
        self.prune.clear()
        return gone


def _write_unchanged(
    connection: sa.Connection, optional: tuple[str, ...], params: dict[str, Any]
) -> int:
    """Record an unchanged refresh; returns the feed's active occurrences.

    Raises StaleDataError (what an ORM flush raises) when the feed vanished
    under the refresh.
    """
    if connection.dialect.name == "postgresql":
        row = connection.execute(_unchanged_record(optional), params).first()
    elif connection.execute(_unchanged_update(optional), params).rowcount == 1:
        row = connection.execute(_UNCHANGED_RUN, params).first()
    else:
        row = None
    if row is None:
        raise so.exc.StaleDataError("feed row is gone")
    return int(row.unchanged)


@functools.cache
def _unchanged_record(optional: tuple[str, ...], returning: bool = True) -> sa.Insert:
    """Both writes of an unchanged refresh as one PostgreSQL statement.

    ``WITH recorded AS (UPDATE feeds … RETURNING id) INSERT INTO sync_runs
    … SELECT … FROM recorded``: one round trip, and no sync run when the
    feed is gone (the UPDATE returned no row).
    """
    recorded = _unchanged_update(optional).returning(_FEEDS.c.id).cte("recorded")
    values = {**_run_values(recorded.c.id), "feed_id": recorded.c.id}
    rows = sa.select(*values.values()).select_from(recorded)
    statement = sa.insert(_SYNC_RUNS).from_select(list(values), rows).add_cte(recorded)
    if returning:
        return statement.returning(_SYNC_RUNS.c.unchanged)
    # Without RETURNING, the number of runs written tells whether a feed was gone.
    return statement.execution_options(preserve_rowcount=True)


@functools.cache
def _unchanged_update(optional: tuple[str, ...]) -> sa.Update:
    """The UPDATE recording an unchanged refresh, built once per set of columns it sets."""
    names = [*_SUCCESS_COLUMNS, "progress", "last_duration_ms", *optional]
    c = _FEEDS.c
    values = {name: sa.bindparam(f"p_{name}", type_=c[name].type) for name in names}
    values |= releasing_values(sa.bindparam("p_owner", type_=c.lease_owner.type))
    return sa.update(_FEEDS).where(c.id == sa.bindparam("p_id", type_=c.id.type)).values(values)


def _unchanged_run() -> sa.Insert:
    """The INSERT of an unchanged refresh's sync run; it counts the active occurrences."""
    c = _SYNC_RUNS.c
    feed_id = sa.bindparam("p_feed_id", type_=c.feed_id.type)
    values = {**_run_values(feed_id), "feed_id": feed_id}
    return sa.insert(_SYNC_RUNS).values(values).returning(c.unchanged)


def _run_values(feed_id: sa.ColumnElement[int]) -> dict[str, Any]:
    """The columns of an unchanged refresh's sync run but its feed id."""
    c = _SYNC_RUNS.c
    values: dict[str, Any] = {
        name: sa.bindparam(f"p_{name}", type_=c[name].type)
        for name in ("started_at", "duration_ms", "http_status", "bytes")
    }
    values |= {
        name: sa.literal(value, c[name].type)
        for name, value in {"outcome": "unchanged", "new": 0, "changed": 0, "removed": 0}.items()
    }
    values["unchanged"] = active_count_query(feed_id).scalar_subquery()
    return values


_UNCHANGED_RUN = _unchanged_run()


def _record_held(run: _Run, feed: Feed, fetched: FetchResult, counts: Counts) -> RefreshResult:
    feed.last_attempt_at = run.now
    feed.failure_count = 0
    feed.last_error_kind = feed.last_error_message = None
    feed.full_reimport = False
    feed.next_refresh_at = run.now + timedelta(seconds=feed.refresh_interval)
    feed.last_response = _response_facts(fetched)
    feed.diagnostics = _with_state_findings(run, feed, feed.diagnostics)
    log.warning(
        "feed %s: held, %s occurrence(s) would shrink to %s",
        feed.id,
        (feed.held or {}).get("previous"),
        (feed.held or {}).get("now"),
    )
    return _finish(run, feed, "held", fetched.status, len(fetched.body), counts)


def _record_applied(
    run: _Run,
    feed: Feed,
    fetched: FetchResult,
    fingerprint: str,
    report: FeedReport,
    counts: Counts,
) -> RefreshResult:
    _succeeded(run, feed, fetched)
    store_report(feed, report, fingerprint, run.now)
    default = int(run.app.config.get("TIMEPULSE_REFRESH_INTERVAL", 900))
    feed.refresh_interval = clamp_interval(report.refresh_interval, default)
    feed.next_refresh_at = run.now + timedelta(seconds=feed.refresh_interval)
    feed.diagnostics = _with_state_findings(run, feed, feed.diagnostics)
    return _finish(run, feed, "ok", fetched.status, len(fetched.body), counts)


def _succeeded(run: _Run, feed: Feed, fetched: FetchResult) -> None:
    for name, value in _success_values(run, fetched, feed.refresh_interval).items():
        setattr(feed, name, value)


def _success_values(run: _Run, fetched: FetchResult, interval: int) -> dict[str, Any]:
    """The feed's columns after a successful fetch (``interval``: its refresh interval)."""
    return {
        "last_attempt_at": run.now,
        "last_success_at": run.now,
        "failure_count": 0,
        "last_error_kind": None,
        "last_error_message": None,
        "full_reimport": False,
        "etag": fetched.etag,
        "last_modified": fetched.last_modified,
        "last_response": _response_facts(fetched),
        "next_refresh_at": run.now + timedelta(seconds=interval),
    }


_SUCCESS_COLUMNS = (
    "last_attempt_at", "last_success_at", "failure_count", "last_error_kind",
    "last_error_message", "full_reimport", "etag", "last_modified", "last_response",
    "next_refresh_at",
)  # fmt: skip


def _response_facts(fetched: FetchResult) -> dict[str, Any]:
    return {
        "status": fetched.status,
        "content_type": fetched.content_type,
        "bytes": len(fetched.body),
        "not_modified": fetched.not_modified,
    }


def _with_state_findings(
    run: _Run, feed: Feed, found: list[dict[str, Any]]
) -> list[dict[str, Any]]:
    """The engine's findings plus what only history can tell: held, stale."""
    return _state_findings(run, feed.held, feed.last_change_at, found)


def _state_findings(
    run: _Run,
    held: dict[str, Any] | None,
    last_change_at: datetime | None,
    found: list[dict[str, Any]] | None,
) -> list[dict[str, Any]]:
    """``_with_state_findings`` on the feed's values rather than a loaded feed."""
    kept = [d for d in found or [] if d.get("code") not in _STATE_CODES]
    extra = []
    if held:
        extra.append(diagnostic("feed_held"))
    if _may_be_stale(run, last_change_at) and is_stale(
        last_change_at, run.now, active_count(run.session, run.feed_id, before=run.now)
    ):
        days = (run.now - last_change_at).days if last_change_at else 0
        extra.append(diagnostic("stale_feed", days=days))
    own = [{"code": d.code, "severity": d.severity, "message": d.message} for d in extra]
    return [{**d, "uid": None} for d in own] + kept


def _may_be_stale(run: _Run, last_change_at: datetime | None) -> bool:
    """False when ``is_stale`` is False whatever the past meetings: skips counting them.

    A feed that changed less than a week ago (every changed refresh, and
    most unchanged ones) cannot be stale, so the count is not worth a query.
    """
    return last_change_at is not None and is_stale(last_change_at, run.now, 1)


def _feed_failure(run: _Run, err: FeedError) -> RefreshResult:
    return _record_failure(
        run, err.kind.value, run.scrub(err.message), run.scrub(err.detail), err.status
    )


def _record_failure(
    run: _Run, kind: str, message: str | None, detail: str | None, status: int | None
) -> RefreshResult:
    """Keep the last good data; record the error, back off, pause on repeated 404/410."""
    run.session.rollback()
    feed = _feed(run)
    if feed is None:
        return _gone(run.feed_id)
    feed.failure_count += 1
    feed.last_attempt_at = run.now
    feed.last_error_kind = kind
    feed.last_error_message = message
    delay = backoff_seconds(feed.refresh_interval, feed.failure_count)
    feed.next_refresh_at = run.now + timedelta(seconds=delay)
    if kind == FeedErrorKind.HTTP_NOT_FOUND and _not_found_streak(run.session, feed.id):
        feed.paused = True
        feed.pause_reason = (
            f"Paused: the calendar server answered “not found” {NOT_FOUND_PAUSE_AFTER} times "
            "in a row, so the calendar was probably unpublished or its link reset. Publish "
            "it again in Outlook, paste the new ICS link under “Edit”, then resume."
        )
    log.warning(
        "feed %s: refresh failed (%s, failure %s), next try in %s s%s",
        feed.id,
        kind,
        feed.failure_count,
        delay,
        ", feed paused" if feed.paused else "",
    )
    result = _finish(run, feed, "error", status, 0, None, kind=kind, detail=detail or message)
    return RefreshResult(
        run.feed_id,
        "error",
        http_status=status,
        error_kind=kind,
        error_message=message,
        duration_ms=result.duration_ms,
    )


def _not_found_streak(session: so.Session, feed_id: int) -> bool:
    """True when the last runs before this one were "not found" too."""
    kinds = session.scalars(
        sa.select(SyncRun.error_kind)
        .where(SyncRun.feed_id == feed_id)
        .order_by(SyncRun.started_at.desc(), SyncRun.id.desc())
        .limit(NOT_FOUND_PAUSE_AFTER - 1)
    ).all()
    return len(kinds) == NOT_FOUND_PAUSE_AFTER - 1 and all(
        k == FeedErrorKind.HTTP_NOT_FOUND for k in kinds
    )


def _finish(
    run: _Run,
    feed: Feed,
    outcome: str,
    status: int | None,
    size: int,
    counts: Counts | None,
    *,
    kind: str | None = None,
    detail: str | None = None,
) -> RefreshResult:
    """Write the sync run and the feed's new state, lease given back, in one commit."""
    counts = counts or Counts()
    duration = run.elapsed_ms()
    feed.progress = "error" if outcome == "error" else "done"
    feed.last_duration_ms = duration
    for name, value in releasing_values(run.owner).items():
        setattr(feed, name, value)
    run.session.add(
        SyncRun(
            feed_id=feed.id,
            started_at=run.now,
            duration_ms=duration,
            outcome=outcome,
            http_status=status,
            bytes=size,
            new=counts.new,
            changed=counts.changed,
            removed=counts.removed,
            unchanged=counts.unchanged,
            error_kind=kind,
            error_message=detail,
        )
    )
    if outcome != "unchanged" or random.randrange(PRUNE_UNCHANGED_EVERY) == 0:
        _prune_history(run.session, feed.id)
    run.session.commit()
    run.released = True
    result = RefreshResult(run.feed_id, outcome, counts, status, kind, None, duration)
    if outcome != "error":
        log.info("%s", result.summary())
    return result


def _prune_history(session: so.Session | sa.Connection, feed_id: int) -> None:
    """Keep the feed's newest KEEP_SYNC_RUNS runs; one DELETE (nothing when fewer)."""
    cutoff = (
        sa.select(SyncRun.id)
        .where(SyncRun.feed_id == feed_id)
        .order_by(SyncRun.id.desc())
        .offset(KEEP_SYNC_RUNS)
        .limit(1)
        .scalar_subquery()
    )
    session.execute(
        sa.delete(SyncRun)
        .where(SyncRun.feed_id == feed_id, SyncRun.id <= cutoff)
        .execution_options(synchronize_session=False)
    )


# --- helpers --------------------------------------------------------------------


def _feed(run: _Run) -> Feed:
    return run.session.get(Feed, run.feed_id)  # type: ignore[return-value]


def _internal_message(run: _Run, exc: BaseException) -> str:
    """A scrubbed one-liner for the history, and the scrubbed traceback for the log."""
    text = run.scrub("".join(traceback.format_exception(exc))) or ""
    log.error("feed %s: refresh crashed\n%s", run.feed_id, text)
    return run.scrub(f"{type(exc).__name__}: {exc}") or type(exc).__name__
