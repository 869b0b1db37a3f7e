"""Who may call what (docs/design.md §1, §6): every route × every caller, one explicit table.

The routes come from `app.routes` (blueprints included), so a new route without a row here
fails `test_every_route_has_a_row`. Each cell sends a body that would succeed for the
authorised caller, so the status reflects authorisation, not validation; before every cell
the state it needs is checked and, where an earlier cell consumed it (an action, an erasure,
a revocation), rebuilt.

One emulated AWS serves the whole module (building one costs most of a second); every test
prepares what it needs and settles what it opened.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest

from app import app
from chalicelib.adapters import case_store, key_store
from chalicelib.domain import clock
from chalicelib.services import keys
from tests.conftest import DEMO, START, demo_subscribers
from tests.support import Api, emulated_aws, last_code, local_stage_env

# -- the callers (columns) --------------------------------------------------------------------
NONE = "no token"
GARBAGE = "garbage token"
PERSON_A = "person A (owner)"
PERSON_B = "person B (other number)"
OWN = "liaison of the case's company"
OTHER = "liaison of another company"
OPERATOR = "operator"
REVOKED_LIAISON = "revoked liaison key"
REVOKED_OPERATOR = "revoked operator key"
CALLERS = (
    NONE,
    GARBAGE,
    PERSON_A,
    PERSON_B,
    OWN,
    OTHER,
    OPERATOR,
    REVOKED_LIAISON,
    REVOKED_OPERATOR,
)

# The batch route answers 200 with a result per item: "200:404" = HTTP 200, the item 404.
OK_ITEM = "200:200"
HIDDEN_ITEM = "200:404"

# fmt: off
# Expected status per cell. Columns, in CALLERS order:
#   none  garbage  A    B    own   other  operator  revoked-liaison  revoked-operator
EXPECTED: dict[tuple[str, str], tuple[int | str, ...]] = {
    # public, whatever the Authorization header says
    ("POST", "/v1/verification-codes"):
        (202, 202, 202, 202, 202, 202, 202, 202, 202),
    ("POST", "/v1/sessions"):
        (201, 201, 201, 201, 201, 201, 201, 201, 201),
    # the person: B gets 404 for A's things (as if absent); keys are not sessions: 401
    ("POST", "/v1/disputes"):
        (401, 401, 201, 201, 401, 401, 401, 401, 401),
    ("GET", "/v1/disputes"):
        (401, 401, 200, 200, 401, 401, 401, 401, 401),
    ("POST", "/v1/check-results"):
        (401, 401, 200, 200, 401, 401, 401, 401, 401),
    ("GET", "/v1/disputes/{dispute_id}"):
        (401, 401, 200, 404, 401, 401, 401, 401, 401),
    ("DELETE", "/v1/disputes/{dispute_id}"):
        (401, 401, 204, 404, 401, 401, 401, 401, 401),
    ("POST", "/v1/cases/{case_id}/actions"):
        (401, 401, 200, 404, 401, 401, 401, 401, 401),
    # the liaison: another company's case is 404 (never 403); an operator key is 403
    ("GET", "/v1/liaison/cases"):
        (401, 401, 401, 401, 200, 200, 403, 401, 401),
    ("GET", "/v1/liaison/cases/{case_id}"):
        (401, 401, 401, 401, 200, 404, 403, 401, 401),
    ("GET", "/v1/liaison/cases/{case_id}/messages"):
        (401, 401, 401, 401, 200, 404, 403, 401, 401),
    ("POST", "/v1/liaison/cases/{case_id}/transitions"):
        (401, 401, 401, 401, 200, 404, 403, 401, 401),
    ("POST", "/v1/liaison/cases:batch"):
        (401, 401, 401, 401, OK_ITEM, HIDDEN_ITEM, 403, 401, 401),
    # the operator: a liaison key is 403
    ("GET", "/v1/admin/cases"):
        (401, 401, 401, 401, 403, 403, 200, 401, 401),
    ("GET", "/v1/admin/cases/{case_id}"):
        (401, 401, 401, 401, 403, 403, 200, 401, 401),
    ("GET", "/v1/admin/cases/{case_id}/messages"):
        (401, 401, 401, 401, 403, 403, 200, 401, 401),
    ("POST", "/v1/admin/cases/{case_id}/transitions"):
        (401, 401, 401, 401, 403, 403, 200, 401, 401),
    ("POST", "/v1/admin/liaison-keys"):
        (401, 401, 401, 401, 403, 403, 201, 401, 401),
    ("DELETE", "/v1/admin/liaison-keys/{key_id}"):
        (401, 401, 401, 401, 403, 403, 204, 401, 401),
    # docs/design.md §6 operator routes; their rows apply as soon as the routes exist
    ("GET", "/v1/admin/stats"):
        (401, 401, 401, 401, 403, 403, 200, 401, 401),
    ("GET", "/v1/admin/hotspots"):
        (401, 401, 401, 401, 403, 403, 200, 401, 401),
    ("GET", "/v1/admin/hotspots/cases"):
        (401, 401, 401, 401, 403, 403, 200, 401, 401),
    ("GET", "/v1/admin/cases.csv"):
        (401, 401, 401, 401, 403, 403, 200, 401, 401),
    ("GET", "/v1/liaison/directory-status"):
        (401, 401, 401, 401, 200, 200, 403, 401, 401),
    # webhooks: each liaison has their own company's endpoint; another's delivery is 404
    ("PUT", "/v1/liaison/webhook"):
        (401, 401, 401, 401, 201, 201, 403, 401, 401),
    ("GET", "/v1/liaison/webhook"):
        (401, 401, 401, 401, 200, 200, 403, 401, 401),
    ("DELETE", "/v1/liaison/webhook"):
        (401, 401, 401, 401, 204, 204, 403, 401, 401),
    ("POST", "/v1/liaison/webhook/rotate-secret"):
        (401, 401, 401, 401, 200, 200, 403, 401, 401),
    ("POST", "/v1/liaison/webhook/test"):
        (401, 401, 401, 401, 200, 200, 403, 401, 401),
    ("GET", "/v1/liaison/webhook/deliveries"):
        (401, 401, 401, 401, 200, 200, 403, 401, 401),
    ("POST", "/v1/liaison/webhook/deliveries/{delivery_id}/resend"):
        (401, 401, 401, 401, 200, 404, 403, 401, 401),
    ("GET", "/v1/admin/webhooks"):
        (401, 401, 401, 401, 403, 403, 200, 401, 401),
    ("POST", "/v1/admin/webhooks/{company}/disable"):
        (401, 401, 401, 401, 403, 403, 200, 401, 401),
}
# fmt: on

# Public: no authentication at all (checked separately: never 401).
PUBLIC_PATHS = {"/v1/healthz", "/openapi.json", "/v1/directory", "/v1/scorecard"}


def is_public(path: str) -> bool:
    # /dev/* (stage local only) and the HTML pages (/, /console, ...) need no token.
    return path in PUBLIC_PATHS or path.startswith("/dev/") or not path.startswith("/v1/")


def all_routes() -> list[tuple[str, str]]:
    return sorted((method, path) for path, entry in app.routes.items() for method in entry)


PROTECTED = [r for r in all_routes() if not is_public(r[1])]
PUBLIC = [r for r in all_routes() if is_public(r[1])]
ITEM = {"company": "tencent", "reported_count": 3, "expected_count": 1, "reason": "not_mine"}
# Numbers enrolled for this module only: one fresh sign-in per cell of /v1/sessions.
SPARE = [(f"1500000{i:04d}", f"10000{i}") for i in range(len(CALLERS))]


# -- one emulated AWS for the module ------------------------------------------------------------
@pytest.fixture(scope="module")
def cast() -> Iterator[Cast]:
    from chalice.test import Client

    subscribers = [
        *demo_subscribers(),
        *[(p, i, "active", "China Mobile") for p, i in SPARE],
    ]
    with pytest.MonkeyPatch.context() as mp:
        for name, value in local_stage_env().items():
            mp.setenv(name, value)
        frozen = clock.FrozenClock(START)
        previous = clock.use(frozen)
        try:
            with emulated_aws(subscribers), Client(app, stage_name="local") as client:
                yield Cast.assemble(Api(client, frozen))
        finally:
            clock.use(previous)


@dataclass
class Cast:
    """The callers, and helpers that build the state a cell needs."""

    api: Api
    tokens: dict[str, str | None]
    operator_key: str
    own_key: str
    opened: list[tuple[str, str]] = field(default_factory=list)  # (token, case_id) to settle
    row: dict[str, Any] = field(default_factory=dict)  # state reused within one row

    @classmethod
    def assemble(cls, api: Api) -> Cast:
        a = api.sign_in(*DEMO["active"][:2])
        b = api.sign_in(*DEMO["second"][:2])
        own = keys.issue("liaison", "tencent", "authz own")["key"]
        other = keys.issue("liaison", "jd", "authz other")["key"]
        operator = keys.issue("operator", None, "authz operator")["key"]
        revoked_liaison = keys.issue("liaison", "tencent", "authz revoked")
        revoked_operator = keys.issue("operator", None, "authz revoked")
        # Used once before the revocation, so each sits in the key cache when it is revoked.
        assert api.call("GET", "/v1/liaison/cases", token=revoked_liaison["key"]).status_code == 200
        assert api.call("GET", "/v1/admin/cases", token=revoked_operator["key"]).status_code == 200
        for revoked in (revoked_liaison, revoked_operator):
            r = api.call("DELETE", f"/v1/admin/liaison-keys/{revoked['key_id']}", token=operator)
            assert r.status_code == 204, r.body
        tokens = {
            NONE: None,
            GARBAGE: "garbage",
            PERSON_A: a,
            PERSON_B: b,
            OWN: own,
            OTHER: other,
            OPERATOR: operator,
            REVOKED_LIAISON: revoked_liaison["key"],
            REVOKED_OPERATOR: revoked_operator["key"],
        }
        return cls(api, tokens, operator, own)

    @property
    def a(self) -> str:
        return self.tokens[PERSON_A]

    def file(self, token: str | None = None) -> tuple[str, str]:
        """A fresh dispute with one tencent case: (dispute_id, case_id)."""
        token = token or self.a
        self.api.clock.advance(seconds=1)  # newest first in the queues, without ties
        r = self.api.call("POST", "/v1/disputes", {"items": [ITEM]}, token=token)
        assert r.status_code == 201, r.body
        case_id = r.data["cases"][0]["case_id"]
        self.opened.append((token, case_id))
        return r.data["dispute_id"], case_id

    def respond(self, case_id: str) -> None:
        body = {"action": "respond", "response_code": "accounts_unbound", "message": "已解绑"}
        r = self.api.call(
            "POST", f"/v1/liaison/cases/{case_id}/transitions", body, token=self.own_key
        )
        assert r.status_code == 200, r.body

    def escalate(self, case_id: str) -> None:
        self.respond(case_id)
        r = self.api.call(
            "POST", f"/v1/cases/{case_id}/actions", {"action": "reopen"}, token=self.a
        )
        assert r.status_code == 200 and r.data["state"] == "escalated", r.body

    def case_in(self, state: str) -> tuple[str, str]:
        """A's tencent case in `state`: the one from the previous cell while it is still
        there (a refused call changes nothing), else a fresh one."""
        held = self.row.get(state)
        if held is not None:
            case = case_store.get_case(held[1])
            if case is not None and case.state == state:
                return held
        self.settle()  # one open case per company: withdraw the spent one first
        held = self.file()
        if state == "escalated":
            self.escalate(held[1])
        else:
            assert state == "submitted", state
        self.row[state] = held
        return held

    def settled_dispute(self) -> str:
        """A dispute of A's with every case withdrawn, while it has not been erased."""
        held = self.row.get("settled")
        if held is not None and case_store.get_dispute(held) is not None:
            return held
        dispute_id, _ = self.file()
        self.settle()
        self.row["settled"] = dispute_id
        return dispute_id

    def key_to_revoke(self) -> str:
        held = self.row.get("key")
        if held is not None and key_store.get(held).revoked_at is None:
            return held
        self.row["key"] = keys.issue("liaison", "jd", "to revoke")["key_id"]
        return self.row["key"]

    def settle(self) -> None:
        """Withdraws what the cells opened, so the next filing is not a duplicate."""
        for token, case_id in self.opened:
            r = self.api.call(
                "POST", f"/v1/cases/{case_id}/actions", {"action": "withdraw"}, token=token
            )
            assert r.status_code in (200, 409), r.body
        self.opened.clear()


