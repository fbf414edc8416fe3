"""Fuzzing: mutated real calendars through parse → expand → diagnose → reconcile.

Seeds are our fixtures (tests/calendars/) and the small files of the shared
corpus (when it is there). Hypothesis flips bytes, cuts the body, duplicates,
deletes, swaps and shuffles lines, shuffles and duplicates the properties of
an event, swaps values between properties and inserts garbage parameters.
For each mutant:

* the engine raises nothing but ``FeedError`` (classified);
* reconcile, on top of the unmutated seed's rows with one of them tracked,
  either applies completely (every incoming occurrence stored, nothing else
  active in the window) or — if it raises — leaves every row as it was; it
  never commits on its own, and no time entry changes except its
  ``source_change`` flag.

Everything an example writes is rolled back, so examples do not see each
other. ``HYPOTHESIS_PROFILE=long`` (``make fuzz``) runs 5,000 examples per
test instead of the 60 of the deterministic "ci" profile in ``make test``.
"""

from __future__ import annotations

import os
import random
import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa
from flask import Flask
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from app.errors import FeedError
from app.feeds.engine import inspect_calendar
from app.feeds.types import FeedReport
from app.models import Feed, Occurrence, TimeEntry
from app.refresh.reconcile import Counts, reconcile
from tests.feeds.conftest import CALENDARS, corpus_path
from tests.security import tally
from tests.security.resilience import freeze

