"""The pages people open all day, on a big database: dashboard, impulse panel, week timesheet.

    .venv/bin/python -m bench.dashboard              # 1,000 users, 1,000,000 occurrences,
                                                     # 100,000 time entries (PostgreSQL)
    .venv/bin/python -m bench.dashboard --scale 0.1  # a tenth of that, for a quick look
    .venv/bin/python -m bench.dashboard --scale 0.1 --profile dashboard  # where its time goes

Rows are loaded with COPY into a fresh PostgreSQL database (migrated, then
ANALYZEd). Each user has one calendar with meetings spread over the refresh
window (90 days back to 30 ahead, about eight a day), five projects, two
rules and time entries over the last quarter, a third of them tracked from
meetings. One user is logged in through the real login form and the pages
are requested in turns through the Flask test client, so every figure
includes routing, sessions, queries and templates, not the network.

Printed per page: median and 95th percentile in milliseconds, each as a
ratio to a trivial route (``/healthz``: one ``SELECT 1``) measured in the
same run, and the number of SQL statements. Target: every page within 5x
of the trivial route. Also printed: the impulse panel's day query against
the naive overlap query (``start < day_end AND end > day_start``, no lower
bound on ``start``), which must scan every earlier meeting of the user.
"""

from __future__ import annotations

import argparse
import io
import statistics
import tempfile
import time
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime, timedelta
from datetime import time as dtime
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient

from bench import services

PASSWORD = "a long and boring benchmark passphrase"
PER_DAY_HOURS = (8, 9, 10, 11, 13, 14, 15, 16)
ROUNDS = 150
WARM_UP = 15
TRIVIAL = "trivial (/healthz)"
LOGGED_IN = "projects list (/projects/)"


# --- loading ---------------------------------------------------------------------------


def _ts(value: datetime) -> str:
    return value.strftime("%Y-%m-%d %H:%M:%S+00")


def _copy(raw: Any, table: str, columns: str, lines: Iterator[str]) -> int:
    """COPY ``lines`` (tab-separated text) into ``table``, in 8 MiB chunks."""
    count = 0
    with raw.cursor() as cursor, cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
        buffer = io.StringIO()
        for line in lines:
            buffer.write(line)
            count += 1
            if buffer.tell() > 8 * 1024 * 1024:
                copy.write(buffer.getvalue())
                buffer = io.StringIO()
        copy.write(buffer.getvalue())
    return count


def load(url: str, users: int, occurrences: int, entries: int, today: date) -> None:
    """Fill the database; user 1 is the one whose pages are measured."""
    from app.auth.passwords import hash_password

    engine = sa.create_engine(url)
    raw = engine.raw_connection()
    try:
        password = hash_password(PASSWORD)
        now = _ts(datetime.now(UTC))
        per_user_occ = occurrences // users
        per_user_entries = entries // users
        steps: list[tuple[str, str, Callable[[], Iterator[str]]]] = [
            ("users", "id, email, password_hash, timezone, week_start, rounding_minutes, "
             "rounding_mode, created_at",
             lambda: (f"{u}\tuser{u}@bench.test\t{password if u == 1 else '-'}\tEurope/Prague"
                      f"\t0\t0\tnearest\t{now}\n" for u in range(1, users + 1))),
            ("projects", "id, user_id, name, colour, billable_default, archived, created_at",
             lambda: (f"{(u - 1) * 5 + p + 1}\t{u}\tProject {p}\t#336699\tf\tf\t{now}\n"
                      for u in range(1, users + 1) for p in range(5))),
            ("rules", "id, user_id, position, field, operator, pattern, project_id",
             lambda: (f"{(u - 1) * 2 + r + 1}\t{u}\t{r}\tsubject\tcontains\tTopic {r}"
                      f"\t{(u - 1) * 5 + r + 1}\n" for u in range(1, users + 1) for r in range(2))),
            ("feeds", "id, user_id, name, colour, kind, url_fingerprint, url_masked, paused, "
             "next_refresh_at, refresh_interval, failure_count, progress, full_reimport, "
             "detail_level, event_count, diagnostics, timezones, created_at",
             lambda: (f"{u}\t{u}\tWork\t#2f855a\tupload\tfp{u}\t\tf\t{now}\t900\t0\tdone\tf"
                      f"\tfull_details\t{per_user_occ}\t[]\t[]\t{now}\n"
                      for u in range(1, users + 1))),
            ("occurrences", "id, feed_id, user_id, uid, recurrence_id, start, \"end\", all_day, "
             "summary, location, description, organizer, busy_status, status, private, "
             "content_hash, state, first_seen_at, updated_at",
             lambda: _occurrence_lines(users, per_user_occ, today, now)),
            ("time_entries", "id, user_id, project_id, description, start, \"end\", billable, "
             "occurrence_id, source_change, created_at, updated_at",
             lambda: _entry_lines(users, per_user_entries, per_user_occ, today, now)),
        ]  # fmt: skip
        for table, columns, lines in steps:
            started = time.perf_counter()
            count = _copy(raw, table, columns, lines())
            raw.commit()
            print(f"  {table:<13} {count:>9,} rows in {time.perf_counter() - started:5.1f} s")
        with raw.cursor() as cursor:
            for table in ("users", "projects", "rules", "feeds", "occurrences", "time_entries"):
                cursor.execute(
                    f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                    f"(SELECT max(id) FROM {table}))"
                )
        raw.commit()
        raw.autocommit = True  # type: ignore[attr-defined]
        with raw.cursor() as cursor:
            cursor.execute("ANALYZE")
    finally:
        raw.close()
        engine.dispose()


