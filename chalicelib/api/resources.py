"""What the API answers, as JSON Schema: one named schema per resource, and every problem code.

Routes name these in `route(response=..., problems=...)` (api/http.py), and /openapi.json
publishes them. Closed sets are built from the data the code runs on (the workflow file, the
directory, the domain's tuples), never listed twice; and every JSON response in the integration
tests is validated against its operation's schema (tests/integration/conftest.py), which keeps
these true: an object is closed (`additionalProperties: false`), so a field added to a response
without its schema fails a test. Built on first use: importing this module loads no YAML.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from chalicelib.domain.phone import MAX_RAW_LENGTH, NOT_A_MOBILE

Schema = dict[str, Any]

OBJECT_REF = "#/components/schemas/"


@dataclass(frozen=True)
class Resource:
    """A named response schema, built on first use (its enums read the workflow/directory)."""

    name: str
    build: Callable[[], Schema]

    @property
    def ref(self) -> Schema:
        return {"$ref": OBJECT_REF + self.name}


RESOURCES: dict[str, Resource] = {}


def resource(name: str) -> Callable[[Callable[[], Schema]], Resource]:
    def register(build: Callable[[], Schema]) -> Resource:
        RESOURCES[name] = Resource(name, build)
        return RESOURCES[name]

    return register


def components() -> dict[str, Schema]:
    return {name: r.build() for name, r in sorted(RESOURCES.items())}


# -- building blocks -------------------------------------------------------------------------
def closed(props: Schema, optional: tuple[str, ...] = (), description: str = "") -> Schema:
    """An object with exactly these properties; all are present but `optional`."""
    schema: Schema = {
        "type": "object",
        "additionalProperties": False,
        "required": [p for p in props if p not in optional],
        "properties": props,
    }
    if description:
        schema["description"] = description
    return schema


def nullable(schema: Schema) -> Schema:
    if "$ref" in schema:
        return {"anyOf": [schema, {"type": "null"}]}
    if "enum" in schema:
        return {**schema, "type": [schema["type"], "null"], "enum": [*schema["enum"], None]}
    return {**schema, "type": [schema["type"], "null"]}


def array(items: Schema, description: str = "") -> Schema:
    schema: Schema = {"type": "array", "items": items}
    if description:
        schema["description"] = description
    return schema


def enum(values: Any, description: str = "") -> Schema:
    schema: Schema = {"type": "string", "enum": list(values)}
    if description:
        schema["description"] = description
    return schema


def count_map(description: str) -> Schema:
    return {
        "type": "object",
        "additionalProperties": {"type": "integer"},
        "description": description,
    }


STRING: Schema = {"type": "string"}
INTEGER: Schema = {"type": "integer"}
BOOLEAN: Schema = {"type": "boolean"}
NUMBER: Schema = {"type": "number"}
TIMESTAMP: Schema = {"type": "string", "format": "date-time", "description": "UTC, ISO 8601"}
DATE: Schema = {"type": "string", "format": "date"}
CASE_ID: Schema = {"type": "string", "pattern": "^C[0-9A-Z]{9}$"}
DISPUTE_ID: Schema = {"type": "string", "pattern": "^D[0-9A-Z]{9}$"}
MASKED_PHONE: Schema = {"type": "string", "description": "Never whole: 138****8000"}


# -- closed sets, from the code's own data ---------------------------------------------------
def _workflow() -> Any:
    from chalicelib.domain.workflow import load_workflow

    return load_workflow()


def states() -> Schema:
    return enum(_workflow().states, "A case's state (workflows/case_workflow.yaml)")


def actions(role: str | None = None) -> Schema:
    """Every action, or the actions one role may take (workflows/case_workflow.yaml)."""
    found = [a.name for a in _workflow().actions.values() if role is None or a.actor == role]
    return enum(found)


def action_on() -> Schema:
    from chalicelib.domain.workflow import ACTION_ON

    return enum(ACTION_ON, "Whose move it is")


def actors() -> Schema:
    from chalicelib.domain.workflow import ACTORS

    return enum(ACTORS)


def lanes() -> Schema:
    from chalicelib.domain.workflow import LANES

    return enum(LANES, "fraud: shorter deadlines, reached by the reason fraud_suspected")


def kinds() -> Schema:
    from chalicelib.domain.intake import KINDS

    return enum(KINDS, "accounts: internet accounts (companies); sim_cards: carriers")


def reasons() -> Schema:
    from chalicelib.domain.intake import REASONS

    return enum(REASONS)


def companies(kind: str | None = None) -> Schema:
    """Directory keys (workflows/directory.yaml): every entry, or those a kind may name."""
    from chalicelib.domain.directory import load_directory

    directory = load_directory()
    keys = directory.keys_for_kind(kind) if kind else list(directory.entries)
    return enum(keys, "A company or carrier key of GET /v1/directory")


def confidences() -> Schema:
    from chalicelib.domain.directory import CONFIDENCES

    return enum(CONFIDENCES, "How sure recount is of a directory fact")


def response_codes() -> Schema:
    from chalicelib.domain.actions import RESPONSE_CODES

    return enum(RESPONSE_CODES, "The company's answer")


def key_roles() -> Schema:
    from chalicelib.domain.actors import KEY_ROLES

    return enum(KEY_ROLES)


def webhook_events() -> Schema:
    from chalicelib.domain.webhooks import load_rules

    return enum(load_rules().event_types, "A webhook event type (workflows/webhooks.yaml)")


# -- problems --------------------------------------------------------------------------------
@dataclass(frozen=True)
class ProblemKind:
    """One stable problem `code`: its status, when it happens, and the fields it adds."""

    status: int
    when: str
    extra: tuple[tuple[str, Callable[[], Schema]], ...] = ()
    headers: tuple[str, ...] = ()


def _const(schema: Schema) -> Callable[[], Schema]:
    return lambda: schema


_VALIDATION_ERRORS = _const(
    array(
        closed({"field": STRING, "message": STRING}),
        "Each refused field (a path like items[0].company) and why",
    )
)

PROBLEMS: dict[str, ProblemKind] = {
    "malformed_json": ProblemKind(400, "the body is not UTF-8 JSON"),
    "invalid_cursor": ProblemKind(400, "the cursor was not issued for this query"),
    "invalid_if_match": ProblemKind(400, 'If-Match is not an ETag like "3" (or *)'),
    "signature_invalid": ProblemKind(400, "no secret verifies the webhook's signature"),
    "unauthenticated": ProblemKind(401, "no valid token or key", headers=("WWW-Authenticate",)),
    "verification_failed": ProblemKind(
        401,
        "the number, code or ID digits do not match",
        (("attempts_left", _const({"type": "integer", "minimum": 0})),),
    ),
    "new_code_needed": ProblemKind(
        401,
        "no live code for this number: request one",
        (("attempts_left", _const({"type": "integer", "minimum": 0, "maximum": 0})),),
    ),
    "forbidden": ProblemKind(403, "the key is of another role"),
    "not_found": ProblemKind(404, "no such resource, or not yours (the same answer)"),
    "invalid_transition": ProblemKind(
        409, "the action is not allowed in the case's state", (("state", states),)
    ),
    "case_already_open": ProblemKind(
        409,
        "the person already has an open case with this company",
        (("company", companies), ("existing_case_id", _const(nullable(CASE_ID)))),
    ),
    "dispute_not_settled": ProblemKind(
        409, "a case of the dispute is still open", (("open_case_ids", _const(array(CASE_ID))),)
    ),
    "delivery_in_progress": ProblemKind(409, "the delivery is pending or being sent"),
    "request_in_flight": ProblemKind(
        409, "a request with this Idempotency-Key is still running", headers=("Retry-After",)
    ),
    "precondition_failed": ProblemKind(
        412,
        "If-Match names another version, or is weak (compared strongly, RFC 9110)",
        (("current_version", _const(nullable({"type": "integer", "minimum": 1}))),),
    ),
    "payload_too_large": ProblemKind(413, "the body is over 16 KiB"),
    "unsupported_media_type": ProblemKind(415, "the body is not application/json"),
    "validation_failed": ProblemKind(
        422, "fields are invalid (see errors)", (("errors", _VALIDATION_ERRORS),)
    ),
    "body_not_object": ProblemKind(422, "the body is JSON but not an object"),
    "unknown_action": ProblemKind(422, "the action is not one the caller's role has"),
    "no_discrepancy": ProblemKind(
        422, "an item's expected count equals its reported count", (("errors", _VALIDATION_ERRORS),)
    ),
    "idempotency_key_reused": ProblemKind(422, "the Idempotency-Key was used for another request"),
    "invalid_idempotency_key": ProblemKind(422, "Idempotency-Key is not 1-128 printable ASCII"),
    "number_cancelled": ProblemKind(422, "the number is cancelled: call the companies' hotlines"),
    "sms_undeliverable": ProblemKind(
        422, "the SMS provider cannot reach this number", (("provider_code", _const(STRING)),)
    ),
    "webhook_url_refused": ProblemKind(
        422, "the address cannot take webhooks (not public https)", (("reason", _const(STRING)),)
    ),
    "code_too_soon": ProblemKind(429, "one code a minute per number", headers=("Retry-After",)),
    "daily_code_limit": ProblemKind(429, "five codes a day per number", headers=("Retry-After",)),
    "client_rate_limited": ProblemKind(
        429, "too many code requests from this client", headers=("Retry-After",)
    ),
    "service_unavailable": ProblemKind(
        503, "AWS failed us: send the same request again", headers=("Retry-After",)
    ),
    "sms_unavailable": ProblemKind(
        503, "the code could not be sent: try again", headers=("Retry-After",)
    ),
}

# What the route wrapper itself may answer, by what a route takes (api/http.py adds them).
BODY_PROBLEMS = (
    "malformed_json",
    "payload_too_large",
    "unsupported_media_type",
    "body_not_object",
    "validation_failed",
)
IDEMPOTENCY_PROBLEMS = ("request_in_flight", "idempotency_key_reused", "invalid_idempotency_key")


def problem_base() -> Schema:
    """RFC 9457 problem details as recount sends them; open: each answer adds its extras."""
    return {
        "type": "object",
        "required": ["type", "title", "status", "detail", "code"],
        "properties": {
            "type": {"type": "string", "format": "uri"},
            "title": STRING,
            "status": {"type": "integer", "minimum": 400, "maximum": 599},
            "detail": STRING,
            "code": {"type": "string", "pattern": "^[a-z][a-z0-9_]*$"},
            "errors": _VALIDATION_ERRORS(),
        },
    }


def problem_name(code: str) -> str:
    """The component naming one problem code: not_found → ProblemNotFound."""
    return "Problem" + "".join(part.title() for part in code.split("_"))


def problem_components() -> dict[str, Schema]:
    """One closed schema per problem code: its `code`, and the extra fields it adds."""
    out: dict[str, Schema] = {"Problem": problem_base()}
    for code, kind in sorted(PROBLEMS.items()):
        base = problem_base()
        props = dict(base["properties"])
        props["code"] = {"type": "string", "const": code}
        props["status"] = {"type": "integer", "const": kind.status}
        for name, build in kind.extra:
            props[name] = build()
        out[problem_name(code)] = {
            **base,
            "properties": props,
            "additionalProperties": False,
            "description": kind.when,
        }
    return out


def problem_schema(codes: tuple[str, ...]) -> Schema:
    """What one status of one operation answers: one of its codes' schemas, told by `code`."""
    refs = {code: OBJECT_REF + problem_name(code) for code in codes}
    if len(codes) == 1:
        return {"$ref": refs[codes[0]]}
    return {
        "oneOf": [{"$ref": ref} for ref in refs.values()],
        "discriminator": {"propertyName": "code", "mapping": refs},
    }


