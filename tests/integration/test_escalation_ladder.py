"""Escalated cases name the next step outside recount, per kind and lane (issue 5 ladder)."""

from chalicelib import config
from chalicelib.services import keys, scheduler
from tests.conftest import DEMO
from tests.support import Api


def _escalate(api: Api, frozen_clock, items: list[dict], kind: str = "accounts") -> dict:
    token = api.sign_in(DEMO["active"][0], DEMO["active"][1])
    r = api.call("POST", "/v1/disputes", {"kind": kind, "items": items}, token=token)
    assert r.status_code == 201, r.body
    frozen_clock.advance(days=14)  # past every acknowledgement deadline
    token = api.sign_in(DEMO["active"][0], DEMO["active"][1])
    scheduler.tick(config.settings())
    r = api.call("GET", f"/v1/disputes/{r.data['dispute_id']}", token=token)
    assert {c["state"] for c in r.data["cases"]} == {"escalated"}
    return {c["company"]: c for c in r.data["cases"]}


def test_escalated_cases_name_their_outside_step(client, frozen_clock):
    api = Api(client, frozen_clock)
    cases = _escalate(
        api,
        frozen_clock,
        [
            {"company": "jd", "reported_count": 3, "expected_count": 1, "reason": "not_mine"},
            {
                "company": "kuaishou",
                "reported_count": 2,
                "expected_count": 0,
                "reason": "fraud_suspected",
            },
        ],
    )
    assert cases["jd"]["outside_step"]["code"] == "complain_national"
    assert "投诉一证通查" in cases["jd"]["outside_step"]["text"]
    assert cases["kuaishou"]["outside_step"]["code"] == "report_fraud"
    assert "96110" in cases["kuaishou"]["outside_step"]["text"]


def test_a_carrier_case_points_to_12300(client, frozen_clock):
    api = Api(client, frozen_clock)
    cases = _escalate(
        api,
        frozen_clock,
        [
            {
                "company": "china_mobile",
                "reported_count": 3,
                "expected_count": 1,
                "reason": "not_mine",
            }
        ],
        kind="sim_cards",
    )
    assert cases["china_mobile"]["outside_step"]["code"] == "complain_12300"


def test_open_cases_before_escalation_carry_no_outside_step(client, frozen_clock):
    api = Api(client, frozen_clock)
    token = api.sign_in(DEMO["active"][0], DEMO["active"][1])
    body = {
        "items": [{"company": "jd", "reported_count": 3, "expected_count": 1, "reason": "not_mine"}]
    }
    r = api.call("POST", "/v1/disputes", body, token=token)
    case = r.data["cases"][0]
    assert "outside_step" not in case
    key = keys.issue("liaison", "jd")["key"]
    r = api.call(
        "POST",
        f"/v1/liaison/cases/{case['case_id']}/transitions",
        {"action": "acknowledge"},
        token=key,
    )
    assert r.status_code == 200
    r = api.call("GET", f"/v1/disputes/{case['dispute_id']}", token=token)
    assert "outside_step" not in r.data["cases"][0]
