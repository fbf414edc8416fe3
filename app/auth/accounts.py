"""Account workflows: create a user, authenticate one."""

from __future__ import annotations

import sqlalchemy as sa

from app.auth.passwords import check_policy, hash_password, needs_rehash, verify_password
from app.errors import ValidationError
from app.extensions import db
from app.models import User


def normalize_email(email: str) -> str:
    return email.strip().casefold()


def find_user(email: str) -> User | None:
    return db.session.scalar(sa.select(User).where(User.email == normalize_email(email)))


def create_user(email: str, password: str, timezone: str = "UTC") -> User:
    """Create (not commit) a user; ValidationError for a taken or empty address."""
    email = normalize_email(email)
    if not email or "@" not in email:
        raise ValidationError("Enter your e-mail address.", field="email")
    if find_user(email) is not None:
        raise ValidationError("An account with that e-mail address exists already.", "email")
    check_policy(password, email)
    user = User(email=email, password_hash=hash_password(password), timezone=timezone)
    db.session.add(user)
    return user


# A real hash to verify against when the address is unknown, so a wrong
# address takes as long as a wrong password (no account enumeration by timing).
_DUMMY_HASH = hash_password("timing-equaliser-not-a-password")


def authenticate(email: str, password: str) -> User | None:
    user = find_user(email)
    if user is None:
        verify_password(_DUMMY_HASH, password)
        return None
    if not verify_password(user.password_hash, password):
        return None
    if needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    return user
