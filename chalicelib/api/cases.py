"""Case routes for all three roles: the person's actions, the liaison's queue and
transitions, the operator's view. Each hands over to services.cases / services.queues."""

from __future__ import annotations

from typing import Any

from chalice import Blueprint, Response

from chalicelib import config
from chalicelib.api.http import ApiRequest, json_response, problem_body, route
from chalicelib.domain import clock
from chalicelib.domain.actions import TEXT_LIMITS
from chalicelib.domain.errors import Problem
from chalicelib.domain.intake import MAX_COUNT
from chalicelib.domain.workflow import PARAMS, load_workflow

bp = Blueprint(__name__)


def _text(field: str) -> dict:
    return {
        "type": ["string", "null"],
        "maxLength": TEXT_LIMITS[field],
        "description": "Free text; a mobile or ID number in it is stored masked (138****8000)",
    }


COUNT = {"type": ["integer", "null"], "minimum": 0, "maximum": MAX_COUNT}
FIELD_SCHEMAS = {
    **{field: _text(field) for field in TEXT_LIMITS},
    "response_code": {"type": ["string", "null"], "maxLength": 40},
    "accounts_affected": COUNT,
    "new_count": COUNT,
    "target_company": {"type": ["string", "null"], "maxLength": 40},
}
assert set(FIELD_SCHEMAS) == set(PARAMS)
ACTION = {"type": "string", "maxLength": 40}


def _action_schema(fields: tuple[str, ...], extra: dict[str, Any] | None = None) -> dict:
    return {
        "type": "object",
        "additionalProperties": False,
        "required": ["action"],
        "properties": {"action": ACTION, **{f: FIELD_SCHEMAS[f] for f in fields}, **(extra or {})},
    }


PERSON_ACTION = _action_schema(("new_count", "statement", "note"))
STAFF_FIELDS = ("response_code", "accounts_affected", "message", "target_company", "internal_note")
LIAISON_TRANSITION = _action_schema(STAFF_FIELDS)
OPERATOR_TRANSITION = _action_schema(("message", "internal_note"))
BATCH = {
    "type": "object",
    "additionalProperties": False,
    "required": ["items"],
    "properties": {
        "items": {
            "type": "array",
            "minItems": 1,
            "maxItems": 100,
            "items": _action_schema(
                STAFF_FIELDS,
                {
                    "case_id": {"type": "string", "maxLength": 20},
                    "if_match": {"type": ["integer", "null"], "minimum": 0},
                },
            )
            | {"required": ["case_id", "action"]},
        }
    },
}


def _case_response(case, view: dict, status: int = 200) -> Response:
    from chalicelib.services import cases

    return json_response(view, status, {"ETag": cases.etag(case)})


def _staff_case(req: ApiRequest, role: str) -> Response:
    from chalicelib.services import cases, views

    case = cases.load_case(req.signed_in, req.params["case_id"])
    view = views.case_view(case, load_workflow(), clock.now(), role)
    view["history"] = cases.history(case.case_id, role)
    return _case_response(case, view)


def _transition(req: ApiRequest, role: str) -> Response:
    from chalicelib.services import cases, views

    case = cases.take_action(
        config.settings(),
        req.signed_in,
        req.params["case_id"],
        req.body,
        cases.parse_if_match(req.headers.get("if-match")),
        answered_in=req.answer_record,
    )
    return _case_response(case, views.case_view(case, load_workflow(), clock.now(), role))


# -- the person ----------------------------------------------------------------------------
@route(
    bp,
    "/v1/cases/{case_id}/actions",
    "POST",
    summary="The person acts on their case",
    tag="person",
    auth="person",
    body=PERSON_ACTION,
    errors=(400, 401, 404, 409, 412, 413, 415, 422),
    headers=("If-Match",),
    idempotent=True,
)
def person_action(req: ApiRequest):
    return _transition(req, "user")


@route(
    bp,
    "/v1/disputes/{dispute_id}",
    "DELETE",
    summary="Erase a settled dispute",
    tag="person",
    auth="person",
    status=204,
    errors=(401, 404, 409),
)
def erase_dispute(req: ApiRequest):
    from chalicelib.services import disputes

    disputes.erase_dispute(req.signed_in, req.params["dispute_id"])
    return Response(body="", status_code=204)