# -- resources ----------------------------------------------------------------------------------
@resource("Health")
def HEALTH() -> Schema:
    return closed({"status": {"type": "string", "const": "ok"}})


@resource("CodeRequested")
def CODE_REQUESTED() -> Schema:
    return closed(
        {"status": {"type": "string", "const": "accepted"}, "detail": STRING},
        description="The same answer whether or not the number is known",
    )


@resource("Session")
def SESSION() -> Schema:
    return closed(
        {
            "token": {"type": "string", "description": "Send as Authorization: Bearer <token>"},
            "token_type": {"type": "string", "const": "Bearer"},
            "expires_at": TIMESTAMP,
        }
    )


@resource("CheckReading")
def CHECK_READING() -> Schema:
    item = closed({"company": companies(), "reported_count": INTEGER, "matched": STRING})
    return closed(
        {"kind": nullable(kinds()), "items": array(item)},
        description="What a pasted result SMS reports; empty when nothing was understood",
    )


@resource("Advice")
def ADVICE() -> Schema:
    return closed({"code": STRING, "text": STRING}, description="Where to turn, zh-CN")


@resource("Hotline")
def HOTLINE() -> Schema:
    return closed(
        {"number": nullable(STRING), "confidence": confidences(), "note": nullable(STRING)}
    )


