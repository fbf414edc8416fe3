"""A refresh that stops dead half-way: run by ``test_crash_safety.py`` as its own process.

    python -m tests.security.crash_worker DATABASE_URL FEED_ID MARKER_FILE POINT

Creates the app against the test's database (same instance folder, so the
same feed key, through the inherited TIMEPULSE_INSTANCE), then refreshes the
feed with ``refresh_feed``. In this process only, one step of the refresh is
wrapped: the step runs, then the marker file is written and the process
sleeps until the test kills it with SIGKILL. Production code has no hook for
this. POINT is one of

* ``reconcile_written`` — every insert, update, soft removal and time-entry
  flag of reconcile has been sent to the database, nothing committed;
* ``before_commit`` — the sync run and the feed's new state are pending too;
  the next statement would be the commit.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import Any

from app import create_app
from app.refresh import reconcile, refresh

LEASE_SECONDS = 60


def _stop_after(module: Any, name: str, marker: Path) -> None:
    original = getattr(module, name)

    def step_then_stop(session: Any, *args: Any) -> Any:
        result = original(session, *args)
        session.flush()
        marker.write_text("reached\n")
        while True:  # until SIGKILL
            time.sleep(60)
        return result  # pragma: no cover

    setattr(module, name, step_then_stop)


POINTS = {
    "reconcile_written": (reconcile, "_flag_entries"),
    "before_commit": (refresh, "_prune_history"),
}


def main(url: str, feed_id: int, marker: Path, point: str) -> None:
    app = create_app(
        {
            "SQLALCHEMY_DATABASE_URI": url,
            "TESTING": True,
            "TIMEPULSE_SCHEDULER": False,
            "TIMEPULSE_ALLOW_PRIVATE_FEEDS": True,
            "TIMEPULSE_LEASE_SECONDS": LEASE_SECONDS,
        }
    )
    module, name = POINTS[point]
    _stop_after(module, name, marker)
    with app.app_context():
        result = refresh.refresh_feed(feed_id, worker_id="crash-worker")
    # Reaching this line means the stop point was never reached.
    print(f"refresh finished without reaching {point}: {result.summary()}", file=sys.stderr)
    sys.exit(3)


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]), Path(sys.argv[3]), sys.argv[4])
