"""The SMS outbox dispatcher under faults (docs/design.md §7), against moto's DynamoDB, SNS and KMS.

Provider faults come from an SmsSender test double passed as `sms=` (in front of the real SNS
sender, so what is finally sent is what moto's SNS recorded). Store faults come from a botocore
hook on the outbox table's client that fails the claim or the mark-sent UpdateItem, either
before it reaches DynamoDB or after it was applied (a lost reply). Stream records are read
from moto's real DynamoDB stream on the outbox table.

What every test holds to: each message is eventually sent, and sent once — except in the one
window named in `test_the_one_unavoidable_duplicate_window`, where one duplicate is bounded.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from typing import Any

import botocore.exceptions
import pytest
from moto.core import DEFAULT_ACCOUNT_ID
from moto.sns.models import sns_backends

from chalicelib.adapters import kms
from chalicelib.adapters.sms import SnsSmsSender
from chalicelib.adapters.tables import Guard, OutboxMessage
from chalicelib.domain import clock, sms_rules, timers
from chalicelib.domain.identity import phone_hmac
from chalicelib.domain.workdays import SHANGHAI
from chalicelib.services import dispatcher, keys, scheduler
from chalicelib.services.dispatcher import LEASE, MAX_ATTEMPTS
from tests.conftest import DEMO
from tests.support import Api, stream_records

PHONE, ID6, _ = DEMO["active"]
E164 = "+86" + PHONE
RESPOND = {"action": "respond", "response_code": "accounts_unbound", "message": "已解绑2个账号"}


# -- helpers --------------------------------------------------------------------------------
def sns_log(region: str = "ap-east-1") -> dict[str, tuple[str, str]]:
    """moto's SNS record: message id → (number, text), oldest first."""
    return dict(sns_backends[DEFAULT_ACCOUNT_ID][region].sms_messages)


def texts_to(e164: str = E164, *, codes: bool = False) -> list[str]:
    return [t for n, t in sns_log().values() if n == e164 and (codes or "验证码" not in t)]


def shanghai(day: int, hour: int, minute: int = 0, second: int = 0) -> datetime:
    """A moment in November 2026, Shanghai time (the 27th is the Friday tests start on)."""
    return datetime(2026, 11, day, hour, minute, second, tzinfo=SHANGHAI)


def make_item(
    settings,
    message_id: str,
    *,
    notify: str = "self",
    template: str = "company_responded",
    dispute_id: str = "D00000000A",
    case_id: str = "C00000000A",
    e164: str = E164,
    send_after: datetime | None = None,
) -> OutboxMessage:
    """One outbox item as the services write it (KMS-encrypted number, HMAC phone key)."""
    now = clock.now()
    item = OutboxMessage(
        message_id,
        template=template,
        variables={
            "case_id": case_id,
            "dispute_id": dispute_id,
            "company": "腾讯",
            "hotline": "95017",
            "case_count": 1,
            "due": "11月28日15:00",
        },
        phone_key=phone_hmac(settings.hmac_key, e164),
        phone_cipher=kms.encrypt_number(settings, e164),
        dispute_id=dispute_id,
        case_id=case_id,
        notify=notify,
        status="pending",
        created_at=clock.iso(now),
        send_after=clock.iso(send_after or now),
        pending_shard=timers.shard_for(case_id, settings.timer_shards),
    )
    item.save()
    return item


def stored(message_id: str) -> OutboxMessage:
    return OutboxMessage.get(message_id, consistent_read=True)


def throttled() -> botocore.exceptions.ClientError:
    return botocore.exceptions.ClientError(
        {"Error": {"Code": "Throttling", "Message": "Rate exceeded"}}, "Publish"
    )


class FlakySender:
    """An SmsSender in front of the real one (moto's SNS): raises `faults` first, in order
    (None = let that call through), then sends for real."""

    provider = "sns"

    def __init__(self, settings, faults: list[BaseException | None] | None = None, always=None):
        self.real = SnsSmsSender(settings)
        self.faults = list(faults or [])
        self.always = always
        self.calls = 0

    def send(self, e164: str, message, *, phone_key: str, masked: str) -> str:
        self.calls += 1
        if self.always is not None:
            raise self.always
        if self.faults:
            fault = self.faults.pop(0)
            if fault is not None:
                raise fault
        return self.real.send(e164, message, phone_key=phone_key, masked=masked)


