"""Two writers, one case (docs/design.md §6): `version` is the ETag, a stale If-Match is 412, a race
that slips past the If-Match check still loses on the DynamoDB condition, leaving only the
winner's change, event and SMS behind."""

from __future__ import annotations

import json

import pytest

from chalicelib.adapters import case_store
from chalicelib.domain.actors import Actor
from chalicelib.domain.errors import Problem
from chalicelib.services import cases, keys
from tests.conftest import DEMO
from tests.integration.helpers import scan
from tests.support import Api

RESPOND = {"action": "respond", "response_code": "accounts_unbound", "message": "已解绑2个账号"}


class Scene:
    """A person with a two-company dispute, the tencent liaison and an operator."""

    def __init__(self, client, frozen_clock, settings) -> None:
        self.api = Api(client, frozen_clock)
        self.settings = settings
        self.person = self.api.sign_in(*DEMO["active"][:2])
        liaison = keys.issue("liaison", "tencent", "concurrency")
        self.liaison = liaison["key"]
        self.liaison_actor = Actor("liaison", company="tencent", key_id=liaison["key_id"])
        self.operator = keys.issue("operator", None, "concurrency")["key"]
        r = self.api.call(
            "POST",
            "/v1/disputes",
            {
                "items": [
                    {"company": c, "reported_count": 3, "expected_count": 1, "reason": "not_mine"}
                    for c in ("tencent", "jd")
                ]
            },
            token=self.person,
        )
        assert r.status_code == 201, r.body
        self.dispute_id = r.data["dispute_id"]
        self.case_id = r.data["cases"][0]["case_id"]
        self.person_key = case_store.get_case(self.case_id).phone_key

    def person_act(self, body, if_match=None):
        headers = {"If-Match": if_match} if if_match is not None else None
        return self.api.call(
            "POST", f"/v1/cases/{self.case_id}/actions", body, token=self.person, headers=headers
        )

    def liaison_act(self, body, if_match=None):
        headers = {"If-Match": if_match} if if_match is not None else None
        return self.api.call(
            "POST",
            f"/v1/liaison/cases/{self.case_id}/transitions",
            body,
            token=self.liaison,
            headers=headers,
        )

    def operator_act(self, body, if_match=None):
        headers = {"If-Match": if_match} if if_match is not None else None
        return self.api.call(
            "POST",
            f"/v1/admin/cases/{self.case_id}/transitions",
            body,
            token=self.operator,
            headers=headers,
        )

    def escalate(self) -> None:
        assert self.liaison_act(RESPOND).status_code == 200
        assert self.person_act({"action": "reopen"}).status_code == 200

    def stored(self) -> dict:
        r = self.api.call("GET", f"/v1/admin/cases/{self.case_id}", token=self.operator)
        assert r.status_code == 200, r.body
        return r.data

    def trail(self) -> list[tuple[int, str, str | None, str]]:
        return [(e["version"], e["action"], e["from"], e["to"]) for e in self.stored()["history"]]

    def outbox_ids(self) -> set[str]:
        return {item["message_id"]["S"] for item in scan(self.settings, "outbox")}


@pytest.fixture
def scene(client, frozen_clock, world) -> Scene:
    return Scene(client, frozen_clock, world)


def etag(response) -> str | None:
    return next((v for k, v in response.headers.items() if k.lower() == "etag"), None)


def assert_problem(response, status: int, code: str) -> dict:
    assert response.status_code == status, (response.status_code, response.body)
    media = next(v for k, v in response.headers.items() if k.lower() == "content-type")
    assert media.split(";")[0] == "application/problem+json", response.headers
    body = json.loads(response.body)
    assert body["code"] == code and body["status"] == status, body
    return body


# -- If-Match -------------------------------------------------------------------------------------
WRITERS = {
    "liaison acknowledges, then the person withdraws": (
        ("liaison_act", {"action": "acknowledge"}, "acknowledged"),
        ("person_act", {"action": "withdraw"}, None),
    ),
    "the person withdraws, then the liaison responds": (
        ("person_act", {"action": "withdraw"}, "withdrawn"),
        ("liaison_act", RESPOND, None),
    ),
    "two liaison sessions: acknowledge, then respond": (
        ("liaison_act", {"action": "acknowledge"}, "acknowledged"),
        ("liaison_act", RESPOND, None),
    ),
}