# -- what each cell sends -------------------------------------------------------------------------
@dataclass
class Request:
    path: str
    body: Any = None
    check: Callable[[Any], None] | None = None  # extra checks on a 2xx answer


def _verification_code(cast: Cast, i: int) -> Request:
    cast.api.clock.advance(seconds=61)  # a spare number may have had a code a minute ago
    return Request("/v1/verification-codes", {"phone": SPARE[i][0]})


def _session(cast: Cast, i: int) -> Request:
    phone, id6 = SPARE[i]
    cast.api.clock.advance(seconds=61)  # one code a minute, used or not
    r = cast.api.call("POST", "/v1/verification-codes", {"phone": phone})
    assert r.status_code == 202, r.body
    return Request("/v1/sessions", {"phone": phone, "id_last6": id6, "code": last_code(phone)})


def _file(cast: Cast, i: int) -> Request:
    def check(data: Any) -> None:
        # Whoever filed owns the case: settle it with their own token.
        cast.opened.append((cast.tokens[CALLERS[i]], data["cases"][0]["case_id"]))

    return Request("/v1/disputes", {"items": [ITEM]}, check)


def _list_disputes(cast: Cast, i: int) -> Request:
    dispute_id, _ = cast.case_in("submitted")

    def check(data: Any) -> None:
        listed = [d["dispute_id"] for d in data["items"]]
        assert (dispute_id in listed) == (CALLERS[i] == PERSON_A), (CALLERS[i], listed)

    return Request("/v1/disputes", check=check)