class Crash(BaseException):
    """The process dies (Lambda timeout, OOM): nothing in the dispatcher may catch it."""


def _write_kind(body: bytes) -> str | None:
    request = json.loads(body)
    if not request.get("TableName", "").endswith("-outbox"):
        return None
    names = set(request.get("ExpressionAttributeNames", {}).values())
    if "provider_message_id" in names:
        return "mark_sent"
    values = json.dumps(request.get("ExpressionAttributeValues", {}))
    if '"sending"' in values:
        return "claim"
    return "release"


@contextmanager
def failing_writes(kind: str, times: int = 1, *, applied: bool = False) -> Iterator[list[str]]:
    """The next `times` outbox writes of `kind` (claim | mark_sent | release) fail with a
    ClientError: before they reach DynamoDB, or — `applied` — after DynamoDB applied them
    (the reply was lost). Yields the list of writes that were failed."""
    events = OutboxMessage._get_connection().connection.client.meta.events
    failed: list[str] = []

    def error() -> botocore.exceptions.ClientError:
        return botocore.exceptions.ClientError(
            {"Error": {"Code": "InternalServerError", "Message": f"injected: {kind}"}},
            "UpdateItem",
        )

    def before(params: dict[str, Any], context: dict[str, Any], **_: Any) -> None:
        if _write_kind(params["body"]) != kind or len(failed) >= times:
            return
        if applied:
            context["fail_after"] = True
            return
        failed.append(kind)
        raise error()

    def after(context: dict[str, Any], **_: Any) -> None:
        if context.pop("fail_after", False):
            failed.append(kind)
            raise error()

    events.register("before-call.dynamodb.UpdateItem", before, unique_id="test-fault-before")
    events.register("after-call.dynamodb.UpdateItem", after, unique_id="test-fault-after")
    try:
        yield failed
    finally:
        events.unregister("before-call.dynamodb.UpdateItem", unique_id="test-fault-before")
        events.unregister("after-call.dynamodb.UpdateItem", unique_id="test-fault-after")


def inserts(records: list[dict[str, Any]]) -> list[str]:
    return [
        r["dynamodb"]["NewImage"]["message_id"]["S"] for r in records if r["eventName"] == "INSERT"
    ]


class Person:
    """The active demo person signed in through the API, with liaisons for her companies."""

    def __init__(self, client, frozen_clock) -> None:
        self.api = Api(client, frozen_clock)
        self.token = self.api.sign_in(PHONE, ID6)
        self.liaisons: dict[str, str] = {}

    def file(self, *companies: str) -> dict[str, Any]:
        body = {
            "items": [
                {"company": c, "reported_count": 3, "expected_count": 1, "reason": "not_mine"}
                for c in companies
            ]
        }
        r = self.api.call("POST", "/v1/disputes", body, token=self.token)
        assert r.status_code == 201, r.body
        return r.data

    def liaison(self, company: str, case_id: str, body: dict[str, Any]) -> None:
        if company not in self.liaisons:
            self.liaisons[company] = keys.issue("liaison", company, "dispatcher test")["key"]
        r = self.api.call(
            "POST",
            f"/v1/liaison/cases/{case_id}/transitions",
            body,
            token=self.liaisons[company],
        )
        assert r.status_code == 200, r.body


