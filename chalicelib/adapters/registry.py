"""The number registry: who holds a number under real name. A carrier integration implements
the same interface; locally and in tests a table seeded with demo subscribers stands in."""

from __future__ import annotations

from chalicelib.adapters.tables import Subscriber
from chalicelib.config import Settings
from chalicelib.domain.identity import holder_check_hmac, phone_hmac
from chalicelib.domain.ports import NumberRegistry, NumberStatus


class TableNumberRegistry:
    """NumberRegistry from the subscribers table (stage local, tests, demos)."""

    def __init__(self, settings: Settings) -> None:
        self._key = settings.hmac_key

    def _get(self, e164: str) -> Subscriber | None:
        try:
            return Subscriber.get(phone_hmac(self._key, e164))
        except Subscriber.DoesNotExist:
            return None

    def status(self, e164: str) -> NumberStatus:
        sub = self._get(e164)
        if sub is None:
            return NumberStatus(False, False, None)
        return NumberStatus(True, sub.status == "cancelled", sub.carrier)

    def holder_matches(self, e164: str, id_last6: str) -> bool:
        sub = self._get(e164)
        return (
            sub is not None
            and sub.status == "active"
            and sub.holder_check == holder_check_hmac(self._key, e164, id_last6)
        )

    def enrol(self, e164: str, id_last6: str, status: str, carrier: str | None) -> None:
        """Seed a demo subscriber (local stage and tests only)."""
        Subscriber(
            phone_hmac(self._key, e164),
            holder_check=holder_check_hmac(self._key, e164, id_last6),
            status=status,
            carrier=carrier,
        ).save()


def registry(settings: Settings) -> TableNumberRegistry:
    return TableNumberRegistry(settings)


def number_registry(settings: Settings) -> NumberRegistry:
    """The stage's registry; a carrier integration would be chosen here."""
    return registry(settings)
