"""The database schema: thin typed models.

Columns, relationships, constraints and small invariants only. Workflows
(refresh a feed, track an impulse, compute totals) live in the feature
packages as functions that receive what they work on.

All instants are timezone-aware UTC (``UTCDateTime``); conversion to the
user's zone happens at the edge (templates, forms, exports).
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import sqlalchemy as sa
import sqlalchemy.orm as so
from flask_login import UserMixin

from app.extensions import db


def utcnow() -> datetime:
    return datetime.now(UTC)


class UTCDateTime(sa.types.TypeDecorator[datetime]):
    """An aware UTC datetime on every backend.

    SQLite has no time zone type and hands back naive values; PostgreSQL
    uses ``timestamptz``. Either way Python code only ever sees aware UTC.
    """

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given where an aware UTC instant is required")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


class User(UserMixin, db.Model):  # type: ignore[name-defined,misc]
    __tablename__ = "users"

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    # Stored case-folded: the address is the identity, compared case-insensitively.
    email: so.Mapped[str] = so.mapped_column(sa.String(254), unique=True)
    password_hash: so.Mapped[str] = so.mapped_column(sa.String(255))
    timezone: so.Mapped[str] = so.mapped_column(sa.String(64), default="UTC")
    week_start: so.Mapped[int] = so.mapped_column(default=0)  # 0 = Monday … 6 = Sunday
    rounding_minutes: so.Mapped[int] = so.mapped_column(default=0)
    rounding_mode: so.Mapped[str] = so.mapped_column(sa.String(8), default="nearest")
    created_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime, default=utcnow)


class LoginSession(db.Model):  # type: ignore[name-defined,misc]
    """One logged-in browser, known by the token its session cookie carries.

    Only the token's SHA-256 is stored, so a copy of the database holds no
    live session. Logging out deletes the row: a copy of the cookie made
    before is worth nothing after.
    """

    __tablename__ = "login_sessions"

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    user_id: so.Mapped[int] = so.mapped_column(
        sa.ForeignKey("users.id", ondelete="CASCADE"), index=True
    )
    token_hash: so.Mapped[str] = so.mapped_column(sa.String(64), unique=True)
    # Indexed: every login deletes the expired rows, anyone's.
    created_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime, default=utcnow, index=True)


class Project(db.Model):  # type: ignore[name-defined,misc]
    __tablename__ = "projects"
    __table_args__ = (sa.UniqueConstraint("user_id", "name", name="uq_projects_user_name"),)

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    user_id: so.Mapped[int] = so.mapped_column(
        sa.ForeignKey("users.id", ondelete="CASCADE"), index=True
    )
    name: so.Mapped[str] = so.mapped_column(sa.String(120))
    client: so.Mapped[str | None] = so.mapped_column(sa.String(120))
    colour: so.Mapped[str] = so.mapped_column(sa.String(7), default="#4f6df5")
    billable_default: so.Mapped[bool] = so.mapped_column(default=False)
    archived: so.Mapped[bool] = so.mapped_column(default=False)
    created_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime, default=utcnow)


class Feed(db.Model):  # type: ignore[name-defined,misc]
    """A calendar subscription: the secret URL (encrypted) plus refresh state."""

    __tablename__ = "feeds"
    __table_args__ = (
        sa.UniqueConstraint("user_id", "url_fingerprint", name="uq_feeds_user_fingerprint"),
    )

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    user_id: so.Mapped[int] = so.mapped_column(
        sa.ForeignKey("users.id", ondelete="CASCADE"), index=True
    )
    name: so.Mapped[str] = so.mapped_column(sa.String(120))
    colour: so.Mapped[str] = so.mapped_column(sa.String(7), default="#2f855a")
    # "url" for a subscription, "upload" for a one-off imported .ics file.
    kind: so.Mapped[str] = so.mapped_column(sa.String(8), default="url")
    url_encrypted: so.Mapped[bytes | None] = so.mapped_column(sa.LargeBinary)
    url_fingerprint: so.Mapped[str] = so.mapped_column(sa.String(64))
    url_masked: so.Mapped[str] = so.mapped_column(sa.String(120), default="")
    import_from: so.Mapped[date | None] = so.mapped_column(sa.Date)
    paused: so.Mapped[bool] = so.mapped_column(default=False)
    pause_reason: so.Mapped[str | None] = so.mapped_column(sa.String(255))

    # HTTP validators and the fingerprint of the last good body.
    etag: so.Mapped[str | None] = so.mapped_column(sa.String(255))
    last_modified: so.Mapped[str | None] = so.mapped_column(sa.String(64))
    content_hash: so.Mapped[str | None] = so.mapped_column(sa.String(64))

    # Refresh schedule and lease (two workers never refresh one feed at once).
    next_refresh_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime, default=utcnow, index=True)
    refresh_interval: so.Mapped[int] = so.mapped_column(default=900)
    failure_count: so.Mapped[int] = so.mapped_column(default=0)
    lease_owner: so.Mapped[str | None] = so.mapped_column(sa.String(64))
    lease_expires_at: so.Mapped[datetime | None] = so.mapped_column(UTCDateTime)
    progress: so.Mapped[str] = so.mapped_column(sa.String(16), default="queued")
    full_reimport: so.Mapped[bool] = so.mapped_column(default=False)
    # How long the last refresh took: a claim hands out the slowest feeds
    # first, so their waiting overlaps the others' work instead of ending a cycle.
    last_duration_ms: so.Mapped[int | None] = so.mapped_column()

    # What the last refreshes learned (shown on the feed's page).
    last_attempt_at: so.Mapped[datetime | None] = so.mapped_column(UTCDateTime)
    last_success_at: so.Mapped[datetime | None] = so.mapped_column(UTCDateTime)
    last_change_at: so.Mapped[datetime | None] = so.mapped_column(UTCDateTime)
    last_error_kind: so.Mapped[str | None] = so.mapped_column(sa.String(32))
    last_error_message: so.Mapped[str | None] = so.mapped_column(sa.Text)
    held: so.Mapped[dict[str, Any] | None] = so.mapped_column(sa.JSON)
    detail_level: so.Mapped[str] = so.mapped_column(sa.String(24), default="unknown")
    event_count: so.Mapped[int] = so.mapped_column(default=0)
    diagnostics: so.Mapped[list[dict[str, Any]]] = so.mapped_column(sa.JSON, default=list)
    timezones: so.Mapped[list[dict[str, Any]]] = so.mapped_column(sa.JSON, default=list)
    last_response: so.Mapped[dict[str, Any] | None] = so.mapped_column(sa.JSON)
    created_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime, default=utcnow)

    @property
    def state(self) -> str:
        """active, paused, failing or held — as the settings page shows it."""
        if self.paused:
            return "paused"
        if self.held:
            return "held"
        if self.failure_count:
            return "failing"
        return "active"


class Occurrence(db.Model):  # type: ignore[name-defined,misc]
    """One occurrence from a feed; the user sees it as an impulse.

    Identity is (feed, uid, recurrence_id) — ``recurrence_id`` is "" for a
    single event. ``state`` is the user's choice (new / tracked / dismissed);
    ``removed_at`` marks one that vanished from the feed (soft removal, so a
    tracked impulse and its history are never lost).
    """

    __tablename__ = "occurrences"
    __table_args__ = (
        sa.UniqueConstraint("feed_id", "uid", "recurrence_id", name="uq_occurrences_identity"),
        sa.Index("ix_occurrences_user_start", "user_id", "start"),
        # Every refresh counts a feed's active occurrences for its sync run;
        # this answers that from the index alone.
        sa.Index(
            "ix_occurrences_active",
            "feed_id",
            sqlite_where=sa.text("removed_at IS NULL"),
            postgresql_where=sa.text("removed_at IS NULL"),
        ),
    )

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    feed_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("feeds.id", ondelete="CASCADE"))
    user_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"))
    uid: so.Mapped[str] = so.mapped_column(sa.String(255))
    recurrence_id: so.Mapped[str] = so.mapped_column(sa.String(32), default="")
    # All-day occurrences are stored at UTC midnight of their dates (end exclusive).
    start: so.Mapped[datetime] = so.mapped_column(UTCDateTime)
    end: so.Mapped[datetime] = so.mapped_column(UTCDateTime)
    all_day: so.Mapped[bool] = so.mapped_column(default=False)
    summary: so.Mapped[str] = so.mapped_column(sa.Text, default="")
    location: so.Mapped[str] = so.mapped_column(sa.Text, default="")
    description: so.Mapped[str] = so.mapped_column(sa.Text, default="")
    organizer: so.Mapped[str] = so.mapped_column(sa.String(255), default="")
    busy_status: so.Mapped[str | None] = so.mapped_column(sa.String(20))
    status: so.Mapped[str | None] = so.mapped_column(sa.String(12))
    private: so.Mapped[bool] = so.mapped_column(default=False)
    content_hash: so.Mapped[str] = so.mapped_column(sa.String(64))
    state: so.Mapped[str] = so.mapped_column(sa.String(10), default="new")
    removed_at: so.Mapped[datetime | None] = so.mapped_column(UTCDateTime)
    first_seen_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime, default=utcnow)
    updated_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime, default=utcnow)

    feed: so.Mapped[Feed] = so.relationship()


class TimeEntry(db.Model):  # type: ignore[name-defined,misc]
    """What the user tracked. ``end`` is None while the timer runs.

    ``occurrence_id`` links an entry to the impulse it came from, with
    ``source_snapshot`` holding the event as it was when tracked, so a later
    change in the calendar can be shown side by side (``source_change``).
    A refresh never edits or deletes an entry; it only sets
    ``source_change`` for the user to resolve.
    """

    __tablename__ = "time_entries"
    __table_args__ = (
        sa.Index("ix_time_entries_user_start", "user_id", "start"),
        # "Latest entry of this impulse" is max(id) per occurrence; without id in
        # the index PostgreSQL walks the primary key backwards through every
        # entry looking for one (96 ms per panel at 100,000 entries; 0.3 ms with).
        sa.Index("ix_time_entries_occurrence_latest", "occurrence_id", "id"),
        # At most one running timer per user, enforced by the database.
        sa.Index(
            "uq_time_entries_running",
            "user_id",
            unique=True,
            sqlite_where=sa.text('"end" IS NULL'),
            postgresql_where=sa.text('"end" IS NULL'),
        ),
        sa.CheckConstraint('"end" IS NULL OR "end" >= start', name="end_after_start"),
    )

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    user_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"))
    project_id: so.Mapped[int | None] = so.mapped_column(
        sa.ForeignKey("projects.id", ondelete="SET NULL"), index=True
    )
    description: so.Mapped[str] = so.mapped_column(sa.Text, default="")
    start: so.Mapped[datetime] = so.mapped_column(UTCDateTime)
    end: so.Mapped[datetime | None] = so.mapped_column(UTCDateTime)
    billable: so.Mapped[bool] = so.mapped_column(default=False)
    occurrence_id: so.Mapped[int | None] = so.mapped_column(
        sa.ForeignKey("occurrences.id", ondelete="SET NULL")
    )
    source_snapshot: so.Mapped[dict[str, Any] | None] = so.mapped_column(sa.JSON)
    # "moved", "renamed", "cancelled" or "removed" — set by a refresh.
    source_change: so.Mapped[str | None] = so.mapped_column(sa.String(16))
    created_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime, default=utcnow)
    updated_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime, default=utcnow)

    project: so.Mapped[Project | None] = so.relationship()
    occurrence: so.Mapped[Occurrence | None] = so.relationship()


class SyncRun(db.Model):  # type: ignore[name-defined,misc]
    """One refresh of one feed and its outcome (never holds the URL)."""

    __tablename__ = "sync_runs"
    __table_args__ = (sa.Index("ix_sync_runs_feed_started", "feed_id", "started_at"),)

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    feed_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("feeds.id", ondelete="CASCADE"))
    started_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime, default=utcnow)
    duration_ms: so.Mapped[int] = so.mapped_column(default=0)
    # ok, unchanged, held, error
    outcome: so.Mapped[str] = so.mapped_column(sa.String(16))
    http_status: so.Mapped[int | None]
    bytes: so.Mapped[int] = so.mapped_column(default=0)
    new: so.Mapped[int] = so.mapped_column(default=0)
    changed: so.Mapped[int] = so.mapped_column(default=0)
    removed: so.Mapped[int] = so.mapped_column(default=0)
    unchanged: so.Mapped[int] = so.mapped_column(default=0)
    error_kind: so.Mapped[str | None] = so.mapped_column(sa.String(32))
    error_message: so.Mapped[str | None] = so.mapped_column(sa.Text)


class Rule(db.Model):  # type: ignore[name-defined,misc]
    """A user's rule for suggesting a project: field contains/matches pattern."""

    __tablename__ = "rules"

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    user_id: so.Mapped[int] = so.mapped_column(
        sa.ForeignKey("users.id", ondelete="CASCADE"), index=True
    )
    position: so.Mapped[int] = so.mapped_column(default=0)
    field: so.Mapped[str] = so.mapped_column(sa.String(12))  # subject, location, organizer
    operator: so.Mapped[str] = so.mapped_column(sa.String(10))  # contains, matches
    pattern: so.Mapped[str] = so.mapped_column(sa.String(255))
    project_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("projects.id", ondelete="CASCADE"))

    project: so.Mapped[Project] = so.relationship()