# -- provider faults -------------------------------------------------------------------------
def test_throttling_and_errors_are_retried_with_backoff_and_sent_once(world, frozen_clock):
    make_item(world, "C00000000A:v2:company_responded")
    faults: list[BaseException | None] = [
        throttled(),
        botocore.exceptions.ClientError(
            {"Error": {"Code": "InternalError", "Message": "boom"}}, "Publish"
        ),
        botocore.exceptions.EndpointConnectionError(endpoint_url="https://sns"),
    ]
    sender = FlakySender(world, faults)
    start = clock.now()
    waits = []
    for expected_error in ("ClientError:Throttling", "ClientError:InternalError", "Endpoint"):
        outcomes = dispatcher.dispatch_due(world, sender)
        assert [o.status for o in outcomes] == ["retry"]
        item = stored("C00000000A:v2:company_responded")
        assert item.status == "pending" and item.pending_shard is not None
        assert item.last_error.startswith(expected_error)
        due = clock.parse_iso(item.send_after)
        waits.append(due - clock.now())
        # Not a second earlier: the backoff holds even against an eager backstop.
        frozen_clock.set(due - timedelta(seconds=1))
        assert dispatcher.dispatch_due(world, sender) == []
        frozen_clock.set(due)
    assert waits == [timedelta(minutes=1), timedelta(minutes=2), timedelta(minutes=4)]
    assert texts_to() == []

    outcomes = dispatcher.dispatch_due(world, sender)
    assert [o.status for o in outcomes] == ["sent"]
    item = stored("C00000000A:v2:company_responded")
    assert item.status == "sent" and item.pending_shard is None and item.send_after is None
    assert item.attempts == 3 and sender.calls == 4  # attempts counts failed sends
    assert item.provider_message_id in sns_log()
    assert clock.now() - start == timedelta(minutes=7)

    frozen_clock.advance(days=2)
    assert dispatcher.dispatch_due(world, sender) == []
    assert len(texts_to()) == 1


def test_after_max_attempts_the_message_is_dead_and_counted(world, frozen_clock, monkeypatch):
    make_item(world, "C00000000A:v2:company_responded")
    sender = FlakySender(world, always=throttled())
    monkeypatch.setattr(dispatcher, "sender", lambda settings: sender)  # the tick's own sender
    counts = []
    for _ in range(MAX_ATTEMPTS):
        counts.append(scheduler.tick(world))
        item = stored("C00000000A:v2:company_responded")
        if item.send_after:
            frozen_clock.set(clock.parse_iso(item.send_after))
    assert [c["sms_retry"] for c in counts] == [1] * (MAX_ATTEMPTS - 1) + [0]
    assert [c["sms_dead"] for c in counts] == [0] * (MAX_ATTEMPTS - 1) + [1]

    item = stored("C00000000A:v2:company_responded")
    assert item.status == "dead"
    assert item.pending_shard is None and item.send_after is None and item.claim_token is None
    assert item.attempts == MAX_ATTEMPTS and item.last_error == "ClientError:Throttling"
    assert item.expires_at is not None  # dead letters are kept for a while, then expire
    assert sender.calls == MAX_ATTEMPTS

    # Dead is final: neither the backstop nor a replayed stream record sends it again.
    frozen_clock.advance(days=1)
    assert scheduler.tick(world)["sms_dead"] == 0
    record = {
        "eventName": "INSERT",
        "dynamodb": {
            "NewImage": {"message_id": {"S": item.message_id}, "status": {"S": "pending"}}
        },
    }
    assert [o.status for o in dispatcher.dispatch_stream_records(world, [record], sender)] == [
        "skipped"
    ]
    assert sender.calls == MAX_ATTEMPTS
    assert texts_to() == []


# -- store faults ----------------------------------------------------------------------------
@pytest.mark.parametrize("applied", [False, True], ids=["claim_refused", "claim_reply_lost"])
def test_a_failed_claim_sends_nothing_and_the_message_goes_later_once(world, frozen_clock, applied):
    """The claim write fails. Refused: the item is untouched and the backstop sends it at its
    next tick. Applied but the reply lost: the item is `sending` under a lease nobody holds,
    and the backstop sends it once the lease lapses. Nothing is sent before either."""
    make_item(world, "C00000000A:v2:company_responded")
    records = stream_records(world, "outbox")
    assert inserts(records) == ["C00000000A:v2:company_responded"]
    sender = FlakySender(world)
    with failing_writes("claim", applied=applied) as failed:
        assert dispatcher.dispatch_stream_records(world, records, sender) == []  # logged only
    assert failed == ["claim"]
    assert sender.calls == 0 and texts_to() == []

    item = stored("C00000000A:v2:company_responded")
    if applied:
        assert item.status == "sending" and item.attempts == 0  # a claim is not a failure
        assert clock.parse_iso(item.send_after) == clock.now() + LEASE
        frozen_clock.advance(seconds=LEASE.total_seconds() - 1)
        assert dispatcher.dispatch_due(world, sender) == []
        frozen_clock.advance(seconds=1)
    else:
        assert item.status == "pending" and item.attempts == 0
        frozen_clock.advance(minutes=1)
    assert [o.status for o in dispatcher.dispatch_due(world, sender)] == ["sent"]
    frozen_clock.advance(hours=1)
    assert dispatcher.dispatch_due(world, sender) == []
    assert dispatcher.dispatch_stream_records(world, records, sender)[0].status == "skipped"
    assert sender.calls == 1 and len(texts_to()) == 1