settings.register_profile("ci", max_examples=60, deadline=None, derandomize=True, database=None)
settings.register_profile("long", max_examples=5000, deadline=None)
PROFILE = settings.get_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))
FUZZ = settings(
    PROFILE,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

# The long run takes longer than the suite's per-test timeout; the "ci" run keeps it.
pytestmark = [pytest.mark.timeout(0)] if os.environ.get("HYPOTHESIS_PROFILE") == "long" else []

ZONE = ZoneInfo("Europe/Berlin")
NOW = datetime(2026, 1, 1, tzinfo=UTC)
CORPUS_MAX_BYTES = 16 * 1024


# --- seeds --------------------------------------------------------------------


@dataclass(frozen=True)
class Seed:
    name: str
    data: bytes
    window: tuple[datetime, datetime]


_FIRST_START = re.compile(rb"(?m)^DTSTART[^:\r\n]*:(\d{4})(\d{2})(\d{2})")


def _window(data: bytes) -> tuple[datetime, datetime]:
    """Two weeks before the first DTSTART to four months after: where the events are."""
    match = _FIRST_START.search(data)
    first = datetime(*map(int, match.groups()), tzinfo=ZONE) if match else NOW  # type: ignore[misc]
    return first - timedelta(days=14), first + timedelta(days=120)


def _seed_files() -> list[Path]:
    files = sorted(CALENDARS.glob("*.ics"))
    corpus = corpus_path_from_env()
    if corpus.is_dir():
        files += sorted(p for p in corpus.rglob("*.ics") if p.stat().st_size <= CORPUS_MAX_BYTES)
    return files


def corpus_path_from_env() -> Path:
    class _Config:  # corpus_path wants a pytest config; the env var and default suffice here
        @staticmethod
        def getoption(name: str, default: Any = None) -> Any:
            return default

    return corpus_path(_Config())  # type: ignore[arg-type]


def _seeds() -> list[Seed]:
    seeds = []
    for path in _seed_files():
        data = path.read_bytes()
        seeds.append(Seed(path.name, data, _window(data)))
    return seeds


SEEDS = _seeds()


# --- mutations ----------------------------------------------------------------

GARBAGE_PARAMS = [
    ';TZID="',
    ";TZID=",
    ";TZID=Customized Time Zone",
    ";VALUE=DATE",
    ";VALUE=PERIOD",
    ";VALUE=BINARY;ENCODING=BASE64",
    ";RANGE=THISANDFUTURE",
    ";;;",
    ";X-=",
    ';CN="a:b;c"',
    ';TZID="(UTC+05:45) Kathmandu:20250101T000000"',
    ";\x00",
]

Mutation = tuple[Any, ...]

_index = st.integers(min_value=0, max_value=10**6)
mutations = st.one_of(
    st.tuples(st.just("flip"), _index, st.integers(0, 255)),
    st.tuples(st.just("cut"), _index),
    st.tuples(st.just("dup_line"), _index),
    st.tuples(st.just("del_line"), _index),
    st.tuples(st.just("swap_lines"), _index, _index),
    st.tuples(st.just("shuffle_lines"), _index, st.integers(2, 40), st.integers(0, 2**16)),
    st.tuples(st.just("dup_prop"), _index),
    st.tuples(st.just("shuffle_props"), _index, st.integers(0, 2**16)),
    st.tuples(st.just("swap_values"), _index, _index),
    st.tuples(
        st.just("garbage_param"),
        _index,
        st.sampled_from(GARBAGE_PARAMS) | st.text(max_size=12).map(lambda t: ";" + t),
    ),
)


def mutate(data: bytes, plan: list[Mutation]) -> bytes:
    for step in plan:
        data = _MUTATORS[step[0]](data, *step[1:])
    return data


def _flip(data: bytes, at: int, value: int) -> bytes:
    if not data:
        return data
    at %= len(data)
    return data[:at] + bytes([value]) + data[at + 1 :]


def _cut(data: bytes, at: int) -> bytes:
    return data[: at % (len(data) + 1)]


def _lines_op(op: Any) -> Any:
    def apply(data: bytes, *args: Any) -> bytes:
        lines = data.split(b"\n")
        return b"\n".join(op(lines, *args))

    return apply


def _dup_line(lines: list[bytes], at: int) -> list[bytes]:
    at %= len(lines)
    return lines[: at + 1] + lines[at:]


def _del_line(lines: list[bytes], at: int) -> list[bytes]:
    at %= len(lines)
    return lines[:at] + lines[at + 1 :]


def _swap_lines(lines: list[bytes], a: int, b: int) -> list[bytes]:
    a, b = a % len(lines), b % len(lines)
    lines = list(lines)
    lines[a], lines[b] = lines[b], lines[a]
    return lines


def _shuffle_lines(lines: list[bytes], at: int, span: int, seed: int) -> list[bytes]:
    at %= len(lines)
    part = lines[at : at + span]
    random.Random(seed).shuffle(part)
    return lines[:at] + part + lines[at + span :]


def _property_lines(lines: list[bytes]) -> list[int]:
    """Indexes of the property lines inside VEVENTs (not BEGIN/END, not folds)."""
    inside, found = False, []
    for i, line in enumerate(lines):
        upper = line.strip().upper()
        if upper == b"BEGIN:VEVENT":
            inside = True
        elif upper == b"END:VEVENT":
            inside = False
        elif inside and line[:1] not in (b" ", b"\t") and b":" in line:
            found.append(i)
    return found


def _dup_prop(lines: list[bytes], at: int) -> list[bytes]:
    props = _property_lines(lines)
    return _dup_line(lines, props[at % len(props)]) if props else lines


def _shuffle_props(lines: list[bytes], which: int, seed: int) -> list[bytes]:
    """Shuffle the property lines of one VEVENT among their own places."""
    events = [i for i, line in enumerate(lines) if line.strip().upper() == b"BEGIN:VEVENT"]
    if not events:
        return lines
    start = events[which % len(events)]
    end = next((i for i in range(start, len(lines)) if lines[i].strip().upper() == b"END:VEVENT"),
               len(lines))  # fmt: skip
    places = [i for i in _property_lines(lines) if start < i < end]
    values = [lines[i] for i in places]
    random.Random(seed).shuffle(values)
    lines = list(lines)
    for place, value in zip(places, values, strict=True):
        lines[place] = value
    return lines


def _swap_values(lines: list[bytes], a: int, b: int) -> list[bytes]:
    props = _property_lines(lines)
    if not props:
        return lines
    a, b = props[a % len(props)], props[b % len(props)]
    lines = list(lines)
    (head_a, _, value_a), (head_b, _, value_b) = lines[a].partition(b":"), lines[b].partition(b":")
    lines[a], lines[b] = head_a + b":" + value_b, head_b + b":" + value_a
    return lines


def _garbage_param(lines: list[bytes], at: int, param: str) -> list[bytes]:
    props = _property_lines(lines)
    if not props:
        return lines
    at = props[at % len(props)]
    lines = list(lines)
    head, _, value = lines[at].partition(b":")
    lines[at] = head + param.encode("utf-8", "surrogatepass") + b":" + value
    return lines


_MUTATORS: dict[str, Any] = {
    "flip": _flip,
    "cut": _cut,
    "dup_line": _lines_op(_dup_line),
    "del_line": _lines_op(_del_line),
    "swap_lines": _lines_op(_swap_lines),
    "shuffle_lines": _lines_op(_shuffle_lines),
    "dup_prop": _lines_op(_dup_prop),
    "shuffle_props": _lines_op(_shuffle_props),
    "swap_values": _lines_op(_swap_values),
    "garbage_param": _lines_op(_garbage_param),
}

plans = st.lists(mutations, min_size=1, max_size=4)


# --- the pipeline ---------------------------------------------------------------


def inspect_or_classified(data: bytes, seed: Seed, what: str) -> FeedReport | None:
    """The engine's report, or None for a classified FeedError; anything else fails."""
    tally.record(bad_inputs=1)
    try:
        return inspect_calendar(data, *seed.window, default_tz=ZONE)
    except FeedError:
        tally.record(classified_errors=1)
        return None
    except Exception as exc:
        tally.record(crashes=1, note=f"{what}: {type(exc).__name__}: {exc}"[:300])
        raise


@pytest.fixture
def fuzz_feed(app: Flask, make_user: Any) -> int:
    """An empty feed to reconcile into (its rows are written and rolled back per example)."""
    from app.extensions import db

    user = make_user()
    with app.app_context():
        feed = Feed(user_id=user, name="Fuzz", kind="url", url_fingerprint="fuzz",
                    diagnostics=[], timezones=[])  # fmt: skip
        db.session.add(feed)
        db.session.commit()
        feed_id = feed.id
        db.session.remove()
    return feed_id


@contextmanager
def rolled_back(app: Flask) -> Iterator[Any]:
    """A session whose every write is undone at the end; counts commits made inside."""
    from app.extensions import db

    with app.app_context():
        session = db.session()
        commits: list[int] = []

        def count(_: Any) -> None:
            commits.append(1)

        sa.event.listen(session, "after_commit", count)
        try:
            yield session, commits
        finally:
            sa.event.remove(session, "after_commit", count)
            session.rollback()
            db.session.remove()


def _rows(session: Any, model: Any, *where: Any) -> set[tuple[Any, ...]]:
    return {freeze(r) for r in session.execute(sa.select(*model.__table__.columns).where(*where))}


def _track_first(session: Any, feed: Feed) -> None:
    occ = session.scalars(
        sa.select(Occurrence).where(Occurrence.feed_id == feed.id).order_by(Occurrence.id)
    ).first()
    if occ is not None:
        session.add(TimeEntry(user_id=feed.user_id, start=occ.start, end=occ.end,
                              description=occ.summary, occurrence_id=occ.id))  # fmt: skip
        session.flush()


def _entries_without_flag(session: Any) -> set[tuple[Any, ...]]:
    columns = [c for c in TimeEntry.__table__.columns if c.name != "source_change"]
    return {freeze(r) for r in session.execute(sa.select(*columns))}


def check_reconcile(app: Flask, feed_id: int, seed: Seed, report: FeedReport, what: str) -> None:
    base = inspect_calendar(seed.data, *seed.window, default_tz=ZONE)
    with rolled_back(app) as (session, commits):
        feed = session.get(Feed, feed_id)
        reconcile(session, feed, base.occurrences, now=NOW, window=seed.window)
        session.flush()
        _track_first(session, feed)
        where = Occurrence.feed_id == feed_id
        before, entries = _rows(session, Occurrence, where), _entries_without_flag(session)
        held_before = feed.held
        savepoint = session.begin_nested()
        try:
            counts = reconcile(session, feed, report.occurrences, now=NOW, window=seed.window)
            session.flush()
        except Exception as exc:
            savepoint.rollback()
            lost = len(before ^ _rows(session, Occurrence, where))
            tally.record(
                crashes=1, note=f"{what}: reconcile raised {type(exc).__name__}: {exc}"[:300]
            )
            tally.lost(lost, f"{what}: reconcile failed")
            raise
        assert not commits, "reconcile must never commit"
        lost = len(entries ^ _entries_without_flag(session))
        tally.lost(lost, f"{what}: time entries")
        assert lost == 0
        _assert_applied(session, feed, report, counts, seed, before, held_before)


def _assert_applied(
    session: Any,
    feed: Feed,
    report: FeedReport,
    counts: Counts,
    seed: Seed,
    before: set[tuple[Any, ...]],
    held_before: Any,
) -> None:
    after = _rows(session, Occurrence, Occurrence.feed_id == feed.id)
    if counts.held:
        assert after == before and feed.held and not held_before
        return
    stored = session.execute(
        sa.select(Occurrence.uid, Occurrence.recurrence_id, Occurrence.start).where(
            Occurrence.feed_id == feed.id, Occurrence.removed_at.is_(None)
        )
    ).all()
    active = {(uid, rid) for uid, rid, start in stored if _inside(start, seed.window)}
    incoming = {_key(o) for o in report.occurrences}
    assert incoming <= {(uid, rid) for uid, rid, _ in stored}, "an incoming occurrence is missing"
    assert active <= incoming, "an occurrence that vanished is still active"
    assert counts.new + counts.changed + counts.unchanged == len(incoming)


def _key(occurrence: Any) -> tuple[str, str]:
    from app.refresh.reconcile import occurrence_values

    values = occurrence_values(occurrence)
    return values["uid"], values["recurrence_id"]


def _inside(start: datetime, window: tuple[datetime, datetime]) -> bool:
    start = start if start.tzinfo else start.replace(tzinfo=UTC)
    return window[0] <= start < window[1]


# --- the tests ------------------------------------------------------------------


@FUZZ
@given(seed=st.sampled_from(SEEDS), plan=plans)
def test_mutated_calendars_never_crash_the_engine(seed: Seed, plan: list[Mutation]) -> None:
    inspect_or_classified(mutate(seed.data, plan), seed, f"engine {seed.name} {plan}")


@FUZZ
@given(seed=st.sampled_from(SEEDS), plan=plans)
def test_mutated_calendars_reconcile_whole_or_not_at_all(
    app: Flask, fuzz_feed: int, seed: Seed, plan: list[Mutation]
) -> None:
    what = f"reconcile {seed.name} {plan}"
    report = inspect_or_classified(mutate(seed.data, plan), seed, what)
    if report is not None:
        check_reconcile(app, fuzz_feed, seed, report, what)


def test_the_fuzzer_has_seeds_from_our_fixtures_and_the_corpus() -> None:
    names = {seed.name for seed in SEEDS}
    assert "exchange_malformed.ics" in names
    if corpus_path_from_env().is_dir():
        assert len(SEEDS) > 40
