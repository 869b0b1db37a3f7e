"""An SMS that is no longer true is not sent (issue 16; docs/design.md §7), against moto.

Each follow-up remembers the case version and state its transition left; at send time the
dispatcher reads the case (one GetItem) and drops the message, counted (`SmsDropped`), when its
template's `true_while` (workflows/case_workflow.yaml) no longer holds: the person already
acted, a newer message took its place, or the case moved on. Settled outcomes stay true and
go. Quiet hours are checked again at send time.
"""

from __future__ import annotations

from typing import Any

from chalicelib.api import observability
from chalicelib.domain import clock
from chalicelib.domain.actors import Actor
from chalicelib.services import cases, dispatcher, scheduler
from tests.integration.test_dispatcher import (
    ID6,
    PHONE,
    RESPOND,
    Person,
    make_item,
    shanghai,
    stored,
    texts_to,
)
from tests.support import stream_records

REQUEST = {"action": "request_user_action", "message": "请在微信中完成本人身份核验后告知我们"}


def act(person: Person, case_id: str, body: dict[str, Any]) -> None:
    r = person.api.call("POST", f"/v1/cases/{case_id}/actions", body, token=person.token)
    if r.status_code == 401:  # the session lapsed while the clock moved on: sign in again
        person.token = person.api.sign_in(PHONE, ID6)
        r = person.api.call("POST", f"/v1/cases/{case_id}/actions", body, token=person.token)
    assert r.status_code == 200, r.body


def dropped_metric(world) -> int:
    return observability.outbox_metrics(stream_records(world, "outbox")).get("SmsDropped", 0)


def follow_ups() -> list[str]:
    return [t for t in texts_to() if "已登记" not in t]


def test_a_request_to_act_is_dropped_once_the_person_has_done_it(client, world, frozen_clock):
    person = Person(client, frozen_clock)
    dispute = person.file("tencent", "jd")
    tencent, jd = (c["case_id"] for c in dispute["cases"])
    scheduler.tick(world)  # the receipt

    frozen_clock.set(shanghai(27, 10, 10))
    person.liaison("tencent", tencent, REQUEST)
    person.liaison("jd", jd, REQUEST)
    # Four minutes later she presses 我已在企业流程中完成 for tencent, not for jd.
    frozen_clock.set(shanghai(27, 10, 14))
    act(person, tencent, {"action": "user_done"})
    frozen_clock.set(shanghai(27, 10, 15))
    outcomes = dispatcher.dispatch_due(world)

    assert sorted(o.status for o in outcomes) == ["dropped", "sent"]
    gone = stored(f"{tencent}:v2:user_action_requested")
    assert gone.status == "dropped" and gone.provider_message_id is None
    assert gone.last_error.startswith("case_changed:v2->v3")
    assert gone.pending_shard is None and gone.expires_at is not None  # finished: it expires
    # The message still true goes.
    assert stored(f"{jd}:v2:user_action_requested").status == "sent"
    (text,) = follow_ups()
    assert jd in text and tencent not in text
    assert dropped_metric(world) == 1


def test_a_request_superseded_by_a_newer_one_goes_once(client, world, frozen_clock):
    person = Person(client, frozen_clock)
    tencent = person.file("tencent")["cases"][0]["case_id"]
    scheduler.tick(world)

    frozen_clock.set(shanghai(27, 10, 10))
    person.liaison("tencent", tencent, REQUEST)  # v2
    frozen_clock.set(shanghai(27, 10, 11))
    act(person, tencent, {"action": "user_done"})  # v3
    frozen_clock.set(shanghai(27, 10, 12))
    person.liaison("tencent", tencent, REQUEST)  # v4: awaiting her again
    frozen_clock.set(shanghai(27, 10, 20))
    scheduler.tick(world)

    # Same state as when v2 queued it, but the case changed since: the newer one replaces it.
    assert stored(f"{tencent}:v2:user_action_requested").status == "dropped"
    assert stored(f"{tencent}:v4:user_action_requested").status == "sent"
    assert len(follow_ups()) == 1


def test_a_result_is_dropped_if_she_confirmed_before_it_went(client, world, frozen_clock):
    person = Person(client, frozen_clock)
    tencent = person.file("tencent")["cases"][0]["case_id"]
    scheduler.tick(world)

    frozen_clock.set(shanghai(27, 10, 10))
    person.liaison("tencent", tencent, RESPOND)  # waits for the 08:00 digest
    frozen_clock.set(shanghai(27, 12, 0))
    act(person, tencent, {"action": "confirm", "new_count": 1})  # she saw it on the page
    frozen_clock.set(shanghai(28, 8, 0))
    ticked = scheduler.tick(world)

    assert ticked["sms_sent"] == 0
    item = stored(f"{tencent}:v2:company_responded")
    assert item.status == "dropped" and item.last_error == "case_moved:responded->resolved"
    assert follow_ups() == []
    assert dropped_metric(world) == 1


