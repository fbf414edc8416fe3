"""What each feed of a batch cost: its own stretch plus its share of the batch's.

``refresh_feeds`` shares work across a batch: one lease statement for all,
and on PostgreSQL one round trip for the unchanged feeds' records at the
end. Its signals mark where each feed's own work ends, in the refreshing
thread. A ``BatchMeter`` takes readings (CPU time, statements, switches…)
at the batch's start, after the lease and after every feed; each feed is
charged what changed during its own stretch plus an even share of
everything else the batch did (the lease, the records written together,
whatever ran around them), so the shares add up to the whole batch.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from app.refresh.refresh import RefreshResult, batch_leased, feed_refreshed

Readings = dict[str, float]

_local = threading.local()


class BatchMeter:
    """Per-feed costs of one batch, from ``read()`` taken in the refreshing thread."""

    def __init__(self, read: Callable[[], Readings]) -> None:
        self.read = read
        self.start = self.mark = read()
        self.stretches: list[tuple[RefreshResult, Readings]] = []

    def leased(self) -> None:
        self.mark = self.read()

    def refreshed(self, result: RefreshResult) -> None:
        now = self.read()
        self.stretches.append((result, _minus(now, self.mark)))
        self.mark = now

    def costs(self) -> list[tuple[RefreshResult, Readings]]:
        """Each feed's cost, once the batch has ended."""
        if not self.stretches:
            return []
        total = _minus(self.read(), self.start)
        shared = dict(total)
        for _, own in self.stretches:
            shared = _minus(shared, own)
        share = {name: value / len(self.stretches) for name, value in shared.items()}
        return [
            (result, {name: own[name] + share[name] for name in own})
            for result, own in self.stretches
        ]


def start(read: Callable[[], Readings]) -> BatchMeter:
    """Attribute the batch this thread runs next, until ``stop``."""
    meter = BatchMeter(read)
    _local.meter = meter
    return meter


def stop() -> BatchMeter | None:
    """Stop attributing in this thread; returns the meter that was running."""
    meter = _meter()
    _local.meter = None
    return meter


@contextmanager
def measuring(read: Callable[[], Readings]) -> Iterator[BatchMeter]:
    """``start`` … ``stop`` around a block."""
    try:
        yield start(read)
    finally:
        stop()


def _minus(a: Readings, b: Readings) -> Readings:
    return {name: a[name] - b[name] for name in a}


def _meter() -> BatchMeter | None:
    return getattr(_local, "meter", None)


@batch_leased.connect
def _on_leased(_sender: Any, **_: Any) -> None:
    if meter := _meter():
        meter.leased()


@feed_refreshed.connect
def _on_refreshed(_sender: Any, result: RefreshResult, **_: Any) -> None:
    if meter := _meter():
        meter.refreshed(result)
