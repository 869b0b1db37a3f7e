"""Company webhooks (docs/design.md §10, docs/webhooks.md): the events a case change queues,
their signed delivery with retries, and each company's endpoint, secrets and delivery log.

Events are outbox items (`wh:<case>:v<version>:<event>`) written in the transaction of the
change they report, only for a company whose endpoint takes that event (the subscriptions are
cached per process: adapters/webhook_store.py). The outbox stream delivers each at once and the
scheduler's backstop retries it on workflows/webhooks.yaml's schedule, with the same
webhook-id every time; a delivery still failing at the end of it is dead, and an endpoint whose
deliveries have failed for `disable_after` is disabled.
"""

from __future__ import annotations

import logging
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from chalicelib.adapters import case_store, outbox_store, webhook_http, webhook_store
from chalicelib.adapters.webhook_store import Endpoint
from chalicelib.config import Settings
from chalicelib.domain import clock, timers, workdays
from chalicelib.domain import webhooks as rules_module
from chalicelib.domain.actors import Actor
from chalicelib.domain.directory import load_directory
from chalicelib.domain.errors import Problem, not_found
from chalicelib.domain.records import CaseRecord, OutboxItem
from chalicelib.domain.webhooks import PING, load_rules
from chalicelib.domain.workflow import load_workflow
from chalicelib.services.views import case_view

log = logging.getLogger("recount.webhooks")

LEASE = timedelta(minutes=2)
MAX_EVENTS = 20


# -- events: outbox items in the change's own transaction --------------------------------------
def event_items(
    settings: Settings, case: CaseRecord, events: list[str], now: datetime, key: str
) -> list[OutboxItem]:
    """The deliveries a change of `case` queues (`key` tells changes apart: `v<version>`), for
    the events its company's endpoint takes; none when it has none."""
    if not events:
        return []
    endpoint = webhook_store.subscriptions(all_companies()).get(case.company)
    wanted = [e for e in events if endpoint is not None and endpoint.takes(e)]
    if not wanted:
        return []
    data = case_view(case, load_workflow(), now, "liaison")  # as the liaison API shows it
    return [
        _item(
            settings,
            f"{case.case_id}:{key}:{event}",
            event,
            case.company,
            data,
            now,
            dispute_id=case.dispute_id,
            case_id=case.case_id,
        )
        for event in wanted
    ]


def _item(
    settings: Settings,
    ident: str,
    event: str,
    company: str,
    data: dict[str, Any],
    now: datetime,
    *,
    dispute_id: str,
    case_id: str | None,
) -> OutboxItem:
    created = clock.iso(now)
    message_id = outbox_store.WEBHOOK_PREFIX + ident
    return OutboxItem(
        message_id,
        template=event,
        variables=data,
        phone_key="",
        phone_cipher="",
        dispute_id=dispute_id,
        case_id=case_id,
        notify="webhook",
        status="pending",
        created_at=created,
        send_after=created,
        pending_shard=timers.shard_for(message_id, settings.timer_shards),
        company=company,
        expires_at=now + timedelta(days=load_rules().log_days),
    )


def near_at(previous: CaseRecord | None, due_at: str | None, action_on: str) -> str | None:
    """When the company's deadline in force comes near (workflows/webhooks.yaml
    `before_deadline`): None without one; kept while the deadline is the same (None once told)."""
    notice = load_rules().deadline_notice
    if notice is None or due_at is None or action_on != "company":
        return None
    if previous is not None and previous.due_at == due_at:
        return previous.near_at
    return clock.iso(workdays.working_days_before(clock.parse_iso(due_at), notice[1]))


def all_companies() -> list[str]:
    directory = load_directory()
    return [*directory.companies(), *directory.carriers()]


def notify_near_deadlines(settings: Settings) -> int:
    """The scheduler's sweep: each case whose company deadline has come near gets its
    `case.deadline_near` (if its company takes it), once per deadline. Returns how many."""
    notice = load_rules().deadline_notice
    if notice is None:
        return 0
    now = clock.now()
    told = 0
    for shard in range(settings.timer_shards):
        for case_id, near in case_store.near_deadlines(str(shard), clock.iso(now)):
            case = case_store.get_case(case_id)
            if case is None or case.near_at != near:
                continue
            hooks = []
            if case.action_on == "company" and case.due_at and case.due_at > clock.iso(now):
                hooks = event_items(settings, case, [notice[0]], now, f"near:{case.due_at}")
            if case_store.clear_near(case_id, near, hooks) and hooks:
                told += 1
    return told