@resource("NumberRenewal")
def NUMBER_RENEWAL() -> Schema:
    return closed(
        {
            "name": STRING,
            "steps": array(STRING),
            "typical_working_days": {
                "type": ["integer", "null"],
                "description": "null: not known (the carrier's timing is unverified)",
            },
            "covers": STRING,
            "confidence": confidences(),
        },
        description="二次号码焕新: unbinds the accounts made before the number was reissued",
    )


@resource("NextSteps")
def NEXT_STEPS() -> Schema:
    steps = closed({"steps": array(STRING), "confidence": confidences()})
    from chalicelib.domain.directory import METHODS

    return closed(
        {
            "company": companies(),
            "name": STRING,
            "detail_query": steps,
            "unbind": steps,
            "hotline": HOTLINE.ref,
            "identity_verification": closed({"required": BOOLEAN, "methods": array(enum(METHODS))}),
            "advice": array(ADVICE.ref),
            "number_renewal": NUMBER_RENEWAL.ref,
            "escalation": array(ADVICE.ref),
            "number_renewal_first": array(NUMBER_RENEWAL.ref),
        },
        optional=("number_renewal", "escalation", "number_renewal_first"),
        description="What the person can do at the company themselves (directory facts)",
    )


@resource("CompanyAnswer")
def COMPANY_ANSWER() -> Schema:
    return closed(
        {
            "code": nullable(response_codes()),
            "accounts_affected": nullable({"type": "integer", "minimum": 0}),
            "message": nullable(STRING),
            "at": TIMESTAMP,
        },
        description="The company's latest response",
    )


