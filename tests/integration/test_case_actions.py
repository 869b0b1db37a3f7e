"""Acting on cases over HTTP (docs/design.md §4, §6, §8): what each action needs, where it leads,
who sees what, the liaison's queue and batch, erasure, and what a warm transition costs."""

from __future__ import annotations

import base64
import json
from collections import Counter
from datetime import timedelta

import pytest

from chalicelib.adapters import tables
from chalicelib.adapters.registry import registry
from chalicelib.domain import clock
from chalicelib.domain.workflow import load_workflow
from chalicelib.services import keys
from tests.conftest import DEMO
from tests.integration.helpers import all_tables, scan
from tests.support import Api

RESPOND = {"action": "respond", "response_code": "accounts_unbound", "message": "已解绑2个账号"}
SECRET_NOTE = "内部备注：疑似黑产批量注册 #7731"


def item(company: str, reported: int = 3, expected: int = 1, reason: str = "not_mine") -> dict:
    return {
        "company": company,
        "reported_count": reported,
        "expected_count": expected,
        "reason": reason,
    }


class Desk:
    """People, keys and shortcuts for one emulated AWS."""

    def __init__(self, client, frozen_clock, settings) -> None:
        self.api = Api(client, frozen_clock)
        self.clock = frozen_clock
        self.settings = settings
        self.persons: dict[str, str] = {}
        self.keys: dict[str, str] = {}
        self.operator = keys.issue("operator", None, "actions")["key"]

    def person(self, name: str = "active") -> str:
        """A signed-in person: a DEMO subscriber, or an extra one enrolled on first use."""
        if name not in self.persons:
            if name in DEMO:
                phone, id6 = DEMO[name][:2]
            else:
                phone, id6 = f"1500000{len(self.persons):04d}", "12345X"
                registry(self.settings).enrol("+86" + phone, id6, "active", "China Mobile")
            self.persons[name] = self.api.sign_in(phone, id6)
        return self.persons[name]

    def liaison(self, company: str) -> str:
        if company not in self.keys:
            self.keys[company] = keys.issue("liaison", company, "actions")["key"]
        return self.keys[company]

    def file(self, *companies: str, who: str = "active", **kw) -> tuple[str, dict[str, str]]:
        r = self.api.call(
            "POST",
            "/v1/disputes",
            {"items": [item(c, **kw) for c in companies]},
            token=self.person(who),
        )
        assert r.status_code == 201, r.body
        return r.data["dispute_id"], {c["company"]: c["case_id"] for c in r.data["cases"]}

    def act(self, case_id: str, body: dict, who: str = "active", headers=None):
        return self.api.call(
            "POST", f"/v1/cases/{case_id}/actions", body, token=self.person(who), headers=headers
        )

    def transition(self, company: str, case_id: str, body: dict):
        return self.api.call(
            "POST",
            f"/v1/liaison/cases/{case_id}/transitions",
            body,
            token=self.liaison(company),
        )

    def decide(self, case_id: str, body: dict):
        return self.api.call(
            "POST", f"/v1/admin/cases/{case_id}/transitions", body, token=self.operator
        )

    def ok(self, response, state: str | None = None) -> dict:
        assert response.status_code == 200, (response.status_code, response.body)
        if state is not None:
            assert response.data["state"] == state, response.data
        return response.data

    def drive(self, company: str, case_id: str, state: str, who: str = "active") -> None:
        """From submitted to an open state, the way people get there."""
        if state == "acknowledged":
            self.ok(self.transition(company, case_id, {"action": "acknowledge"}), state)
        elif state == "awaiting_user":
            body = {"action": "request_user_action", "message": "请先用本号码登录该账号"}
            self.ok(self.transition(company, case_id, body), state)
        elif state == "responded":
            self.ok(self.transition(company, case_id, RESPOND), state)
        elif state == "escalated":
            self.ok(self.transition(company, case_id, RESPOND), "responded")
            self.ok(self.act(case_id, {"action": "reopen"}, who), state)
        else:
            assert state == "submitted", state

    def staff_case(self, case_id: str, company: str | None = None) -> dict:
        token = self.liaison(company) if company else self.operator
        prefix = "/v1/liaison" if company else "/v1/admin"
        r = self.api.call("GET", f"{prefix}/cases/{case_id}", token=token)
        assert r.status_code == 200, r.body
        return r.data

    def queue(self, company: str, query: str = "") -> tuple[int, dict]:
        r = self.api.call("GET", f"/v1/liaison/cases?{query}", token=self.liaison(company))
        return r.status_code, r.data

    def walk(self, company: str, query: str) -> list[dict]:
        """Every page of a queue query, following next_cursor."""
        seen: list[dict] = []
        cursor = None
        for _ in range(100):
            q = query + (f"&cursor={cursor}" if cursor else "")
            status, data = self.queue(company, q)
            assert status == 200, data
            seen.extend(data["items"])
            cursor = data["next_cursor"]
            if cursor is None:
                return seen
        raise AssertionError("the cursor never ran out")