def _get_dispute(cast: Cast, i: int) -> Request:
    dispute_id, _ = cast.case_in("submitted")
    return Request(f"/v1/disputes/{dispute_id}")


def _erase_dispute(cast: Cast, i: int) -> Request:
    return Request(f"/v1/disputes/{cast.settled_dispute()}")


def _person_action(cast: Cast, i: int) -> Request:
    _, case_id = cast.case_in("submitted")
    return Request(f"/v1/cases/{case_id}/actions", {"action": "withdraw"})


def _liaison_queue(cast: Cast, i: int) -> Request:
    _, case_id = cast.case_in("submitted")

    def check(data: Any) -> None:
        listed = [c["case_id"] for c in data["items"]]
        assert (case_id in listed) == (CALLERS[i] == OWN), (CALLERS[i], listed)

    return Request("/v1/liaison/cases?limit=100", check=check)


def _liaison_case(cast: Cast, i: int) -> Request:
    _, case_id = cast.case_in("submitted")
    return Request(f"/v1/liaison/cases/{case_id}")


def _liaison_transition(cast: Cast, i: int) -> Request:
    _, case_id = cast.case_in("submitted")
    return Request(f"/v1/liaison/cases/{case_id}/transitions", {"action": "acknowledge"})


def _liaison_batch(cast: Cast, i: int) -> Request:
    _, case_id = cast.case_in("submitted")
    return Request(
        "/v1/liaison/cases:batch", {"items": [{"case_id": case_id, "action": "acknowledge"}]}
    )


