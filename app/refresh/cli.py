"""Operator commands: ``timepulse feeds refresh`` and ``timepulse worker``.

Output names feeds by id and outcome only: the URL is a secret and never
printed.
"""

from __future__ import annotations

import signal
import sys
import threading
from typing import Any

import click
import sqlalchemy as sa
from flask import current_app
from flask.cli import with_appcontext

from app.extensions import db
from app.models import Feed, utcnow
from app.refresh.refresh import refresh_feed
from app.refresh.scheduler import (
    BATCH,
    IDLE_MAX,
    claim_due_feed_ids,
    refresh_due_feeds,
    run_loop,
    worker_name,
)
from app.refresh.secrets import feed_cipher, rotate_feed_keys


@click.command("refresh")
@click.argument("feed_ids", nargs=-1, type=int)
@click.option("--due", is_flag=True, help="Refresh the feeds that are due now.")
@click.option("--all", "all_feeds", is_flag=True, help="Refresh every active feed.")
@click.option("--full", is_flag=True, help="Full re-import: ignore validators and hashes.")
@with_appcontext
def refresh(feed_ids: tuple[int, ...], due: bool, all_feeds: bool, full: bool) -> None:
    """Refresh feeds now: by ID, --due or --all. Exit status 1 when one failed."""
    if sum(bool(x) for x in (feed_ids, due, all_feeds)) != 1:
        raise click.UsageError("give feed IDs, --due or --all (one of them)")
    ids = _select_ids(feed_ids, due, all_feeds)
    if not ids:
        click.echo("No feeds to refresh.")
        return
    worker = worker_name("cli")
    failed = False
    for feed_id in ids:
        if full:
            db.session.execute(sa.update(Feed).where(Feed.id == feed_id).values(full_reimport=True))
            db.session.commit()
        result = refresh_feed(feed_id, worker_id=worker)
        failed = failed or result.outcome == "error"
        click.echo(result.summary())
    if failed:
        sys.exit(1)


def _select_ids(feed_ids: tuple[int, ...], due: bool, all_feeds: bool) -> list[int]:
    if due:
        return claim_due_feed_ids(10_000, utcnow())
    if all_feeds:
        query = sa.select(Feed.id).where(sa.not_(Feed.paused), Feed.kind == "url")
        return list(db.session.scalars(query.order_by(Feed.id)).all())
    known = set(db.session.scalars(sa.select(Feed.id).where(Feed.id.in_(feed_ids))).all())
    for missing in sorted(set(feed_ids) - known):
        click.echo(f"feed {missing}: no such feed", err=True)
    return [i for i in feed_ids if i in known]


@click.command("worker")
@click.option("--batch", default=BATCH, show_default=True, help="Feeds claimed per round.")
@click.option("--idle", default=IDLE_MAX, show_default=True, help="Longest sleep, in seconds.")
@click.option("--once", is_flag=True, help="Refresh what is due once, then exit.")
@with_appcontext
def worker(batch: int, idle: float, once: bool) -> None:
    """Refresh due feeds in a loop (a standalone worker, without Celery)."""
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    name = worker_name("worker")
    if once:
        for result in refresh_due_feeds(app, worker_id=name, limit=batch):
            click.echo(result.summary())
        return

    def _stop(*_args: Any) -> None:
        stop.set()

    stop = threading.Event()
    signal.signal(signal.SIGTERM, _stop)
    click.echo(f"Refreshing due feeds as {name}; Ctrl-C stops.")
    try:
        run_loop(app, worker_id=name, stop=stop, batch=batch, idle_max=idle)
    except KeyboardInterrupt:
        stop.set()
    click.echo("Worker stopped.")


@click.command("rotate-key")
@with_appcontext
def rotate_key() -> None:
    """Re-encrypt every feed link under the first key of TIMEPULSE_FEED_KEY."""
    count = rotate_feed_keys(db.session, feed_cipher(current_app._get_current_object()))  # type: ignore[attr-defined]
    click.echo(f"Re-encrypted {count} feed link(s).")