@pytest.fixture
def desk(client, frozen_clock, world) -> Desk:
    return Desk(client, frozen_clock, world)


def problem(response, status: int, code: str, *fields: str) -> dict:
    assert response.status_code == status, (response.status_code, response.body)
    media = next(v for k, v in response.headers.items() if k.lower() == "content-type")
    assert media.split(";")[0] == "application/problem+json", response.headers
    body = json.loads(response.body)
    assert (body["status"], body["code"]) == (status, code), body
    named = [e["field"] for e in body.get("errors", [])]
    for name in fields:
        assert name in named, (name, body)
    return body


# -- what an action needs -------------------------------------------------------------------------
def test_respond_needs_a_code_and_a_message_and_nothing_else(desk: Desk):
    _, ids = desk.file("tencent")
    case = ids["tencent"]

    def liaison(body):
        return desk.transition("tencent", case, body)

    problem(liaison({"action": "respond"}), 422, "validation_failed", "response_code", "message")
    problem(
        liaison({"action": "respond", "response_code": "accounts_unbound"}),
        422,
        "validation_failed",
        "message",
    )
    problem(
        liaison({"action": "respond", "message": "已处理"}),
        422,
        "validation_failed",
        "response_code",
    )
    problem(liaison({**RESPOND, "message": "   "}), 422, "validation_failed", "message")
    problem(liaison({**RESPOND, "message": "解" * 201}), 422, "validation_failed", "message")
    problem(liaison({**RESPOND, "message": "解" * 1001}), 422, "validation_failed", "message")
    problem(
        liaison({**RESPOND, "response_code": "deleted_everything"}),
        422,
        "validation_failed",
        "response_code",
    )
    problem(
        liaison({**RESPOND, "accounts_affected": -1}), 422, "validation_failed", "accounts_affected"
    )
    # Fields the action does not use, and fields no action knows.
    problem(
        liaison({**RESPOND, "target_company": "jd"}), 422, "validation_failed", "target_company"
    )
    problem(
        liaison({"action": "acknowledge", "message": "收到"}), 422, "validation_failed", "message"
    )
    problem(liaison({**RESPOND, "new_count": 1}), 422, "validation_failed", "new_count")
    problem(liaison({**RESPOND, "priority": "high"}), 422, "validation_failed", "priority")
    problem(desk.act(case, {"action": "withdraw", "new_count": 1}), 422, "validation_failed")
    problem(desk.act(case, {"action": "withdraw", "message": "x"}), 422, "validation_failed")
    problem(
        desk.decide(case, {"action": "resolve", "response_code": "no_match"}),
        422,
        "validation_failed",
    )
    # An action of another role is unknown to this one.
    problem(liaison({"action": "withdraw"}), 422, "unknown_action")
    problem(desk.act(case, {"action": "acknowledge"}), 422, "unknown_action")
    assert desk.staff_case(case)["version"] == 1  # nothing above changed the case

    exactly_200 = {**RESPOND, "message": "解" * 200, "accounts_affected": 2}
    data = desk.ok(liaison(exactly_200), "responded")
    assert data["response"]["code"] == "accounts_unbound"
    assert data["response"]["accounts_affected"] == 2
    assert data["action_on"] == "user"


