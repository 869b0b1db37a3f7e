"""Schemathesis against the whole API, in process (issue 20 item 3; docs/design.md §6).

The app's own /openapi.json drives it: every operation, for each caller (anonymous, a signed-in
person, a liaison key, an operator key), with bounded examples in every generation mode and
every check on: documented status codes, content types and headers, response schemas, no 5xx,
schema-valid requests accepted and schema-invalid ones refused. A richer document is picked up
as it is: nothing here names an operation.

Each caller gets a fresh emulated stack holding a filed dispute and keys; path parameters are
now and then swapped for ids that exist there (the dispute, its case, a spare key, a company,
an asset), so operations get past 404 to their real work. tests/schemathesis_support.py says
how schemathesis reaches the app.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import pytest
from hypothesis import HealthCheck, Phase, settings
from hypothesis import strategies as st

from chalicelib.domain.phone import NOT_A_MOBILE
from tests.conftest import DEMO
from tests.schemathesis_support import ChaliceWSGI, schemathesis_loaded
from tests.support import Api

EXAMPLES = 8  # generated examples per operation and caller; the coverage phase adds its own
ROLES = ("anonymous", "person", "liaison", "operator")

# A schema-valid request may be refused only for who sends it, what does not exist, or the
# state it meets (a conflict, a stale If-Match, a rate limit).
ACCEPTABLE_ANSWERS_TO_VALID_DATA = ["2xx", "3xx", "401", "403", "404", "409", "412", "429"]
CONFIG = {
    # The credentials are the emulated stack's own: reproductions show them whole.
    "output": {"sanitization": {"enabled": False}},
    "generation": {"mode": "all", "deterministic": True, "max-examples": EXAMPLES},
    "checks": {"positive_data_acceptance": {"expected-statuses": ACCEPTABLE_ANSWERS_TO_VALID_DATA}},
}
SETTINGS = settings(
    max_examples=EXAMPLES,
    derandomize=True,
    deadline=None,
    database=None,
    phases=[Phase.explicit, Phase.generate],  # no shrinking: a failure is reported as found
    suppress_health_check=list(HealthCheck),
)

REFUSED = "Schema-valid request rejected"  # schemathesis' title for positive_data_acceptance
# Refusals of a schema-valid request that are right, as 404 and 409 are: they depend on what the
# stack holds or on a secret (a cursor the API never issued, an Idempotency-Key already used with
# another body, a webhook signature), or on a rule that is more than JSON Schema can state (two
# counts that must differ; which addresses may take webhooks: public, a canonical host name).
RIGHTFUL_REFUSALS = frozenset(
    {
        "invalid_cursor",
        "idempotency_key_reused",
        "no_discrepancy",
        "signature_invalid",
        "webhook_url_refused",
    }
)
# The same, as one field's validation_failed: (field, message; None: any message). A number
# with a number's form that libphonenumber's plan for +86 mobiles refuses; a company twice in
# one filing; a target company that is the case's own, or not of its kind (a carrier for a
# SIM-card case), which depends on the case.
RIGHTFUL_FIELD_REFUSALS = (
    ("phone", NOT_A_MOBILE),
    ("company", "appears more than once"),
    ("target_company", None),
)


def rightful_refusal(body: dict[str, Any]) -> bool:
    if body.get("code") in RIGHTFUL_REFUSALS:
        return True
    errors = body.get("errors") or [{}]
    return body.get("code") == "validation_failed" and all(
        any(
            str(e.get("field")).rpartition(".")[2] == field
            and (message is None or e.get("message") == message)
            for field, message in RIGHTFUL_FIELD_REFUSALS
        )
        for e in errors
    )


def _json(response) -> dict[str, Any]:
    try:
        body = response.json()
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}


@dataclass
class Stack:
    """A caller's secret (None for anonymous), and ids that exist, by path parameter name."""

    secret: str | None
    known_ids: dict[str, list[str]]