def _history_entry(staff: bool) -> Schema:
    from chalicelib.domain.webhooks import OPENERS

    props: Schema = {
        "version": {"type": "integer", "minimum": 1},
        "action": enum(
            [*OPENERS, *actions()["enum"]],
            "An action, or how the case opened: file, rerouted_in",
        ),
        "actor": actors(),
        "from": nullable(states()),
        "to": states(),
        "at": TIMESTAMP,
        "code": {
            "type": "string",
            "description": "The filing's reason, the response code, or a reroute's target",
        },
        "message": STRING,
        "statement": STRING,
        "new_count": INTEGER,
    }
    if staff:
        props["internal_note"] = STRING
    return closed(props, optional=("code", "message", "statement", "new_count", "internal_note"))


@resource("PersonHistoryEntry")
def PERSON_HISTORY_ENTRY() -> Schema:
    return _history_entry(staff=False)


@resource("StaffHistoryEntry")
def STAFF_HISTORY_ENTRY() -> Schema:
    return _history_entry(staff=True)


def _case(role: str, extra: Schema, optional: tuple[str, ...]) -> Schema:
    props: Schema = {
        "case_id": CASE_ID,
        "dispute_id": DISPUTE_ID,
        "company": companies(),
        "kind": kinds(),
        "lane": lanes(),
        "reason": reasons(),
        "reported_count": INTEGER,
        "expected_count": INTEGER,
        "state": states(),
        "action_on": action_on(),
        "version": {"type": "integer", "minimum": 1, "description": "Also sent as the ETag"},
        "due_at": nullable(TIMESTAMP),
        "overdue": BOOLEAN,
        "created_at": TIMESTAMP,
        "updated_at": TIMESTAMP,
        "allowed_actions": array(actions(role), "What the caller may do now"),
        "note": STRING,
        "response": COMPANY_ANSWER.ref,
        "routed_from": CASE_ID,
        "reopened_from": CASE_ID,
        **extra,
    }
    return closed(props, optional=("note", "response", "routed_from", "reopened_from", *optional))


