"""Stage `local` only: what the embedded AWS "sent" to a number (the /dev/sms route, /inbox)."""

from __future__ import annotations

from typing import Any

from chalicelib.adapters.tables import DevSms
from chalicelib.config import Settings
from chalicelib.domain.identity import phone_hmac


def sent_to(settings: Settings, e164: str, *, newest_first: bool = False) -> list[dict[str, Any]]:
    return [
        {"body": m.body, "sent_at": m.sent_at.split("#")[0], "message_id": m.message_id}
        for m in DevSms.query(
            phone_hmac(settings.hmac_key, e164),
            consistent_read=True,
            scan_index_forward=not newest_first,
        )
    ]
