"""What the benchmarks share: throw-away databases, Redis, Celery workers, CPU meters.

PostgreSQL comes from ``BENCH_DATABASE_URL`` (default the local server's
``test`` database, used only to CREATE and DROP a database of our own);
Redis from ``BENCH_REDIS_URL`` (default database 6, apart from the tests' 5;
that database is flushed, never the whole server).
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import tempfile
import time
import uuid
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
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
def celery_worker(env: dict[str, str], concurrency: int = 2) -> Iterator[subprocess.Popen[bytes]]:
    """``celery -A app.celery_app worker`` in its own process group; stopped on exit."""
    # Kept after the run for a look when something went wrong.
    log = tempfile.NamedTemporaryFile(prefix="bench-worker-", suffix=".log", delete=False)  # noqa: SIM115
    command = [
        sys.executable, "-m", "celery", "-A", "app.celery_app", "worker", "--pool=prefork",
        "-c", str(concurrency), "--loglevel=WARNING", "--without-gossip", "--without-mingle",
    ]  # fmt: skip
    process = subprocess.Popen(
        command, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
    )
    try:
        yield process
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(20)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
        log.close()


@dataclass
class CpuMeter:
    """Whole-machine CPU use between ``start`` and ``stop`` (from /proc/stat)."""

    busy: float = 0.0
    total: float = 0.0
    _start: tuple[float, float] = (0.0, 0.0)

    @staticmethod
    def _read() -> tuple[float, float]:
        fields = [float(x) for x in Path("/proc/stat").read_text().split("\n")[0].split()[1:]]
        idle = fields[3] + fields[4]  # idle + iowait
        return sum(fields) - idle, sum(fields)

    def start(self) -> CpuMeter:
        self._start = self._read()
        return self

    def stop(self) -> CpuMeter:
        busy, total = self._read()
        self.busy, self.total = busy - self._start[0], total - self._start[1]
        return self

    @property
    def cores_busy(self) -> float:
        """Average number of busy cores over the interval."""
        return (os.cpu_count() or 1) * self.busy / self.total if self.total else 0.0


def process_cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of one process (from /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (float(fields[11]) + float(fields[12])) / os.sysconf("SC_CLK_TCK")


def wait_until(condition: object, timeout: float, step: float = 0.1) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():  # type: ignore[operator]
            return True
        time.sleep(step)
    return False
