"""Stage `local` only: read what the embedded AWS "sent"."""

from __future__ import annotations

from chalice import Blueprint

from chalicelib import config
from chalicelib.adapters.tables import DevSms
from chalicelib.api.http import ApiRequest, route
from chalicelib.domain.errors import not_found
from chalicelib.domain.identity import phone_hmac
from chalicelib.domain.phone import parse_mobile

bp = Blueprint(__name__)


@route(
    bp,
    "/dev/sms",
    "GET",
    summary="SMS sent to a number (stage local only)",
    tag="dev",
    query=("phone",),
    errors=(404, 422),
)
def dev_sms(req: ApiRequest):
    settings = config.settings()
    if not settings.is_local:
        raise not_found("route")
    number = parse_mobile(req.query.get("phone"))
    key = phone_hmac(settings.hmac_key, number.e164)
    return {
        "phone": number.masked,
        "messages": [
            {
                "to": number.e164,
                "body": m.body,
                "sent_at": m.sent_at.split("#")[0],
                "message_id": m.message_id,
            }
            for m in DevSms.query(key, consistent_read=True)
        ],
    }
