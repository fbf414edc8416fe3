"""Fixtures for the scale tests: a PostgreSQL database, Redis, real Celery workers.

Tests marked ``services`` need ``TEST_DATABASE_URL`` and ``TEST_REDIS_URL``
(CI sets both) and skip cleanly without them. Redis is used on its own
database number (``TEST_SCALE_REDIS_DB``, default 5), flushed before and
after each test that uses it — never the whole server.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import pytest
import sqlalchemy as sa

from tests.conftest import ROOT, _migrate, _pg_admin_url

needs_services = pytest.mark.skipif(
    not (os.environ.get("TEST_DATABASE_URL") and os.environ.get("TEST_REDIS_URL")),
    reason="needs TEST_DATABASE_URL and TEST_REDIS_URL (PostgreSQL and Redis)",
)


def scale_redis_url() -> str:
    """TEST_REDIS_URL pointed at the scale tests' own database number."""
    parts = urlsplit(os.environ["TEST_REDIS_URL"])
    number = os.environ.get("TEST_SCALE_REDIS_DB", "5")
    return urlunsplit(parts._replace(path=f"/{number}"))


@pytest.fixture
def redis_url() -> Iterator[str]:
    """The scale tests' Redis database, empty before and after the test."""
    import redis

    url = scale_redis_url()
    client = redis.Redis.from_url(url)
    client.flushdb()
    yield url
    client.flushdb()
    client.close()


@pytest.fixture(scope="module")
def pg_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A fresh, migrated PostgreSQL database for one test module."""
    admin = sa.create_engine(_pg_admin_url(), isolation_level="AUTOCOMMIT")
    name = f"timepulse_scale_{uuid.uuid4().hex[:10]}"
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    url = admin.url.set(database=name).render_as_string(hide_password=False)
    previous = os.environ.get("TIMEPULSE_INSTANCE")
    try:
        _migrate(url, tmp_path_factory.mktemp("scale-instance"))
        yield url
    finally:
        if previous is None:
            os.environ.pop("TIMEPULSE_INSTANCE", None)
        else:
            os.environ["TIMEPULSE_INSTANCE"] = previous
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


class Worker:
    """One ``celery -A app.celery_app worker`` process group, logging to a file."""

    def __init__(self, name: str, env: dict[str, str], log_path: Path, *extra: str) -> None:
        self.name = name
        self.log_path = log_path
        command = [
            sys.executable, "-m", "celery", "-A", "app.celery_app", "worker",
            "--pool=prefork", "-c", "2", "--loglevel=INFO", "-n", f"{name}@%h",
            "--without-gossip", "--without-mingle", *extra,
        ]  # fmt: skip
        self._log = log_path.open("wb")
        self.process = subprocess.Popen(
            command,
            cwd=ROOT,
            env=env,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own group: kill takes the pool children too
        )

    def kill(self) -> None:
        """SIGKILL the whole group, like a machine that lost power."""
        self._signal(signal.SIGKILL)
        self.process.wait(10)

    def stop(self) -> None:
        if self.process.poll() is None:
            self._signal(signal.SIGTERM)
            try:
                self.process.wait(15)
            except subprocess.TimeoutExpired:
                self._signal(signal.SIGKILL)
                self.process.wait(10)
        self._log.close()

    def log_tail(self, lines: int = 40) -> str:
        text = self.log_path.read_text(errors="replace")
        return "\n".join(text.splitlines()[-lines:])

    def _signal(self, sig: int) -> None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, sig)


@pytest.fixture
def start_worker(tmp_path: Path) -> Iterator[Callable[..., Worker]]:
    """Start Celery workers; every one is stopped when the test ends, pass or fail."""
    workers: list[Worker] = []

    def start(name: str, env: dict[str, str], *extra: str) -> Worker:
        worker = Worker(name, env, tmp_path / f"worker-{name}.log", *extra)
        workers.append(worker)
        return worker

    yield start
    for worker in workers:
        worker.stop()


def wait_for(
    condition: Callable[[], Any],
    timeout: float,
    what: str,
    workers: list[Worker] = (),  # type: ignore[assignment]
) -> Any:
    """Poll ``condition`` until truthy; fail with the workers' logs after ``timeout`` s."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.2)
    logs = "\n\n".join(f"--- {w.name} ---\n{w.log_tail()}" for w in workers)
    pytest.fail(f"timed out after {timeout} s waiting for {what}\n{logs}")
