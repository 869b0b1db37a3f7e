"""Idempotency-Key on every POST that changes state (docs/design.md §6, issue 13): a retry replays
the first answer, headers included; the key with another request is 422; a key whose first
request is still running is 409 `request_in_flight` with Retry-After; a failed request gives
its key back. (The parallel bursts are in tests/e2e/test_bursts.py.)"""

from __future__ import annotations

from datetime import timedelta

from chalicelib.adapters import guards
from chalicelib.domain import clock
from chalicelib.domain.actors import Actor
from chalicelib.services import idempotency, keys
from tests.integration.helpers import (
    ACTIVE_ID,
    ACTIVE_PHONE,
    assert_problem,
    header,
    item,
    scan,
)
from tests.support import Api


def _file(api: Api, token: str, company: str = "jd", key: str = "k-1"):
    return api.call(
        "POST",
        "/v1/disputes",
        {"items": [item(company, 3, 1)]},
        token=token,
        headers={"Idempotency-Key": key},
    )


def test_a_liaison_transition_runs_once_and_replays_with_its_etag(client, world, frozen_clock):
    api = Api(client, frozen_clock)
    token = api.sign_in(ACTIVE_PHONE, ACTIVE_ID)
    case_id = _file(api, token).data["cases"][0]["case_id"]
    liaison = keys.issue("liaison", "jd", "idem test")["key"]
    path = f"/v1/liaison/cases/{case_id}/transitions"
    send = {"Idempotency-Key": "ack-1", "If-Match": '"1"'}
    first = api.call("POST", path, {"action": "acknowledge"}, token=liaison, headers=send)
    assert first.status_code == 200, first.body
    events = len(scan(world, "events"))
    again = api.call("POST", path, {"action": "acknowledge"}, token=liaison, headers=send)
    assert (again.status_code, again.data) == (200, first.data)
    assert header(again, "ETag") == header(first, "ETag") == '"2"'
    assert header(again, "Idempotent-Replayed") == "true"
    assert header(first, "Idempotent-Replayed") is None
    assert len(scan(world, "events")) == events  # nothing ran twice
    # Without the key the same request meets the case's new state.
    plain = api.call(
        "POST", path, {"action": "acknowledge"}, token=liaison, headers={"If-Match": '"2"'}
    )
    assert_problem(plain, 409, "invalid_transition")


def test_the_key_with_another_request_is_422(client, world, frozen_clock):
    api = Api(client, frozen_clock)
    token = api.sign_in(ACTIVE_PHONE, ACTIVE_ID)
    assert _file(api, token, "jd", "same").status_code == 201
    assert_problem(_file(api, token, "meituan", "same"), 422, "idempotency_key_reused")
    case_id = scan(world, "cases")[0]["case_id"]["S"]
    other_path = api.call(
        "POST",
        f"/v1/cases/{case_id}/actions",
        {"action": "withdraw"},
        token=token,
        headers={"Idempotency-Key": "same"},
    )
    assert_problem(other_path, 422, "idempotency_key_reused")


def test_a_key_whose_request_is_running_is_409_with_retry_after(client, world, frozen_clock):
    api = Api(client, frozen_clock)
    token = api.sign_in(ACTIVE_PHONE, ACTIVE_ID)
    first = _file(api, token, "jd", "running")
    assert first.status_code == 201
    # Another request holds a second key right now (its lease is live, no answer yet).
    case_id = first.data["cases"][0]["case_id"]
    body = {"action": "withdraw"}
    path = f"/v1/cases/{case_id}/actions"
    actor = Actor("user", phone_key=scan(world, "cases")[0]["phone_key"]["S"])
    claim = idempotency.begin(actor, "held", "POST", path, body, clock.now())
    assert isinstance(claim, idempotency.Claim)
    held = api.call("POST", path, body, token=token, headers={"Idempotency-Key": "held"})
    assert_problem(held, 409, "request_in_flight")
    assert header(held, "Retry-After") == "1"
    # A lease that lapsed (the first request died) lets a retry run.
    frozen_clock.advance(seconds=idempotency.LEASE.total_seconds() + 1)
    ran = api.call("POST", path, body, token=token, headers={"Idempotency-Key": "held"})
    assert ran.status_code == 200 and ran.data["state"] == "withdrawn", ran.body


def test_a_failed_request_gives_its_key_back(client, world, frozen_clock):
    api = Api(client, frozen_clock)
    token = api.sign_in(ACTIVE_PHONE, ACTIVE_ID)
    case_id = _file(api, token).data["cases"][0]["case_id"]
    path = f"/v1/cases/{case_id}/actions"
    send = {"Idempotency-Key": "retry-me", "If-Match": '"7"'}
    stale = api.call("POST", path, {"action": "withdraw"}, token=token, headers=send)
    assert_problem(stale, 412)
    claims = [g["pk"]["S"] for g in scan(world, "guards") if g["pk"]["S"].startswith("idem#")]
    assert not [pk for pk in claims if pk.endswith(_digest("retry-me"))]  # given back
    send["If-Match"] = '"1"'
    ok = api.call("POST", path, {"action": "withdraw"}, token=token, headers=send)
    assert ok.status_code == 200, ok.body


def test_answers_are_kept_24_hours(client, world, frozen_clock):
    api = Api(client, frozen_clock)
    token = api.sign_in(ACTIVE_PHONE, ACTIVE_ID)
    first = _file(api, token, "jd", "day")
    filed_at = clock.now()
    frozen_clock.advance(seconds=timedelta(hours=23, minutes=58).total_seconds())
    token = api.sign_in(ACTIVE_PHONE, ACTIVE_ID)  # the clock moves on a minute here
    assert clock.now() - filed_at < timedelta(hours=24)
    replay = _file(api, token, "jd", "day")
    assert (replay.status_code, replay.data) == (201, first.data)
    assert header(replay, "Location") == f"/v1/disputes/{first.data['dispute_id']}"
    frozen_clock.advance(seconds=120)
    token = api.sign_in(ACTIVE_PHONE, ACTIVE_ID)
    assert clock.now() - filed_at > timedelta(hours=24)
    assert_problem(_file(api, token, "jd", "day"), 409, "case_already_open")


def _digest(key: str) -> str:
    import hashlib

    return hashlib.sha256(key.encode()).hexdigest()


def test_a_claim_is_taken_once(world, frozen_clock):
    now = clock.now()
    later = now + timedelta(seconds=60)
    assert guards.claim("idem#x#1", "a", "d", now, later)
    assert not guards.claim("idem#x#1", "b", "d", now, later)
    assert guards.claim("idem#x#1", "c", "d", later + timedelta(seconds=1), later)
