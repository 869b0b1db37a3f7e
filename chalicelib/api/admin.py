"""Operator key management: issue (shown once) and revoke liaison and operator keys."""

from __future__ import annotations

from chalice import Blueprint, Response

from chalicelib.api import auth
from chalicelib.api.http import ApiRequest, route
from chalicelib.domain.actors import KEY_ROLES
from chalicelib.domain.errors import not_found

bp = Blueprint(__name__)

KEY_REQUEST = {
    "type": "object",
    "additionalProperties": False,
    "required": ["company"],
    "properties": {
        "company": {"type": ["string", "null"], "maxLength": 40},
        "role": {"type": "string", "enum": list(KEY_ROLES)},
        "label": {"type": ["string", "null"], "maxLength": 80},
    },
}


@route(
    bp,
    "/v1/admin/liaison-keys",
    "POST",
    summary="Issue a key (the secret is shown once)",
    tag="operator",
    auth="operator",
    body=KEY_REQUEST,
    status=201,
    errors=(400, 401, 403, 413, 415, 422),
)
def issue_key(req: ApiRequest):
    from chalicelib.services import keys

    body = req.body
    return keys.issue(body.get("role", "liaison"), body.get("company"), body.get("label"))


@route(
    bp,
    "/v1/admin/liaison-keys/{key_id}",
    "DELETE",
    summary="Revoke a key",
    tag="operator",
    auth="operator",
    status=204,
    errors=(401, 403, 404),
)
def revoke_key(req: ApiRequest):
    from chalicelib.services import keys

    key_id = req.params["key_id"]
    if not keys.revoke(key_id):
        raise not_found("key")
    auth.forget(key_id)
    return Response(body="", status_code=204)
