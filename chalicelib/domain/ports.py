"""The ports: what the services need from the outside world, as small Protocols. Each has an
AWS-backed implementation in chalicelib/adapters and can be swapped in tests or per stage
(an in-China SMS provider behind SmsSender; a carrier's real-name check behind
NumberRegistry). The clock is the domain's own (chalicelib/domain/clock.py)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Protocol


@dataclass(frozen=True)
class SmsMessage:
    """One SMS as every provider needs it: our template and its variables (a provider in China
    sends only its approved copy of the template, with parameters) and the text they render
    to behind the stage's signature (what SNS sends)."""

    template: str
    variables: Mapping[str, Any]
    text: str


class SmsRefused(Exception):
    """The provider refused the message with a code it documents. `permanent`: sending again
    cannot help (a bad or blacklisted number, a template not approved): the message is dead at
    once, the code recorded. Otherwise (throttling, flow control) it is retried with backoff."""

    def __init__(self, provider: str, code: str, *, permanent: bool) -> None:
        super().__init__(f"{provider} refused the message: {code}")
        self.provider = provider
        self.code = code
        self.permanent = permanent


class SmsSender(Protocol):
    provider: str  # sns | aliyun | tencent: recorded on every message it sends

    def send(self, e164: str, message: SmsMessage, *, phone_key: str, masked: str) -> str:
        """Sends one message; returns the provider's message id (SNS MessageId, Aliyun BizId,
        Tencent SerialNo). Raises SmsRefused for a documented refusal, anything else for a
        fault (both are retried unless permanent)."""
        ...


@dataclass(frozen=True)
class DeliveryReport:
    """What the carrier said about one sent message (pulled from the provider)."""

    provider_message_id: str
    delivered: bool
    code: str  # the carrier's or provider's status code, e.g. DELIVERED
    at: str | None  # when the person's phone received it, as the provider says


class DeliveryReports(Protocol):
    """Providers with pull delivery reports (Aliyun QuerySendDetails, Tencent
    PullSmsSendStatus). `pending`: the messages sent and not yet reported, as (provider
    message id, E.164 number, sent at ISO); returns the reports the provider has for them."""

    provider: str
    needs_numbers: bool  # whether `pull` needs each message's number (Aliyun asks for it)

    def pull(self, pending: list[tuple[str, str, str]]) -> list[DeliveryReport]: ...


@dataclass(frozen=True)
class NumberStatus:
    known: bool
    cancelled: bool
    carrier: str | None


class NumberRegistry(Protocol):
    """Who holds a number under real name: a carrier integration, or the demo table."""

    def status(self, e164: str) -> NumberStatus: ...

    def holder_matches(self, e164: str, id_last6: str) -> bool: ...
