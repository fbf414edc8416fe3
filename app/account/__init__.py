"""Account hygiene: change password or e-mail, export my data, delete my account."""

from flask import Blueprint

bp = Blueprint("account", __name__, url_prefix="/settings/account")

from app.account import views  # noqa: E402,F401  (registers routes)