@pytest.mark.parametrize("writers", list(WRITERS.values()), ids=list(WRITERS))
def test_two_writers_with_the_same_version_only_one_wins(scene: Scene, writers):
    r = scene.api.call("GET", f"/v1/liaison/cases/{scene.case_id}", token=scene.liaison)
    assert etag(r) == '"1"', r.headers
    (first, first_body, won_state), (second, second_body, _) = writers
    winner = getattr(scene, first)(first_body, if_match='"1"')
    loser = getattr(scene, second)(second_body, if_match='"1"')
    assert winner.status_code == 200, winner.body
    assert etag(winner) == '"2"' and winner.data["version"] == 2, winner.headers
    body = assert_problem(loser, 412, "precondition_failed")
    assert body["current_version"] == 2, body
    stored = scene.stored()
    assert (stored["state"], stored["version"]) == (won_state, 2)
    assert [e[1] for e in scene.trail()] == ["file", first_body["action"]]


BODIES = {
    "person_act": {"action": "withdraw"},
    "liaison_act": RESPOND,
    "operator_act": {"action": "resolve", "message": "已核实"},
}


def test_a_stale_if_match_is_412_with_the_current_version(scene: Scene):
    scene.escalate()  # version 3: the person, the liaison and the operator may all act now
    before = scene.stored()
    for writer, body in BODIES.items():
        for stale in ('"1"', '"2"', '"4"', "2", 'W/"2"'):
            r = getattr(scene, writer)(body, if_match=stale)
            problem = assert_problem(r, 412, "precondition_failed")
            assert problem["current_version"] == 3, (writer, stale, problem)
    assert scene.stored() == before
    r = scene.operator_act(BODIES["operator_act"], if_match='"3"')
    assert r.status_code == 200 and etag(r) == '"4"', r.body


# The last is a non-ASCII digit ("١", ARABIC-INDIC DIGIT ONE): str.isdigit() says yes.
MALFORMED = ["abc", '"x"', '"-1"', '"1.5"', '""', " ", '"1234567890"', 'W/"a"', '"\u0661"']


def test_a_malformed_if_match_is_400(scene: Scene):
    scene.escalate()
    for writer, body in BODIES.items():
        for value in MALFORMED:
            r = getattr(scene, writer)(body, if_match=value)
            assert r.status_code == 400, (writer, value, r.status_code, r.body)
            assert_problem(r, 400, "invalid_if_match")
            stored = scene.stored()
            assert (stored["state"], stored["version"]) == ("escalated", 3), (writer, value)


def test_if_match_star_means_any_version(scene: Scene):
    """RFC 9110 §13.1.1: `If-Match: *` is true for any current representation."""
    r = scene.liaison_act({"action": "acknowledge"}, if_match="*")
    assert r.status_code == 200, r.body
    assert r.data["version"] == 2


def test_a_batch_item_with_a_stale_version_is_412(scene: Scene):
    items = [
        {"case_id": scene.case_id, "action": "acknowledge", "if_match": 2},
        {"case_id": scene.case_id, "action": "acknowledge", "if_match": 1},
        {"case_id": scene.case_id, "action": "request_user_action", "if_match": 1},
    ]
    items[2]["message"] = "请先登录该账号"
    r = scene.api.call("POST", "/v1/liaison/cases:batch", {"items": items}, token=scene.liaison)
    assert r.status_code == 200, r.body
    assert [x["status"] for x in r.data["results"]] == [412, 200, 412]
    assert r.data["results"][0]["problem"]["current_version"] == 1
    assert r.data["results"][2]["problem"]["current_version"] == 2
    assert scene.trail() == [
        (1, "file", None, "submitted"),
        (2, "acknowledge", "submitted", "acknowledged"),
    ]


