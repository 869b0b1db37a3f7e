"""Case routes for all three roles: the person's actions, the liaison's queue and
transitions, the operator's view. Each hands over to services.cases / services.queues."""

from __future__ import annotations

from typing import Any

from chalice import Blueprint, Response

from chalicelib import config
from chalicelib.api import resources
from chalicelib.api.http import ApiRequest, Param, json_response, problem_body, route
from chalicelib.domain import clock
from chalicelib.domain.actions import TEXT_LIMITS
from chalicelib.domain.errors import Problem
from chalicelib.domain.intake import MAX_COUNT, TEXT_PATTERN, TEXT_REFUSED
from chalicelib.domain.workflow import PARAMS, load_workflow

bp = Blueprint(__name__)


def _text(field: str) -> dict:
    return {
        "type": ["string", "null"],
        "maxLength": TEXT_LIMITS[field],
        "pattern": TEXT_PATTERN,
        "x-invalid": TEXT_REFUSED,
        "description": "Free text without control or format characters (line breaks are fine);"
        " a mobile or ID number in it is stored masked (138****8000)",
    }


COUNT = {"type": ["integer", "null"], "minimum": 0, "maximum": MAX_COUNT}


def field_schemas() -> dict[str, dict]:
    """The fields an action may carry (domain/actions.py checks which each action needs)."""
    return {
        **{field: _text(field) for field in TEXT_LIMITS},
        "response_code": resources.nullable(resources.response_codes()),
        "accounts_affected": COUNT,
        "new_count": COUNT,
        "target_company": resources.nullable(resources.companies()),
    }


assert set(TEXT_LIMITS) | {
    "response_code",
    "accounts_affected",
    "new_count",
    "target_company",
} == set(PARAMS)


# A required text field holds more than blanks (the service trims it).
FILLED = "^[\\s\\S]*\\S[\\s\\S]*$"


def _per_action(role: str, fields: tuple[str, ...]) -> list[dict]:
    """Which fields each of the role's actions needs and takes (workflows/case_workflow.yaml,
    as domain/actions.py checks them): a required field present and filled, a field the action
    does not use absent or null. One if/then per action."""
    schemas, rules = field_schemas(), []
    for action in load_workflow().actions.values():
        if action.actor != role:
            continue
        used = set(action.requires) | set(action.optional)
        needed = {
            f: {"type": [t for t in schemas[f]["type"] if t != "null"]}
            | ({"pattern": FILLED, "x-invalid": "must not be blank"} if f in TEXT_LIMITS else {})
            for f in action.requires
        }
        unused = {f: {"type": "null"} for f in fields if f not in used}
        rules.append(
            {
                "if": {"required": ["action"], "properties": {"action": {"const": action.name}}},
                "then": {
                    "$comment": f"for action '{action.name}'",
                    "required": list(action.requires),
                    "properties": needed | unused,
                },
            }
        )
    return rules


def _action_schema(
    role: str,
    fields: tuple[str, ...],
    extra: dict[str, Any] | None = None,
    *,
    per_action: bool = True,
) -> dict:
    """`action`: the role's actions (workflows/case_workflow.yaml); another is 422
    unknown_action. Which fields each action needs is the workflow's (`_per_action`)."""
    schemas = field_schemas()
    body = {
        "type": "object",
        "additionalProperties": False,
        "required": ["action"],
        "properties": {
            "action": resources.actions(role),
            **{f: schemas[f] for f in fields},
            **(extra or {}),
        },
    }
    return body | {"allOf": _per_action(role, fields)} if per_action else body


STAFF_FIELDS = ("response_code", "accounts_affected", "message", "target_company", "internal_note")


def person_action_body() -> dict:
    return _action_schema("user", ("new_count", "statement", "note"))


def liaison_transition_body() -> dict:
    return _action_schema("liaison", STAFF_FIELDS)


def operator_transition_body() -> dict:
    return _action_schema("operator", ("message", "internal_note"))


def batch_body() -> dict:
    item = _action_schema(
        "liaison",
        STAFF_FIELDS,
        {
            "case_id": {"type": "string", "minLength": 1, "maxLength": 20},
            "if_match": {
                "type": ["integer", "null"],
                "minimum": 0,
                "description": "The version the change is based on (a stale one: 412)",
            },
        },
        # An item missing what its action needs gets its own 422 result, not the whole batch.
        per_action=False,
    ) | {"required": ["case_id", "action"]}
    return {
        "type": "object",
        "additionalProperties": False,
        "required": ["items"],
        "properties": {"items": {"type": "array", "minItems": 1, "maxItems": 100, "items": item}},
    }


def _queue_query(**filters: Param) -> dict[str, Param]:
    return {
        **filters,
        "overdue": Param(resources.FLAG_QUERY, description="Only (or no) overdue cases"),
        "limit": Param(resources.limit_schema),
        "cursor": Param(resources.CURSOR_QUERY),
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


# What a change to a case may answer besides the wrapper's own problems.
CASE_WRITE_PROBLEMS = (
    "not_found",
    "invalid_if_match",
    "invalid_transition",
    "case_already_open",
    "precondition_failed",
    "unknown_action",
)


# -- the person ----------------------------------------------------------------------------
@route(
    bp,
    "/v1/cases/{case_id}/actions",
    "POST",
    summary="The person acts on their case",
    tag="person",
    auth="person",
    body=person_action_body,
    problems=(*CASE_WRITE_PROBLEMS,),
    headers=("If-Match",),
    idempotent=True,
    response=resources.PERSON_CASE,
    response_headers=("ETag",),
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
    problems=("not_found", "dispute_not_settled"),
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
    problems=("invalid_cursor",),
    query=_queue_query(
        state=Param(resources.states),
        action_on=Param(resources.action_on),
    ),
    response=resources.LIAISON_QUEUE_PAGE,
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
    problems=("not_found",),
    response=resources.LIAISON_CASE,
    response_headers=("ETag",),
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
    problems=("not_found",),
    response=resources.MESSAGE_LOG,
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
    body=liaison_transition_body,
    problems=(*CASE_WRITE_PROBLEMS,),
    headers=("If-Match",),
    idempotent=True,
    response=resources.LIAISON_CASE,
    response_headers=("ETag",),
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
    body=batch_body,
    idempotent=True,
    response=resources.BATCH_RESULTS,
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
    problems=("invalid_cursor",),
    query=_queue_query(
        state=Param(resources.states, description="escalated when left out"),
        company=Param(resources.companies),
    ),
    response=resources.OPERATOR_CASE_PAGE,
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
    problems=("not_found",),
    response=resources.OPERATOR_CASE,
    response_headers=("ETag",),
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
    problems=("not_found",),
    response=resources.MESSAGE_LOG,
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
    body=operator_transition_body,
    problems=(*CASE_WRITE_PROBLEMS,),
    headers=("If-Match",),
    idempotent=True,
    response=resources.OPERATOR_CASE,
    response_headers=("ETag",),
)
def admin_transition(req: ApiRequest):
    return _transition(req, "operator")
