"""One injectable clock, so tests and the demo can travel through weeks without sleeping."""

from __future__ import annotations

import os
from datetime import UTC, datetime, timedelta
from typing import Protocol


class Clock(Protocol):
    def now(self) -> datetime: ...


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)


class FrozenClock:
    """A clock that only moves when told to (tests)."""

    def __init__(self, start: datetime) -> None:
        if start.tzinfo is None:
            raise ValueError("FrozenClock needs an aware datetime")
        self._now = start

    def now(self) -> datetime:
        return self._now

    def advance(self, **delta: float) -> datetime:
        self._now = self._now + timedelta(**delta)
        return self._now

    def set(self, when: datetime) -> None:
        self._now = when


class AcceleratedClock:
    """The demo clock of `make run`: time runs `speed` times faster from `epoch`. Every process
    given the same epoch and speed reads the same time, so the pump and the API agree."""

    def __init__(self, epoch: datetime, speed: float) -> None:
        self._epoch = epoch
        self._speed = speed

    def now(self) -> datetime:
        real = datetime.now(UTC)
        return self._epoch + (real - self._epoch) * self._speed


def from_environment() -> Clock:
    """Stage `local` only: RECOUNT_DEMO_CLOCK_SPEED (and _EPOCH, an ISO time) speed time up."""
    speed = os.environ.get("RECOUNT_DEMO_CLOCK_SPEED", "")
    if os.environ.get("RECOUNT_STAGE") != "local" or not speed:
        return SystemClock()
    epoch_text = os.environ.get("RECOUNT_DEMO_CLOCK_EPOCH", "")
    epoch = parse_iso(epoch_text) if epoch_text else datetime.now(UTC)
    return AcceleratedClock(epoch, float(speed))


_clock: Clock | None = None


def now() -> datetime:
    global _clock
    if _clock is None:
        _clock = from_environment()
    return _clock.now()


def use(clock: Clock | None) -> Clock | None:
    """Swap the process clock (None: configure from the environment again); returns the
    previous one so callers can restore it."""
    global _clock
    previous, _clock = _clock, clock
    return previous


def iso(moment: datetime) -> str:
    """UTC ISO-8601 with second precision: sortable as a string in DynamoDB keys."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_iso(text: str) -> datetime:
    return datetime.strptime(text, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
