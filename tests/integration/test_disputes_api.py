"""Filing and reading disputes over HTTP (docs/design.md §3, §6): cases, triage, one-open-case rule,
idempotency, ownership and authentication; what is stored is read back with boto3 scans."""

from __future__ import annotations

import json
import re

from chalicelib.domain import clock
from tests.integration.helpers import (
    ACTIVE_ID,
    ACTIVE_PHONE,
    SECOND_ID,
    SECOND_PHONE,
    UNICOM_ID,
    UNICOM_PHONE,
    assert_problem,
    count,
    header,
    item,
    scan,
    snapshot,
)
from tests.support import Api

DISPUTES = "/v1/disputes"
CASE_ID = re.compile(r"^C[0-9A-HJKMNP-TV-Z]{9}$")
DISPUTE_ID = re.compile(r"^D[0-9A-HJKMNP-TV-Z]{9}$")
CARRIER_NAMES = ("中国移动", "中国联通", "中国电信", "中国广电")


def _file(api: Api, token: str, items: list[dict], kind: str | None = None, key: str | None = None):
    body: dict = {"items": items}
    if kind is not None:
        body["kind"] = kind
    headers = {"Idempotency-Key": key} if key else None
    return api.call("POST", DISPUTES, body, token=token, headers=headers)


def _stored(world) -> dict[str, int]:
    return {base: count(world, base) for base in ("disputes", "cases", "events", "outbox")}