def test_confirm_resolves_on_the_expected_count_and_escalates_otherwise(desk: Desk):
    _, ids = desk.file("tencent", "jd", reported=3, expected=1)
    for company in ids:
        desk.drive(company, ids[company], "responded")
    problem(desk.act(ids["tencent"], {"action": "confirm"}), 422, "validation_failed", "new_count")
    matched = desk.ok(desk.act(ids["tencent"], {"action": "confirm", "new_count": 1}), "resolved")
    assert matched["action_on"] == "none"
    differs = desk.ok(desk.act(ids["jd"], {"action": "confirm", "new_count": 3}), "escalated")
    assert differs["action_on"] == "operator"
    last = desk.staff_case(ids["jd"])["history"][-1]
    assert (last["action"], last["new_count"], last["to"]) == ("confirm", 3, "escalated")
    # Escalated work is the operators': they resolve it.
    desk.ok(desk.decide(ids["jd"], {"action": "resolve", "message": "已协调企业处理"}), "resolved")


def test_settling_a_long_case_puts_the_ttl_on_every_one_of_its_events(desk: Desk):
    """docs/design.md §8 retention: more events than the settling transaction holds (a case that
    went back and forth for months) all expire with the case."""
    _, ids = desk.file("tencent")
    case_id = ids["tencent"]
    for _ in range(46):  # respond, reopen: two events a round
        desk.drive("tencent", case_id, "escalated")
    desk.ok(desk.transition("tencent", case_id, RESPOND), "responded")
    settled_at = clock.now()
    desk.ok(desk.act(case_id, {"action": "confirm", "new_count": 1}), "resolved")
    events = list(tables.Event.query(case_id, consistent_read=True))
    assert len(events) > 90  # well past what one transaction holds
    assert [int(e.version) for e in events] == list(range(1, len(events) + 1))
    expiries = Counter(e.expires_at for e in events)
    assert list(expiries) == [settled_at + timedelta(days=180)], expiries


def test_disagree_needs_a_statement_and_closes_the_case(desk: Desk):
    _, ids = desk.file("tencent")
    case = ids["tencent"]
    desk.drive("tencent", case, "responded")
    problem(desk.act(case, {"action": "disagree"}), 422, "validation_failed", "statement")
    problem(
        desk.act(case, {"action": "disagree", "statement": "否" * 201}),
        422,
        "validation_failed",
        "statement",
    )
    statement = "这些账号不是我注册的，企业的答复不属实"
    data = desk.ok(desk.act(case, {"action": "disagree", "statement": statement}))
    assert (data["state"], data["action_on"]) == ("disputed_closed", "none")
    r = desk.api.call("GET", f"/v1/disputes/{data['dispute_id']}", token=desk.person())
    assert r.data["cases"][0]["history"][-1]["statement"] == statement
    problem(desk.act(case, {"action": "reopen"}), 409, "invalid_transition")