@pytest.mark.parametrize("fault", ["mark_sent_write_fails", "process_dies_after_publish"])
def test_the_one_unavoidable_duplicate_window(world, frozen_clock, fault):
    """THE duplicate window: the provider accepted the message, and the dispatcher could not
    record that (the mark-sent write failed, or the process died between publishing and
    marking). The item stays `sending` until its claim's lease (dispatcher.LEASE) lapses;
    then the backstop cannot know the message went and sends it again.

    Bounded: exactly one duplicate per such crash, never sooner than LEASE after the first
    send, and none after the second send is recorded."""
    message_id = "C00000000A:v2:company_responded"
    make_item(world, message_id)
    records = stream_records(world, "outbox")
    first = clock.now()

    if fault == "mark_sent_write_fails":
        with failing_writes("mark_sent") as failed:
            assert dispatcher.dispatch_stream_records(world, records, FlakySender(world)) == []
        assert failed == ["mark_sent"]
    else:

        class DiesAfterPublish(FlakySender):
            def send(self, e164, message, *, phone_key, masked):
                super().send(e164, message, phone_key=phone_key, masked=masked)
                raise Crash

        with pytest.raises(Crash):
            dispatcher.dispatch_stream_records(world, records, DiesAfterPublish(world))

    assert len(texts_to()) == 1  # the provider accepted it
    item = stored(message_id)
    assert item.status == "sending" and item.provider_message_id is None
    assert clock.parse_iso(item.send_after) == first + LEASE

    # Not before the lease lapses: replays and the backstop find it claimed.
    sender = FlakySender(world)
    frozen_clock.set(first + LEASE - timedelta(seconds=1))
    assert dispatcher.dispatch_due(world, sender) == []
    assert [o.status for o in dispatcher.dispatch_stream_records(world, records, sender)] == [
        "skipped"
    ]
    assert len(texts_to()) == 1

    # At the lease's end: the one duplicate.
    frozen_clock.set(first + LEASE)
    assert [o.status for o in dispatcher.dispatch_due(world, sender)] == ["sent"]
    texts = texts_to()
    assert len(texts) == 2 and texts[0] == texts[1]
    assert stored(message_id).status == "sent"

    # And never a third.
    for _ in range(3):
        frozen_clock.advance(hours=6)
        assert dispatcher.dispatch_due(world, sender) == []
    assert dispatcher.dispatch_stream_records(world, records, sender)[0].status == "skipped"
    assert len(texts_to()) == 2 and sender.calls == 1


def test_a_failed_release_after_a_provider_error_is_retried_after_the_lease(world, frozen_clock):
    """A provider error whose failure record cannot be written either: the item waits out its
    lease (it is still `sending`), then the backstop retries it — nothing was sent, nothing is
    lost."""
    make_item(world, "C00000000A:v2:company_responded")
    sender = FlakySender(world, [throttled()])
    with failing_writes("release") as failed, pytest.raises(Exception, match="release"):
        dispatcher.dispatch(world, "C00000000A:v2:company_responded", sender)
    assert failed == ["release"] and texts_to() == []
    assert stored("C00000000A:v2:company_responded").status == "sending"
    frozen_clock.advance(seconds=LEASE.total_seconds())
    assert [o.status for o in dispatcher.dispatch_due(world, sender)] == ["sent"]
    assert len(texts_to()) == 1


