"""Stage `local` only: read what the embedded AWS "sent", as JSON per number or as a page.

/dev/inbox lists the demo numbers `make run` wrote (DEMO_FILE_ENV) with their messages.
"""

from __future__ import annotations

import json
import os
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from chalice import Blueprint

from chalicelib import config
from chalicelib.api import resources
from chalicelib.api.http import ApiRequest, Param, route
from chalicelib.api.rendering import html_response, render
from chalicelib.domain.errors import Problem, not_found
from chalicelib.domain.phone import parse_mobile
from chalicelib.domain.workdays import SHANGHAI

bp = Blueprint(__name__)

# Where `make run` writes the demo numbers; /dev/inbox lists them.
DEMO_FILE_ENV = "RECOUNT_DEMO_FILE"
DEFAULT_DEMO_FILE = Path(__file__).resolve().parents[2] / ".local" / "demo.json"


@route(
    bp,
    "/dev/sms",
    "GET",
    summary="SMS sent to a number (stage local only)",
    tag="dev",
    query={"phone": Param(resources.PHONE, required=True)},
    problems=("not_found",),
    response=resources.DEV_INBOX,
    stage="local",
)
def dev_sms(req: ApiRequest):
    from chalicelib.services import dev_inbox

    settings = config.settings()
    if not settings.is_local:
        raise not_found("route")
    number = parse_mobile(req.query.get("phone"))
    return {
        "phone": number.masked,
        "messages": [
            {"to": number.e164, **message} for message in dev_inbox.sent_to(settings, number.e164)
        ],
    }


@route(
    bp,
    "/dev/inbox",
    "GET",
    summary="Page: SMS sent to the demo numbers (stage local only)",
    tag="dev",
    problems=("not_found",),
    media=("text/html",),
    stage="local",
)
def dev_inbox(req: ApiRequest):
    settings = config.settings()
    if not settings.is_local:
        raise not_found("route")
    return html_response(
        render("inbox.html", page="inbox", phones=_inbox(settings), hooks=_webhooks_received())
    )


@route(
    bp,
    "/dev/webhooks/{company}",
    "POST",
    summary="Demo webhook receiver: verifies the signature as the company would (stage local)",
    tag="dev",
    problems=("signature_invalid", "not_found"),
    response=resources.DEV_WEBHOOK_RECEIPT,
    stage="local",
)
def dev_webhook_receiver(req: ApiRequest):
    from chalicelib.services import dev_inbox

    settings = config.settings()
    if not settings.is_local:
        raise not_found("route")
    request = bp.current_request
    raw = request.raw_body if isinstance(request.raw_body, bytes) else b""
    headers = {k.lower(): v for k, v in (request.headers or {}).items()}
    got = dev_inbox.receive_webhook(settings, req.params["company"], raw, headers)
    if not got["verified"]:
        # Refused as a company would (any non-2xx fails the delivery); 400, not 401: this
        # route asks recount's callers for no credentials.
        raise Problem(400, "signature_invalid", "Signature invalid", "No secret verifies it")
    return got


@route(
    bp,
    "/dev/webhooks/{company}",
    "GET",
    summary="What the demo webhook receiver took for a company, newest first (stage local)",
    tag="dev",
    problems=("not_found",),
    response=resources.DEV_WEBHOOKS_RECEIVED,
    stage="local",
)
def dev_webhooks_received(req: ApiRequest):
    from chalicelib.services import dev_inbox

    if not config.settings().is_local:
        raise not_found("route")
    return {"items": dev_inbox.webhooks_received(req.params["company"])}


def _demo() -> dict[str, Any]:
    path = Path(os.environ.get(DEMO_FILE_ENV) or DEFAULT_DEMO_FILE)
    try:
        demo = json.loads(path.read_text(encoding="utf-8"))
        return demo if isinstance(demo, dict) else {}
    except (OSError, ValueError):
        return {}


def _demo_subscribers() -> list[dict[str, Any]]:
    subscribers = _demo().get("subscribers", [])
    return [s for s in subscribers if isinstance(s, dict) and isinstance(s.get("phone"), str)]


def _webhooks_received() -> list[dict[str, Any]]:
    """The demo companies whose receiver took something, with what it took (newest first)."""
    from chalicelib.services import dev_inbox

    hooks = []
    for company in sorted(_demo().get("webhook_secrets") or {}):
        items = dev_inbox.webhooks_received(company)
        if items:
            for item in items:
                item["received_at"] = _shanghai(item["received_at"])
            hooks.append({"company": company, "received": items[:20]})
    return hooks


def _inbox(settings: config.Settings) -> list[dict[str, Any]]:
    """Each demo number with what the embedded AWS "sent" to it, newest first."""
    from chalicelib.services import dev_inbox

    phones = []
    for subscriber in _demo_subscribers():
        try:
            number = parse_mobile(subscriber["phone"])
        except Problem:
            continue
        messages = [
            {"body": m["body"], "sent_at": _shanghai(m["sent_at"])}
            for m in dev_inbox.sent_to(settings, number.e164, newest_first=True)
        ]
        phones.append(
            {
                "phone": subscriber["phone"],
                "id_last6": subscriber.get("id_last6", ""),
                "status": subscriber.get("status", ""),
                "messages": messages,
            }
        )
    return phones


def _shanghai(iso: str) -> str:
    try:
        moment = datetime.strptime(iso, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
    except ValueError:
        return iso
    return moment.astimezone(SHANGHAI).strftime("%m月%d日 %H:%M:%S")