# -- the liaison ---------------------------------------------------------------------------
@route(
    bp,
    "/v1/liaison/cases",
    "GET",
    summary="The company's case queue",
    tag="liaison",
    auth="liaison",
    errors=(400, 401, 403, 422),
    query=("state", "action_on", "overdue", "limit", "cursor"),
)
def liaison_queue(req: ApiRequest):
    from chalicelib.services import queues

    return queues.liaison_queue(config.settings(), req.signed_in, req.query)


@route(
    bp,
    "/v1/liaison/cases/{case_id}",
    "GET",
    summary="One of the company's cases",
    tag="liaison",
    auth="liaison",
    errors=(401, 403, 404),
)
def liaison_case(req: ApiRequest):
    return _staff_case(req, "liaison")


@route(
    bp,
    "/v1/liaison/cases/{case_id}/messages",
    "GET",
    summary="The SMS about one of the company's cases, and whether each reached the person",
    tag="liaison",
    auth="liaison",
    errors=(401, 403, 404),
)
def liaison_case_messages(req: ApiRequest):
    from chalicelib.services import cases

    return cases.messages(req.signed_in, req.params["case_id"])


@route(
    bp,
    "/v1/liaison/cases/{case_id}/transitions",
    "POST",
    summary="Act on a case",
    tag="liaison",
    auth="liaison",
    body=LIAISON_TRANSITION,
    errors=(400, 401, 403, 404, 409, 412, 413, 415, 422),
    headers=("If-Match",),
    idempotent=True,
)
def liaison_transition(req: ApiRequest):
    return _transition(req, "liaison")


@route(
    bp,
    "/v1/liaison/cases:batch",
    "POST",
    summary="Act on up to 100 cases",
    tag="liaison",
    auth="liaison",
    body=BATCH,
    errors=(400, 401, 403, 413, 415, 422),
    idempotent=True,
)
def liaison_batch(req: ApiRequest):
    from chalicelib.services import cases, views

    settings, workflow, now = config.settings(), load_workflow(), clock.now()
    results = []
    for item in req.body["items"]:
        body = {k: v for k, v in item.items() if k not in ("case_id", "if_match")}
        try:
            case = cases.take_action(
                settings,
                req.signed_in,
                item["case_id"],
                body,
                item.get("if_match"),
                answered_in=req.answer_record,
            )
            results.append(
                {
                    "case_id": item["case_id"],
                    "status": 200,
                    "case": views.case_view(case, workflow, now, "liaison"),
                }
            )
        except Problem as problem:
            results.append(
                {
                    "case_id": item["case_id"],
                    "status": problem.status,
                    "problem": problem_body(problem),
                }
            )
    return {"results": results}


# -- the operator --------------------------------------------------------------------------
@route(
    bp,
    "/v1/admin/cases",
    "GET",
    summary="Cases across companies (escalated by default)",
    tag="operator",
    auth="operator",
    errors=(400, 401, 403, 422),
    query=("state", "company", "overdue", "limit", "cursor"),
)
def admin_cases(req: ApiRequest):
    from chalicelib.services import queues

    return queues.admin_cases(config.settings(), req.query)


@route(
    bp,
    "/v1/admin/cases/{case_id}",
    "GET",
    summary="Any case with its full history",
    tag="operator",
    auth="operator",
    errors=(401, 403, 404),
)
def admin_case(req: ApiRequest):
    return _staff_case(req, "operator")


@route(
    bp,
    "/v1/admin/cases/{case_id}/messages",
    "GET",
    summary="The SMS about any case, and whether each reached the person",
    tag="operator",
    auth="operator",
    errors=(401, 403, 404),
)
def admin_case_messages(req: ApiRequest):
    from chalicelib.services import cases

    return cases.messages(req.signed_in, req.params["case_id"])


@route(
    bp,
    "/v1/admin/cases/{case_id}/transitions",
    "POST",
    summary="Resolve or close an escalated case",
    tag="operator",
    auth="operator",
    body=OPERATOR_TRANSITION,
    errors=(400, 401, 403, 404, 409, 412, 413, 415, 422),
    headers=("If-Match",),
    idempotent=True,
)
def admin_transition(req: ApiRequest):
    return _transition(req, "operator")
