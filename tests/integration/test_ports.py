"""The services take their ports (docs/design.md §2): a number registry other than the demo
table (a carrier's real-name check) and another SMS provider plug in without patching."""

from __future__ import annotations

import pytest

from chalicelib.domain.errors import Problem
from chalicelib.domain.ports import NumberStatus, SmsMessage
from chalicelib.services import identity

PHONE, E164, ID6 = "13500135000", "+8613500135000", "54321X"  # not in the demo table


class CarrierRegistry:
    """A carrier's real-name system, as a carrier integration would answer."""

    def __init__(self, cancelled: bool = False) -> None:
        self.cancelled = cancelled

    def status(self, e164: str) -> NumberStatus:
        return NumberStatus(e164 == E164, self.cancelled, "China Unicom")

    def holder_matches(self, e164: str, id_last6: str) -> bool:
        return (e164, id_last6) == (E164, ID6)


class RecordingProvider:
    """Another SMS provider: keeps what it was asked to send."""

    provider = "recording"

    def __init__(self) -> None:
        self.sent: list[tuple[str, str]] = []

    def send(self, e164: str, message: SmsMessage, *, phone_key: str, masked: str) -> str:
        assert E164 not in (phone_key, masked)  # the provider alone gets the number
        self.sent.append((e164, message.text))
        return f"provider-{len(self.sent)}"


def test_sign_in_through_another_registry_and_provider(world, frozen_clock):
    carrier, provider = CarrierRegistry(), RecordingProvider()
    identity.request_code(world, PHONE, "127.0.0.1", numbers=carrier, sms=provider)
    ((to, text),) = provider.sent
    assert to == E164
    code = text.split("验证码", 1)[1][:6]
    session = identity.open_session(world, PHONE, ID6, code, numbers=carrier)
    assert session["token"].startswith("v2.")


def test_a_registry_that_says_cancelled_is_422_and_sends_nothing(world, frozen_clock):
    provider = RecordingProvider()
    with pytest.raises(Problem) as refused:
        identity.request_code(
            world, PHONE, "127.0.0.1", numbers=CarrierRegistry(cancelled=True), sms=provider
        )
    assert refused.value.code == "number_cancelled" and provider.sent == []
