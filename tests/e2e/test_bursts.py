"""Promises that must hold under bursts of parallel requests, through real HTTP against the
`make run` stack (issue 13): one open case per number and company, one dispute per
Idempotency-Key, at most 3 tries per code, one code a minute, and no connection reset.

`make conformance` runs these again with DynamoDB on AWS DynamoDB Local.
Each test uses a number of its own (enrolled here), so the journeys' numbers stay untouched.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import boto3
import pytest

from tests.e2e.conftest import Stack, running_stack

BURST = 24
REGION = "ap-east-1"
# A burst queues behind moto's one-request-at-a-time DynamoDB: allow it time (bounded).
WAIT_S = 60


@pytest.fixture(scope="module")
def stack(tmp_path_factory) -> Iterator[Stack]:
    """A stack of their own: the bursts spend 127.0.0.1's hourly allowance of codes, which
    the journeys' stack needs."""
    with running_stack(tmp_path_factory.mktemp("burst-stack")) as running:
        yield running


def burst(call: Callable[[int], Any], size: int = BURST) -> list[Any]:
    """`size` calls released at once (a barrier), each on its own connection."""
    start = threading.Barrier(size)

    def one(n: int) -> Any:
        start.wait(timeout=30)
        return call(n)

    with ThreadPoolExecutor(size) as pool:
        return list(pool.map(one, range(size)))  # a reset connection raises here


def enrol(phone: str, id_last6: str) -> None:
    from chalicelib import config
    from chalicelib.adapters.registry import registry

    registry(config.settings()).enrol("+86" + phone, id_last6, "active", "China Mobile")


def table_items(base: str, prefix: str) -> list[dict[str, Any]]:
    """Every item of a table whose key starts with `prefix` (tests may Scan)."""
    from chalicelib import config

    name = config.settings().table_name(base)
    ddb = boto3.client("dynamodb", region_name=REGION)
    items = []
    for page in ddb.get_paginator("scan").paginate(TableName=name, ConsistentRead=True):
        items += page["Items"]
    key = {"cases": "case_id", "disputes": "dispute_id", "guards": "pk", "events": "case_id"}[base]
    return [i for i in items if i[key]["S"].startswith(prefix)]


def last_code(stack: Stack, phone: str) -> str:
    status, body, _ = stack.call("GET", f"/dev/sms?phone={phone}")
    assert status == 200, body
    texts = [m["body"] for m in body["messages"] if "验证码" in m["body"]]
    assert texts, body
    return texts[-1].split("验证码", 1)[1][:6]


def sign_in(stack: Stack, phone: str, id_last6: str) -> str:
    status, body, _ = stack.call("POST", "/v1/verification-codes", {"phone": phone})
    assert status == 202, body
    code = last_code(stack, phone)
    status, body, _ = stack.call(
        "POST", "/v1/sessions", {"phone": phone, "id_last6": id_last6, "code": code}
    )
    assert status == 201, body
    return body["token"]


ITEM = {"company": "jd", "reported_count": 3, "expected_count": 1, "reason": "not_mine"}


def test_identical_filings_open_exactly_one_case(stack: Stack):
    phone, id6 = "13600136001", "24680X"
    enrol(phone, id6)
    token = sign_in(stack, phone, id6)
    answers = burst(
        lambda n: stack.call("POST", "/v1/disputes", {"items": [ITEM]}, token, timeout=WAIT_S)
    )
    created = [body for status, body, _ in answers if status == 201]
    assert len(created) == 1, [(s, b.get("code")) for s, b, _ in answers]
    (case,) = created[0]["cases"]
    refused = [body for status, body, _ in answers if status != 201]
    assert all(b["code"] == "case_already_open" for b in refused), refused
    assert all(b["existing_case_id"] == case["case_id"] for b in refused)
    status, mine, _ = stack.call("GET", f"/v1/disputes/{created[0]['dispute_id']}", token=token)
    assert status == 200 and [c["case_id"] for c in mine["cases"]] == [case["case_id"]]
    status, listed, _ = stack.call("GET", "/v1/disputes", token=token)
    assert [d["dispute_id"] for d in listed["items"]] == [created[0]["dispute_id"]]
    # One case, one lock, one opening event: nothing a loser wrote survived.
    assert len(table_items("cases", case["case_id"])) == 1
    assert len(table_items("events", case["case_id"])) == 1
    key = table_items("cases", case["case_id"])[0]["phone_key"]["S"]
    assert len(table_items("guards", f"open#{key}#")) == 1
    assert len(table_items("disputes", created[0]["dispute_id"])) == 1


def test_retries_with_one_idempotency_key_make_one_dispute(stack: Stack):
    phone, id6 = "13600136002", "13579X"
    enrol(phone, id6)
    token = sign_in(stack, phone, id6)
    body = {"items": [{**ITEM, "company": "meituan"}]}
    answers = burst(
        lambda n: stack.call(
            "POST", "/v1/disputes", body, token, timeout=WAIT_S, **{"Idempotency-Key": "once"}
        )
    )
    created = [b for status, b, _ in answers if status == 201]
    assert created, answers
    assert all(b == created[0] for b in created), "every 201 is the same replayed answer"
    for status, answer, headers in answers:
        if status != 201:
            assert (status, answer["code"]) == (409, "request_in_flight"), answer
            assert headers["Retry-After"] == "1"
    status, replay, _ = stack.call(
        "POST", "/v1/disputes", body, token, **{"Idempotency-Key": "once"}
    )
    assert (status, replay) == (201, created[0])
    status, listed, _ = stack.call("GET", "/v1/disputes", token=token)
    assert [d["dispute_id"] for d in listed["items"]] == [created[0]["dispute_id"]]