def test_a_requery_reminder_is_dropped_if_she_confirmed_in_the_window(client, world, frozen_clock):
    person = Person(client, frozen_clock)
    tencent = person.file("tencent")["cases"][0]["case_id"]
    scheduler.tick(world)
    frozen_clock.set(shanghai(27, 10, 10))
    person.liaison("tencent", tencent, RESPOND)
    frozen_clock.set(shanghai(28, 8, 0))
    assert scheduler.tick(world)["sms_sent"] == 1  # the result

    frozen_clock.set(shanghai(28, 10, 10))  # 24 h on: the reminder is queued
    assert scheduler.tick(world)["timers_fired"] == 1
    frozen_clock.set(shanghai(28, 10, 12))
    act(person, tencent, {"action": "confirm", "new_count": 1})
    frozen_clock.set(shanghai(28, 10, 15))
    scheduler.tick(world)

    assert stored(f"{tencent}:v3:requery_reminder").status == "dropped"
    assert len(follow_ups()) == 1


def test_an_escalation_overtaken_by_the_answer_is_dropped_and_the_answer_goes(
    client, world, frozen_clock
):
    person = Person(client, frozen_clock)
    tencent = person.file("tencent")["cases"][0]["case_id"]
    scheduler.tick(world)
    frozen_clock.set(shanghai(27, 10, 10))
    cases.take_action(world, Actor("scheduler"), tencent, {"action": "sla_breach"})
    frozen_clock.set(shanghai(27, 10, 12))
    person.liaison("tencent", tencent, RESPOND)  # the company answers in the window
    frozen_clock.set(shanghai(27, 10, 15))
    scheduler.tick(world)
    assert stored(f"{tencent}:v2:case_escalated").status == "dropped"

    frozen_clock.set(shanghai(28, 8, 0))
    scheduler.tick(world)
    assert stored(f"{tencent}:v3:company_responded").status == "sent"
    (text,) = follow_ups()
    assert "已答复" in text and "人工跟进" not in text


def test_settled_outcomes_stay_true_and_name_the_new_case(client, world, frozen_clock):
    person = Person(client, frozen_clock)
    tencent = person.file("tencent")["cases"][0]["case_id"]
    scheduler.tick(world)
    frozen_clock.set(shanghai(27, 10, 10))
    person.liaison("tencent", tencent, {"action": "misrouted", "target_company": "alipay"})
    frozen_clock.set(shanghai(27, 10, 15))
    scheduler.tick(world)

    item = stored(f"{tencent}:v2:case_rerouted")
    assert item.status == "sent" and item.case_state == "rerouted" and item.case_version == 2
    (text,) = follow_ups()
    new_case = item.variables["new_case_id"]
    assert tencent in text and new_case in text and new_case != tencent


def test_a_stale_result_in_a_digest_is_dropped_and_the_rest_goes(client, world, frozen_clock):
    person = Person(client, frozen_clock)
    dispute = person.file("tencent", "jd")
    tencent, jd = (c["case_id"] for c in dispute["cases"])
    scheduler.tick(world)
    frozen_clock.set(shanghai(27, 10, 10))
    person.liaison("tencent", tencent, RESPOND)
    person.liaison("jd", jd, RESPOND)
    frozen_clock.set(shanghai(27, 12, 0))
    act(person, tencent, {"action": "confirm", "new_count": 1})
    frozen_clock.set(shanghai(28, 8, 0))
    outcomes = dispatcher.dispatch_due(world)

    assert sum(o.dropped for o in outcomes) == 1
    assert stored(f"{tencent}:v2:company_responded").status == "dropped"
    assert stored(f"{jd}:v2:company_responded").status == "sent"  # alone: no digest of one
    (text,) = follow_ups()
    assert jd in text and "新进展" not in text


def test_quiet_hours_are_checked_again_at_send_time(world, frozen_clock):
    """Released at 20:58, but the dispatcher only gets to it at 21:10: held until 08:00. What
    the person triggered herself is never held."""
    frozen_clock.set(shanghai(27, 21, 10))
    make_item(
        world,
        "C00000000A:v5:case_resolved",
        notify="follow_up",
        template="case_resolved",
        send_after=shanghai(27, 20, 58),
    )
    make_item(
        world,
        "D00000000B:file:dispute_receipt",
        template="dispute_receipt",
        dispute_id="D00000000B",
        case_id="",
        send_after=shanghai(27, 20, 58),
    )
    outcomes = {o.message_id: o.status for o in dispatcher.dispatch_due(world)}
    assert outcomes == {
        "C00000000A:v5:case_resolved": "held",
        "D00000000B:file:dispute_receipt": "sent",
    }
    held = stored("C00000000A:v5:case_resolved")
    assert held.status == "pending" and held.attempts == 0 and held.claim_token is None
    assert clock.parse_iso(held.send_after) == shanghai(28, 8, 0)
    assert len(texts_to()) == 1

    frozen_clock.set(shanghai(28, 7, 59))
    assert dispatcher.dispatch_due(world) == []
    frozen_clock.set(shanghai(28, 8, 0))
    assert [o.status for o in dispatcher.dispatch_due(world)] == ["sent"]
    assert len(texts_to()) == 2