def _meeting(user: int, index: int, today: date) -> tuple[datetime, datetime, bool]:
    """The ``index``-th meeting of a user: eight a day across the refresh window."""
    day = today - timedelta(days=90) + timedelta(days=(index // 8) % 121)
    if index % 50 == 0:
        start = datetime.combine(day, dtime(), UTC)
        return start, start + timedelta(days=1), True
    start = datetime.combine(day, dtime(PER_DAY_HOURS[index % 8]), UTC)
    return start, start + timedelta(minutes=30 + 15 * (index % 3)), False


def _occurrence_id(user: int, index: int, per_user: int) -> int:
    return (user - 1) * per_user + index + 1


def _occurrence_lines(users: int, per_user: int, today: date, now: str) -> Iterator[str]:
    # Every user has the same meeting times: format each one once, not per row.
    past = datetime.combine(today, dtime(), UTC)
    tails = []
    for i in range(per_user):
        start, end, all_day = _meeting(1, i, today)
        state = "tracked" if i % 3 == 0 and start < past else "new"
        tails.append(
            f"\t{_ts(start)}\t{_ts(end)}\t{'t' if all_day else 'f'}\tTopic {i % 7} sync"
            f"\tRoom {i % 4}\t\torganizer@example.com\tBUSY\tCONFIRMED\tf\th{i}\t{state}"
            f"\t{now}\t{now}\n"
        )
    for u in range(1, users + 1):
        first = _occurrence_id(u, 0, per_user)
        for i, tail in enumerate(tails):
            yield f"{first + i}\t{u}\t{u}\tu{u}-{i}@bench\t{tail}"


def _entry_lines(
    users: int, per_user: int, per_user_occ: int, today: date, now: str
) -> Iterator[str]:
    """Per user: a third tracked from past meetings, the rest typed in, over 90 days to today."""
    shapes = [_entry_shape(k, per_user, per_user_occ, today) for k in range(per_user)]
    entry_id = 0
    for u in range(1, users + 1):
        for k, (occ_index, middle, change) in enumerate(shapes):
            entry_id += 1
            project = (u - 1) * 5 + k % 5 + 1
            link = "\\N" if occ_index is None else str(_occurrence_id(u, occ_index, per_user_occ))
            yield f"{entry_id}\t{u}\t{project}\t{middle}\t{link}\t{change}\t{now}\t{now}\n"


def _entry_shape(
    k: int, per_user: int, per_user_occ: int, today: date
) -> tuple[int | None, str, str]:
    """(tracked meeting's index or None, description/start/end/billable, source change)."""
    # A multiple of 24 is a day's first meeting and a tracked one (index % 3 == 0).
    occ_index = (k * 24) % max(24, per_user_occ - per_user_occ % 24)
    start, end, all_day = _meeting(1, occ_index, today)
    if k % 3 == 0 and not all_day and end < datetime.combine(today, dtime(), UTC):
        change = "moved" if k % 30 == 0 else "\\N"
        return occ_index, f"Work {k}\t{_ts(start)}\t{_ts(end)}\tf", change
    day = today - timedelta(days=(k * 90) // max(per_user, 1))
    start = datetime.combine(day, dtime(17, 30), UTC)
    end = start + timedelta(minutes=45)
    return None, f"Work {k}\t{_ts(start)}\t{_ts(end)}\tf", "\\N"


# --- measuring -------------------------------------------------------------------------


def login(app: Flask) -> FlaskClient:
    client = app.test_client()
    response = client.post("/login", data={"email": "user1@bench.test", "password": PASSWORD})
    if response.status_code != 302:
        raise RuntimeError(f"login failed: {response.status_code}")
    return client


def statements(app: Flask, client: FlaskClient, path: str) -> int:
    from app.extensions import db

    with app.app_context():
        engine = db.engine
    seen: list[str] = []
    listener = lambda *args: seen.append(args[2])  # noqa: E731
    sa.event.listen(engine, "before_cursor_execute", listener)
    try:
        assert client.get(path).status_code == 200, path
    finally:
        sa.event.remove(engine, "before_cursor_execute", listener)
    return len(seen)


def timings(
    client: FlaskClient, pages: dict[str, str], rounds: int
) -> tuple[dict[str, list[float]], dict[str, list[float]]]:
    """Wall and CPU milliseconds per request, pages in turns so drift hits all alike.

    CPU time (this thread's) is what the page costs the web process; wall
    time adds the database's work and whatever else the machine is doing.
    """
    for _ in range(WARM_UP):
        for path in pages.values():
            client.get(path)
    wall: dict[str, list[float]] = {name: [] for name in pages}
    cpu: dict[str, list[float]] = {name: [] for name in pages}
    for _ in range(rounds):
        for name, path in pages.items():
            started, cpu_started = time.perf_counter(), time.thread_time()
            response = client.get(path)
            cpu[name].append((time.thread_time() - cpu_started) * 1000)
            wall[name].append((time.perf_counter() - started) * 1000)
            assert response.status_code == 200, (path, response.status_code)
    return wall, cpu


def profile(client: FlaskClient, path: str, rounds: int) -> None:
    """Where a page's time goes: cProfile over ``rounds`` requests, by own time.

    The profiler's own cost is per call, so it exaggerates code that makes many
    small calls (templates); compare pieces with ``time.perf_counter_ns`` too.
    """
    import cProfile
    import pstats

    for _ in range(WARM_UP):
        client.get(path)
    profiler = cProfile.Profile()
    profiler.enable()
    for _ in range(rounds):
        client.get(path)
    profiler.disable()
    print(f"\nprofile of {path}, {rounds} requests:")
    pstats.Stats(profiler).sort_stats("tottime").print_stats(30)


def p95(values: list[float]) -> float:
    return statistics.quantiles(values, n=20)[-1]


def explain_ms(session: Any, query: Any) -> float:
    """PostgreSQL's own execution time for ``query`` (EXPLAIN ANALYZE), in milliseconds."""
    from sqlalchemy.dialects import postgresql

    sql = str(query.compile(dialect=postgresql.dialect(), compile_kwargs={"literal_binds": True}))
    plan = session.execute(sa.text("EXPLAIN (ANALYZE, FORMAT JSON) " + sql)).scalar()
    return float(plan[0]["Execution Time"])


def day_query_report(app: Flask, day: date) -> None:
    """The panel's day query in the database, and its lower bound against the naive overlap."""
    from app import timeutil
    from app.extensions import db
    from app.impulses.panel import LONGEST_TIMED, day_query
    from app.models import Occurrence, User

    with app.app_context():
        session = db.session
        user = session.get(User, 1)
        start, end = timeutil.day_bounds(day, timeutil.zone(user.timezone))
        mine = Occurrence.user_id == user.id
        bounded = sa.and_(mine, Occurrence.start < end, Occurrence.start >= start - LONGEST_TIMED)
        naive = sa.and_(mine, Occurrence.start < end)  # what "start < t2 AND end > t1" can use
        read = [session.scalar(sa.select(sa.func.count()).where(w)) for w in (bounded, naive)]
        full = statistics.median(explain_ms(session, day_query(user, day)) for _ in range(5))
        print(f"\npanel day query in PostgreSQL: {full:.2f} ms (EXPLAIN ANALYZE, median of 5)")
        print(f"index rows read for one day: ours (start bounded below) {read[0]:,},"
              f" naive overlap {read[1]:,} ({read[1] / max(read[0], 1):.0f}x)")  # fmt: skip
        session.remove()


# The panel asks, per impulse, for max(time_entries.id) WHERE occurrence_id = …;
# with only an index on occurrence_id PostgreSQL walks the primary key
# backwards through every time entry instead. (occurrence_id, id) answers it
# from the index alone.
PROPOSED_INDEX = "time_entries (occurrence_id, id)"


def add_proposed_index(url: str) -> None:
    engine = sa.create_engine(url)
    with engine.begin() as conn:
        conn.execute(sa.text(f"CREATE INDEX bench_proposed ON {PROPOSED_INDEX}"))
        conn.execute(sa.text("ANALYZE time_entries"))
    engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--scale", type=float, default=1.0, help="0.1 for a quick run")
    parser.add_argument("--rounds", type=int, default=ROUNDS)
    parser.add_argument(
        "--profile",
        metavar="PAGE",
        choices=["dashboard", "impulse panel", "week timesheet", "trivial", "projects"],
        help="then profile that page (cProfile, by own time) instead of the day query report",
    )
    parser.add_argument(
        "--try-index",
        action="store_true",
        help="then add the index the panel's latest-entry lookup needs and measure again",
    )
    args = parser.parse_args()
    users = max(10, int(1000 * args.scale))
    occurrences, entries = int(1_000_000 * args.scale), int(100_000 * args.scale)
    today = date.today()
    instance = Path(tempfile.mkdtemp(prefix="bench-dashboard-"))
    print(f"{users:,} users, {occurrences:,} occurrences, {entries:,} time entries")
    with services.postgres_database("timepulse_bench_dash", instance) as url:
        started = time.perf_counter()
        load(url, users, occurrences, entries, today)
        print(f"loaded in {time.perf_counter() - started:.1f} s")
        from app import create_app

        app = create_app(
            {
                "SQLALCHEMY_DATABASE_URI": url,
                "TIMEPULSE_SCHEDULER": False,
                "SESSION_COOKIE_SECURE": False,
                "REMEMBER_COOKIE_SECURE": False,
                "WTF_CSRF_ENABLED": False,  # only to log in from the script; pages are GETs
            }
        )
        client = login(app)
        yesterday = (today - timedelta(days=1)).isoformat()
        pages = {
            TRIVIAL: "/healthz",
            LOGGED_IN: "/projects/",
            "dashboard": "/",
            "impulse panel": f"/?day={yesterday}&show_done=1",
            "week timesheet": "/entries/",
        }
        counts = {name: statements(app, client, path) for name, path in pages.items()}
        wall, cpu = timings(client, pages, args.rounds)
        report(wall, cpu, counts)
        if args.profile:
            named = {TRIVIAL: "trivial", LOGGED_IN: "projects"}
            path = next(p for name, p in pages.items() if named.get(name, name) == args.profile)
            profile(client, path, args.rounds)
            return
        day_query_report(app, today - timedelta(days=1))
        if args.try_index:
            add_proposed_index(url)
            print(f"\nagain, with {PROPOSED_INDEX}:")
            wall, cpu = timings(client, pages, args.rounds)
            report(wall, cpu, counts)
            day_query_report(app, today - timedelta(days=1))


def report(
    wall: dict[str, list[float]], cpu: dict[str, list[float]], counts: dict[str, int]
) -> None:
    base, base_p95 = statistics.median(wall[TRIVIAL]), p95(wall[TRIVIAL])
    logged_in = statistics.median(wall[LOGGED_IN])
    base_cpu = statistics.median(cpu[TRIVIAL])
    print(f"\n{'page':<26} {'median ms':>9} {'x trivial':>9} {'p95 ms':>8} {'x trivial':>9}"
          f" {'x page':>7} {'cpu ms':>7} {'x trivial':>9} {'SQL':>4}")  # fmt: skip
    for name, values in wall.items():
        median, high = statistics.median(values), p95(values)
        cpu_median = statistics.median(cpu[name])
        flag = "" if median <= 5 * base else "  over 5x"
        print(f"{name:<26} {median:>9.2f} {median / base:>9.1f} {high:>8.2f}"
              f" {high / base_p95:>9.1f} {median / logged_in:>7.1f} {cpu_median:>7.2f}"
              f" {cpu_median / base_cpu:>9.1f} {counts[name]:>4}{flag}")  # fmt: skip
    print(f"(x trivial: against {TRIVIAL}; x page: against {LOGGED_IN}, the smallest"
          " logged-in page, which pays the same session, user and layout costs)")  # fmt: skip


if __name__ == "__main__":
    main()