# -- delivery ------------------------------------------------------------------------------------
def deliver(settings: Settings, message_id: str) -> str:
    """One attempt at one delivery, if it is due: webhook_delivered | webhook_retry |
    webhook_dead | webhook_dropped | skipped (not due, or another dispatcher has it)."""
    now = clock.now()
    token = uuid.uuid4().hex
    item = outbox_store.claim(message_id, now, now + LEASE, token)
    if item is None or item.company is None:
        return "skipped"
    rules = load_rules()
    endpoint = webhook_store.get(item.company)
    reason = _not_deliverable(endpoint, item.template)
    if endpoint is None or reason is not None:
        outbox_store.mark_dropped(item, token, item.expires_at or now, reason or "no_endpoint")
        return "webhook_dropped"
    sent = datetime.now(UTC)  # the receiver compares it to its own wall clock
    text = rules_module.body(item.template, item.message_id, item.created_at, item.variables)
    headers = {
        "webhook-id": item.message_id,
        "webhook-timestamp": str(int(sent.timestamp())),
        "webhook-signature": rules_module.signature_header(
            endpoint.secrets_in_force(clock.iso(now)), item.message_id, sent, text
        ),
    }
    result = webhook_http.post(
        endpoint.url,
        text.encode(),
        headers,
        allow_private=settings.is_local,
        timeout=rules.timeout_seconds,
    )
    error = result.error or (None if result.delivered else f"http_{result.status}")
    retry_at = None
    if not result.delivered and item.template != PING:
        delay = rules.retry_delay(item.attempts + 1)
        retry_at = now + delay if delay is not None else None
    outbox_store.mark_attempt(
        item,
        token,
        now,
        status=result.status,
        latency_ms=result.latency_ms,
        error=error,
        retry_at=retry_at,
        delivered=result.delivered,
    )
    if item.template != PING:
        _track_health(endpoint, result.delivered, now, rules.disable_after)
    outcome = "delivered" if result.delivered else ("retry" if retry_at else "dead")
    outcome = f"webhook_{outcome}"
    log.info(
        "webhook_attempt",
        extra={
            "message_id": item.message_id,
            "company": item.company,
            "event": item.template,
            "outcome": outcome,
            "status": result.status,
            "error": result.error,
            "latency_ms": result.latency_ms,
        },
    )
    return outcome


def _not_deliverable(endpoint: Endpoint | None, event: str) -> str | None:
    if endpoint is None:
        return "no_endpoint"
    if event == PING:
        return None  # a test goes even to a disabled endpoint: that is how one is checked
    if endpoint.disabled_at is not None:
        return "endpoint_disabled"
    if event not in endpoint.events:
        return "not_subscribed"
    return None


def _track_health(endpoint: Endpoint, delivered: bool, now: datetime, limit: timedelta) -> None:
    """Failing since when; disabled (and the operators told) once it has failed `limit`."""
    if delivered:
        if endpoint.failing_since is not None:
            webhook_store.update(endpoint.company, failing_since=None)
        return
    if endpoint.failing_since is None:
        webhook_store.update(endpoint.company, failing_since=clock.iso(now))
        return
    if now - clock.parse_iso(endpoint.failing_since) >= limit:
        webhook_store.update(
            endpoint.company,
            disabled_at=clock.iso(now),
            disabled_reason=f"every delivery failed since {endpoint.failing_since}",
        )
        # The operators are told: this line (WARNING, an alarm's metric filter) and their list
        # of endpoints, where it shows disabled with its reason.
        log.warning(
            "webhook_endpoint_disabled",
            extra={"company": endpoint.company, "failing_since": endpoint.failing_since},
        )


# -- the liaison's endpoint ----------------------------------------------------------------------
def _company(actor: Actor) -> str:
    if actor.company is None:
        raise AssertionError("only a liaison has a company")
    return actor.company


def view(endpoint: Endpoint, now: datetime, secret: str | None = None) -> dict[str, Any]:
    """What the liaison (or an operator) sees: never a secret, but the one just made."""
    out: dict[str, Any] = {
        "company": endpoint.company,
        "url": endpoint.url,
        "events": list(endpoint.events),
        "enabled": endpoint.disabled_at is None,
        "disabled_at": endpoint.disabled_at,
        "disabled_reason": endpoint.disabled_reason,
        "failing_since": endpoint.failing_since,
        "secrets_in_force": len(endpoint.secrets_in_force(clock.iso(now))),
        "created_at": endpoint.created_at,
        "updated_at": endpoint.updated_at,
    }
    if secret is not None:
        out["secret"] = secret  # shown once
    return out


def _parse(settings: Settings, body: dict[str, Any]) -> tuple[str, tuple[str, ...]]:
    unknown = sorted(set(body) - {"url", "events"})
    if unknown:
        raise _invalid(f"unknown field '{unknown[0]}'", unknown[0])
    url = body.get("url")
    if not isinstance(url, str) or not url.strip():
        raise _invalid("url: required, the https address to call", "url")
    refusal = webhook_http.check_url(url.strip(), allow_private=settings.is_local)
    if refusal is not None:
        raise Problem(
            422,
            "webhook_url_refused",
            "This address cannot take webhooks",
            f"url: {refusal}; use a public https address",
            extra={"reason": refusal},
        )
    types = load_rules().event_types
    events = body.get("events", types)
    if (
        not isinstance(events, list)
        or not events
        or len(events) > MAX_EVENTS
        or not all(isinstance(e, str) and e in types for e in events)
    ):
        raise _invalid(f"events: a non-empty list of {', '.join(types)}", "events")
    return url.strip(), tuple(dict.fromkeys(events))


