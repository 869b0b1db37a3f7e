"""Filing again after a resolution (issue 16 item 9, docs/design.md §4 "Refiling"): on the fraud
lane, a filing against a company whose case for the same number was resolved less than 30
days ago takes that case up again. The resolved case stays terminal (SPEC §4); the new case
links it (`reopened_from`) and opens with the anti-fraud centre, as a reopened case would."""

from __future__ import annotations

import pytest

from chalicelib.domain import clock, timers
from chalicelib.domain.workflow import load_workflow
from chalicelib.services import scheduler
from tests.integration.helpers import scan
from tests.integration.test_case_actions import RESPOND, Desk
from tests.integration.test_request_counts import WRITES, DynamoCalls, warm_webhook_subscriptions


@pytest.fixture
def desk(client, frozen_clock, world) -> Desk:
    return Desk(client, frozen_clock, world)


def resolve(desk: Desk, company: str = "tencent", reason: str = "fraud_suspected") -> str:
    """A case filed, answered by the company and confirmed by the person: resolved."""
    _, ids = desk.file(company, reason=reason)
    desk.ok(desk.transition(company, ids[company], RESPOND), "responded")
    desk.ok(desk.act(ids[company], {"action": "confirm", "new_count": 1}), "resolved")
    return ids[company]


def later(desk: Desk, **delta: float) -> None:
    desk.clock.advance(**delta)
    desk.persons.clear()  # sessions last 30 minutes: sign in again


def refile(desk: Desk, company: str = "tencent", reason: str = "fraud_suspected") -> dict:
    r = desk.api.call(
        "POST",
        "/v1/disputes",
        {
            "items": [
                {"company": company, "reported_count": 3, "expected_count": 1, "reason": reason}
            ]
        },
        token=desk.person(),
    )
    assert r.status_code == 201, r.body
    (case,) = r.data["cases"]
    return case


def remembered(desk: Desk) -> list[dict]:
    return [g for g in scan(desk.settings, "guards") if g["pk"]["S"].startswith("resolved#")]


def test_a_fraud_refiling_within_30_days_takes_the_resolved_case_up_again(desk: Desk):
    old = resolve(desk)
    later(desk, days=29, hours=23)
    case = refile(desk)
    now = clock.now()
    followup = clock.iso(timers.due_after(now, load_workflow().timers["operator_followup"].after))

    assert case["reopened_from"] == old
    assert (case["state"], case["action_on"]) == ("escalated", "operator")
    assert case["due_at"] == followup  # the operators' follow-up, at once
    assert case["outside_step"]["code"] == "report_fraud"  # 96110, as on any escalated case
    # Everyone sees the link; the resolved case is untouched (no action leaves it).
    for seen in (desk.staff_case(case["case_id"]), desk.staff_case(case["case_id"], "tencent")):
        assert seen["reopened_from"] == old
        assert [(e["action"], e["from"], e["to"]) for e in seen["history"]] == [
            ("file", None, "escalated")
        ]
    assert desk.staff_case(old)["state"] == "resolved"
    # The operators find it where escalations wait; the company may still answer it.
    r = desk.api.call("GET", "/v1/admin/cases?state=escalated", token=desk.operator)
    assert [c["case_id"] for c in r.data["items"]] == [case["case_id"]]
    assert "respond" in desk.staff_case(case["case_id"], "tencent")["allowed_actions"]
    # Used once: the record that led here is gone with the filing.
    assert remembered(desk) == []


def test_the_window_is_30_days_and_only_the_fraud_lane_reopens(desk: Desk):
    old = resolve(desk, reason="not_mine")  # any resolved case counts, whatever its lane
    later(desk, days=1)
    standard = refile(desk, reason="not_mine")
    assert (standard["state"], standard.get("reopened_from")) == ("submitted", None)
    desk.ok(desk.act(standard["case_id"], {"action": "withdraw"}), "withdrawn")
    assert [g["ref"]["S"] for g in remembered(desk)] == [old]  # a standard filing leaves it

    later(desk, days=29, seconds=1)  # 30 days and a second after the resolution
    late = refile(desk)
    assert (late["state"], late.get("reopened_from")) == ("submitted", None)
    assert late["lane"] == "fraud"


def test_only_the_company_that_resolved_it_and_only_that_number(desk: Desk):
    old = resolve(desk, "jd")
    later(desk, days=2)
    other_company = refile(desk, "tencent")
    assert other_company.get("reopened_from") is None
    r = desk.api.call(
        "POST",
        "/v1/disputes",
        {
            "items": [
                {
                    "company": "jd",
                    "reported_count": 3,
                    "expected_count": 1,
                    "reason": "fraud_suspected",
                }
            ]
        },
        token=desk.person("second"),
    )
    assert r.status_code == 201 and "reopened_from" not in r.data["cases"][0], r.body
    assert refile(desk, "jd")["reopened_from"] == old