@resource("PersonCase")
def PERSON_CASE() -> Schema:
    return _case(
        "user",
        {
            "your_due_at": nullable(TIMESTAMP),
            "outside_step": ADVICE.ref,
            "next_steps": NEXT_STEPS.ref,
            "history": array(PERSON_HISTORY_ENTRY.ref),
            "ruling": closed(
                {
                    "action": actions("operator"),
                    "at": TIMESTAMP,
                    "to": states(),
                    "message": STRING,
                    "statement": STRING,
                },
                optional=("message", "statement"),
                description="The anti-fraud centre's latest decision",
            ),
        },
        ("your_due_at", "outside_step", "next_steps", "history", "ruling"),
    )


def _staff_case(role: str) -> Schema:
    return _case(
        role,
        {
            "phone_masked": MASKED_PHONE,
            "phone_region": {"type": "string", "description": "Province/city; '' when unknown"},
            "history": array(STAFF_HISTORY_ENTRY.ref),
        },
        ("history",),
    )


@resource("LiaisonCase")
def LIAISON_CASE() -> Schema:
    return _staff_case("liaison")


@resource("OperatorCase")
def OPERATOR_CASE() -> Schema:
    return _staff_case("operator")


@resource("Progress")
def PROGRESS() -> Schema:
    return closed({"cases": INTEGER, "settled": INTEGER, "resolved": INTEGER})


@resource("Dispute")
def DISPUTE() -> Schema:
    return closed(
        {
            "dispute_id": DISPUTE_ID,
            "kind": kinds(),
            "created_at": TIMESTAMP,
            "phone_masked": MASKED_PHONE,
            "progress": PROGRESS.ref,
            "cases": array(PERSON_CASE.ref),
        }
    )


@resource("DisputeList")
def DISPUTE_LIST() -> Schema:
    item = closed(
        {
            "dispute_id": DISPUTE_ID,
            "kind": kinds(),
            "created_at": TIMESTAMP,
            "progress": PROGRESS.ref,
            "cases": array(PERSON_CASE.ref),
        }
    )
    return closed({"items": array(item)})


def _page(case: str) -> Schema:
    return closed(
        {
            "items": array(RESOURCES[case].ref),
            "next_cursor": nullable(
                {"type": "string", "description": "Pass as ?cursor= for the next page"}
            ),
        }
    )


@resource("LiaisonQueuePage")
def LIAISON_QUEUE_PAGE() -> Schema:
    return _page("LiaisonCase")


@resource("OperatorCasePage")
def OPERATOR_CASE_PAGE() -> Schema:
    return _page("OperatorCase")


@resource("MessageLog")
def MESSAGE_LOG() -> Schema:
    message = closed(
        {
            "template": STRING,
            "status": enum(("pending", "sending", "sent", "merged", "dropped", "dead")),
            "queued_at": TIMESTAMP,
            "sent_at": nullable(TIMESTAMP),
            "provider": nullable(STRING),
            "delivery": nullable(STRING),
            "delivery_code": nullable(STRING),
            "delivered_at": nullable(TIMESTAMP),
            "merged_into_digest": BOOLEAN,
            "reason": STRING,
        },
        optional=("merged_into_digest", "reason"),
    )
    return closed(
        {"case_id": CASE_ID, "items": array(message)},
        description="The SMS about a case: templates and statuses, never a number or a text",
    )


@resource("BatchResults")
def BATCH_RESULTS() -> Schema:
    result = closed(
        {
            "case_id": STRING,
            "status": INTEGER,
            "case": LIAISON_CASE.ref,
            "problem": problem_base(),
        },
        optional=("case", "problem"),
        description="status 200 with the case, or a problem's status with the problem",
    )
    return closed({"results": array(result)})


