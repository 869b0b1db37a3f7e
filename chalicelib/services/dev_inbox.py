"""Stage `local` only: what the embedded AWS "sent" to a number (the /dev/sms route, /inbox),
and the demo webhook receiver's arrivals (/dev/webhooks/{company})."""

from __future__ import annotations

import json
from typing import Any

from chalicelib.adapters import webhook_store
from chalicelib.adapters.sms import dev_sent_to, keep_for_dev
from chalicelib.config import Settings
from chalicelib.domain import clock
from chalicelib.domain.identity import phone_hmac


def sent_to(settings: Settings, e164: str, *, newest_first: bool = False) -> list[dict[str, str]]:
    return dev_sent_to(phone_hmac(settings.hmac_key, e164), newest_first=newest_first)


def _webhook_key(company: str) -> str:
    return f"webhook#{company}"


def receive_webhook(
    settings: Settings, company: str, raw: bytes, headers: dict[str, str]
) -> dict[str, Any]:
    """Verifies a delivery as the company would — with its secrets, through the
    standardwebhooks package — and keeps what arrived for /dev/inbox. {verified, event, id}."""
    from standardwebhooks.webhooks import Webhook, WebhookVerificationError

    endpoint = webhook_store.get(company)
    text = raw.decode("utf-8", errors="replace")
    verified = False
    for secret in endpoint.secrets_in_force(clock.iso(clock.now())) if endpoint else []:
        try:
            Webhook(secret).verify(text, headers)
            verified = True
            break
        except (WebhookVerificationError, ValueError):  # ValueError: a malformed signature
            continue
    try:
        event = str(json.loads(text).get("type", ""))
    except (ValueError, AttributeError):
        event = ""
    delivery_id = headers.get("webhook-id", "")
    kept = json.dumps({"verified": verified, "event": event, "body": text}, ensure_ascii=False)
    keep_for_dev(settings, _webhook_key(company), company, kept, delivery_id or "unsigned")
    return {"verified": verified, "event": event, "id": delivery_id}


def webhooks_received(company: str) -> list[dict[str, Any]]:
    """What the demo receiver took for a company, newest first."""
    out = []
    for m in dev_sent_to(_webhook_key(company), newest_first=True):
        kept = json.loads(m["body"])
        out.append({**kept, "id": m["message_id"], "received_at": m["sent_at"]})
    return out
