"""The application factory: extensions bound, blueprints registered."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from flask import Flask
from werkzeug.middleware.proxy_fix import ProxyFix

from app.config import load_config
from app.extensions import csrf, db, login_manager, migrate

ROOT = Path(__file__).resolve().parent.parent


def create_app(test_config: dict[str, Any] | None = None) -> Flask:
    """Build the app. ``test_config`` overrides the environment (tests)."""
    app = Flask(
        "app",
        instance_path=os.environ.get("TIMEPULSE_INSTANCE", str(ROOT / "instance")),
        template_folder=str(ROOT / "templates"),
        static_folder=str(ROOT / "static"),
    )
    Path(app.instance_path).mkdir(parents=True, exist_ok=True)
    app.config.from_mapping(load_config(app.instance_path))
    if test_config:
        app.config.from_mapping(test_config)

    hops = int(app.config.get("TIMEPULSE_PROXY_HOPS", 0))
    if hops:
        app.wsgi_app = ProxyFix(  # type: ignore[method-assign]
            app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops
        )

    db.init_app(app)
    migrate.init_app(app, db, directory=str(ROOT / "migrations"))
    login_manager.init_app(app)
    csrf.init_app(app)

    from app import database, web, web_errors

    database.init_app(app)
    web.init_app(app)
    web_errors.init_app(app)
    _register_blueprints(app)
    return app


def _register_blueprints(app: Flask) -> None:
    from app import account, auth, dashboard, entries, help, impulses, projects, reports, settings

    for package in (auth, dashboard, entries, projects, settings, account, reports, help, impulses):
        app.register_blueprint(package.bp)
    app.register_blueprint(impulses.rules_bp)