def _invalid(detail: str, field: str) -> Problem:
    return Problem(
        422,
        "validation_failed",
        "The request has invalid fields",
        detail,
        extra={"errors": [{"field": field, "message": detail}]},
    )


def put_endpoint(
    settings: Settings, actor: Actor, body: dict[str, Any]
) -> tuple[dict[str, Any], bool]:
    """Sets the company's endpoint; (view, created). A new endpoint gets a secret, shown once;
    saving again keeps the secrets and turns a disabled endpoint back on."""
    company = _company(actor)
    url, events = _parse(settings, body)
    now = clock.iso(clock.now())
    current = webhook_store.get(company)
    if current is None:
        secret = rules_module.new_secret()
        endpoint = Endpoint(company, url, events, ((secret, None),), now, now)
        webhook_store.save(endpoint)
        return view(endpoint, clock.now(), secret), True
    endpoint = Endpoint(
        company, url, events, current.secrets, current.created_at, now, None, None, None
    )
    webhook_store.save(endpoint)
    return view(endpoint, clock.now()), False


def get_endpoint(actor: Actor) -> dict[str, Any]:
    endpoint = webhook_store.get(_company(actor))
    if endpoint is None:
        raise not_found("webhook")
    return view(endpoint, clock.now())


def delete_endpoint(actor: Actor) -> None:
    if not webhook_store.delete(_company(actor)):
        raise not_found("webhook")


def rotate_secret(actor: Actor) -> dict[str, Any]:
    """A new secret signs from now on; the old one signs beside it for `rotation_overlap`."""
    company = _company(actor)
    endpoint = webhook_store.get(company)
    if endpoint is None:
        raise not_found("webhook")
    now = clock.now()
    until = clock.iso(now + load_rules().rotation_overlap)
    kept = tuple(
        (s, u if u is not None else until)
        for s, u in endpoint.secrets
        if u is None or u > clock.iso(now)
    )
    secret = rules_module.new_secret()
    rotated = webhook_store.update(
        company, secrets=((secret, None), *kept), updated_at=clock.iso(now)
    )
    if rotated is None:
        raise not_found("webhook")
    out = view(rotated, now, secret)
    out["previous_secret_valid_until"] = until
    return out


def send_test(settings: Settings, actor: Actor) -> dict[str, Any]:
    """A `ping` delivered now, signed like every event, logged like every delivery."""
    company = _company(actor)
    if webhook_store.get(company) is None:
        raise not_found("webhook")
    now = clock.now()
    item = _item(
        settings,
        f"ping:{company}:{uuid.uuid4().hex[:12]}",
        PING,
        company,
        {"company": company, "message": "recount test delivery"},
        now,
        dispute_id="ping",
        case_id=None,
    )
    outbox_store.put(item)
    deliver(settings, item.message_id)
    sent = outbox_store.get(item.message_id)
    return delivery_view(sent or item)


def delivery_view(item: OutboxItem) -> dict[str, Any]:
    return {
        "id": item.message_id,
        "event": item.template,
        "case_id": item.case_id,
        "created_at": item.created_at,
        "status": "delivered" if item.status == "sent" else item.status,
        "attempts": item.attempts,
        "last_attempt_at": item.sent_at,
        "response_status": item.last_status,
        "latency_ms": item.latency_ms,
        "error": item.last_error,
        "next_attempt_at": item.send_after if item.status == "pending" else None,
    }


def deliveries(actor: Actor) -> dict[str, Any]:
    """The company's delivery log: the last `log_days` days, newest first."""
    since = clock.now() - timedelta(days=load_rules().log_days)
    items = outbox_store.webhook_log(_company(actor), since)
    return {"items": [delivery_view(i) for i in items]}


def resend(settings: Settings, actor: Actor, delivery_id: str) -> dict[str, Any]:
    """The same delivery (same webhook-id) again, now; a pending one is already on its way."""
    item = outbox_store.get(delivery_id) if outbox_store.is_webhook(delivery_id) else None
    if item is None or item.company != _company(actor):
        raise not_found("delivery")
    now = clock.now()
    if not outbox_store.requeue(item, now, timers.shard_for(delivery_id, settings.timer_shards)):
        raise Problem(
            409,
            "delivery_in_progress",
            "The delivery is still being tried",
            "It is pending or being sent; its next attempt is in the log",
        )
    deliver(settings, delivery_id)
    again = outbox_store.get(delivery_id)
    return delivery_view(again or item)


# -- operators -------------------------------------------------------------------------------------
def admin_list() -> dict[str, Any]:
    now = clock.now()
    return {"items": [view(e, now) for e in webhook_store.get_many(all_companies())]}


def admin_disable(company: str) -> dict[str, Any]:
    if company not in all_companies():
        raise not_found("webhook")
    now = clock.iso(clock.now())
    endpoint = webhook_store.update(
        company, disabled_at=now, disabled_reason="disabled by an operator", updated_at=now
    )
    if endpoint is None:
        raise not_found("webhook")
    return view(endpoint, clock.now())
