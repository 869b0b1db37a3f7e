"""Operator key management: issue (shown once) and revoke liaison and operator keys."""

from __future__ import annotations

from chalice import Blueprint, Response

from chalicelib.api import auth, resources
from chalicelib.api.http import ApiRequest, route
from chalicelib.domain.actors import KEY_ROLES
from chalicelib.domain.errors import not_found

bp = Blueprint(__name__)


def key_request() -> dict:
    """A liaison key names its directory entry; an operator key names none (company: null)."""
    return {
        "type": "object",
        "additionalProperties": False,
        "required": ["company"],
        "properties": {
            "company": resources.nullable(resources.companies()),
            "role": {"type": "string", "enum": list(KEY_ROLES), "default": "liaison"},
            "label": {"type": ["string", "null"], "maxLength": 80},
        },
        "if": {"required": ["role"], "properties": {"role": {"const": "operator"}}},
        "then": {"properties": {"company": {"type": "null"}}},
        "else": {"properties": {"company": resources.companies()}},
    }


@route(
    bp,
    "/v1/admin/liaison-keys",
    "POST",
    summary="Issue a key (the secret is shown once)",
    tag="operator",
    auth="operator",
    body=key_request,
    status=201,
    response=resources.ISSUED_KEY,
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
    problems=("not_found",),
)
def revoke_key(req: ApiRequest):
    from chalicelib.services import keys

    key_id = req.params["key_id"]
    if not keys.revoke(key_id):
        raise not_found("key")
    auth.forget(key_id)
    return Response(body="", status_code=204)
