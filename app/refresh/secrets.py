"""Feed URLs at rest: encrypted, fingerprinted, never stored in the clear.

A published-calendar URL is a bearer secret (anyone holding it reads the
calendar), so the database keeps only

* ``url_encrypted`` — Fernet tokens under a *list* of keys
  (``TIMEPULSE_FEED_KEY="new,old"``): the first key encrypts, every key
  decrypts, so keys can be rotated without downtime and old rows re-encrypted
  later (``rotate_feed_keys``);
* ``url_fingerprint`` — HMAC-SHA256 of the normalised URL under a separate
  key, so duplicate links are found without decrypting every row and
  without the fingerprint changing when the Fernet keys rotate.

When no key is configured (the embedded default) one is generated once into
the instance folder, like the session secret.
"""

from __future__ import annotations

import hashlib
import hmac
import threading
from collections.abc import Sequence

import sqlalchemy as sa
import sqlalchemy.orm as so
from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from flask import Flask

from app.config import instance_secret
from app.models import Feed

_EXTENSION = "timepulse.feed_cipher"
# Decrypted links a cipher keeps (a few MB at most): more than the feeds one
# process refreshes in a cycle on any installation we plan for.
DECRYPTED_KEPT = 20_000


class FeedKeyError(RuntimeError):
    """The configured feed keys are unusable, or a token matches none of them."""


class FeedCipher:
    """Encrypts, decrypts and fingerprints feed URLs."""

    def __init__(self, keys: Sequence[str | bytes], fingerprint_key: str | bytes) -> None:
        if not keys:
            raise FeedKeyError("at least one feed key is needed")
        try:
            self._fernet = MultiFernet([Fernet(k) for k in keys])
        except (ValueError, TypeError) as exc:
            raise FeedKeyError(
                "TIMEPULSE_FEED_KEY must be a comma list of Fernet keys "
                "(make one with: python -c 'from cryptography.fernet import Fernet; "
                "print(Fernet.generate_key().decode())')"
            ) from exc
        raw = fingerprint_key.encode() if isinstance(fingerprint_key, str) else fingerprint_key
        self._fingerprint_key = raw
        # Token → URL for tokens this cipher decrypted before. Every refresh
        # decrypts its feed's link, and verifying and decrypting a Fernet
        # token cost a noticeable part of a refresh that ends with "unchanged";
        # the result can never differ for the same token under the same keys
        # (a new key list means a new cipher). The URLs stay in this process's
        # memory, where each refresh puts them anyway; nothing here is logged.
        self._decrypted: dict[bytes, str] = {}
        self._decrypted_lock = threading.Lock()

    def encrypt(self, url: str) -> bytes:
        return self._fernet.encrypt(url.encode())

    def decrypt(self, token: bytes) -> str:
        token = bytes(token)
        url = self._decrypted.get(token)
        if url is not None:
            return url
        try:
            url = self._fernet.decrypt(token).decode()
        except InvalidToken:
            # Never chain the library error: keep the message free of the token.
            raise FeedKeyError(
                "a feed link cannot be decrypted with the configured TIMEPULSE_FEED_KEY"
            ) from None
        with self._decrypted_lock:
            if len(self._decrypted) >= DECRYPTED_KEPT:
                del self._decrypted[next(iter(self._decrypted))]  # the oldest
            self._decrypted[token] = url
        return url

    def rotate(self, token: bytes) -> bytes:
        """The same URL encrypted under the first (newest) key."""
        try:
            return self._fernet.rotate(bytes(token))
        except InvalidToken:
            raise FeedKeyError("a feed link cannot be decrypted for rotation") from None

    def fingerprint(self, normalised_url: str) -> str:
        """Keyed fingerprint (64 hex characters) of an already normalised URL."""
        return hmac.new(self._fingerprint_key, normalised_url.encode(), hashlib.sha256).hexdigest()


def cipher_from_config(app: Flask) -> FeedCipher:
    """Build the cipher from ``app.config``, generating instance keys when unset."""
    configured = str(app.config.get("TIMEPULSE_FEED_KEY") or "")
    keys = [k.strip() for k in configured.split(",") if k.strip()]
    if not keys:
        keys = [instance_secret(app.instance_path, "feed_key", _new_fernet_key)]
    fingerprint_key = app.config.get("TIMEPULSE_FINGERPRINT_KEY") or instance_secret(
        app.instance_path, "fingerprint_key"
    )
    return FeedCipher(keys, fingerprint_key)


def _new_fernet_key() -> str:
    return Fernet.generate_key().decode()


def feed_cipher(app: Flask) -> FeedCipher:
    """The app's cipher, built once per app."""
    cipher = app.extensions.get(_EXTENSION)
    if cipher is None:
        cipher = app.extensions[_EXTENSION] = cipher_from_config(app)
    return cipher


def rotate_feed_keys(session: so.Session, cipher: FeedCipher, batch: int = 500) -> int:
    """Re-encrypt every stored feed URL under the newest key; returns how many.

    Run after putting a new key first in TIMEPULSE_FEED_KEY; once it is done
    the old keys can be dropped from the list.
    """
    done = 0
    last_id = 0
    while True:
        rows = session.execute(
            sa.select(Feed.id, Feed.url_encrypted)
            .where(Feed.id > last_id, Feed.url_encrypted.is_not(None))
            .order_by(Feed.id)
            .limit(batch)
        ).all()
        if not rows:
            return done
        for feed_id, token in rows:
            session.execute(
                sa.update(Feed).where(Feed.id == feed_id).values(url_encrypted=cipher.rotate(token))
            )
            last_id = feed_id
            done += 1
        session.commit()
