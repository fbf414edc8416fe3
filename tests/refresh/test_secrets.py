"""The feed link is a secret: encrypted at rest, fingerprinted, never logged or shown."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import Any

import pytest
import sqlalchemy as sa
from cryptography.fernet import Fernet, MultiFernet
from flask.testing import FlaskClient

from app.models import Feed, SyncRun
from app.refresh.secrets import FeedCipher, FeedKeyError, cipher_from_config, rotate_feed_keys
from tests.refresh.conftest import FEED_PATH, THREE, TOKEN, ics
from tests.support.feed_server import FeedServer, Response

PAGE = "/settings/time-tracking/impulses"


@pytest.fixture
def all_loggers() -> Iterator[None]:
    """Every logger enabled: Alembic's fileConfig disables the ones that existed
    when the test database was migrated, which would hide a leak."""
    loggers = [
        logger
        for logger in logging.root.manager.loggerDict.values()
        if isinstance(logger, logging.Logger)
    ]
    disabled = [logger for logger in loggers if logger.disabled]
    for logger in disabled:
        logger.disabled = False
    yield
    for logger in disabled:
        logger.disabled = True


def raw_feed_columns(query: Any) -> list[tuple[Any, ...]]:
    return query(lambda s: list(s.execute(sa.text("SELECT * FROM feeds")).all()))


def test_link_is_encrypted_at_rest_and_fingerprinted(
    app: Any, make_user: Any, make_feed: Any, feed_url: str, query: Any
) -> None:
    feed_id = make_feed(make_user(), feed_url)

    for row in raw_feed_columns(query):
        for value in row:
            blob = value if isinstance(value, bytes) else str(value).encode()
            assert TOKEN.encode() not in blob
            assert feed_url.encode() not in blob
    feed = query(lambda s: s.get(Feed, feed_id))
    assert len(feed.url_fingerprint) == 64 and TOKEN not in feed.url_fingerprint
    assert TOKEN not in feed.url_masked and feed.url_masked.startswith("localhost:")
    with app.app_context():
        from app.refresh.secrets import feed_cipher

        assert feed_cipher(app).decrypt(feed.url_encrypted) == feed_url


def test_generated_keys_live_in_the_instance_folder(app: Any) -> None:
    from pathlib import Path

    cipher_from_config(app)
    key = Path(app.instance_path, "feed_key")
    assert key.exists() and oct(key.stat().st_mode & 0o777) == "0o600"
    Fernet(key.read_text().strip().encode())  # a valid Fernet key
    assert Path(app.instance_path, "fingerprint_key").exists()


def test_key_rotation_keeps_links_readable_and_duplicates_found(
    app: Any, make_user: Any, make_feed: Any, feed_url: str, query: Any
) -> None:
    user = make_user()
    old_key = Fernet.generate_key().decode()
    app.config["TIMEPULSE_FEED_KEY"] = old_key
    app.extensions.pop("timepulse.feed_cipher", None)
    feed_id = make_feed(user, feed_url)
    token_before = query(lambda s: s.get(Feed, feed_id).url_encrypted)

    new_key = Fernet.generate_key().decode()
    app.config["TIMEPULSE_FEED_KEY"] = f"{new_key},{old_key}"
    app.extensions.pop("timepulse.feed_cipher", None)
    with app.app_context():
        from app.extensions import db
        from app.refresh.feeds import check_not_duplicate
        from app.refresh.secrets import feed_cipher

        assert feed_cipher(app).decrypt(token_before) == feed_url
        assert rotate_feed_keys(db.session, feed_cipher(app)) == 1
        with pytest.raises(Exception, match="already subscribe"):
            check_not_duplicate(db.session, app, user, feed_url)

    rotated = query(lambda s: s.get(Feed, feed_id).url_encrypted)
    assert rotated != token_before
    assert FeedCipher([new_key], "k").decrypt(rotated) == feed_url
    with pytest.raises(FeedKeyError) as err:
        FeedCipher([old_key], "k").decrypt(rotated + b"x")
    assert TOKEN not in str(err.value)


def test_bad_key_configuration_is_explained() -> None:
    with pytest.raises(FeedKeyError, match="Fernet keys"):
        FeedCipher(["not-a-key"], "k")


@pytest.fixture
def fernet_decryptions(monkeypatch: pytest.MonkeyPatch) -> list[bytes]:
    """Every token the Fernet layer itself verifies and decrypts."""
    seen: list[bytes] = []
    decrypt = MultiFernet.decrypt

    def counting(self: MultiFernet, token: bytes, ttl: int | None = None) -> bytes:
        seen.append(token)
        return decrypt(self, token, ttl)

    monkeypatch.setattr(MultiFernet, "decrypt", counting)
    return seen


def test_a_link_is_decrypted_once_per_cipher(fernet_decryptions: list[bytes]) -> None:
    cipher = FeedCipher([Fernet.generate_key()], "k")
    token = cipher.encrypt("https://example.com/a.ics")
    assert [cipher.decrypt(token) for _ in range(3)] == ["https://example.com/a.ics"] * 3
    assert cipher.decrypt(memoryview(token)) == "https://example.com/a.ics"
    assert fernet_decryptions == [token]
    other = FeedCipher([Fernet.generate_key()], "k")
    with pytest.raises(FeedKeyError):  # another cipher's keys never see the result
        other.decrypt(token)


def test_a_bad_token_fails_every_time(fernet_decryptions: list[bytes]) -> None:
    cipher = FeedCipher([Fernet.generate_key()], "k")
    bad = FeedCipher([Fernet.generate_key()], "k").encrypt("https://example.com/a.ics")
    for _ in range(2):
        with pytest.raises(FeedKeyError):
            cipher.decrypt(bad)
    assert fernet_decryptions == [bad, bad]


def test_decrypted_links_kept_are_bounded(
    monkeypatch: pytest.MonkeyPatch, fernet_decryptions: list[bytes]
) -> None:
    monkeypatch.setattr("app.refresh.secrets.DECRYPTED_KEPT", 2)
    cipher = FeedCipher([Fernet.generate_key()], "k")
    tokens = [cipher.encrypt(f"https://example.com/{n}.ics") for n in range(3)]
    for token in tokens:
        cipher.decrypt(token)
    assert cipher.decrypt(tokens[2]) == "https://example.com/2.ics"  # kept
    assert cipher.decrypt(tokens[0]) == "https://example.com/0.ics"  # the oldest went
    assert fernet_decryptions == [*tokens, tokens[0]]


@pytest.mark.parametrize(
    "failure",
    [
        Response(status=500, body=f"error at {FEED_PATH}", headers={"X-OWA-Error": "x"}),
        Response(status=404, body="gone"),
        Response(reset=True),
        Response(redirect_to="https://127.0.0.1:1" + FEED_PATH),
        Response(body=f"<html>Sign in to see {FEED_PATH}</html>"),
    ],
    ids=["owa-500", "404", "reset", "redirect-unreachable", "html"],
)
def test_link_never_appears_in_logs_records_or_pages(
    client: FlaskClient,
    user_id: int,
    make_feed: Any,
    feed_server: FeedServer,
    feed_url: str,
    query: Any,
    caplog: pytest.LogCaptureFixture,
    failure: Response,
    all_loggers: None,
) -> None:
    feed_server.script(FEED_PATH, [Response(body=ics(*THREE)), failure])
    feed_id = make_feed(user_id, feed_url)
    client.post(f"{PAGE}/{feed_id}/refresh")
    caplog.clear()

    with caplog.at_level(logging.DEBUG):
        flashed = client.post(f"{PAGE}/{feed_id}/refresh", follow_redirects=True)
        pages = [
            flashed.get_data(as_text=True),
            client.get(PAGE).get_data(as_text=True),
            client.get(f"{PAGE}/{feed_id}").get_data(as_text=True),
            client.get(f"{PAGE}/{feed_id}/status").get_data(as_text=True),
        ]

    assert query(lambda s: s.get(Feed, feed_id).failure_count) == 1
    logged = "\n".join(
        [r.getMessage() for r in caplog.records]
        + [caplog.text]
        + [str(r.exc_info) for r in caplog.records if r.exc_info]
    )
    assert any(r.name == "timepulse.refresh" for r in caplog.records)
    records = query(
        lambda s: (
            [" ".join(str(v) for v in row) for row in s.execute(sa.select(SyncRun.__table__)).all()]
            + [s.get(Feed, feed_id).last_error_message or "", str(s.get(Feed, feed_id).diagnostics)]
        )
    )
    for text in [logged, *records, *pages]:
        assert TOKEN not in text
        assert feed_url not in text
        assert FEED_PATH not in text


def test_an_unexpected_crash_is_recorded_without_the_link(
    make_user: Any,
    make_feed: Any,
    feed_url: str,
    refresh: Any,
    query: Any,
    caplog: pytest.LogCaptureFixture,
    all_loggers: None,
) -> None:
    feed_id = make_feed(make_user(), feed_url)

    def crashing_fetch(url: str, **_kwargs: Any) -> Any:
        raise RuntimeError(f"library exploded while reading {url}")

    with caplog.at_level(logging.DEBUG):
        result = refresh(feed_id, fetch=crashing_fetch)

    assert result.outcome == "error" and result.error_kind == "internal"
    message = query(lambda s: s.scalars(sa.select(SyncRun.error_message)).one())
    assert "library exploded" in message
    for text in (caplog.text, message, result.error_message or ""):
        assert TOKEN not in text and feed_url not in text
    assert query(lambda s: s.get(Feed, feed_id).lease_owner) is None