def test_filing_opens_a_case_per_company_with_next_steps(client, world, frozen_clock):
    api = Api(client, frozen_clock)
    token = api.sign_in(ACTIVE_PHONE, ACTIVE_ID)
    now = clock.iso(clock.now())
    items = [
        item("tencent", 5, 1, "not_mine"),
        item("alibaba", 0, 2, "count_too_low"),
        item("jd", 2, 0, "family_use", note="家里老人在用"),
    ]
    r = _file(api, token, items)
    assert r.status_code == 201, r.body
    dispute_id = r.data["dispute_id"]
    assert DISPUTE_ID.match(dispute_id), dispute_id
    assert header(r, "Location") == f"/v1/disputes/{dispute_id}"
    cases = r.data["cases"]
    assert [c["company"] for c in cases] == ["tencent", "alibaba", "jd"]
    assert len({c["case_id"] for c in cases}) == 3
    for case, sent in zip(cases, items, strict=True):
        assert CASE_ID.match(case["case_id"]), case["case_id"]
        assert case["state"] == "submitted"
        assert case["action_on"] == "company"
        assert case["version"] == 1
        assert case["reported_count"] == sent["reported_count"]
        assert case["expected_count"] == sent["expected_count"]
        assert case["lane"] == "standard"
        assert re.fullmatch(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z", case["due_at"])
        assert case["due_at"] > now
        steps = case["next_steps"]
        assert steps["company"] == sent["company"]
        assert steps["detail_query"]["steps"] and all(
            isinstance(s, str) and s for s in steps["detail_query"]["steps"]
        )
        assert steps["unbind"]["steps"]
        assert "number" in steps["hotline"]
        assert isinstance(steps["identity_verification"]["required"], bool)
        assert "number_renewal_first" not in steps  # no recycled_number item here
    assert cases[2].get("note") == "家里老人在用"

    # What was stored: one dispute, a case and a 'file' event per company, one receipt.
    assert _stored(world) == {"disputes": 1, "cases": 3, "events": 3, "outbox": 1}

    # The owner reads it back with each case's history.
    got = api.call("GET", f"{DISPUTES}/{dispute_id}", token=token)
    assert got.status_code == 200, got.body
    assert got.data["dispute_id"] == dispute_id
    assert got.data["phone_masked"] == "138****8000"
    assert [c["case_id"] for c in got.data["cases"]] == [c["case_id"] for c in cases]
    for case in got.data["cases"]:
        assert case["state"] == "submitted" and case["version"] == 1
        assert [(e["action"], e["actor"], e["to"], e["version"]) for e in case["history"]] == [
            ("file", "user", "submitted", 1)
        ]
        assert "next_steps" in case
    listed = api.call("GET", DISPUTES, token=token)
    assert listed.status_code == 200
    assert [d["dispute_id"] for d in listed.data["items"]] == [dispute_id]
    assert len(listed.data["items"][0]["cases"]) == 3


def test_recycled_number_goes_first_to_the_numbers_carrier(client, frozen_clock):
    api = Api(client, frozen_clock)
    for phone, id6, carrier in (
        (ACTIVE_PHONE, ACTIVE_ID, "中国移动"),
        (UNICOM_PHONE, UNICOM_ID, "中国联通"),
    ):
        token = api.sign_in(phone, id6)
        r = _file(api, token, [item("tencent", 4, 0, "recycled_number"), item("baidu", 2, 0)])
        assert r.status_code == 201, r.body
        recycled, plain = r.data["cases"]
        routes = recycled["next_steps"]["number_renewal_first"]
        assert len(routes) == 1, routes  # the number's own carrier, not every carrier
        route = routes[0]
        assert route["name"] == "二次号码焕新"
        assert route["steps"]
        text = json.dumps(route, ensure_ascii=False)
        assert carrier in text, (carrier, text)
        assert [c for c in CARRIER_NAMES if c != carrier and c in text] == []
        # The company case is opened alongside.
        assert recycled["company"] == "tencent" and recycled["state"] == "submitted"
        assert "number_renewal_first" not in plain["next_steps"]


def test_fraud_suspected_takes_the_fraud_lane(client, frozen_clock):
    api = Api(client, frozen_clock)
    token = api.sign_in(ACTIVE_PHONE, ACTIVE_ID)
    r = _file(api, token, [item("tencent", 3, 0, "not_mine"), item("jd", 6, 0, "fraud_suspected")])
    assert r.status_code == 201, r.body
    standard, fraud = r.data["cases"]
    assert standard["lane"] == "standard"
    assert fraud["lane"] == "fraud"
    assert clock.parse_iso(fraud["due_at"]) < clock.parse_iso(standard["due_at"])
    fraud_advice = json.dumps(fraud["next_steps"]["advice"], ensure_ascii=False)
    assert "96110" in fraud_advice, fraud_advice
    assert "96110" not in json.dumps(standard["next_steps"], ensure_ascii=False)


def test_sim_card_disputes_name_carriers(client, world, frozen_clock):
    api = Api(client, frozen_clock)
    token = api.sign_in(ACTIVE_PHONE, ACTIVE_ID)
    r = _file(
        api, token, [item("china_mobile", 3, 1), item("china_unicom", 1, 0)], kind="sim_cards"
    )
    assert r.status_code == 201, r.body
    assert r.data["kind"] == "sim_cards"
    assert [c["company"] for c in r.data["cases"]] == ["china_mobile", "china_unicom"]
    assert all(c["kind"] == "sim_cards" for c in r.data["cases"])

    before = _stored(world)
    bad = _file(api, token, [item("china_telecom", 2, 1), item("tencent", 3, 1)], kind="sim_cards")
    assert_problem(bad, 422, "validation_failed", field="items[1].company")
    bad = _file(api, token, [item("china_telecom", 2, 1)])  # a carrier under kind accounts
    assert_problem(bad, 422, "validation_failed", field="items[0].company")
    assert _stored(world) == before


def test_rejected_filings_store_nothing(client, world, frozen_clock):
    api = Api(client, frozen_clock)
    token = api.sign_in(ACTIVE_PHONE, ACTIVE_ID)

    same = _file(api, token, [item("tencent", 2, 1), item("baidu", 3, 3)])
    body = assert_problem(same, 422, "no_discrepancy")
    assert [e["field"] for e in body.get("errors", [])] == ["items[1].expected_count"]

    twice = _file(api, token, [item("tencent", 2, 1), item("tencent", 5, 0, "fraud_suspected")])
    assert_problem(twice, 422, "validation_failed", field="items[1].company")

    unknown = _file(api, token, [item("myspace", 2, 1)])
    assert_problem(unknown, 422, "validation_failed", field="items[0].company")

    assert _stored(world) == {"disputes": 0, "cases": 0, "events": 0, "outbox": 0}
    assert [i for i in scan(world, "guards") if i["pk"]["S"].startswith("open#")] == []


def test_one_open_case_per_number_and_company(client, world, frozen_clock):
    api = Api(client, frozen_clock)
    token = api.sign_in(ACTIVE_PHONE, ACTIVE_ID)
    first = _file(api, token, [item("tencent", 3, 1)])
    assert first.status_code == 201, first.body
    existing = first.data["cases"][0]["case_id"]
    before = snapshot(world)

    again = _file(api, token, [item("baidu", 2, 0), item("tencent", 9, 0, "fraud_suspected")])
    body = assert_problem(again, 409, "case_already_open")
    assert existing in body["detail"], body
    assert body.get("existing_case_id") == existing
    assert body.get("company") == "tencent"
    # Nothing of the refused filing was stored, not even the baidu case.
    assert snapshot(world) == before
    assert _stored(world) == {"disputes": 1, "cases": 1, "events": 1, "outbox": 1}
    opens = [i for i in scan(world, "guards") if i["pk"]["S"].startswith("open#")]
    assert len(opens) == 1

    # Another number may open a tencent case, and this number another company's.
    other = api.sign_in(SECOND_PHONE, SECOND_ID)
    assert _file(api, other, [item("tencent", 3, 1)]).status_code == 201
    assert _file(api, token, [item("baidu", 2, 0)]).status_code == 201
    assert _stored(world) == {"disputes": 3, "cases": 3, "events": 3, "outbox": 3}


def test_idempotency_key_replays_the_first_response(client, world, frozen_clock):
    api = Api(client, frozen_clock)
    token = api.sign_in(ACTIVE_PHONE, ACTIVE_ID)
    items = [item("kuaishou", 4, 1), item("douyin", 2, 0, "fraud_suspected")]
    first = _file(api, token, items, key="file-2026-11-27-a")
    assert first.status_code == 201, first.body
    frozen_clock.advance(minutes=10)
    replay = _file(api, token, items, key="file-2026-11-27-a")
    assert replay.status_code == 201, replay.body
    assert replay.data == first.data  # the same dispute_id, cases and due dates
    assert header(replay, "Location") == header(first, "Location")
    assert _stored(world) == {"disputes": 1, "cases": 2, "events": 2, "outbox": 1}

    # Same key, another body: refused, nothing stored.
    other = _file(api, token, [item("kuaishou", 4, 2)], key="file-2026-11-27-a")
    assert_problem(other, 422, "idempotency_key_reused")
    # Key order in the JSON is not a different body.
    reordered = {"items": [dict(reversed(list(i.items()))) for i in items]}
    r = api.call(
        "POST", DISPUTES, reordered, token=token, headers={"Idempotency-Key": "file-2026-11-27-a"}
    )
    assert r.status_code == 201 and r.data["dispute_id"] == first.data["dispute_id"], r.body
    assert _stored(world) == {"disputes": 1, "cases": 2, "events": 2, "outbox": 1}

    # A key is per person: another number's filing under the same key is its own.
    other_token = api.sign_in(SECOND_PHONE, SECOND_ID)
    mine = _file(api, other_token, items, key="file-2026-11-27-a")
    assert mine.status_code == 201, mine.body
    assert mine.data["dispute_id"] != first.data["dispute_id"]
    assert _stored(world) == {"disputes": 2, "cases": 4, "events": 4, "outbox": 2}

    # Unusable keys are refused before anything happens.
    for bad in ("x" * 129, "clé-é"):
        assert_problem(_file(api, token, [item("meituan", 2, 1)], key=bad), 422)
    assert _stored(world)["disputes"] == 2


def test_people_see_only_their_own_disputes(client, world, frozen_clock):
    api = Api(client, frozen_clock)
    mine = api.sign_in(ACTIVE_PHONE, ACTIVE_ID)
    theirs = api.sign_in(SECOND_PHONE, SECOND_ID)
    a1 = _file(api, mine, [item("tencent", 2, 1)]).data["dispute_id"]
    frozen_clock.advance(seconds=5)
    a2 = _file(api, mine, [item("baidu", 2, 1), item("jd", 4, 1)]).data["dispute_id"]
    b1 = _file(api, theirs, [item("tencent", 7, 0)]).data["dispute_id"]

    listed = api.call("GET", DISPUTES, token=mine)
    assert listed.status_code == 200
    assert {d["dispute_id"] for d in listed.data["items"]} == {a1, a2}
    listed = api.call("GET", DISPUTES, token=theirs)
    assert [d["dispute_id"] for d in listed.data["items"]] == [b1]

    own = api.call("GET", f"{DISPUTES}/{a2}", token=mine)
    assert own.status_code == 200
    assert [len(c["history"]) for c in own.data["cases"]] == [1, 1]
    assert all(c["history"][0]["action"] == "file" for c in own.data["cases"])

    # Someone else's dispute is as absent as one that does not exist.
    foreign = api.call("GET", f"{DISPUTES}/{b1}", token=mine)
    missing = api.call("GET", f"{DISPUTES}/DZZZZZZZZZ", token=mine)
    assert_problem(foreign, 404, "not_found")
    assert_problem(missing, 404, "not_found")
    assert foreign.data == missing.data
    for garbage in (
        "x",
        "%20",
        "D" + "9" * 600,
        "..",
        "%E4%B8%AD%E6%96%87",
        "a%2Fb",
        "'%20OR%201=1",
    ):
        assert_problem(api.call("GET", f"{DISPUTES}/{garbage}", token=mine), 404, "not_found")


def test_no_invalid_or_expired_token_is_401(client, world, frozen_clock):
    api = Api(client, frozen_clock)
    token = api.sign_in(ACTIVE_PHONE, ACTIVE_ID)
    dispute_id = _file(api, token, [item("tencent", 2, 1)]).data["dispute_id"]
    before = _stored(world)
    head, kid, payload, sig = token.split(".")
    tampered = f"{head}.{kid}.{payload}.{'A' if sig[0] != 'A' else 'B'}{sig[1:]}"
    bad_headers = [
        {},
        {"Authorization": "Bearer"},
        {"Authorization": "Bearer not-a-token"},
        {"Authorization": f"Basic {token}"},
        {"Authorization": f"Bearer {tampered}"},
        {"Authorization": f"Bearer {token}x"},
        {"Authorization": "Bearer " + "v1." * 400},
    ]
    requests = [
        ("GET", DISPUTES, None),
        ("GET", f"{DISPUTES}/{dispute_id}", None),
        ("POST", DISPUTES, {"items": [item("baidu", 2, 1)]}),
    ]
    for headers in bad_headers:
        for method, path, body in requests:
            r = api.call(method, path, body, headers=headers)
            assert_problem(r, 401, "unauthenticated")
            assert header(r, "WWW-Authenticate"), (headers, r.headers)

    # A token stops working when it expires (30 minutes).
    frozen_clock.advance(seconds=1800 - 61 - 1)  # sign_in already moved the clock 61 s
    assert api.call("GET", DISPUTES, token=token).status_code == 200
    frozen_clock.advance(seconds=2)
    for method, path, body in requests:
        assert_problem(api.call(method, path, body, token=token), 401, "unauthenticated")
    assert _stored(world) == before


def test_each_dispute_writes_one_receipt_to_the_outbox(client, world, frozen_clock):
    api = Api(client, frozen_clock)
    token = api.sign_in(ACTIVE_PHONE, ACTIVE_ID)
    ids = []
    for items in (
        [item("tencent", 2, 1)],
        [item("baidu", 3, 1), item("jd", 1, 0), item("alipay", 2, 0)],
    ):
        r = _file(api, token, items, key=f"k-{len(ids)}")
        assert r.status_code == 201, r.body
        ids.append(r.data["dispute_id"])
        _file(api, token, items, key=f"k-{len(ids) - 1}")  # a replay sends no second receipt
    outbox = scan(world, "outbox")
    assert sorted(m["dispute_id"]["S"] for m in outbox) == sorted(ids)
    for message in outbox:
        assert message["template"]["S"] == "dispute_receipt"
        assert message["status"]["S"] == "pending"
        assert message["notify"]["S"] == "self"
        assert message["phone_cipher"]["S"]
    by_dispute = {m["dispute_id"]["S"]: json.loads(m["variables"]["S"]) for m in outbox}
    assert by_dispute[ids[0]]["case_count"] == 1
    assert by_dispute[ids[1]]["case_count"] == 3


def test_next_steps_and_advice_are_the_same_on_every_read(client, frozen_clock):
    """The 96110 advice and the carrier's 二次号码焕新 step do not vanish after filing."""
    api = Api(client, frozen_clock)
    token = api.sign_in(ACTIVE_PHONE, ACTIVE_ID)
    items = [item("tencent", 4, 0, "recycled_number"), item("jd", 6, 0, "fraud_suspected")]
    filed = _file(api, token, items)
    assert filed.status_code == 201, filed.body
    read = api.call("GET", f"{DISPUTES}/{filed.data['dispute_id']}", token=token)
    assert read.status_code == 200, read.body
    for at_filing, on_read in zip(filed.data["cases"], read.data["cases"], strict=True):
        assert on_read["next_steps"] == at_filing["next_steps"], at_filing["company"]
    recycled, fraud = read.data["cases"]
    assert recycled["next_steps"]["number_renewal_first"]
    assert "96110" in json.dumps(fraud["next_steps"]["advice"], ensure_ascii=False)
    assert (
        read.data["progress"]
        == filed.data["progress"]
        == {
            "cases": 2,
            "settled": 0,
            "resolved": 0,
        }
    )


def test_a_pasted_result_is_read_back_to_prefill_and_never_stored(client, world, frozen_clock):
    api = Api(client, frozen_clock)
    token = api.sign_in(ACTIVE_PHONE, ACTIVE_ID)
    before = snapshot(world)
    text = "您的号码13800138000注册了：腾讯（微信、QQ）3个，京东1个，美团0个。"
    r = api.call("POST", "/v1/check-results", {"text": text}, token=token)
    assert r.status_code == 200, r.body
    assert r.data == {
        "kind": "accounts",
        "items": [
            {"company": "tencent", "reported_count": 3, "matched": "腾讯（微信、QQ）3个"},
            {"company": "jd", "reported_count": 1, "matched": "京东1个"},
            {"company": "meituan", "reported_count": 0, "matched": "美团0个"},
        ],
    }
    unknown = api.call("POST", "/v1/check-results", {"text": "今天天气不错"}, token=token)
    assert (unknown.status_code, unknown.data) == (200, {"kind": None, "items": []})
    assert snapshot(world) == before
    assert api.call("POST", "/v1/check-results", {"text": text}).status_code == 401
    r = api.call("POST", "/v1/check-results", {"text": "x" * 1001}, token=token)
    assert_problem(r, 422, "validation_failed")