# -- the stream ------------------------------------------------------------------------------
def test_duplicate_and_out_of_order_stream_records_send_each_message_once(
    client, world, frozen_clock
):
    person = Person(client, frozen_clock)
    dispute = person.file("tencent", "jd")
    tencent = dispute["cases"][0]["case_id"]
    frozen_clock.advance(minutes=1)
    person.liaison("tencent", tencent, RESPOND)

    records = stream_records(world, "outbox")  # the receipt's INSERT, then the follow-up's
    receipt = f"{dispute['dispute_id']}:file:dispute_receipt"
    follow_up = f"{tencent}:v2:company_responded"
    assert inserts(records) == [receipt, follow_up]

    # Out of order and twice over: the receipt goes once; the follow-up is not due yet.
    batch = list(reversed(records)) + records
    outcomes = dispatcher.dispatch_stream_records(world, batch)
    assert sorted(o.status for o in outcomes) == ["sent", "skipped", "skipped", "skipped"]
    assert len(texts_to()) == 1 and "已登记" in texts_to()[0]
    # The whole batch again (Lambda retries it), with the MODIFY records that sending made.
    outcomes = dispatcher.dispatch_stream_records(world, stream_records(world, "outbox"))
    assert all(o.status == "skipped" for o in outcomes)

    # The follow-up's release time comes (a result waits for the next 08:00 digest): the
    # backstop sends it; late replays change nothing.
    frozen_clock.set(shanghai(28, 8, 0))
    assert scheduler.tick(world)["sms_sent"] == 1
    late = list(reversed(stream_records(world, "outbox")))
    assert all(o.status == "skipped" for o in dispatcher.dispatch_stream_records(world, late))
    texts = texts_to()
    assert len(texts) == 2 and tencent in texts[1] and "已答复" in texts[1]
    assert stored(receipt).status == stored(follow_up).status == "sent"


def test_two_dispatchers_racing_on_one_item_send_once(world, frozen_clock):
    """The claim is a conditional update: whoever claims second finds the item taken, whether
    it arrives while the first is sending or while the first's claim is in flight."""
    make_item(world, "C00000000A:v2:company_responded")
    make_item(world, "C00000000B:v2:company_responded", case_id="C00000000B")
    rival: list[str] = []

    # 1. The stream's dispatcher holds the claim; the backstop's runs while it sends.
    class RacedWhileSending(FlakySender):
        def send(self, e164, message, *, phone_key, masked):
            rival.append(dispatcher.dispatch(world, "C00000000A:v2:company_responded").status)
            return super().send(e164, message, phone_key=phone_key, masked=masked)

    outcome = dispatcher.dispatch(
        world, "C00000000A:v2:company_responded", RacedWhileSending(world)
    )
    assert outcome.status == "sent" and rival == ["skipped"]

    # 2. The backstop's claim lands while the stream's claim is on the wire.
    events = OutboxMessage._get_connection().connection.client.meta.events

    def race(params: dict[str, Any], **_: Any) -> None:
        if _write_kind(params["body"]) == "claim" and not rival[1:]:
            rival.append("running")
            rival.append(dispatcher.dispatch(world, "C00000000B:v2:company_responded").status)

    events.register("before-call.dynamodb.UpdateItem", race, unique_id="test-race")
    try:
        outcome = dispatcher.dispatch(world, "C00000000B:v2:company_responded")
    finally:
        events.unregister("before-call.dynamodb.UpdateItem", unique_id="test-race")
    assert rival[1:] == ["running", "sent"] and outcome.status == "skipped"

    frozen_clock.advance(hours=1)
    assert dispatcher.dispatch_due(world) == []
    texts = texts_to()
    assert len(texts) == 2
    assert sum("C00000000A" in t for t in texts) == sum("C00000000B" in t for t in texts) == 1


