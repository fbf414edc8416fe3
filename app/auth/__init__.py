"""Accounts: sign up, log in, log out, with throttling and safe redirects."""

from flask import Blueprint

bp = Blueprint("auth", __name__)

from app.auth import views  # noqa: E402,F401  (registers routes)