def test_withdraw_from_every_open_state(desk: Desk):
    workflow = load_workflow()
    open_states = workflow.open_states()
    companies = ["tencent", "jd", "alipay", "baidu", "kuaishou", "douyin", "meituan", "alibaba"]
    assert len(open_states) <= len(companies)
    _, ids = desk.file(*companies[: len(open_states)])
    by_state = dict(zip(open_states, companies, strict=False))
    for state, company in by_state.items():
        desk.drive(company, ids[company], state)
    for state, company in by_state.items():
        assert "withdraw" in workflow.actions_for("user", state)
        data = desk.ok(desk.act(ids[company], {"action": "withdraw", "note": "已自行处理"}))
        assert (data["state"], data["action_on"]) == ("withdrawn", "none"), state
        history = desk.staff_case(ids[company])["history"]
        assert (history[-1]["from"], history[-1]["to"]) == (state, "withdrawn")
        assert data["version"] == len(history)
        problem(desk.act(ids[company], {"action": "withdraw"}), 409, "invalid_transition")


# -- misrouting -----------------------------------------------------------------------------------
def test_misrouted_opens_a_case_at_the_target_on_the_same_dispute(desk: Desk):
    dispute_id, ids = desk.file("tencent")
    old = ids["tencent"]
    body = {"action": "misrouted", "target_company": "jd", "internal_note": "该号码账号属京东"}
    data = desk.ok(desk.transition("tencent", old, body), "rerouted")
    assert data["action_on"] == "none"

    r = desk.api.call("GET", f"/v1/disputes/{dispute_id}", token=desk.person())
    assert r.status_code == 200, r.body
    by_company = {c["company"]: c for c in r.data["cases"]}
    assert set(by_company) == {"tencent", "jd"}
    new = by_company["jd"]
    assert new["case_id"] != old
    assert (new["state"], new["action_on"], new["version"]) == ("submitted", "company", 1)
    assert new["routed_from"] == old
    assert by_company["tencent"]["state"] == "rerouted"
    assert [e["action"] for e in new["history"]] == ["rerouted_in"]

    # The target company sees and works it; the old company cannot see it.
    seen = desk.staff_case(new["case_id"], "jd")
    assert seen["routed_from"] == old
    _, queue = desk.queue("jd")
    assert [c["case_id"] for c in queue["items"]] == [new["case_id"]]
    r = desk.api.call("GET", f"/v1/liaison/cases/{new['case_id']}", token=desk.liaison("tencent"))
    problem(r, 404, "not_found")
    desk.ok(desk.transition("jd", new["case_id"], {"action": "acknowledge"}), "acknowledged")


def test_misrouting_needs_another_known_company(desk: Desk):
    _, ids = desk.file("tencent", "jd")
    case = ids["tencent"]
    for target in ("tencent", "nokia", "china_mobile", None):
        body = {"action": "misrouted", "target_company": target}
        problem(desk.transition("tencent", case, body), 422, "validation_failed")
    # The person already has an open jd case: a second one would be a duplicate.
    r = desk.transition("tencent", case, {"action": "misrouted", "target_company": "jd"})
    problem(r, 409, "case_already_open")
    assert desk.staff_case(case)["state"] == "submitted"
    assert desk.staff_case(case)["version"] == 1


# -- who sees internal notes ----------------------------------------------------------------------
def test_the_person_never_sees_internal_notes(desk: Desk):
    dispute_id, ids = desk.file("tencent")
    case = ids["tencent"]
    desk.ok(
        desk.transition("tencent", case, {"action": "acknowledge", "internal_note": SECRET_NOTE})
    )
    desk.ok(desk.transition("tencent", case, {**RESPOND, "internal_note": SECRET_NOTE + "②"}))
    reopened = desk.act(case, {"action": "reopen", "note": "还有一个账号"})
    desk.ok(reopened, "escalated")
    desk.ok(desk.decide(case, {"action": "resolve", "message": "已核实", "internal_note": "运营③"}))

    token = desk.person()
    for r in (
        reopened,
        desk.api.call("GET", f"/v1/disputes/{dispute_id}", token=token),
        desk.api.call("GET", "/v1/disputes", token=token),
    ):
        assert r.status_code == 200
        text = r.body.decode()
        assert "internal_note" not in text and "内部备注" not in text and "运营③" not in text
    r = desk.api.call("GET", f"/v1/disputes/{dispute_id}", token=token)
    history = r.data["cases"][0]["history"]
    assert [e["action"] for e in history] == ["file", "acknowledge", "respond", "reopen", "resolve"]
    assert history[2]["message"] == RESPOND["message"]  # what was done, shown to the person

    for view in (desk.staff_case(case, "tencent"), desk.staff_case(case)):
        notes = [e.get("internal_note") for e in view["history"]]
        assert notes == [None, SECRET_NOTE, SECRET_NOTE + "②", None, "运营③"], notes