def _admin_cases(cast: Cast, i: int) -> Request:
    return Request("/v1/admin/cases")


# An endpoint nobody listens on: a test ping to it fails fast and is still answered 200.
NOWHERE = "http://127.0.0.1:9/hooks"


def _with_endpoints(cast: Cast) -> None:
    """Both liaisons' companies (tencent: own, jd: other) have an endpoint."""
    from chalicelib import config
    from chalicelib.adapters import webhook_store
    from chalicelib.domain.actors import Actor
    from chalicelib.services import webhooks

    for company in ("tencent", "jd"):
        if webhook_store.get(company) is None:
            actor = Actor("liaison", company=company)
            webhooks.put_endpoint(config.settings(), actor, {"url": NOWHERE})


def _webhook(path: str, body: Any = None) -> Callable[[Cast, int], Request]:
    def build(cast: Cast, i: int) -> Request:
        _with_endpoints(cast)
        return Request(path, body)

    return build


def _put_webhook(cast: Cast, i: int) -> Request:
    from chalicelib.adapters import webhook_store

    for company in ("tencent", "jd"):  # a new endpoint each time: 201
        webhook_store.delete(company)
    return Request("/v1/liaison/webhook", {"url": NOWHERE})


def _resend_delivery(cast: Cast, i: int) -> Request:
    """A delivery of the own company's (tencent's)."""
    from chalicelib import config
    from chalicelib.domain.actors import Actor
    from chalicelib.services import webhooks

    _with_endpoints(cast)
    if "delivery" not in cast.row:
        sent = webhooks.send_test(config.settings(), Actor("liaison", company="tencent"))
        cast.row["delivery"] = sent["id"]
    return Request(f"/v1/liaison/webhook/deliveries/{cast.row['delivery']}/resend")


