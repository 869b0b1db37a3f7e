"""Each company's webhook endpoint: one guards-table record `webhook#<company>` holding its URL,
the events it takes, its signing secrets (the newest first, an old one with the end of its
overlap), whether it is disabled and since when its deliveries fail.

The service asks, inside every case transition, whether the case's company takes an event:
that answer is cached per process for SUBSCRIPTION_TTL, so a transition costs no extra read
(a saved or deleted endpoint is heard everywhere within that time; this process at once).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass, replace
from typing import Any

from pynamodb.exceptions import DeleteError

from chalicelib.adapters.tables import Guard

SUBSCRIPTION_TTL_S = 60.0


@dataclass(frozen=True)
class Endpoint:
    company: str
    url: str
    events: tuple[str, ...]
    # (secret, until): until is None for the current secret, an ISO time for a rotated one.
    secrets: tuple[tuple[str, str | None], ...]
    created_at: str
    updated_at: str
    disabled_at: str | None = None
    disabled_reason: str | None = None
    failing_since: str | None = None

    def secrets_in_force(self, now_iso: str) -> list[str]:
        return [s for s, until in self.secrets if until is None or until > now_iso]

    def takes(self, event: str) -> bool:
        return self.disabled_at is None and event in self.events


def _pk(company: str) -> str:
    return f"webhook#{company}"


def _to_data(endpoint: Endpoint) -> dict[str, Any]:
    return {
        "url": endpoint.url,
        "events": list(endpoint.events),
        "secrets": [[s, until] for s, until in endpoint.secrets],
        "created_at": endpoint.created_at,
        "updated_at": endpoint.updated_at,
        "disabled_at": endpoint.disabled_at,
        "disabled_reason": endpoint.disabled_reason,
        "failing_since": endpoint.failing_since,
    }


def _from_item(item: Guard) -> Endpoint | None:
    data = item.data or {}
    if not data.get("url"):
        return None
    return Endpoint(
        company=item.pk.removeprefix("webhook#"),
        url=str(data["url"]),
        events=tuple(data.get("events") or ()),
        secrets=tuple((str(s), u) for s, u in data.get("secrets") or ()),
        created_at=str(data.get("created_at") or ""),
        updated_at=str(data.get("updated_at") or ""),
        disabled_at=data.get("disabled_at"),
        disabled_reason=data.get("disabled_reason"),
        failing_since=data.get("failing_since"),
    )


def get(company: str) -> Endpoint | None:
    try:
        return _from_item(Guard.get(_pk(company), consistent_read=True))
    except Guard.DoesNotExist:
        return None


def get_many(companies: Iterable[str]) -> list[Endpoint]:
    """Several companies' endpoints in one BatchGetItem (operators' list)."""
    keys = [_pk(c) for c in companies]
    found = [_from_item(item) for item in Guard.batch_get(keys)] if keys else []
    return sorted((e for e in found if e is not None), key=lambda e: e.company)


def save(endpoint: Endpoint) -> None:
    Guard(_pk(endpoint.company), data=_to_data(endpoint)).save()
    _forget(endpoint.company)


def delete(company: str) -> bool:
    try:
        Guard(_pk(company)).delete(condition=Guard.pk.exists())
    except DeleteError:
        return False
    finally:
        _forget(company)
    return True


def update(company: str, **changes: Any) -> Endpoint | None:
    """Read, change and write back (the liaison's own record: no concurrent writer to guard
    against but the dispatcher's failure marks, which are idempotent)."""
    current = get(company)
    if current is None:
        return None
    changed = replace(current, **changes)
    save(changed)
    return changed


# -- the per-process subscription cache --------------------------------------------------------
_cache: dict[str, Any] = {"at": None, "endpoints": {}}
_lock = threading.Lock()
_fetching = threading.Lock()


def subscriptions(companies: Iterable[str]) -> dict[str, Endpoint]:
    """Every company's endpoint as this process last read them (one BatchGetItem at most every
    SUBSCRIPTION_TTL_S): what a transition consults to know whether to queue an event."""
    with _fetching:  # one read for a burst of requests arriving at once, not one each
        now = time.monotonic()
        with _lock:
            at = _cache["at"]
            if at is not None and now - at < SUBSCRIPTION_TTL_S:
                return dict(_cache["endpoints"])
        endpoints = {e.company: e for e in get_many(companies)}
        with _lock:
            _cache["at"], _cache["endpoints"] = now, endpoints
        return dict(endpoints)


def _forget(company: str) -> None:
    with _lock:
        _cache["at"] = None  # this process hears its own change at once


def reset() -> None:
    """Tests start each emulated AWS afresh."""
    _forget("")