# -- the liaison's queue ---------------------------------------------------------------------------
def test_queue_filters_by_state_action_on_and_overdue(desk: Desk):
    _, a = desk.file("tencent", who="active")
    desk.ok(desk.act(a["tencent"], {"action": "withdraw"}))
    _, a2 = desk.file("tencent", who="active")  # submitted, the oldest open one
    _, b = desk.file("tencent", who="second")
    desk.drive("tencent", b["tencent"], "acknowledged")
    _, c = desk.file("tencent", who="unicom")
    desk.drive("tencent", c["tencent"], "awaiting_user")
    _, d = desk.file("tencent", who="extra")
    desk.drive("tencent", d["tencent"], "responded", who="extra")
    _, other = desk.file("jd", who="second")  # another company's: never in tencent's queue
    everything = {a["tencent"], a2["tencent"], b["tencent"], c["tencent"], d["tencent"]}

    def ids(query: str) -> set[str]:
        status, data = desk.queue("tencent", query)
        assert status == 200, data
        assert all(x["company"] == "tencent" for x in data["items"])
        return {x["case_id"] for x in data["items"]}

    assert ids("") == everything
    assert ids("state=submitted") == {a2["tencent"]}
    assert ids("state=withdrawn") == {a["tencent"]}
    assert ids("action_on=user") == {c["tencent"], d["tencent"]}
    assert ids("action_on=company") == {a2["tencent"], b["tencent"]}
    assert ids("state=acknowledged&action_on=company") == {b["tencent"]}
    assert ids("state=acknowledged&action_on=user") == set()
    assert ids("overdue=true") == set()

    # Past the acknowledgement deadline of the submitted case, and no other deadline.
    due = desk.staff_case(a2["tencent"], "tencent")["due_at"]
    assert due < desk.staff_case(b["tencent"], "tencent")["due_at"]
    desk.clock.set(clock.parse_iso(due) - timedelta(seconds=1))
    assert ids("overdue=true") == set()  # not yet due
    desk.clock.advance(seconds=1)
    assert ids("overdue=true") == {a2["tencent"]}  # overdue from the deadline's second on
    assert ids("overdue=false") == everything - {a2["tencent"]}
    assert ids("overdue=true&state=submitted") == {a2["tencent"]}
    assert ids("overdue=true&state=acknowledged") == set()
    _, data = desk.queue("tencent", "overdue=true")
    assert [x["overdue"] for x in data["items"]] == [True]

    for query in ("state=nope", "action_on=everyone", "overdue=maybe", "limit=0", "limit=101"):
        status, data = desk.queue("tencent", query)
        assert status == 422, (query, data)
    assert other["jd"] not in ids("")


def test_pagination_walks_every_item_exactly_once(desk: Desk):
    made = []
    for _ in range(5):
        _, ids = desk.file("tencent")
        made.append(ids["tencent"])
        desk.ok(desk.act(ids["tencent"], {"action": "withdraw"}))
    for who in ("second", "unicom"):
        _, ids = desk.file("tencent", who=who)
        made.append(ids["tencent"])
    desk.file("jd", who="second")

    for query in ("limit=1", "limit=2", "limit=3", "limit=7", "limit=100"):
        walked = desk.walk("tencent", query)
        got = [x["case_id"] for x in walked]
        assert sorted(got) == sorted(made), query  # every item, none twice
        created = [x["created_at"] for x in walked]
        assert created == sorted(created, reverse=True), query  # newest first
    withdrawn = [x["case_id"] for x in desk.walk("tencent", "state=withdrawn&limit=2")]
    assert sorted(withdrawn) == sorted(made[:5])


