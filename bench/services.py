"""What the benchmarks share: throw-away databases, Redis, Celery workers, CPU meters.

PostgreSQL comes from ``BENCH_DATABASE_URL`` (default the local server's
``test`` database, used only to CREATE and DROP a database of our own);
Redis from ``BENCH_REDIS_URL`` (default database 6, apart from the tests' 5;
that database is flushed, never the whole server).
"""

from __future__ import annotations

import contextlib
import os
import resource
import signal
import subprocess
import sys
import tempfile
import time
import uuid
import warnings
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import sqlalchemy as sa

ROOT = Path(__file__).resolve().parent.parent
PG_ADMIN = os.environ.get("BENCH_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/test")
REDIS_URL = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/6")


def _psycopg(url: str) -> str:
    if url.startswith("postgresql://"):
        return "postgresql+psycopg://" + url.removeprefix("postgresql://")
    return url


def migrate(url: str, instance: Path) -> None:
    """Run the Alembic migrations on ``url`` (the schema never comes from create_all)."""
    from flask_migrate import upgrade

    from app import create_app
    from app.extensions import db

    os.environ["TIMEPULSE_INSTANCE"] = str(instance)
    app = create_app({"SQLALCHEMY_DATABASE_URI": url})
    with app.app_context(), warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        upgrade(directory=str(ROOT / "migrations"))
        db.engine.dispose()


@contextlib.contextmanager
def postgres_database(prefix: str, instance: Path) -> Iterator[str]:
    """A new, migrated PostgreSQL database, dropped afterwards."""
    admin = sa.create_engine(_psycopg(PG_ADMIN), isolation_level="AUTOCOMMIT")
    name = f"{prefix}_{uuid.uuid4().hex[:8]}"
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    url = admin.url.set(database=name).render_as_string(hide_password=False)
    try:
        migrate(url, instance)
        yield url
    finally:
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@contextlib.contextmanager
def sqlite_database(instance: Path) -> Iterator[str]:
    url = f"sqlite:///{instance / 'bench.db'}"
    migrate(url, instance)
    yield url


def flush_redis(url: str = REDIS_URL) -> None:
    import redis

    client = redis.Redis.from_url(url)
    client.flushdb()
    client.close()


@contextlib.contextmanager
def celery_workers(
    env: dict[str, str], processes: int = 2, pool: str = "threads", concurrency: int = 8
) -> Iterator[list[subprocess.Popen[bytes]]]:
    """``processes`` × ``celery -A app.celery_app worker --pool POOL -c CONCURRENCY``.

    With ``bench.celery_probe`` included, which measures each refresh task.

    Each in its own process group, stopped on exit. With ``pool="prefork"``
    one worker is started whose ``concurrency`` pool processes do the work.
    """
    # Kept after the run for a look when something went wrong.
    log = tempfile.NamedTemporaryFile(prefix="bench-worker-", suffix=".log", delete=False)  # noqa: SIM115
    started: list[subprocess.Popen[bytes]] = []
    try:
        for n in range(1 if pool == "prefork" else processes):
            command = [
                sys.executable, "-m", "celery", "-A", "app.celery_app", "worker",
                f"--pool={pool}", "-c", str(concurrency), "-n", f"bench{n}@%h",
                "--loglevel=WARNING", "--without-gossip", "--without-mingle",
                "--include", "bench.celery_probe",
            ]  # fmt: skip
            started.append(
                subprocess.Popen(
                    command,
                    cwd=ROOT,
                    env=env,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                    start_new_session=True,
                )  # fmt: skip
            )
        yield started
    finally:
        for process in started:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGTERM)
        for process in started:
            try:
                process.wait(20)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()
        log.close()


def process_tree(pid: int) -> Iterator[int]:
    """``pid`` and all its descendants (from /proc)."""
    yield pid
    for task in Path(f"/proc/{pid}/task").iterdir():
        for child in (task / "children").read_text().split():
            yield from process_tree(int(child))


@dataclass
class CpuMeter:
    """CPU use between ``start`` and ``stop``: the whole machine (/proc/stat)
    and, for each named group of processes, the CPU-seconds its processes used."""

    groups: dict[str, Callable[[], Iterable[int]]] = field(default_factory=dict)
    busy: float = 0.0
    total: float = 0.0
    wall: float = 0.0
    used: dict[str, float] = field(default_factory=dict)  # group → CPU-seconds
    _start: tuple[float, float] = (0.0, 0.0)
    _started: float = 0.0
    _before: dict[str, dict[int, float]] = field(default_factory=dict)

    @staticmethod
    def _read() -> tuple[float, float]:
        fields = [float(x) for x in Path("/proc/stat").read_text().split("\n")[0].split()[1:]]
        idle = fields[3] + fields[4]  # idle + iowait
        return sum(fields) - idle, sum(fields)

    def _snapshot(self) -> dict[str, dict[int, float]]:
        snapshot: dict[str, dict[int, float]] = {}
        for name, pids in self.groups.items():
            snapshot[name] = {}
            for pid in pids():
                with contextlib.suppress(OSError):  # gone meanwhile
                    snapshot[name][pid] = process_cpu_seconds(pid)
        return snapshot

    def start(self) -> CpuMeter:
        self._before = self._snapshot()
        self._start = self._read()
        self._started = time.perf_counter()
        return self

    def stop(self) -> CpuMeter:
        busy, total = self._read()
        self.wall = time.perf_counter() - self._started
        self.busy, self.total = busy - self._start[0], total - self._start[1]
        after = self._snapshot()
        for name, cpu in after.items():
            before = self._before.get(name, {})
            # A process started meanwhile counts from zero; one that ended is lost
            # (small: the pools keep their processes and connections for the run).
            self.used[name] = sum(seconds - before.get(pid, 0.0) for pid, seconds in cpu.items())
        return self

    @property
    def cores_busy(self) -> float:
        """Average number of busy cores of the whole machine over the interval."""
        return (os.cpu_count() or 1) * self.busy / self.total if self.total else 0.0

    def cores(self, group: str) -> float:
        """Average number of cores ``group`` kept busy over the interval."""
        return self.used.get(group, 0.0) / self.wall if self.wall else 0.0


def process_cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of one process (from /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (float(fields[11]) + float(fields[12])) / os.sysconf("SC_CLK_TCK")


def run_ns(pids: Iterable[int]) -> int:
    """Nanoseconds ``pids`` have run on a CPU (``/proc/PID/schedstat``: exact, unlike
    the clock ticks of ``/proc/PID/stat``, so a refresh of a millisecond shows)."""
    total = 0
    for pid in pids:
        with contextlib.suppress(OSError):  # gone meanwhile
            total += int(Path(f"/proc/{pid}/schedstat").read_text().split()[0])
    return total


def thread_switches() -> int:
    """Context switches of the calling thread so far, voluntary (it waited: on
    a socket, on the GIL) and involuntary (preempted); 0 where Linux's
    per-thread counts are missing. A thread switched back in finds its
    caches cold, so a refresh that waits often costs more CPU on a busy machine."""
    who = getattr(resource, "RUSAGE_THREAD", None)
    if who is None:
        return 0
    usage = resource.getrusage(who)
    return usage.ru_nvcsw + usage.ru_nivcsw


def pids_named(*names: str) -> list[int]:
    """Processes whose command name is one of ``names`` (e.g. the database servers)."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            with contextlib.suppress(OSError):
                if (entry / "comm").read_text().strip() in names:
                    found.append(int(entry.name))
    return found


def wait_until(condition: object, timeout: float, step: float = 0.1) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():  # type: ignore[operator]
            return True
        time.sleep(step)
    return False