def test_a_case_resolved_by_silence_is_taken_up_again_too(desk: Desk):
    _, ids = desk.file("meituan", reason="fraud_suspected")
    desk.ok(desk.transition("meituan", ids["meituan"], RESPOND), "responded")
    later(desk, days=15, seconds=1)
    scheduler.tick(desk.settings)
    assert desk.staff_case(ids["meituan"])["state"] == "resolved"  # auto_resolve
    later(desk, days=3)
    assert refile(desk, "meituan")["reopened_from"] == ids["meituan"]


def test_a_reopened_case_resolved_again_is_remembered_again(desk: Desk):
    first = resolve(desk)
    later(desk, days=3)
    again = refile(desk)
    desk.ok(desk.transition("tencent", again["case_id"], RESPOND), "responded")
    desk.ok(desk.act(again["case_id"], {"action": "confirm", "new_count": 1}), "resolved")
    later(desk, days=3)
    third = refile(desk)
    assert third["reopened_from"] == again["case_id"] != first


def test_erasing_the_dispute_forgets_its_resolution(desk: Desk):
    """docs/design.md §8: erasure leaves nothing naming the case, so nothing reopens it."""
    old = resolve(desk)
    dispute_id = desk.staff_case(old)["dispute_id"]
    r = desk.api.call("DELETE", f"/v1/disputes/{dispute_id}", token=desk.person())
    assert r.status_code == 204, r.body
    assert remembered(desk) == []
    later(desk, days=1)
    assert refile(desk).get("reopened_from") is None


def test_what_a_fraud_filing_and_a_resolution_cost(desk: Desk):
    """One BatchGetItem for the fraud-lane items' records (none without one), the filing still
    one transaction; a resolution writes its record in the transaction that settles it."""
    desk.person()
    desk.person("second")
    warm_webhook_subscriptions()
    calls = DynamoCalls()
    try:
        ops, sizes, r = calls.measure(
            lambda: desk.api.call(
                "POST",
                "/v1/disputes",
                {
                    "items": [
                        {
                            "company": c,
                            "reported_count": 3,
                            "expected_count": 1,
                            "reason": "fraud_suspected",
                        }
                        for c in ("tencent", "jd")
                    ]
                },
                token=desk.person(),
            )
        )
        assert r.status_code == 201, r.body
        assert {op: n for op, n in ops.items() if op in WRITES} == {"TransactWriteItems": 1}
        assert ops["BatchGetItem"] == 1 and ops["GetItem"] == 1 and "Scan" not in ops, ops
        assert sizes == [1 + 3 * 2 + 1]

        tencent = r.data["cases"][0]["case_id"]
        desk.ok(desk.transition("tencent", tencent, RESPOND), "responded")
        ops, sizes, r = calls.measure(
            lambda: desk.act(tencent, {"action": "confirm", "new_count": 1})
        )
        desk.ok(r, "resolved")
        # The record rides in the settling transaction (tried twice: the dispute's count of
        # open cases decides which of its two updates applies), never a write of its own.
        assert {op for op in ops if op in WRITES} == {"TransactWriteItems"}, ops

        later(desk, days=1)
        desk.person()
        ops, sizes, r = calls.measure(
            lambda: desk.api.call(
                "POST",
                "/v1/disputes",
                {
                    "items": [
                        {
                            "company": "tencent",
                            "reported_count": 3,
                            "expected_count": 1,
                            "reason": "fraud_suspected",
                        }
                    ]
                },
                token=desk.person(),
            )
        )
        assert r.data["cases"][0]["reopened_from"] == tencent
        assert sizes == [1 + 3 + 1 + 1]  # ... and the record it used up, deleted

        ops, _, r = calls.measure(
            lambda: desk.api.call(
                "POST",
                "/v1/disputes",
                {
                    "items": [
                        {
                            "company": "baidu",
                            "reported_count": 3,
                            "expected_count": 1,
                            "reason": "not_mine",
                        }
                    ]
                },
                token=desk.person("second"),
            )
        )
        assert r.status_code == 201 and "BatchGetItem" not in ops, ops
    finally:
        calls.unhook()


def test_the_window_is_measured_from_the_resolution_not_the_filing(desk: Desk):
    _, ids = desk.file("kuaishou", reason="fraud_suspected")
    later(desk, days=20)
    desk.ok(desk.transition("kuaishou", ids["kuaishou"], RESPOND), "responded")
    desk.ok(desk.act(ids["kuaishou"], {"action": "confirm", "new_count": 1}), "resolved")
    later(desk, days=25)  # 45 days after filing, 25 after the resolution
    assert refile(desk, "kuaishou")["reopened_from"] == ids["kuaishou"]


def test_expiry_is_read_not_waited_for(desk: Desk):
    """moto never deletes an expired record: the read treats it as absent."""
    resolve(desk, "alipay")
    later(desk, days=31)
    assert [g["pk"]["S"].split("#")[-1] for g in remembered(desk)] == ["alipay"]
    assert refile(desk, "alipay").get("reopened_from") is None
