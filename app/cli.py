"""The ``timepulse`` command: Flask's CLI bound to the app factory.

``timepulse run`` serves through waitress (a production WSGI server) and,
in the embedded default, refreshes due feeds in a background thread.
``timepulse db upgrade`` comes from Flask-Migrate. This module is also the
one place where errors become command-line output.
"""

from __future__ import annotations

import logging
import sys

import click
from flask import current_app
from flask.cli import FlaskGroup, with_appcontext

from app import create_app
from app.errors import TimepulseError
from app.extensions import db


def _fail(err: TimepulseError) -> None:
    click.echo(f"Error: {err.message}", err=True)
    sys.exit(2)


@click.group(cls=FlaskGroup, create_app=create_app, add_default_commands=False)
def cli() -> None:
    """Timepulse: time tracking fed by your published Outlook calendar."""


@cli.command("run")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, show_default=True, type=int)
@click.option("--debug", is_flag=True, help="Flask's development server with the reloader.")
@click.option("--threads", default=8, show_default=True, type=int)
@with_appcontext
def run(host: str, port: int, debug: bool, threads: int) -> None:
    """Serve Timepulse (and refresh feeds in the background when embedded)."""
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    from app.refresh.scheduler import start_embedded_scheduler

    start_embedded_scheduler(app)
    click.echo(f"Timepulse is running on http://{host}:{port}/")
    if debug:
        app.run(host=host, port=port, debug=True, use_reloader=True)
        return
    import waitress

    waitress.serve(app, host=host, port=port, threads=threads, ident="Timepulse")


@cli.group()
def users() -> None:
    """Manage accounts."""


@users.command("create")
@click.argument("email")
@click.password_option()
@with_appcontext
def users_create(email: str, password: str) -> None:
    """Create an account for EMAIL."""
    from app.auth.accounts import create_user

    try:
        user = create_user(email, password)
        db.session.commit()
    except TimepulseError as err:
        _fail(err)
    click.echo(f"Created {user.email}.")


@cli.group()
def feeds() -> None:
    """Inspect, diagnose and refresh calendar feeds."""


def _attach_feed_commands() -> None:
    from app.feeds.diagnose_cli import diagnose
    from app.feeds.inspect_cli import inspect
    from app.refresh.cli import refresh, rotate_key, worker

    feeds.add_command(inspect)
    feeds.add_command(diagnose)
    feeds.add_command(refresh)
    feeds.add_command(rotate_key)
    cli.add_command(worker)


def main() -> None:
    from flask_migrate.cli import db as db_group

    cli.add_command(db_group)
    _attach_feed_commands()
    cli(prog_name="timepulse")
