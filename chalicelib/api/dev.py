"""Stage `local` only: read what the embedded AWS "sent"."""

from __future__ import annotations

from chalice import Blueprint

from chalicelib import config
from chalicelib.api.http import ApiRequest, route
from chalicelib.domain.errors import not_found
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