def test_a_cursor_only_continues_the_query_it_came_from(desk: Desk):
    for who in ("active", "second", "unicom"):
        desk.file("tencent", "jd", who=who)
    status, page = desk.queue("tencent", "limit=1")
    assert status == 200 and page["next_cursor"], page
    cursor = page["next_cursor"]
    status, _ = desk.queue("tencent", f"limit=1&cursor={cursor}")
    assert status == 200

    def refused(company: str, query: str) -> None:
        r = desk.api.call("GET", f"/v1/liaison/cases?{query}", token=desk.liaison(company))
        problem(r, 400, "invalid_cursor")

    refused("jd", f"limit=1&cursor={cursor}")  # another company's query
    refused("tencent", f"limit=1&state=submitted&cursor={cursor}")  # another filter
    payload, _, sig = cursor.partition(".")
    start = json.loads(base64.urlsafe_b64decode(payload))
    # Each shard's position pointed at another company's partition (case_store's list keys).
    forged = {
        shard: {
            "case_id": {"S": "C0000000000"},
            "queue_key": {"S": f"jd#{shard}"},
            "created_at": {"S": "2026-11-27T02:00:00Z"},
        }
        for shard in start
    }
    assert forged != start
    forged_payload = base64.urlsafe_b64encode(json.dumps(forged, sort_keys=True).encode()).decode()
    for tampered in (
        f"{forged_payload}.{sig}",
        f"{payload}.{sig[:-1]}{'0' if sig[-1] != '0' else '1'}",
        payload,
        "garbage",
        "A" * 3000,
        f"{payload}.{sig}x",
    ):
        refused("tencent", f"limit=1&cursor={tampered}")
    r = desk.api.call(
        "GET", f"/v1/admin/cases?state=submitted&cursor={cursor}", token=desk.operator
    )
    problem(r, 400, "invalid_cursor")


# -- batch ----------------------------------------------------------------------------------------
def test_a_batch_answers_each_item(desk: Desk):
    _, first = desk.file("tencent", "jd", who="active")
    _, second = desk.file("tencent", who="second")
    desk.drive("tencent", second["tencent"], "acknowledged")
    items = [
        {"case_id": first["tencent"], "action": "acknowledge", "internal_note": "批量"},
        {"case_id": second["tencent"], "action": "acknowledge"},  # already acknowledged
        {"case_id": first["jd"], "action": "acknowledge"},  # another company's
        {"case_id": "C000000000", "action": "acknowledge"},  # no such case
    ]
    r = desk.api.call(
        "POST", "/v1/liaison/cases:batch", {"items": items}, token=desk.liaison("tencent")
    )
    assert r.status_code == 200, r.body
    results = r.data["results"]
    assert [x["case_id"] for x in results] == [i["case_id"] for i in items]
    assert [x["status"] for x in results] == [200, 409, 404, 404]
    assert results[0]["case"]["state"] == "acknowledged"
    assert results[1]["problem"]["code"] == "invalid_transition"
    assert results[2]["problem"] == results[3]["problem"]  # hidden looks like missing
    assert desk.staff_case(first["jd"])["state"] == "submitted"

    too_many = [{"case_id": first["tencent"], "action": "acknowledge"}] * 101
    r = desk.api.call(
        "POST", "/v1/liaison/cases:batch", {"items": too_many}, token=desk.liaison("tencent")
    )
    problem(r, 422, "validation_failed", "items")
    r = desk.api.call(
        "POST", "/v1/liaison/cases:batch", {"items": []}, token=desk.liaison("tencent")
    )
    problem(r, 422, "validation_failed", "items")
    hundred = [{"case_id": first["jd"], "action": "acknowledge"}] * 100
    r = desk.api.call(
        "POST", "/v1/liaison/cases:batch", {"items": hundred}, token=desk.liaison("tencent")
    )
    assert r.status_code == 200 and len(r.data["results"]) == 100, r.body
    assert {x["status"] for x in r.data["results"]} == {404}