# -- when messages go ------------------------------------------------------------------------
def test_quiet_hours_hold_follow_ups_but_not_the_persons_own_receipt(client, world, frozen_clock):
    frozen_clock.set(shanghai(27, 22, 29))
    person = Person(client, frozen_clock)  # signs in at 22:29; the code goes at once
    assert len(texts_to(codes=True)) == 1
    frozen_clock.set(shanghai(27, 22, 30))
    dispute = person.file("tencent")
    case_id = dispute["cases"][0]["case_id"]
    person.liaison("tencent", case_id, RESPOND)  # the company answers at 22:30 too

    assert scheduler.tick(world)["sms_sent"] == 1
    assert [t for t in texts_to() if "已登记" in t], texts_to()  # the receipt, at 22:30
    held = stored(f"{case_id}:v2:company_responded")
    assert clock.parse_iso(held.send_after) == shanghai(28, 8, 0)

    for moment in (shanghai(27, 22, 36), shanghai(27, 23, 59), shanghai(28, 7, 59, 59)):
        frozen_clock.set(moment)
        assert scheduler.tick(world)["sms_sent"] == 0, moment
    frozen_clock.set(shanghai(28, 8, 0))
    assert scheduler.tick(world)["sms_sent"] == 1
    texts = texts_to()
    assert len(texts) == 2 and case_id in texts[1] and "已答复" in texts[1]
    assert clock.parse_iso(stored(held.message_id).sent_at) == shanghai(28, 8, 0)


def test_two_reroutes_within_the_window_merge_into_one_digest(client, world, frozen_clock):
    person = Person(client, frozen_clock)
    dispute = person.file("tencent", "jd")
    tencent, jd = (c["case_id"] for c in dispute["cases"])
    assert scheduler.tick(world)["sms_sent"] == 1  # the receipt

    frozen_clock.set(shanghai(27, 10, 10))
    person.liaison("tencent", tencent, {"action": "misrouted", "target_company": "alipay"})
    frozen_clock.set(shanghai(27, 10, 12))
    person.liaison("jd", jd, {"action": "misrouted", "target_company": "meituan"})
    frozen_clock.set(shanghai(27, 10, 14))
    assert scheduler.tick(world)["sms_sent"] == 0  # still inside tencent's digest window
    frozen_clock.set(shanghai(27, 10, 15))
    assert scheduler.tick(world)["sms_sent"] == 1
    frozen_clock.set(shanghai(27, 12, 0))
    assert scheduler.tick(world)["sms_sent"] == 0

    texts = texts_to()
    assert len(texts) == 2
    digest = texts[1]
    assert dispute["dispute_id"] in digest and "2项新进展" in digest
    assert tencent in digest and "详情见号码绑定申诉" in digest  # the oldest news names its case
    assert sms_rules.segments(digest) == 1
    lead, merged = stored(f"{tencent}:v2:case_rerouted"), stored(f"{jd}:v2:case_rerouted")
    assert (lead.status, merged.status) == ("sent", "merged")
    assert merged.merged_into == lead.message_id
    assert merged.provider_message_id == lead.provider_message_id in sns_log()


def test_results_wait_for_the_morning_digest_which_keeps_the_most_urgent_step(
    client, world, frozen_clock
):
    """A company's result asks the person to re-query 24 h later: it can wait for the next
    08:00 digest (never past that time), so the day's results reach her as one message."""
    person = Person(client, frozen_clock)
    dispute = person.file("tencent", "jd")
    tencent, jd = (c["case_id"] for c in dispute["cases"])
    assert scheduler.tick(world)["sms_sent"] == 1  # the receipt

    frozen_clock.set(shanghai(27, 10, 10))
    person.liaison("tencent", tencent, RESPOND)
    frozen_clock.set(shanghai(27, 16, 30))
    person.liaison("jd", jd, RESPOND)
    item = stored(f"{tencent}:v2:company_responded")
    assert clock.parse_iso(item.send_after) == shanghai(28, 8, 0)
    assert item.variables["due"] == "11月28日10:10"  # from the requery_remind timer
    frozen_clock.set(shanghai(27, 20, 0))
    assert scheduler.tick(world)["sms_sent"] == 0
    frozen_clock.set(shanghai(28, 8, 0))
    assert scheduler.tick(world)["sms_sent"] == 1

    texts = texts_to()
    assert len(texts) == 2
    digest = texts[1]
    assert dispute["dispute_id"] in digest and "2项新进展" in digest
    # The most urgent step of the two: the earlier re-query time, tencent's.
    assert "请于11月28日10:10后重新查询一证通查" in digest, digest
    assert sms_rules.segments(digest) == 1
    statuses = {stored(f"{c}:v2:company_responded").status for c in (tencent, jd)}
    assert statuses == {"sent", "merged"}  # whichever the backstop met first leads