def _admin_case(cast: Cast, i: int) -> Request:
    _, case_id = cast.case_in("submitted")
    return Request(f"/v1/admin/cases/{case_id}")


def _liaison_case_messages(cast: Cast, i: int) -> Request:
    _, case_id = cast.case_in("submitted")
    return Request(f"/v1/liaison/cases/{case_id}/messages")


def _admin_case_messages(cast: Cast, i: int) -> Request:
    _, case_id = cast.case_in("submitted")
    return Request(f"/v1/admin/cases/{case_id}/messages")


def _admin_transition(cast: Cast, i: int) -> Request:
    _, case_id = cast.case_in("escalated")
    return Request(
        f"/v1/admin/cases/{case_id}/transitions", {"action": "resolve", "message": "已核实处理"}
    )


def _issue_key(cast: Cast, i: int) -> Request:
    return Request("/v1/admin/liaison-keys", {"company": "jd", "label": "authz"})


def _revoke_key(cast: Cast, i: int) -> Request:
    return Request(f"/v1/admin/liaison-keys/{cast.key_to_revoke()}")


def _plain_get(path: str) -> Callable[[Cast, int], Request]:
    return lambda cast, i: Request(path)


BUILDERS: dict[tuple[str, str], Callable[[Cast, int], Request]] = {
    ("POST", "/v1/verification-codes"): _verification_code,
    ("POST", "/v1/sessions"): _session,
    ("POST", "/v1/disputes"): _file,
    ("GET", "/v1/disputes"): _list_disputes,
    ("POST", "/v1/check-results"): lambda cast, i: Request(
        "/v1/check-results", {"text": "京东1个"}
    ),
    ("GET", "/v1/disputes/{dispute_id}"): _get_dispute,
    ("DELETE", "/v1/disputes/{dispute_id}"): _erase_dispute,
    ("POST", "/v1/cases/{case_id}/actions"): _person_action,
    ("GET", "/v1/liaison/cases"): _liaison_queue,
    ("GET", "/v1/liaison/cases/{case_id}"): _liaison_case,
    ("GET", "/v1/liaison/cases/{case_id}/messages"): _liaison_case_messages,
    ("POST", "/v1/liaison/cases/{case_id}/transitions"): _liaison_transition,
    ("POST", "/v1/liaison/cases:batch"): _liaison_batch,
    ("GET", "/v1/admin/cases"): _admin_cases,
    ("GET", "/v1/admin/cases/{case_id}"): _admin_case,
    ("GET", "/v1/admin/cases/{case_id}/messages"): _admin_case_messages,
    ("POST", "/v1/admin/cases/{case_id}/transitions"): _admin_transition,
    ("POST", "/v1/admin/liaison-keys"): _issue_key,
    ("DELETE", "/v1/admin/liaison-keys/{key_id}"): _revoke_key,
    ("GET", "/v1/admin/stats"): _plain_get("/v1/admin/stats"),
    ("GET", "/v1/admin/hotspots"): _plain_get("/v1/admin/hotspots"),
    ("GET", "/v1/admin/hotspots/cases"): _plain_get(
        "/v1/admin/hotspots/cases?week=2026-W48&region=%E5%8C%97%E4%BA%AC%E5%B8%82&company=tencent"
    ),
    ("GET", "/v1/admin/cases.csv"): _plain_get("/v1/admin/cases.csv"),
    ("GET", "/v1/liaison/directory-status"): _plain_get("/v1/liaison/directory-status"),
    ("PUT", "/v1/liaison/webhook"): _put_webhook,
    ("GET", "/v1/liaison/webhook"): _webhook("/v1/liaison/webhook"),
    ("DELETE", "/v1/liaison/webhook"): _webhook("/v1/liaison/webhook"),
    ("POST", "/v1/liaison/webhook/rotate-secret"): _webhook("/v1/liaison/webhook/rotate-secret"),
    ("POST", "/v1/liaison/webhook/test"): _webhook("/v1/liaison/webhook/test"),
    ("GET", "/v1/liaison/webhook/deliveries"): _webhook("/v1/liaison/webhook/deliveries"),
    ("POST", "/v1/liaison/webhook/deliveries/{delivery_id}/resend"): _resend_delivery,
    ("GET", "/v1/admin/webhooks"): _plain_get("/v1/admin/webhooks"),
    ("POST", "/v1/admin/webhooks/{company}/disable"): _webhook(
        "/v1/admin/webhooks/tencent/disable"
    ),
}


