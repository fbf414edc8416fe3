"""Login sessions kept on the server, so that logging out really ends one.

The session cookie is signed, not secret-free: a copy of it stays valid for
as long as the server accepts it. So each login records a ``LoginSession``
row holding the SHA-256 of a random token, and the cookie carries the
token; ``app.web.load_user`` loads the user only together with that row.
Deleting the row (logout, password change, "Log out everywhere else",
account deletion through the foreign key) ends the session for every copy
of the cookie.

A login session lasts at most ``PERMANENT_SESSION_LIFETIME`` (Flask's limit
on the cookie's signature, 31 days by default); older rows are deleted at
the next login of anyone.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime

import sqlalchemy as sa
from flask import current_app, session
from flask_login import login_user, logout_user

from app import timeutil
from app.extensions import db
from app.models import LoginSession, User

# Where the token lives in Flask's session.
SID = "sid"


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def oldest_live_start() -> datetime:
    """Login sessions started before this instant are over."""
    return timeutil.now() - current_app.permanent_session_lifetime


def log_in(user: User) -> None:
    """Start a fresh session for ``user`` in this browser, and commit.

    Nothing set in the session before authentication survives it (no
    session fixation). Expired login sessions, anyone's, are deleted on the
    way, so the table holds only live ones.
    """
    session.clear()
    token = secrets.token_urlsafe(32)
    db.session.execute(sa.delete(LoginSession).where(LoginSession.created_at < oldest_live_start()))
    db.session.add(LoginSession(user_id=user.id, token_hash=hash_token(token)))
    db.session.commit()
    session[SID] = token
    login_user(user)


def log_out() -> None:
    """End this browser's session, here and on the server, and commit."""
    token = session.get(SID)
    if isinstance(token, str):
        db.session.execute(
            sa.delete(LoginSession).where(LoginSession.token_hash == hash_token(token))
        )
        db.session.commit()
    logout_user()
    session.clear()


def end_sessions(user: User) -> None:
    """End every session of ``user``, in every browser (not committed).

    The view then starts a new one with ``log_in`` for the browser the
    user is in, so a copy of its old cookie is refused too.
    """
    db.session.execute(sa.delete(LoginSession).where(LoginSession.user_id == user.id))
