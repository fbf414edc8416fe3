"""The one place where errors become web responses."""

from __future__ import annotations

from flask import Flask, render_template
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException

from app.errors import NotFound
from app.extensions import db


def _render(code: int, title: str, message: str) -> tuple[str, int]:
    db.session.rollback()
    return render_template("error.html", code=code, title=title, message=message), code


def init_app(app: Flask) -> None:
    @app.errorhandler(NotFound)
    def not_found(_err: NotFound) -> tuple[str, int]:
        return _render(404, "Not found", "There is nothing here, or it is not yours.")

    @app.errorhandler(CSRFError)
    def csrf_error(_err: CSRFError) -> tuple[str, int]:
        return _render(
            400, "Form expired", "The form was too old or incomplete. Go back, reload and retry."
        )

    @app.errorhandler(HTTPException)
    def http_error(err: HTTPException) -> tuple[str, int]:
        return _render(err.code or 500, err.name, err.description or "")

    @app.errorhandler(500)
    def server_error(_err: Exception) -> tuple[str, int]:
        return _render(500, "Something went wrong", "Nothing was changed. Please try again.")