@resource("IssuedKey")
def ISSUED_KEY() -> Schema:
    return closed(
        {
            "key_id": STRING,
            "key": {"type": "string", "description": "Shown once; stored hashed"},
            "role": key_roles(),
            "company": nullable(companies()),
            "created_at": TIMESTAMP,
        }
    )


def _rate(description: str) -> Schema:
    return {"type": ["number", "null"], "description": description}


def _company_figures(with_entry: bool) -> Schema:
    workflow = _workflow()
    open_states = workflow.open_states()
    settled = [s for s in workflow.states if s not in open_states]
    props: Schema = {
        "received": INTEGER,
        "open": closed({s: INTEGER for s in open_states}),
        "open_total": INTEGER,
        "settled": closed({s: INTEGER for s in settled}),
        "acknowledgement": closed(
            {"on_time": INTEGER, "total": INTEGER, "on_time_rate": _rate("null without cases")}
        ),
        "response": closed(
            {"on_time": INTEGER, "total": INTEGER, "on_time_rate": _rate("null without cases")}
        ),
        "days_to_respond": closed(
            {
                "median_working_days": _rate("null without responses"),
                "cases": INTEGER,
                "histogram": count_map("working days → cases"),
            }
        ),
        "reopen": closed({"reopened": INTEGER, "responses": INTEGER, "rate": _rate("")}),
        "escalations": closed({"total": INTEGER, "by_cause": count_map("cause → cases")}),
    }
    if with_entry:
        props = {
            "company": companies(),
            "type": enum(("company", "carrier")),
            "name_zh": STRING,
            "name_en": STRING,
            **props,
            "directory": closed({"stale": BOOLEAN, "stale_facts": array(STRING)}),
        }
    return closed(props)


AS_OF: Schema = {
    "type": ["string", "null"],
    "format": "date-time",
    "description": "When the figures were counted; null when counted live for this answer",
}


@resource("Stats")
def STATS() -> Schema:
    stale = closed(
        {"company": companies(), "type": enum(("company", "carrier")), "stale_facts": array(STRING)}
    )
    delivery = closed(
        {
            "template": STRING,
            "delivered": INTEGER,
            "failed": INTEGER,
            "unreported": INTEGER,
            "delivery_rate": _rate("delivered / (delivered + failed); null when none reported"),
        }
    )
    return closed(
        {
            "generated_at": TIMESTAMP,
            "as_of": AS_OF,
            "definitions": {"type": "object", "additionalProperties": STRING},
            "companies": array(_company_figures(with_entry=True)),
            "totals": _company_figures(with_entry=False),
            "stale_directory": array(stale),
            "sms_delivery": array(delivery),
        },
        optional=("as_of",),
    )


@resource("Scorecard")
def SCORECARD() -> Schema:
    figure = {
        "type": "object",
        "additionalProperties": False,
        "required": ["value", "cases"],
        "properties": {
            "value": {"type": ["number", "null"]},
            "cases": {"type": ["integer", "null"]},
            "reason": {"type": "string", "enum": ["fewer_than_10_cases"]},
        },
        "description": "Shown only where at least min_cases cases stand behind it",
    }
    names = (
        "received",
        "on_time_acknowledgement",
        "on_time_response",
        "median_working_days_to_respond",
        "reopen_rate",
    )
    company = closed(
        {
            "company": companies(),
            "type": enum(("company", "carrier")),
            "name_zh": STRING,
            "name_en": STRING,
            "figures": closed(dict.fromkeys(names, figure)),
        }
    )
    return closed(
        {
            "generated_at": TIMESTAMP,
            "as_of": AS_OF,
            "min_cases": INTEGER,
            "companies": array(company),
        },
        optional=("as_of",),
    )


WEEK: Schema = {
    "type": "string",
    "pattern": "^(?!0000)[0-9]{4}-W(0[1-9]|[1-4][0-9]|5[0-3])$",
    "description": "ISO week, e.g. 2026-W48",
}