# -- erasure --------------------------------------------------------------------------------------
def settle_for_erasure(desk: Desk) -> tuple[str, dict[str, str]]:
    dispute_id, ids = desk.file("tencent", "jd")
    desk.ok(desk.transition("tencent", ids["tencent"], {**RESPOND, "internal_note": SECRET_NOTE}))
    desk.ok(desk.act(ids["tencent"], {"action": "disagree", "statement": "答复不属实"}))
    desk.ok(desk.transition("jd", ids["jd"], {"action": "acknowledge", "internal_note": "jd内部"}))
    r = desk.api.call("DELETE", f"/v1/disputes/{dispute_id}", token=desk.person())
    body = problem(r, 409, "dispute_not_settled")
    assert body["open_case_ids"] == [ids["jd"]]
    desk.ok(desk.act(ids["jd"], {"action": "withdraw", "note": "不想继续了"}), "withdrawn")
    return dispute_id, ids


def test_erasing_a_settled_dispute_keeps_only_a_bare_audit_trail(desk: Desk):
    dispute_id, ids = settle_for_erasure(desk)
    token = desk.person()
    r = desk.api.call("DELETE", f"/v1/disputes/{dispute_id}", token=token)
    assert r.status_code == 204 and not r.body, r.body
    problem(desk.api.call("GET", f"/v1/disputes/{dispute_id}", token=token), 404, "not_found")
    problem(desk.api.call("DELETE", f"/v1/disputes/{dispute_id}", token=token), 404, "not_found")
    r = desk.api.call("GET", "/v1/disputes", token=token)
    assert dispute_id not in r.body.decode()
    for case_id in ids.values():
        r = desk.api.call("GET", f"/v1/admin/cases/{case_id}", token=desk.operator)
        problem(r, 404, "not_found")

    events = [e for e in scan(desk.settings, "events") if e["case_id"]["S"] in ids.values()]
    assert len(events) == 6  # file ×2, respond, disagree, acknowledge, withdraw
    for event in events:
        assert not {"message", "statement", "internal_note"} & set(event), event
        assert {"case_id", "version", "action", "actor", "to_state", "at"} <= set(event), event
    for base in ("disputes", "cases"):
        text = json.dumps(scan(desk.settings, base))
        assert dispute_id not in text and not any(i in text for i in ids.values()), base


def test_erasure_leaves_nothing_that_ties_the_number_to_the_dispute(desk: Desk):
    """docs/design.md §8: the audit trail keeps no number, and nothing else keeps the dispute."""
    dispute_id, ids = settle_for_erasure(desk)
    assert (
        desk.api.call("DELETE", f"/v1/disputes/{dispute_id}", token=desk.person()).status_code
        == 204
    )
    refs = (dispute_id, *ids.values())
    leftovers = {
        name.removeprefix(desk.settings.table_prefix + "-"): [
            item for item in items if any(ref in json.dumps(item) for ref in refs)
        ]
        for name, items in all_tables(desk.settings).items()
    }
    assert set(leftovers) >= {"events", "outbox"}
    for name, items in leftovers.items():
        if name == "events":
            continue
        assert items == [], f"{name} still holds the erased dispute: {items[:1]}"


# -- cost of a warm transition --------------------------------------------------------------------
READS = {"GetItem", "BatchGetItem", "Query", "Scan", "TransactGetItems"}
WRITES = {"PutItem", "UpdateItem", "DeleteItem", "BatchWriteItem", "TransactWriteItems"}