def test_the_daily_cap_defers_the_excess_to_tomorrow_morning_and_never_drops_it(
    world, frozen_clock
):
    cap = sms_rules.DAILY_CAP
    ids = [f"D00000000{i}:file:dispute_receipt" for i in range(cap + 1)]
    for i, message_id in enumerate(ids):
        make_item(
            world, message_id, template="dispute_receipt", dispute_id=f"D00000000{i}", case_id=""
        )
    outcomes = dispatcher.dispatch_due(world)
    assert sorted(o.status for o in outcomes) == ["deferred"] + ["sent"] * cap
    assert len(texts_to()) == cap

    (late,) = [stored(o.message_id) for o in outcomes if o.status == "deferred"]
    assert late.status == "pending" and late.pending_shard is not None
    assert late.deferrals == 1 and late.last_error == "daily_cap"
    assert clock.parse_iso(late.send_after) == shanghai(28, 8, 0)

    # A later stream replay or backstop sweep the same day does not slip it through.
    frozen_clock.set(shanghai(27, 23, 0))
    assert dispatcher.dispatch_due(world) == []
    frozen_clock.set(shanghai(28, 7, 59, 59))
    assert dispatcher.dispatch_due(world) == []
    frozen_clock.set(shanghai(28, 8, 0))
    assert [o.status for o in dispatcher.dispatch_due(world)] == ["sent"]
    assert len(texts_to()) == cap + 1
    assert {stored(m).status for m in ids} == {"sent"}
    assert stored(late.message_id).deferrals == 1  # the deferral stays counted on the item


# -- gaps found by these tests, since fixed ---------------------------------------------------
def test_one_failing_write_does_not_stop_the_backstop_sending_the_rest(world, frozen_clock):
    make_item(world, "C00000000A:v2:company_responded")
    make_item(world, "C00000000B:v2:company_responded", case_id="C00000000B")
    with failing_writes("claim"):
        dispatcher.dispatch_due(world)
    assert len(texts_to()) == 1


def test_deferrals_do_not_use_up_the_retry_budget(world, frozen_clock):
    make_item(world, "C00000000A:v2:company_responded")
    cap_key = "rate#sms#" + stored("C00000000A:v2:company_responded").phone_key
    for _ in range(MAX_ATTEMPTS - 1):  # four days over the cap: four deferrals
        frozen_clock.set(clock.parse_iso(stored("C00000000A:v2:company_responded").send_after))
        Guard(
            f"{cap_key}#{clock.now().astimezone(SHANGHAI):%Y%m%d}", count=sms_rules.DAILY_CAP
        ).save()
        assert [o.status for o in dispatcher.dispatch_due(world)] == ["deferred"]
    item = stored("C00000000A:v2:company_responded")
    assert item.deferrals == MAX_ATTEMPTS - 1 and item.attempts == 0
    frozen_clock.set(clock.parse_iso(item.send_after))
    outcome = dispatcher.dispatch(world, item.message_id, FlakySender(world, [throttled()]))
    assert outcome.status == "retry"  # one provider error, not the fifth


def test_a_follow_up_retried_near_21_00_waits_for_the_morning(world, frozen_clock):
    frozen_clock.set(shanghai(27, 20, 59, 30))
    make_item(world, "C00000000A:v2:company_responded", notify="follow_up")
    assert [
        o.status for o in dispatcher.dispatch_due(world, FlakySender(world, [throttled()]))
    ] == ["retry"]
    retry_at = clock.parse_iso(stored("C00000000A:v2:company_responded").send_after)
    assert not sms_rules.in_quiet_hours(retry_at), retry_at.astimezone(SHANGHAI)
