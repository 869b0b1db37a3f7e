"""The person's routes: prove the number, file and follow disputes."""

from __future__ import annotations

from chalice import Blueprint

from chalicelib import config
from chalicelib.api import resources
from chalicelib.api.http import ApiRequest, json_response, route
from chalicelib.domain.intake import (
    KINDS,
    MAX_COUNT,
    MAX_ITEMS,
    MAX_NOTE,
    REASONS,
    TEXT_PATTERN,
    TEXT_REFUSED,
)

bp = Blueprint(__name__)

PHONE = resources.PHONE

CODE_REQUEST = {
    "type": "object",
    "additionalProperties": False,
    "required": ["phone"],
    "properties": {"phone": PHONE},
}

SESSION_REQUEST = {
    "type": "object",
    "additionalProperties": False,
    "required": ["phone", "id_last6", "code"],
    "properties": {
        "phone": PHONE,
        "id_last6": {
            "type": "string",
            "maxLength": 6,
            "pattern": "^[0-9]{5}[0-9Xx]$",
            "description": "Last 6 characters of the ID card; checked, never stored",
        },
        "code": {"type": "string", "maxLength": 6, "pattern": "^[0-9]{6}$"},
    },
}


def _dispute_item(kind: str | None) -> dict:
    return {
        "type": "object",
        "additionalProperties": False,
        "required": ["company", "reported_count", "expected_count", "reason"],
        "properties": {
            "company": resources.companies(kind),
            "reported_count": {"type": "integer", "minimum": 0, "maximum": MAX_COUNT},
            "expected_count": {"type": "integer", "minimum": 0, "maximum": MAX_COUNT},
            "reason": {"type": "string", "enum": list(REASONS)},
            "note": {
                "type": ["string", "null"],
                "pattern": TEXT_PATTERN,
                "x-invalid": TEXT_REFUSED,
                "description": (
                    f"At most {MAX_NOTE} characters after trimming, without control or format"
                    " characters (line breaks are fine); shown to the company. A mobile or ID"
                    " number in it is stored masked (138****8000)"
                ),
            },
        },
    }


def dispute_request() -> dict:
    """The companies a filing may name depend on its kind (accounts: companies, sim_cards:
    carriers): an if/then/else on `kind` narrows the items every kind shares (which a client
    generator reads). Each company once per filing, and expected_count differs from
    reported_count (else 422 validation_failed / no_discrepancy)."""

    def items(kind: str | None) -> dict:
        return {
            "type": "array",
            "minItems": 1,
            "maxItems": MAX_ITEMS,
            "items": _dispute_item(kind),
        }

    return {
        "type": "object",
        "additionalProperties": False,
        "required": ["items"],
        "properties": {
            "kind": {"type": "string", "enum": list(KINDS), "default": "accounts"},
            "items": items(None),
        },
        "if": {"required": ["kind"], "properties": {"kind": {"const": "sim_cards"}}},
        "then": {"properties": {"items": items("sim_cards")}},
        "else": {"properties": {"items": items("accounts")}},
    }


@route(
    bp,
    "/v1/verification-codes",
    "POST",
    summary="Send a verification code by SMS",
    tag="person",
    body=CODE_REQUEST,
    status=202,
    problems=(
        "number_cancelled",
        "sms_undeliverable",
        "code_too_soon",
        "daily_code_limit",
        "client_rate_limited",
        "sms_unavailable",
    ),
    response=resources.CODE_REQUESTED,
)
def request_verification_code(req: ApiRequest):
    from chalicelib.services import identity

    identity.request_code(config.settings(), req.body["phone"], req.client_ip)
    return {
        "status": "accepted",
        "detail": "如果该号码可以接收短信，验证码将在1分钟内送达，5分钟内有效。",
    }


@route(
    bp,
    "/v1/sessions",
    "POST",
    summary="Exchange number, ID last 6 and code for a token",
    tag="person",
    body=SESSION_REQUEST,
    status=201,
    problems=("verification_failed", "new_code_needed"),
    response=resources.SESSION,
)
def open_session(req: ApiRequest):
    from chalicelib.services import identity

    b = req.body
    return identity.open_session(config.settings(), b["phone"], b["id_last6"], b["code"])


@route(
    bp,
    "/v1/disputes",
    "POST",
    summary="File a dispute: one case per contested company",
    tag="person",
    auth="person",
    body=dispute_request,
    status=201,
    problems=("case_already_open", "no_discrepancy"),
    idempotent=True,
    response=resources.DISPUTE,
    response_headers=("Location",),
)
def file_dispute(req: ApiRequest):
    from chalicelib.services import disputes

    body = disputes.file_dispute(config.settings(), req.signed_in, req.body, req.idempotency)
    return json_response(body, 201, {"Location": disputes.location(body["dispute_id"])})


@route(
    bp,
    "/v1/disputes",
    "GET",
    summary="The signed-in person's disputes",
    tag="person",
    auth="person",
    response=resources.DISPUTE_LIST,
)
def list_disputes(req: ApiRequest):
    from chalicelib.services import disputes

    return disputes.list_disputes(req.signed_in)


@route(
    bp,
    "/v1/disputes/{dispute_id}",
    "GET",
    summary="One dispute with its cases and history",
    tag="person",
    auth="person",
    problems=("not_found",),
    response=resources.DISPUTE,
)
def get_dispute(req: ApiRequest):
    from chalicelib.services import disputes

    return disputes.get_dispute(req.signed_in, req.params["dispute_id"])


CHECK_RESULT = {
    "type": "object",
    "additionalProperties": False,
    "required": ["text"],
    "properties": {
        "text": {
            "type": "string",
            "maxLength": 1000,
            "description": "The national check's result SMS as pasted; read, never stored",
        }
    },
}


@route(
    bp,
    "/v1/check-results",
    "POST",
    summary="Read a pasted result SMS of the national check: the counts it reports, to pre-fill",
    tag="person",
    auth="person",
    body=CHECK_RESULT,
    response=resources.CHECK_READING,
)
def read_check_result(req: ApiRequest):
    """Nothing understood is an empty reading, not an error: the person fills the form in."""
    from chalicelib.domain.check_result import read_result
    from chalicelib.domain.directory import load_directory

    reading = read_result(req.body["text"], load_directory())
    return {
        "kind": reading.kind,
        "items": [
            {"company": i.company, "reported_count": i.reported_count, "matched": i.matched}
            for i in reading.items
        ],
    }