def build_stack(api: Api, role: str) -> Stack:
    from chalicelib.api.assets import ASSET_DIR
    from chalicelib.services import keys

    token = api.sign_in(*DEMO["active"][:2])
    item = {"company": "tencent", "reported_count": 3, "expected_count": 1, "reason": "not_mine"}
    filed = api.call("POST", "/v1/disputes", {"items": [item]}, token=token)
    assert filed.status_code == 201, filed.body
    credentials = {
        "anonymous": None,
        "person": token,
        "liaison": keys.issue("liaison", "tencent", "fuzz liaison")["key"],
        "operator": keys.issue("operator", None, "fuzz operator")["key"],
    }
    spare = keys.issue("liaison", "jd", "fuzz spare")  # the only key a fuzzed DELETE may revoke
    known_ids = {
        "dispute_id": [filed.data["dispute_id"]],
        "case_id": [case["case_id"] for case in filed.data["cases"]],
        "key_id": [spare["key_id"]],
        "company": ["tencent", "jd"],
        "name": sorted(p.name for p in ASSET_DIR.iterdir() if p.is_file()),
    }
    return Stack(credentials[role], known_ids)


def fuzzing_schema(schemathesis, wsgi: ChaliceWSGI, stack: Stack):
    """The document as the app serves it, the caller's secret for every bearer scheme it names
    (schemathesis sends it, and drops it on purpose in some invalid cases; anonymous callers get
    generated tokens), and the hooks that use this stack."""
    from schemathesis.core.parameters import ParameterLocation

    document = json.loads(wsgi.client.http.get("/openapi.json").body)
    schemes = document.get("components", {}).get("securitySchemes", {})
    bearer = {
        name: {"bearer": stack.secret}
        for name, scheme in schemes.items()
        if scheme.get("type") == "http" and scheme.get("scheme") == "bearer"
    }
    config = {**CONFIG, "auth": {"openapi": bearer}} if stack.secret else CONFIG
    schema = schemathesis.openapi.from_wsgi(
        "/openapi.json", wsgi, config=schemathesis.Config.from_dict(config)
    )

    @schema.hook
    def flatmap_case(context, case):
        """The case as generated, or with its path parameters set to ids that exist (not where
        the case is invalid on purpose: a real id would make it valid)."""
        names = [n for n in (case.path_parameters or {}) if stack.known_ids.get(n)]
        negative = case.meta is not None and case.meta.is_negative_at(ParameterLocation.PATH)
        if not names or negative:
            return st.just(case)

        def swapped(values: dict[str, str]):
            case.path_parameters = {**case.path_parameters, **values}
            return case

        real = st.fixed_dictionaries({n: st.sampled_from(stack.known_ids[n]) for n in names})
        return st.one_of(st.just(case), real.map(swapped))

    @schema.hook
    def filter_failure(context, failure, case, response) -> bool:
        return not (failure.title == REFUSED and rightful_refusal(_json(response)))

    return schema


@pytest.mark.parametrize("role", ROLES)
def test_every_operation_answers_as_documented(role, client, frozen_clock, subtests):
    """Every operation, as this caller; a subtest per operation, so all failures show."""
    with schemathesis_loaded() as schemathesis:
        from schemathesis.pytest.lazy import get_all_tests

        stack = build_stack(Api(client, frozen_clock), role)
        wsgi = ChaliceWSGI(client)
        schema = fuzzing_schema(schemathesis, wsgi, stack)

        def send(case) -> None:
            case.call_and_validate()

        operations = 0
        for built in get_all_tests(
            schema=schema, test_func=send, settings=SETTINGS, given_kwargs={}
        ):
            operation, test = built.ok()  # a document schemathesis cannot read raises here
            operations += 1
            with subtests.test(msg=f"{role}: {operation.label}"):
                test()
        print(f"{role}: {operations} operations, answers {dict(sorted(wsgi.answers.items()))}")
        assert operations > 0
