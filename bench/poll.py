"""One full refresh cycle of 500 feeds: the embedded thread against Celery workers.

    .venv/bin/python -m bench.poll                 # 500 feeds, both modes
    .venv/bin/python -m bench.poll --feeds 100 --modes embedded   # a quick look

The feeds are Exchange-like calendars (``bench.generate``) served by the
test suite's real HTTPS server, in a process of its own so it does not
share the GIL with the code being measured. The mix, as a day of polling
looks: most feeds unchanged (a 304 for the ones that send an ETag, the
same body with fresh DTSTAMPs for the ones that do not), some changed (a
few meetings moved), a few failing (500, 404) and a few slow (3 s).

Before the measured cycle every feed holds its last good import (copied in
SQL from a few feeds refreshed for real), so the cycle sees the state a
running installation is in. Modes:

* ``embedded`` — SQLite and one thread: exactly the loop ``timepulse run``
  runs (claim up to ten due feeds, ``refresh_feeds`` them as a batch, a feed
  known to be slow in a batch of its own);
* ``embedded-pg`` — the same loop on PostgreSQL;
* ``celery`` — PostgreSQL, Redis, ``--processes`` worker processes each
  ``--pool threads -c --threads``; beat's tick is sent once, and sends the
  feeds in batches of about ten, slowest first (each knows its last
  refresh's length; a slow one goes alone);
* ``celery-no-history`` — the same with no feed's last length known (the
  first cycle after an upgrade): feeds go out in claim order, a slow one
  holds back the rest of its batch, and the slow ones that come last end
  the cycle;
* ``celery-prefork`` — one worker ``--pool prefork -c --processes``.

It prints feeds per second, the median cost of a refresh per outcome (CPU
time in the refreshing thread, wall time, database statements, how often
the thread was switched out), the cost of an unchanged feed relative to a
changed one and to the naive path (parse every feed every time), and how
many of the machine's cores the cycle kept busy. A batch's shared work
(its lease statement, the records of its unchanged feeds written
together) is split evenly over its feeds (``bench.attribution``), so the
per-feed costs add up to what the batches cost.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import re
import statistics
import tempfile
import threading
import time
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from cryptography.fernet import Fernet
from flask import Flask

from bench import attribution, celery_probe, services
from bench.generate import FeedSpec, generate_feed

TOKEN = "BenchT0ken0123456789abcdefXYZ"
VARIANTS = 5
SLOW_SECONDS = 3.0
FEED_KEY = Fernet.generate_key().decode()
FINGERPRINT_KEY = "bench-fingerprint-key-not-secret"
# Share of each kind in the cycle; the rest answer 304.
MIX = {
    "changed": 0.08,
    "restamped": 0.28,
    "failing-500": 0.012,
    "failing-404": 0.012,
    "slow": 0.016,
}


# --- the feeds and the server --------------------------------------------------------


def feed_kinds(count: int) -> list[str]:
    """Kinds spread evenly over ``count`` feeds (deterministic)."""
    kinds = ["304"] * count
    step = 0
    for kind, share in MIX.items():
        for _ in range(max(1, round(count * share))):
            kinds[(step * 7919) % count] = kind
            step += 1
    return kinds


@dataclass(frozen=True)
class Bodies:
    original: list[bytes]
    changed: list[bytes]
    restamped: list[bytes]

    @classmethod
    def make(cls, events: int) -> Bodies:
        today = date.today()
        original = [
            generate_feed(FeedSpec(events=events, today=today, seed=100 + v))
            for v in range(VARIANTS)
        ]
        stamp = datetime.now(UTC).strftime("DTSTAMP:%Y%m%dT%H%M%SZ").encode()
        return cls(
            original=original,
            # A few meetings renamed: the whole window is parsed, few rows change.
            changed=[b.replace(b":Stand-up #", b":Stand-up (moved) #", 30) for b in original],
            # Office 365 restamps DTSTAMP on every request; the fingerprint ignores it.
            restamped=[re.sub(rb"DTSTAMP:\d{8}T\d{6}Z", stamp, b) for b in original],
        )


def feed_path(mode: str, index: int) -> str:
    return f"/{mode}/{index}/{TOKEN}/calendar.ics"


def template_path(mode: str, variant: int | str) -> str:
    return f"/{mode}/template/{variant}/calendar.ics"


def routes(modes: list[str], kinds: list[str], bodies: Bodies) -> list[tuple[str, dict[str, Any]]]:
    table: list[tuple[str, dict[str, Any]]] = []
    for mode in modes:
        for v in range(VARIANTS):
            table.append((template_path(mode, v), {"body": bodies.original[v], "etag": f'"v{v}"'}))
        slow = {"body": bodies.original[0], "etag": '"v0"', "delay": SLOW_SECONDS}
        table.append((template_path(mode, "slow"), slow))
        for i, kind in enumerate(kinds):
            v = i % VARIANTS
            answer: dict[str, Any] = {
                "304": {"body": bodies.original[v], "etag": f'"v{v}"'},
                "slow": {"body": bodies.original[v], "etag": f'"v{v}"', "delay": SLOW_SECONDS},
                "restamped": {"body": bodies.restamped[v]},
                "changed": {"body": bodies.changed[v]},
                "failing-500": {"status": 500, "body": "Internal Server Error"},
                "failing-404": {"status": 404, "body": "Not Found"},
            }[kind]
            table.append((feed_path(mode, i), answer))
    return table


def _serve(table: list[tuple[str, dict[str, Any]]], ready: Any, stop: Any) -> None:
    from tests.support.feed_server import FeedServer

    # Connections are kept alive between requests, as Office 365 does.
    with FeedServer(keep_alive=30) as server:
        for path, answer in table:
            server.route(path, **answer)
        ready.put((server.port, str(server.ca_bundle_path)))
        stop.wait()


@dataclass
class Server:
    port: int
    ca_bundle: str
    pid: int

    def url(self, path: str) -> str:
        return f"https://localhost:{self.port}{path}"


def start_server(table: list[tuple[str, dict[str, Any]]]) -> tuple[Server, Callable[[], None]]:
    context = multiprocessing.get_context("fork")
    ready, stop = context.Queue(), context.Event()
    process = context.Process(target=_serve, args=(table, ready, stop), daemon=True)
    process.start()
    port, ca_bundle = ready.get(timeout=60)

    def shutdown() -> None:
        stop.set()
        process.join(10)

    return Server(port, ca_bundle, process.pid or 0), shutdown


# --- preparing a database ------------------------------------------------------------


def make_app(url: str) -> Flask:
    from app import create_app

    return create_app(
        {
            "SQLALCHEMY_DATABASE_URI": url,
            "TIMEPULSE_FEED_KEY": FEED_KEY,
            "TIMEPULSE_FINGERPRINT_KEY": FINGERPRINT_KEY,
            "TIMEPULSE_ALLOW_PRIVATE_FEEDS": True,
            "TIMEPULSE_SCHEDULER": False,
            "TIMEPULSE_MAX_FEEDS": 10_000,
        }
    )


def prepare(
    app: Flask, mode: str, server: Server, kinds: list[str], *, history: bool = True
) -> dict[int, str]:
    """Users and feeds, each holding its last good import; returns feed id → kind.

    ``history``: each feed knows how long its last refresh took (False: no
    feed does, as in the first cycle after an upgrade).
    """
    from app.extensions import db
    from app.feeds.links import normalize_feed_url
    from app.models import Feed, User, utcnow
    from app.refresh.feeds import add_feed
    from app.refresh.refresh import refresh_feed

    with app.app_context():
        session = db.session
        users = [
            User(email=f"user{n}@bench.test", password_hash="-") for n in range(len(kinds) // 2 + 1)
        ]
        session.add_all(users)
        session.flush()

        def subscribe(user: Any, path: str) -> int:
            url = normalize_feed_url(server.url(path))
            feed = add_feed(session, app, user.id, url, name=path[-30:], colour=None,
                            import_from=None, now=utcnow())  # fmt: skip
            return int(feed.id)

        templates = [subscribe(users[-1], template_path(mode, v)) for v in range(VARIANTS)]
        slow = subscribe(users[-1], template_path(mode, "slow"))
        ids = {subscribe(users[i // 2], feed_path(mode, i)): kind for i, kind in enumerate(kinds)}
        session.commit()
        for template in [*templates, slow]:
            result = refresh_feed(template, worker_id="bench-prime")
            assert result.outcome == "ok", result.summary()
        for position, (feed_id, kind) in enumerate(ids.items()):
            _copy_import(
                session, templates[position % VARIANTS], feed_id, keep_etag=kind in ("304", "slow")
            )
        # What the last cycle taught: a slow server took as long as it did
        # for the slow template (every other feed keeps its template's import time).
        slow_ms = session.get(Feed, slow).last_duration_ms
        slow_ids = [feed_id for feed_id, kind in ids.items() if kind == "slow"]
        session.execute(
            sa.update(Feed).where(Feed.id.in_(slow_ids)).values(last_duration_ms=slow_ms)
        )
        if not history:
            session.execute(sa.update(Feed).values(last_duration_ms=None))
        session.execute(sa.update(Feed).where(Feed.id.in_([*templates, slow])).values(paused=True))
        session.execute(
            sa.update(Feed).where(Feed.id.in_(list(ids))).values(next_refresh_at=utcnow())
        )
        session.commit()
        db.session.remove()
    return ids


_COPIED = (
    "content_hash", "detail_level", "event_count", "refresh_interval", "last_success_at",
    "last_change_at", "last_attempt_at", "diagnostics", "timezones", "last_response",
    "last_duration_ms",
)  # fmt: skip


def _copy_import(session: Any, template: int, target: int, *, keep_etag: bool) -> None:
    """Give ``target`` the occurrences and refresh state ``template`` got from its import."""
    from app.models import Feed, Occurrence

    source = session.get(Feed, template)
    feed = session.get(Feed, target)
    for name in _COPIED:
        setattr(feed, name, getattr(source, name))
    feed.etag = source.etag if keep_etag else None
    feed.progress = "done"
    columns = [
        c for c in Occurrence.__table__.columns if c.name not in ("id", "feed_id", "user_id")
    ]
    select = sa.select(sa.literal(target), sa.literal(feed.user_id), *columns).where(
        Occurrence.feed_id == template
    )
    names = ["feed_id", "user_id", *(c.name for c in columns)]
    session.execute(sa.insert(Occurrence).from_select(names, select))


# --- the measured cycle ----------------------------------------------------------------


@dataclass
class Sample:
    kind: str
    outcome: str
    cpu_ms: float | None
    wall_ms: float
    # A share of the batch's statements is included: a fraction of one.
    statements: float | None
    # PostgreSQL's CPU time during the refresh (embedded-pg: one refresh at a time).
    db_cpu_ms: float | None = None
    # How often the refreshing thread was switched out (services.thread_switches).
    switches: float | None = None


@dataclass
class Cycle:
    mode: str
    feeds: int
    seconds: float
    # CPU of the machine and of each part (REFRESHING, the database servers,
    # the feed server) over the cycle: unlike wall time, a part's CPU-seconds
    # are not inflated by whatever else the machine runs.
    meter: services.CpuMeter
    samples: list[Sample] = field(default_factory=list)
    naive_cpu_ms: float | None = None
    naive_statements: float | None = None
    note: str = ""
    # The machine until only slow servers were left to wait on (Celery modes).
    work_meter: services.CpuMeter | None = None

    @property
    def refresh_cpu(self) -> float:
        return self.meter.used.get(REFRESHING, 0.0)


REFRESHING = "refreshing"
DATABASES = "PostgreSQL + Redis"
FEED_SERVER = "feed server (stands in for Exchange)"


def cpu_meter(refreshing: Callable[[], Iterable[int]], server: Server) -> services.CpuMeter:
    return services.CpuMeter(
        {
            REFRESHING: refreshing,
            DATABASES: lambda: services.pids_named("postgres", "redis-server"),
            FEED_SERVER: lambda: services.process_tree(server.pid),
        }
    )


class StatementCounter:
    """Counts SQL statements per thread (the refreshing thread's, in embedded mode)."""

    def __init__(self, engine: sa.Engine) -> None:
        self.engine = engine
        self.local = threading.local()

    def __enter__(self) -> StatementCounter:
        sa.event.listen(self.engine, "before_cursor_execute", self._count)
        return self

    def __exit__(self, *exc: object) -> None:
        sa.event.remove(self.engine, "before_cursor_execute", self._count)

    def _count(self, *_: Any) -> None:
        self.local.n = getattr(self.local, "n", 0) + 1

    @property
    def count(self) -> int:
        return int(getattr(self.local, "n", 0))


def run_embedded(app: Flask, mode: str, server: Server, ids: dict[int, str]) -> Cycle:
    """The embedded thread's loop (claim a batch, ``refresh_feeds`` it), costed per feed."""
    from app.extensions import db
    from app.models import utcnow
    from app.refresh.scheduler import BATCH, claim_due_feed_ids

    samples: list[Sample] = []
    with app.app_context():
        counter = StatementCounter(db.engine)
        meter = cpu_meter(lambda: [os.getpid()], server).start()
        started = time.perf_counter()
        postgres = mode == "embedded-pg"
        with counter:
            while ids_now := claim_due_feed_ids(BATCH, utcnow()):
                # Read per batch: a backend forked for a new pooled connection counts too.
                database = services.pids_named("postgres") if postgres else None
                samples += _timed_batch(counter, ids, ids_now, database)
                db.session.remove()
        seconds = time.perf_counter() - started
        meter.stop()
        naive_cpu, naive_statements = _naive(
            app, counter, [i for i, k in ids.items() if k == "304"][:20]
        )
    return Cycle(mode, len(ids), seconds, meter, samples, naive_cpu, naive_statements)


def _timed_batch(
    counter: StatementCounter,
    kinds: dict[int, str],
    feed_ids: list[int],
    database: list[int] | None,
) -> list[Sample]:
    """One batch through ``refresh_feeds``, its cost split feed by feed
    (``bench.attribution``); with ``database`` (PostgreSQL's processes), theirs too."""
    from app.refresh.refresh import refresh_feeds

    def read() -> attribution.Readings:
        readings = {
            "cpu": time.thread_time() * 1000,
            "wall": time.perf_counter() * 1000,
            "statements": counter.count,
            "switches": services.thread_switches(),
        }
        if database:
            readings["db"] = services.run_ns(database) / 1e6
        return readings

    with attribution.measuring(read) as meter:
        refresh_feeds(feed_ids, worker_id="bench")
        costs = meter.costs()
    return [
        Sample(
            kinds[r.feed_id], r.outcome, c["cpu"], c["wall"], c["statements"], c.get("db"),
            c["switches"],
        )
        for r, c in costs
    ]  # fmt: skip


def _timed(
    counter: StatementCounter,
    kind: str,
    refresh: Callable[[], Any],
) -> Sample:
    """One refresh's cost, on its own."""
    switches = services.thread_switches()
    cpu, wall, before = time.thread_time(), time.perf_counter(), counter.count
    result = refresh()
    cpu, wall = time.thread_time() - cpu, time.perf_counter() - wall
    switches = services.thread_switches() - switches
    statements = counter.count - before
    return Sample(kind, result.outcome, cpu * 1000, wall * 1000, statements, None, switches)


def _naive(app: Flask, counter: StatementCounter, feed_ids: list[int]) -> tuple[float, float]:
    """What an unchanged feed costs when every refresh parses and reconciles (full re-import)."""
    from app.extensions import db
    from app.models import Feed
    from app.refresh.refresh import refresh_feed

    db.session.execute(sa.update(Feed).where(Feed.id.in_(feed_ids)).values(full_reimport=True))
    db.session.commit()
    with counter:
        samples = [
            _timed(counter, "naive", lambda f=f: refresh_feed(f, worker_id="bench"))
            for f in feed_ids
        ]
    db.session.remove()
    return statistics.median(s.cpu_ms or 0 for s in samples), statistics.median(
        s.statements or 0 for s in samples
    )


def run_celery(
    app: Flask, url: str, server: Server, ids: dict[int, str], pool: Pool, mode: str = "celery"
) -> Cycle:
    """Beat's tick sent once to the workers; done when every feed has a sync run."""
    from app.celery_app import celery, enqueue_due_feeds
    from app.extensions import db
    from app.models import SyncRun

    services.flush_redis()
    # This process sends the tick and pings the workers through the same broker.
    celery.conf.broker_url = services.REDIS_URL
    env = {k: v for k, v in os.environ.items() if k in ("PATH", "HOME", "LANG", "VIRTUAL_ENV")}
    env |= {
        "DATABASE_URL": url,
        "TIMEPULSE_BROKER_URL": services.REDIS_URL,
        "TIMEPULSE_FEED_KEY": FEED_KEY,
        "TIMEPULSE_FINGERPRINT_KEY": FINGERPRINT_KEY,
        "TIMEPULSE_INSTANCE": tempfile.mkdtemp(prefix="bench-worker-"),
        "REQUESTS_CA_BUNDLE": server.ca_bundle,
        "TIMEPULSE_ALLOW_PRIVATE_FEEDS": "1",
    }
    import redis

    client = redis.Redis.from_url(services.REDIS_URL)
    with services.celery_workers(env, pool.processes, pool.kind, pool.concurrency) as workers:
        _warm_up(celery, client, len(workers), pool.processes * pool.concurrency)
        client.delete(celery_probe.KEY)  # the warm-up's samples

        with app.app_context():
            cycle_start = datetime.now(UTC)
            pids = lambda: [p for w in workers for p in services.process_tree(w.pid)]  # noqa: E731
            meter = cpu_meter(pids, server).start()
            # Stopped once only the slow servers are left to wait on.
            work_meter = cpu_meter(pids, server).start()
            started = time.perf_counter()
            with celery.connection_for_write(services.REDIS_URL) as conn:
                enqueue_due_feeds.apply_async(connection=conn)

            def done(feed_ids: list[int]) -> Callable[[], bool]:
                runs = sa.select(sa.func.count(SyncRun.id)).where(
                    SyncRun.feed_id.in_(feed_ids), SyncRun.started_at >= cycle_start
                )
                return lambda: db.session.scalar(runs) == len(feed_ids)

            all_done = done(list(ids))
            fast_done = done([f for f, kind in ids.items() if kind != "slow"])

            def finished() -> bool:
                if not work_meter.wall and fast_done():
                    work_meter.stop()
                ended = all_done()
                db.session.rollback()
                return ended

            if not services.wait_until(finished, 600, step=0.05):
                raise RuntimeError("the cycle did not finish in 10 minutes")
            seconds = time.perf_counter() - started
            meter.stop()
            if not work_meter.wall:  # the last fast and slow feeds ended in one poll
                work_meter.stop()
            runs = db.session.execute(
                sa.select(SyncRun.feed_id, SyncRun.outcome, SyncRun.duration_ms).where(
                    SyncRun.feed_id.in_(list(ids)), SyncRun.started_at >= cycle_start
                )
            ).all()
            db.session.remove()
        # The probe pushes its sample after the task's sync run is committed.
        services.wait_until(lambda: client.llen(celery_probe.KEY) >= len(ids), 10)
        probed = {s["feed_id"]: s for s in map(json.loads, client.lrange(celery_probe.KEY, 0, -1))}
    client.close()
    samples = [
        Sample(
            ids[f],
            outcome,
            probed[f]["cpu_ms"],
            ms,
            probed[f]["statements"],
            switches=probed[f]["switches"],
        )
        if f in probed
        else Sample(ids[f], outcome, None, ms, None)
        for f, outcome, ms in runs
    ]
    note = "per feed: its share of the CPU time, statements and switches of the worker"
    note += " thread that ran its batch (bench.celery_probe); wall time from the sync run"
    cycle = Cycle(f"{mode}, {pool}", len(ids), seconds, meter, samples, note=note)
    cycle.work_meter = work_meter
    return cycle


@dataclass(frozen=True)
class Pool:
    """How the Celery workers run: ``kind`` is Celery's ``--pool``."""

    kind: str
    processes: int
    concurrency: int

    def __str__(self) -> str:
        if self.kind == "prefork":
            return f"1 worker --pool prefork -c {self.concurrency} ({self.concurrency} processes)"
        return f"{self.processes} worker processes × --pool {self.kind} -c {self.concurrency}"


def _warm_up(celery: Any, client: Any, workers: int, slots: int) -> None:
    """Wait until every worker answers, then refresh a feed that does not exist
    (skipped at once) in every slot, so each process has built its app before
    the clock runs; claims nothing."""
    from app.celery_app import refresh_feeds_task
    from app.heartbeat import KEY

    if not services.wait_until(lambda: client.exists(KEY), 60):
        raise RuntimeError("the Celery worker did not start")
    answers = lambda: celery.control.ping(timeout=0.5) or []  # noqa: E731
    if not services.wait_until(lambda: len(answers()) >= workers, 60):
        raise RuntimeError("not every Celery worker answered")
    with celery.connection_for_write(services.REDIS_URL) as conn:
        for _ in range(4 * slots):
            refresh_feeds_task.apply_async(args=[[0]], connection=conn)
    settled = lambda: client.llen("celery") == 0 and client.hlen("unacked") == 0  # noqa: E731
    if not services.wait_until(settled, 60):
        raise RuntimeError("the Celery worker did not take its warm-up tasks")


# --- report ----------------------------------------------------------------------------


def _median(values: list[float]) -> float:
    return statistics.median(values) if values else float("nan")


def report(cycle: Cycle) -> None:
    cores = os.cpu_count()
    rate = cycle.feeds / cycle.seconds
    print(f"\n== {cycle.mode}: {cycle.feeds} feeds in {cycle.seconds:.1f} s = {rate:.1f} feeds/s")
    per_core = cycle.feeds / cycle.refresh_cpu if cycle.refresh_cpu else float("nan")
    meter = cycle.meter
    parts = ", ".join(f"{name} {meter.cores(name):.2f}" for name in meter.groups)
    rest = meter.cores_busy - sum(meter.cores(name) for name in meter.groups)
    print(f"   cores busy over the cycle: {parts}, everything else {max(rest, 0.0):.2f}"
          f" = the machine {meter.cores_busy:.2f} of {cores}")  # fmt: skip
    if (work := cycle.work_meter) is not None and work.wall:
        print(f"   until only slow servers were left to wait on ({work.wall:.1f} s):"
              f" refreshing {work.cores(REFRESHING):.2f}, the machine"
              f" {work.cores_busy:.2f} of {cores}")  # fmt: skip
    print(
        f"   refreshing used {cycle.refresh_cpu:.1f} CPU-s = {per_core:.0f} feeds per CPU-second:"
        f" {per_core * 900:,.0f} feeds per core at a 15-minute interval"
        " (CPU-bound; slow feeds only add waiting)"
    )
    by_kind: dict[str, list[Sample]] = defaultdict(list)
    for sample in cycle.samples:
        by_kind[sample.kind].append(sample)
    database = any(sample.db_cpu_ms is not None for sample in cycle.samples)
    print(f"   {'kind':<12} {'n':>4} {'outcome':<10} {'cpu ms':>8} {'wall ms':>8} {'SQL':>5}"
          f" {'switches':>8}" + (f" {'PostgreSQL cpu ms':>18}" if database else ""))  # fmt: skip
    for kind in ("304", "restamped", "changed", "slow", "failing-500", "failing-404"):
        rows = by_kind.get(kind, [])
        if rows:
            print("   " + _row(kind, rows))
    _ratios(cycle, by_kind)
    if cycle.note:
        print(f"   {cycle.note}")


def _row(kind: str, rows: list[Sample]) -> str:
    outcomes = "/".join(sorted({r.outcome for r in rows}))
    cpu = _median([r.cpu_ms for r in rows if r.cpu_ms is not None])
    wall = _median([r.wall_ms for r in rows])
    sql = _median([float(r.statements) for r in rows if r.statements is not None])
    switches = _median([float(r.switches) for r in rows if r.switches is not None])
    line = f"{kind:<12} {len(rows):>4} {outcomes:<10} {cpu:>8.1f} {wall:>8.1f} {sql:>5.1f}"
    line += f" {switches:>8.0f}"
    database = [r.db_cpu_ms for r in rows if r.db_cpu_ms is not None]
    return line + (f" {_median(database):>18.2f}" if database else "")


def _ratios(cycle: Cycle, by_kind: dict[str, list[Sample]]) -> None:
    changed = by_kind["changed"]
    metric = "cpu_ms" if changed and changed[0].cpu_ms is not None else "wall_ms"
    own = _ratio(
        f"unchanged / changed ({metric})",
        lambda samples: _median([getattr(s, metric) for s in samples]),
        by_kind,
        target=" (target < 2 %)",
    )
    if changed and changed[0].db_cpu_ms is not None:
        # What a refresh costs the whole system: its own CPU and PostgreSQL's.
        _ratio(
            "with PostgreSQL's CPU",
            lambda samples: _median([(s.cpu_ms or 0.0) + (s.db_cpu_ms or 0.0) for s in samples]),
            by_kind,
        )
    if cycle.naive_cpu_ms is not None:
        naive = cycle.naive_cpu_ms
        statements = cycle.naive_statements
        print("   naive (parse every feed every time): an unchanged feed costs"
              f" {naive:.1f} ms CPU and {statements:.0f} statements;"
              f" ours {own:.1f} ms ({naive / own:.0f}x less)")  # fmt: skip


def _ratio(
    label: str,
    cost: Callable[[list[Sample]], float],
    by_kind: dict[str, list[Sample]],
    target: str = "",
) -> float:
    """Print an unchanged feed's ``cost`` against a changed one's, overall and per
    kind of unchanged feed; returns the unchanged cost."""
    changed = cost(by_kind["changed"])
    unchanged = cost(by_kind["304"] + by_kind["restamped"])
    share = 100 * unchanged / changed
    print(f"   {label}: {unchanged:.1f} / {changed:.1f} = {share:.1f} %{target}")
    for kind in ("304", "restamped"):
        print(f"     {kind}: {100 * cost(by_kind[kind]) / changed:.1f} %")
    return unchanged


# --- main ------------------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--feeds", type=int, default=500)
    parser.add_argument("--events", type=int, default=400, help="events per calendar")
    parser.add_argument(
        "--modes",
        default="embedded,celery,celery-no-history,celery-prefork",
        help="embedded, embedded-pg, celery (threads), celery-no-history, celery-prefork",
    )
    parser.add_argument("--processes", type=int, default=2, help="Celery worker processes")
    parser.add_argument("--threads", type=int, default=8, help="threads per worker process")
    args = parser.parse_args()
    modes = [m.strip() for m in args.modes.split(",") if m.strip()]
    kinds = feed_kinds(args.feeds)
    bodies = Bodies.make(args.events)
    print(f"{args.feeds} feeds of {args.events} events ({len(bodies.original[0]) // 1024} KiB): "
          + ", ".join(f"{k} {kinds.count(k)}" for k in sorted(set(kinds))))  # fmt: skip
    server, shutdown = start_server(routes(modes, kinds, bodies))
    os.environ["REQUESTS_CA_BUNDLE"] = server.ca_bundle
    try:
        for mode in modes:
            report(_run_mode(mode, server, kinds, args.processes, args.threads))
    finally:
        shutdown()


def _run_mode(mode: str, server: Server, kinds: list[str], processes: int, threads: int) -> Cycle:
    instance = Path(tempfile.mkdtemp(prefix=f"bench-{mode}-"))
    database = (
        services.sqlite_database(instance)
        if mode == "embedded"
        else services.postgres_database("timepulse_bench", instance)
    )
    with database as url:
        app = make_app(url)
        started = time.perf_counter()
        ids = prepare(app, mode, server, kinds, history=mode != "celery-no-history")
        print(f"\n[{mode}] prepared {len(ids)} feeds in {time.perf_counter() - started:.1f} s")
        if mode in ("celery", "celery-no-history"):
            pool = Pool("threads", processes, threads)
            return run_celery(app, url, server, ids, pool, mode=mode)
        if mode == "celery-prefork":
            return run_celery(app, url, server, ids, Pool("prefork", 1, processes))
        return run_embedded(app, mode, server, ids)


if __name__ == "__main__":
    main()