# -- checks ---------------------------------------------------------------------------------------
def header(response, name: str) -> str | None:
    return next((v for k, v in (response.headers or {}).items() if k.lower() == name.lower()), None)


def check_problem(response, where: str) -> None:
    """Every refusal is RFC 9457 problem+json; a 401 also says how to authenticate."""
    media = (header(response, "Content-Type") or "").split(";")[0].strip()
    assert media == "application/problem+json", (where, response.status_code, response.headers)
    body = json.loads(response.body)
    for name in ("type", "title", "status", "detail", "code"):
        assert name in body, (where, name, body)
    assert body["status"] == response.status_code, (where, body)
    if response.status_code == 401:
        assert body["code"] == "unauthenticated", (where, body)
        assert (header(response, "WWW-Authenticate") or "").startswith("Bearer"), (where,)
    if response.status_code == 403:
        assert body["code"] == "forbidden", (where, body)
    if response.status_code == 404:
        assert body["code"] == "not_found", (where, body)


def observe(cast: Cast, method: str, route_path: str, caller: str, i: int) -> int | str:
    request = BUILDERS[(method, route_path)](cast, i)
    where = f"{method} {route_path} as {caller}"
    r = cast.api.call(method, request.path, request.body, token=cast.tokens[caller])
    if r.status_code >= 400:
        check_problem(r, where)
        return r.status_code
    if request.check is not None:
        request.check(r.data)
    if route_path == "/v1/liaison/cases:batch" and r.status_code == 200:
        (result,) = r.data["results"]
        if result["status"] >= 400:
            assert result["problem"]["status"] == result["status"], result
        return f"200:{result['status']}"
    return r.status_code


# -- tests ----------------------------------------------------------------------------------------
def test_every_route_has_a_row():
    """Add a row to EXPECTED (and a builder) for every new route."""
    missing = [r for r in PROTECTED if r not in EXPECTED or r not in BUILDERS]
    assert not missing, f"routes without an authorization row: {missing}"
    assert set(EXPECTED) == set(BUILDERS)
    assert all(len(row) == len(CALLERS) for row in EXPECTED.values())


@pytest.mark.parametrize(("method", "path"), PROTECTED, ids=[f"{m} {p}" for m, p in PROTECTED])
def test_authorization_matrix(cast: Cast, method: str, path: str):
    if (method, path) not in EXPECTED:
        pytest.fail(f"{method} {path} has no row in EXPECTED")
    observed: dict[str, int | str] = {}
    cast.row.clear()
    try:
        for i, caller in enumerate(CALLERS):
            observed[caller] = observe(cast, method, path, caller, i)
    finally:
        cast.settle()
    expected = dict(zip(CALLERS, EXPECTED[(method, path)], strict=True))
    assert observed == expected