def test_a_warm_liaison_transition_costs_one_read_and_one_write(desk: Desk):
    _, first = desk.file("tencent", who="active")
    _, second = desk.file("tencent", who="second")
    # Warm-up: the key is checked and cached, every client exists.
    desk.ok(desk.transition("tencent", first["tencent"], {"action": "acknowledge"}))

    calls: Counter[str] = Counter()

    def count(model, **kwargs) -> None:
        calls[model.name] += 1

    emitters = {}
    for model in tables.MODELS:
        events = model._get_connection().connection.client.meta.events
        emitters[id(events)] = events
    events = tables.connection().client.meta.events
    emitters[id(events)] = events
    for events in emitters.values():
        events.register("before-call.dynamodb", count, unique_id="count-requests")
    try:
        desk.ok(desk.transition("tencent", second["tencent"], {"action": "acknowledge"}))
        hot = Counter(calls)
        calls.clear()
        desk.ok(desk.transition("tencent", second["tencent"], RESPOND))
        hot_respond = Counter(calls)
    finally:
        for events in emitters.values():
            events.unregister("before-call.dynamodb", unique_id="count-requests")

    for spent in (hot, hot_respond):
        reads = sum(n for op, n in spent.items() if op in READS)
        writes = {op: n for op, n in spent.items() if op in WRITES}
        assert set(spent) <= READS | WRITES, spent
        assert reads <= 1 and set(spent) & READS <= {"GetItem"}, spent
        assert writes == {"TransactWriteItems": 1}, spent


# -- following a dispute --------------------------------------------------------------------------
def test_the_person_sees_progress_their_own_deadline_and_the_ruling_first(desk: Desk):
    dispute_id, ids = desk.file("tencent", "jd")
    filed_at = clock.now()
    body = {"action": "request_user_action", "message": "请先用本号码登录该账号"}
    desk.ok(desk.transition("tencent", ids["tencent"], body), "awaiting_user")
    desk.drive("jd", ids["jd"], "escalated")
    r = desk.decide(ids["jd"], {"action": "close", "message": "经核实账号由本人注册"})
    desk.ok(r, "disputed_closed")

    read = desk.api.call("GET", f"/v1/disputes/{dispute_id}", token=desk.person())
    assert read.status_code == 200, read.body
    assert read.data["progress"] == {"cases": 2, "settled": 1, "resolved": 0}
    tencent, jd = read.data["cases"]
    assert tencent["action_on"] == "user"
    assert tencent["your_due_at"] == clock.iso(filed_at + timedelta(days=7))
    assert "your_due_at" not in jd
    assert jd["ruling"]["action"] == "close"
    assert jd["ruling"]["message"] == "经核实账号由本人注册"
    assert "ruling" not in tencent
    listed = desk.api.call("GET", "/v1/disputes", token=desk.person())
    assert listed.data["items"][0]["progress"] == read.data["progress"]


def test_misrouted_tells_the_person_why_and_reopen_takes_a_statement(desk: Desk):
    dispute_id, ids = desk.file("tencent", "jd")
    why = "该号码注册的是京东账号，已转京东处理"
    r = desk.transition(
        "tencent",
        ids["tencent"],
        {"action": "misrouted", "target_company": "baidu", "message": why},
    )
    desk.ok(r, "rerouted")
    desk.drive("jd", ids["jd"], "responded")
    statement = "我从未注册过这个账号，复查后数量仍是3"
    desk.ok(desk.act(ids["jd"], {"action": "reopen", "statement": statement}), "escalated")

    read = desk.api.call("GET", f"/v1/disputes/{dispute_id}", token=desk.person())
    trails = {c["case_id"]: c["history"] for c in read.data["cases"]}
    assert trails[ids["tencent"]][-1]["message"] == why
    assert trails[ids["jd"]][-1]["statement"] == statement
    operator_view = desk.staff_case(ids["jd"])
    assert operator_view["history"][-1]["statement"] == statement