@resource("Hotspots")
def HOTSPOTS() -> Schema:
    cell = closed(
        {
            "region": STRING,
            "province": STRING,
            "city": STRING,
            "company": companies(),
            "week": WEEK,
            "count": INTEGER,
            "baseline_mean": NUMBER,
            "threshold": NUMBER,
            "spike": BOOLEAN,
            "drill": closed({"week": WEEK, "region": STRING, "company": companies()}),
        }
    )
    rule = closed(
        {"min_count": INTEGER, "factor": INTEGER, "baseline_weeks": INTEGER, "text": STRING}
    )
    return closed(
        {
            "week": WEEK,
            "baseline_weeks": array(WEEK),
            "rule": rule,
            "spike_count": INTEGER,
            "cells": array(cell),
        }
    )


@resource("HotspotCasePage")
def HOTSPOT_CASE_PAGE() -> Schema:
    item = closed(
        {
            "case_id": CASE_ID,
            "phone_masked": nullable(MASKED_PHONE),
            "state": {"type": "string", "description": "A case state, or erased"},
            "company": companies(),
            "lane": lanes(),
            "reason": reasons(),
            "phone_region": STRING,
            "created_at": TIMESTAMP,
        },
        optional=("company", "lane", "reason", "phone_region", "created_at"),
    )
    return closed(
        {
            "week": WEEK,
            "region": STRING,
            "company": companies(),
            "items": array(item),
            "next_cursor": nullable(STRING),
        }
    )


@resource("Directory")
def DIRECTORY() -> Schema:
    from chalicelib.domain.directory import ENTRY_TYPES

    entry = closed(
        {
            "key": STRING,
            "type": enum(ENTRY_TYPES),
            "kind": kinds(),
            "name_zh": STRING,
            "name_en": STRING,
            "apps": array(closed({"zh": STRING, "en": STRING})),
            "hotline": HOTLINE.ref,
        }
    )
    return closed(
        {
            "kinds": array(closed({"kind": kinds(), "label": STRING})),
            "reasons": array(closed({"reason": reasons(), "label": STRING})),
            "entries": array(entry),
        }
    )


@resource("DirectoryStatus")
def DIRECTORY_STATUS() -> Schema:
    fact = closed(
        {
            "confidence": confidences(),
            "source_url": nullable(STRING),
            "verified_at": nullable(DATE),
            "days_since_verified": nullable(INTEGER),
            "stale": BOOLEAN,
        }
    )
    return closed(
        {
            "company": companies(),
            "name_zh": STRING,
            "as_of": DATE,
            "stale_after_days": INTEGER,
            "stale": BOOLEAN,
            "stale_facts": array(STRING),
            "facts": {"type": "object", "additionalProperties": fact},
        }
    )


def _webhook_props() -> Schema:
    return {
        "company": companies(),
        "url": STRING,
        "events": array(webhook_events()),
        "enabled": BOOLEAN,
        "disabled_at": nullable(TIMESTAMP),
        "disabled_reason": nullable(STRING),
        "failing_since": nullable(TIMESTAMP),
        "secrets_in_force": INTEGER,
        "created_at": TIMESTAMP,
        "updated_at": TIMESTAMP,
    }


@resource("WebhookEndpoint")
def WEBHOOK_ENDPOINT() -> Schema:
    return closed(
        {
            **_webhook_props(),
            "secret": {"type": "string", "description": "Only when just made: shown once"},
            "previous_secret_valid_until": TIMESTAMP,
        },
        optional=("secret", "previous_secret_valid_until"),
    )


@resource("WebhookEndpointList")
def WEBHOOK_ENDPOINT_LIST() -> Schema:
    return closed({"items": array(closed(_webhook_props()))})