@pytest.mark.parametrize(("method", "path"), PUBLIC, ids=[f"{m} {p}" for m, p in PUBLIC])
def test_public_routes_need_no_token(cast: Cast, method: str, path: str):
    query = f"?phone={DEMO['active'][0]}" if path == "/dev/sms" else ""
    bare = cast.api.call(method, path + query)
    garbage = cast.api.call(method, path + query, token="garbage")
    assert bare.status_code != 401, bare.body
    assert bare.status_code < 500, bare.body
    assert garbage.status_code == bare.status_code, (bare.body, garbage.body)


def test_a_hidden_thing_looks_exactly_like_a_missing_one(cast: Cast):
    """404 for another's dispute or case carries nothing that tells it exists."""
    b, other = cast.tokens[PERSON_B], cast.tokens[OTHER]
    dispute_id, case_id = cast.file()
    try:
        pairs = [
            (f"/v1/disputes/{dispute_id}", "/v1/disputes/D000000000", b, None),
            (f"/v1/cases/{case_id}/actions", "/v1/cases/C000000000/actions", b, "withdraw"),
            (f"/v1/liaison/cases/{case_id}", "/v1/liaison/cases/C000000000", other, None),
            (
                f"/v1/liaison/cases/{case_id}/messages",
                "/v1/liaison/cases/C000000000/messages",
                other,
                None,
            ),
            (
                f"/v1/liaison/cases/{case_id}/transitions",
                "/v1/liaison/cases/C000000000/transitions",
                other,
                "acknowledge",
            ),
        ]
        for hidden, missing, token, action in pairs:
            method = "POST" if action else "GET"
            body = {"action": action} if action else None
            r1 = cast.api.call(method, hidden, body, token=token)
            r2 = cast.api.call(method, missing, body, token=token)
            assert r1.status_code == r2.status_code == 404, (hidden, r1.body, r2.body)
            assert r1.data == r2.data, (r1.data, r2.data)
        # And nothing changed: A still sees the untouched case.
        r = cast.api.call("GET", f"/v1/disputes/{dispute_id}", token=cast.a)
        assert r.status_code == 200 and r.data["cases"][0]["state"] == "submitted", r.body
    finally:
        cast.settle()


def test_person_b_cannot_erase_person_a_dispute(cast: Cast):
    dispute_id, _ = cast.file()
    cast.settle()
    r = cast.api.call("DELETE", f"/v1/disputes/{dispute_id}", token=cast.tokens[PERSON_B])
    assert r.status_code == 404, r.body
    r = cast.api.call("GET", f"/v1/disputes/{dispute_id}", token=cast.a)
    assert r.status_code == 200, r.body


def test_a_revoked_key_was_working_until_revoked(cast: Cast):
    """Revocation takes effect at once, although the key was in this container's cache."""
    issued = keys.issue("liaison", "tencent", "short-lived")
    assert cast.api.call("GET", "/v1/liaison/cases", token=issued["key"]).status_code == 200
    r = cast.api.call(
        "DELETE", f"/v1/admin/liaison-keys/{issued['key_id']}", token=cast.operator_key
    )
    assert r.status_code == 204, r.body
    r = cast.api.call("GET", "/v1/liaison/cases", token=issued["key"])
    assert r.status_code == 401, r.body
    check_problem(r, "revoked key")


BODY_ROUTES = [
    ("POST", "/v1/disputes"),
    ("POST", "/v1/cases/C000000000/actions"),
    ("POST", "/v1/liaison/cases/C000000000/transitions"),
    ("POST", "/v1/liaison/cases:batch"),
    ("POST", "/v1/admin/cases/C000000000/transitions"),
    ("POST", "/v1/admin/liaison-keys"),
]


@pytest.mark.parametrize(("method", "path"), BODY_ROUTES, ids=[p for _, p in BODY_ROUTES])
def test_authentication_comes_before_body_validation(cast: Cast, method: str, path: str):
    """An anonymous caller learns nothing about the body a route expects: 401, not 422."""
    for token in (None, "garbage", cast.tokens[REVOKED_LIAISON]):
        r = cast.api.call(method, path, {"unexpected": True}, token=token)
        assert r.status_code == 401, (token, r.status_code, r.body)
        check_problem(r, f"{method} {path}")