# -- a race below the If-Match check --------------------------------------------------------------
def test_a_stale_read_loses_on_the_dynamodb_condition(scene: Scene):
    stale = case_store.get_case(scene.case_id)  # writer 1 reads version 1 ...
    assert scene.liaison_act({"action": "acknowledge"}).status_code == 200  # ... writer 2 wins
    outbox_before = scene.outbox_ids()
    with pytest.raises(Problem) as caught:
        cases.take_action(
            scene.settings, scene.liaison_actor, scene.case_id, RESPOND, 1, case=stale
        )
    assert (caught.value.status, caught.value.code) == (412, "precondition_failed")
    assert caught.value.extra["current_version"] == 2
    stored = scene.stored()
    assert (stored["state"], stored["version"]) == ("acknowledged", 2)
    assert "response" not in stored
    assert scene.trail() == [
        (1, "file", None, "submitted"),
        (2, "acknowledge", "submitted", "acknowledged"),
    ]
    assert scene.outbox_ids() == outbox_before  # the loser's SMS was never queued


def test_a_stale_reroute_opens_nothing(scene: Scene):
    stale = case_store.get_case(scene.case_id)
    assert scene.liaison_act({"action": "acknowledge"}).status_code == 200
    with pytest.raises(Problem) as caught:
        cases.take_action(
            scene.settings,
            scene.liaison_actor,
            scene.case_id,
            {"action": "misrouted", "target_company": "alipay"},
            case=stale,
        )
    assert caught.value.status == 412
    r = scene.api.call("GET", f"/v1/disputes/{scene.dispute_id}", token=scene.person)
    assert [c["company"] for c in r.data["cases"]] == ["tencent", "jd"]
    assert not any(json.dumps(i).find("alipay") >= 0 for i in scan(scene.settings, "cases"))
    # No lock was left at the target: the person may still file with alipay.
    item = {"company": "alipay", "reported_count": 2, "expected_count": 0, "reason": "not_mine"}
    r = scene.api.call("POST", "/v1/disputes", {"items": [item]}, token=scene.person)
    assert r.status_code == 201, r.body


def test_a_stale_withdrawal_keeps_the_open_case_lock(scene: Scene):
    stale = case_store.get_case(scene.case_id)
    assert scene.liaison_act(RESPOND).status_code == 200
    person = Actor("user", phone_key=scene.person_key)
    with pytest.raises(Problem) as caught:
        cases.take_action(scene.settings, person, scene.case_id, {"action": "withdraw"}, case=stale)
    assert caught.value.status == 412
    stored = scene.stored()
    assert (stored["state"], stored["version"]) == ("responded", 2)
    # The case is still open, so filing tencent again is still a duplicate.
    item = {"company": "tencent", "reported_count": 3, "expected_count": 1, "reason": "not_mine"}
    r = scene.api.call("POST", "/v1/disputes", {"items": [item]}, token=scene.person)
    assert_problem(r, 409, "case_already_open")


def test_a_race_inside_a_request_answers_412(scene: Scene, monkeypatch):
    """Writer 2 commits between writer 1's read (and If-Match check) and its transaction."""
    original = case_store.apply_transition
    raced = []

    def interleaved(*args, **kwargs):
        if not raced:
            raced.append(True)
            cases.take_action(
                scene.settings, scene.liaison_actor, scene.case_id, {"action": "acknowledge"}
            )
        return original(*args, **kwargs)

    monkeypatch.setattr(case_store, "apply_transition", interleaved)
    r = scene.person_act({"action": "withdraw", "note": "不需要了"}, if_match='"1"')
    body = assert_problem(r, 412, "precondition_failed")
    assert body["current_version"] == 2
    monkeypatch.setattr(case_store, "apply_transition", original)
    assert scene.trail() == [
        (1, "file", None, "submitted"),
        (2, "acknowledge", "submitted", "acknowledged"),
    ]
    # Reloaded, the person's withdrawal goes through at the new version.
    r = scene.person_act({"action": "withdraw"}, if_match='"2"')
    assert r.status_code == 200 and r.data["state"] == "withdrawn", r.body