@resource("WebhookDelivery")
def WEBHOOK_DELIVERY() -> Schema:
    return closed(
        {
            "id": {"type": "string", "description": "The webhook-id header of each attempt"},
            "event": STRING,
            "case_id": nullable(CASE_ID),
            "created_at": TIMESTAMP,
            "status": enum(("pending", "sending", "delivered", "merged", "dropped", "dead")),
            "attempts": INTEGER,
            "last_attempt_at": nullable(TIMESTAMP),
            "response_status": nullable(INTEGER),
            "latency_ms": nullable(INTEGER),
            "error": nullable(STRING),
            "next_attempt_at": nullable(TIMESTAMP),
        }
    )


@resource("WebhookDeliveryLog")
def WEBHOOK_DELIVERY_LOG() -> Schema:
    return closed({"items": array(WEBHOOK_DELIVERY.ref)})


@resource("DevInbox")
def DEV_INBOX() -> Schema:
    message = closed(
        {"to": STRING, "body": STRING, "sent_at": TIMESTAMP, "message_id": STRING},
        description="Stage local only: what the embedded AWS sent",
    )
    return closed({"phone": MASKED_PHONE, "messages": array(message)})


@resource("DevWebhookReceipt")
def DEV_WEBHOOK_RECEIPT() -> Schema:
    return closed({"verified": BOOLEAN, "event": STRING, "id": STRING})


@resource("DevWebhooksReceived")
def DEV_WEBHOOKS_RECEIVED() -> Schema:
    item = closed(
        {"verified": BOOLEAN, "event": STRING, "body": STRING, "id": STRING, "received_at": STRING}
    )
    return closed({"items": array(item)})


@resource("OpenAPI")
def OPENAPI() -> Schema:
    return {"type": "object", "required": ["openapi", "info", "paths"], "description": "This"}


@functools.cache
def response_header(name: str) -> Schema:
    """The response headers routes send, as OpenAPI header objects."""
    described = {
        "ETag": ('The case version, strong: "3"; send it back as If-Match', STRING),
        "Location": ("The created resource", STRING),
        "Idempotent-Replayed": (
            "true when this is the stored answer to an earlier request with the same key",
            {"type": "string", "enum": ["true"]},
        ),
        "Retry-After": (
            "Seconds to wait before trying again",
            {"type": "string", "pattern": "^[0-9]+$"},
        ),
        "WWW-Authenticate": ("Bearer challenge", STRING),
        "X-Next-Cursor": ("Pass as ?cursor= for the next page; absent on the last", STRING),
        "Link": ('The next page, rel="next"; absent on the last', STRING),
        "Content-Disposition": ("attachment; filename=...", STRING),
        "Cache-Control": ("no-store unless the answer is public", STRING),
    }
    text, schema = described[name]
    return {"description": text, "schema": schema}


# -- request parameters (checked by api/http.py, published as they are) ----------------------
def limit_schema() -> Schema:
    from chalicelib.services.paging import DEFAULT_LIMIT, MAX_LIMIT

    return {
        "type": "integer",
        "minimum": 1,
        "maximum": MAX_LIMIT,
        "default": DEFAULT_LIMIT,
        "description": "Items per page",
    }


CURSOR_QUERY: Schema = {
    "type": "string",
    "description": "next_cursor of the previous page, as given: opaque, signed and bound to the "
    "query it came from (another is 400 invalid_cursor)",
}
FLAG_QUERY: Schema = {"type": "boolean"}
WEEK_QUERY: Schema = WEEK
REGION_QUERY: Schema = {
    "type": "string",
    "minLength": 1,
    "maxLength": 40,
    "pattern": "^[\\s\\S]*\\S[\\s\\S]*$",
    "description": "A hotspot cell's region",
}


# What domain/phone.py parse_mobile lets reach libphonenumber: digits (full-width too, NFKC)
# and the usual separators, with at least one digit; whether it is a mainland mobile is
# libphonenumber's to say (422 validation_failed).
PHONE: Schema = {
    "type": "string",
    "minLength": 1,
    "maxLength": MAX_RAW_LENGTH,
    "pattern": "^\\s*[+＋]?[ ()（）.\\-－0-9０-９]*[0-9０-９][ ()（）.\\-－0-9０-９]*\\s*$",
    "x-invalid": NOT_A_MOBILE,
    "description": "Mainland mobile, any common format: +86 138 0013 8000, 13800138000",
}
