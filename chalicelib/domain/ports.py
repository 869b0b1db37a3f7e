"""The ports: what the services need from the outside world, as small Protocols. Each has an
AWS-backed implementation in chalicelib/adapters and can be swapped in tests or per stage
(an in-China SMS provider behind SmsSender; a carrier's real-name check behind
NumberRegistry). The clock is the domain's own (chalicelib/domain/clock.py)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol


class SmsSender(Protocol):
    def send(self, e164: str, text: str, *, phone_key: str, masked: str) -> str:
        """Sends one message; returns the provider's message id. Raises on failure."""
        ...


@dataclass(frozen=True)
class NumberStatus:
    known: bool
    cancelled: bool
    carrier: str | None


class NumberRegistry(Protocol):
    """Who holds a number under real name: a carrier integration, or the demo table."""

    def status(self, e164: str) -> NumberStatus: ...

    def holder_matches(self, e164: str, id_last6: str) -> bool: ...