def test_a_dispute_whose_cases_all_settle_at_once_still_ends(stack: Stack):
    """Every case of one dispute withdrawn at the same moment: exactly one of them is the
    last to settle, and the dispute gets its end (docs/design.md §8)."""
    phone, id6 = "13600136009", "97531X"
    enrol(phone, id6)
    token = sign_in(stack, phone, id6)
    companies = ["tencent", "alibaba", "alipay", "baidu", "kuaishou", "douyin", "jd", "meituan"]
    status, filed, _ = stack.call(
        "POST", "/v1/disputes", {"items": [{**ITEM, "company": c} for c in companies]}, token
    )
    assert status == 201, filed
    ids = [c["case_id"] for c in filed["cases"]]
    answers = burst(
        lambda n: stack.call(
            "POST", f"/v1/cases/{ids[n]}/actions", {"action": "withdraw"}, token, timeout=WAIT_S
        ),
        size=len(ids),
    )
    # A withdrawal that met another's transaction on the dispute item may be asked to retry.
    for n, (status, body, _) in enumerate(answers):
        while status == 503 and body.get("code") == "service_unavailable":
            status, body, _ = stack.call(
                "POST", f"/v1/cases/{ids[n]}/actions", {"action": "withdraw"}, token
            )
        assert (status, body.get("state")) == (200, "withdrawn"), body
    (dispute,) = table_items("disputes", filed["dispute_id"])
    assert dispute["open_cases"]["N"] == "0" and "expires_at" in dispute, dispute


def test_a_burst_of_wrong_codes_has_at_most_three_tries_per_code(stack: Stack):
    phone, id6 = "13600136003", "11223X"
    enrol(phone, id6)
    status, body, _ = stack.call("POST", "/v1/verification-codes", {"phone": phone})
    assert status == 202, body
    code = last_code(stack, phone)
    wrong = f"{(int(code) + 1) % 1_000_000:06d}"
    answers = burst(
        lambda n: stack.call(
            "POST", "/v1/sessions", {"phone": phone, "id_last6": id6, "code": wrong}, None, WAIT_S
        )
    )
    assert all(status == 401 for status, _, _ in answers), answers
    evaluated = [b for _, b, _ in answers if b["code"] == "verification_failed"]
    assert sorted(b["attempts_left"] for b in evaluated) == [0, 1, 2]  # three tries, no more
    assert all(b["code"] in ("verification_failed", "new_code_needed") for _, b, _ in answers)
    (record,) = table_items("guards", "code#" + _phone_key(phone))
    assert int(record["count"]["N"]) == 3
    # The right code is burned with the rest: a new one is needed.
    status, answer, _ = stack.call(
        "POST", "/v1/sessions", {"phone": phone, "id_last6": id6, "code": code}
    )
    assert (status, answer["code"]) == (401, "new_code_needed")


def test_guesses_without_a_code_lock_no_one_out(stack: Stack):
    phone, id6 = "13600136004", "99887X"
    enrol(phone, id6)
    guess = {"phone": phone, "id_last6": id6}
    guesses = burst(
        lambda n: stack.call("POST", "/v1/sessions", {**guess, "code": f"{n:06d}"}, None, WAIT_S),
        20,
    )
    assert {(s, b["code"]) for s, b, _ in guesses} == {(401, "new_code_needed")}
    assert table_items("guards", "code#" + _phone_key(phone)) == []  # nothing was written
    assert sign_in(stack, phone, id6).startswith("v2.")  # the owner signs in at once


def test_a_burst_of_code_requests_sends_one_code(stack: Stack):
    phone = "13600136005"
    enrol(phone, "55443X")
    answers = burst(
        lambda n: stack.call("POST", "/v1/verification-codes", {"phone": phone}, None, WAIT_S)
    )
    statuses = sorted(status for status, _, _ in answers)
    assert statuses == [202] + [429] * (BURST - 1), statuses
    assert {b["code"] for s, b, _ in answers if s == 429} == {"code_too_soon"}
    status, inbox, _ = stack.call("GET", f"/dev/sms?phone={phone}")
    assert status == 200
    assert len([m for m in inbox["messages"] if "验证码" in m["body"]]) == 1


def test_a_burst_of_64_connections_is_answered_without_a_reset(stack: Stack):
    answers = burst(lambda n: stack.call("GET", "/v1/healthz", timeout=WAIT_S), 64)
    assert [status for status, _, _ in answers] == [200] * 64


def _phone_key(phone: str) -> str:
    from chalicelib import config
    from chalicelib.domain.identity import phone_hmac

    return phone_hmac(config.settings().hmac_key, "+86" + phone)
