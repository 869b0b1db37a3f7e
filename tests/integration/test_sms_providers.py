"""SMS through the in-China providers (issue 17, docs/design.md §11): Alibaba Cloud and Tencent
Cloud, each through its official SDK pointed at a loopback fake of its API
(scripts/fake_sms_providers.py), with its credentials in (moto's) Secrets Manager. The outbox,
the dispatcher, quiet hours and the scheduler are the real ones, as with SNS.
"""

from __future__ import annotations

import json
from datetime import timedelta

import pytest

from chalicelib.adapters import aws, outbox_store
from chalicelib.domain import clock
from chalicelib.domain.sms_providers import load_provider_templates
from chalicelib.services import dispatcher, keys, scheduler
from scripts.fake_sms_providers import FakeAliyun, FakeTencent
from tests.conftest import DEMO
from tests.support import Api

PHONE, ID6, _ = DEMO["active"]
CREDENTIALS = {
    "aliyun": {"access_key_id": "LTAI-test", "access_key_secret": "not-a-secret"},
    "tencent": {"secret_id": "AKID-test", "secret_key": "not-a-secret", "sdk_app_id": "1400000001"},
}
# A throttling code and an invalid-number code each provider documents.
THROTTLED = {
    "aliyun": "isv.BUSINESS_LIMIT_CONTROL",
    "tencent": "LimitExceeded.PhoneNumberDailyLimit",
}
INVALID = {
    "aliyun": "isv.MOBILE_NUMBER_ILLEGAL",
    "tencent": "InvalidParameterValue.IncorrectPhoneNumber",
}
UNKNOWN = {"aliyun": "isv.SOMETHING_NEW", "tencent": "FailedOperation.SomethingNew"}


@pytest.fixture(params=["aliyun", "tencent"])
def fake(request, world, monkeypatch):
    """The stage on this provider: its fake running, its credentials in Secrets Manager."""
    name = request.param
    provider = (FakeAliyun if name == "aliyun" else FakeTencent)(
        now=lambda: clock.now().timestamp()
    )
    provider.start()
    monkeypatch.setenv("RECOUNT_SMS_PROVIDER", name)
    monkeypatch.setenv("RECOUNT_SMS_ENDPOINT", provider.endpoint)
    aws.client("secretsmanager", world.region).create_secret(
        Name="recount/local/sms-provider", SecretString=json.dumps(CREDENTIALS[name])
    )
    yield provider
    provider.stop()


def settings():
    from chalicelib import config

    return config.settings()


def code_in(fake) -> str:
    params = fake.sent[-1].params
    return params["code"] if isinstance(params, dict) else params[0]


def sign_in(api: Api, fake) -> str:
    r = api.call("POST", "/v1/verification-codes", {"phone": PHONE})
    assert r.status_code == 202, r.body
    session = {"phone": PHONE, "id_last6": ID6, "code": code_in(fake)}
    r = api.call("POST", "/v1/sessions", session)
    assert r.status_code == 201, r.body
    api.clock.advance(seconds=61)
    return r.data["token"]


def file(api: Api, token: str, company: str = "tencent") -> str:
    body = {
        "items": [
            {"company": company, "reported_count": 3, "expected_count": 1, "reason": "not_mine"}
        ]
    }
    r = api.call("POST", "/v1/disputes", body, token=token)
    assert r.status_code == 201, r.body
    return r.data["dispute_id"]


def receipt(dispute_id: str):
    (item,) = [m for m in outbox_store.of_dispute(dispute_id) if m.template == "dispute_receipt"]
    return item


def test_a_code_and_a_receipt_go_as_the_provider_s_approved_templates(client, fake, frozen_clock):
    api = Api(client, frozen_clock)
    token = sign_in(api, fake)
    templates = load_provider_templates()
    (code_sms,) = fake.sent
    assert code_sms.template == templates.variants("verification_code")[0].ids[fake.name]
    assert code_sms.sign_name == "recount演示"  # the stage's signature, without 【】
    assert code_sms.phone in (PHONE, "+86" + PHONE)

    dispute_id = file(api, token)
    assert scheduler.tick(settings())["sms_sent"] == 1
    item = receipt(dispute_id)
    sent = fake.sent[-1]
    assert (item.status, item.provider, item.provider_message_id) == (
        "sent",
        fake.name,
        sent.message_id,  # the BizId / SerialNo, stored on the outbox item
    )
    variant = templates.pick("dispute_receipt", item.variables)
    assert sent.template == variant.ids[fake.name]
    expected = (
        variant.named_params(item.variables)
        if fake.name == "aliyun"
        else variant.positional_params(item.variables)
    )
    assert sent.params == expected
    # /dev/sms still shows the text, whatever the provider.
    r = api.call("GET", f"/dev/sms?phone={PHONE}")
    assert any(dispute_id in m["body"] for m in r.data["messages"]), r.data


def test_throttling_is_retried_with_backoff_then_sent(client, fake, frozen_clock):
    api = Api(client, frozen_clock)
    dispute_id = file(api, sign_in(api, fake))
    fake.fail_next(THROTTLED[fake.name])
    assert scheduler.tick(settings())["sms_retry"] == 1
    item = receipt(dispute_id)
    assert (item.status, item.attempts) == ("pending", 1)
    assert item.last_error == f"{fake.name}:{THROTTLED[fake.name]}"
    assert scheduler.tick(settings())["sms_sent"] == 0  # not before its backoff
    frozen_clock.advance(seconds=dispatcher.backoff(1).total_seconds())
    assert scheduler.tick(settings())["sms_sent"] == 1
    assert receipt(dispute_id).status == "sent"


def test_an_invalid_number_is_dead_at_once_with_the_provider_s_code(client, fake, frozen_clock):
    api = Api(client, frozen_clock)
    dispute_id = file(api, sign_in(api, fake))
    fake.fail_next(INVALID[fake.name])
    assert scheduler.tick(settings())["sms_dead"] == 1
    item = receipt(dispute_id)
    assert (item.status, item.attempts) == ("dead", 1)
    assert item.last_error == f"{fake.name}:{INVALID[fake.name]}"


def test_an_unknown_refusal_is_retried_then_dead(client, fake, frozen_clock):
    api = Api(client, frozen_clock)
    dispute_id = file(api, sign_in(api, fake))
    fake.fail_next(UNKNOWN[fake.name], times=dispatcher.MAX_ATTEMPTS)
    for attempt in range(1, dispatcher.MAX_ATTEMPTS + 1):
        outcome = scheduler.tick(settings())
        item = receipt(dispute_id)
        assert item.attempts == attempt and item.last_error.endswith(UNKNOWN[fake.name])
        if attempt < dispatcher.MAX_ATTEMPTS:
            assert (outcome["sms_retry"], item.status) == (1, "pending")
            frozen_clock.advance(seconds=dispatcher.backoff(attempt).total_seconds())
    assert (outcome["sms_dead"], item.status) == (1, "dead")


def test_a_provider_outage_is_a_fault_retried_like_any_other(client, fake, frozen_clock):
    api = Api(client, frozen_clock)
    dispute_id = file(api, sign_in(api, fake))
    fake.fail_with_http(503)
    assert scheduler.tick(settings())["sms_retry"] == 1
    assert receipt(dispute_id).status == "pending"
    frozen_clock.advance(minutes=1)
    assert scheduler.tick(settings())["sms_sent"] == 1


def test_a_code_the_provider_cannot_deliver_says_so_and_a_busy_one_says_try_again(
    client, fake, frozen_clock
):
    api = Api(client, frozen_clock)
    fake.fail_next(INVALID[fake.name])
    r = api.call("POST", "/v1/verification-codes", {"phone": PHONE})
    assert (r.status_code, r.data["code"]) == (422, "sms_undeliverable"), r.body
    assert r.data["provider_code"] == INVALID[fake.name]
    assert PHONE not in r.body.decode()
    fake.fail_next(THROTTLED[fake.name])
    r = api.call("POST", "/v1/verification-codes", {"phone": PHONE})
    assert (r.status_code, r.data["code"]) == (503, "sms_unavailable"), r.body
    # Neither spent the minute's spacing: a code can be asked for at once, and it arrives.
    r = api.call("POST", "/v1/verification-codes", {"phone": PHONE})
    assert r.status_code == 202 and len(fake.sent) == 1, r.body


def test_delivery_reports_are_pulled_and_recorded(client, fake, frozen_clock):
    api = Api(client, frozen_clock)
    token = sign_in(api, fake)
    delivered = file(api, token, "tencent")
    failed = file(api, token, "jd")
    assert scheduler.tick(settings())["sms_sent"] == 2
    first, second = receipt(delivered), receipt(failed)
    assert first.report_shard is not None and first.delivery is None
    fake.deliver(first.provider_message_id)
    fake.deliver(second.provider_message_id, ok=False, code="MK:0005")
    frozen_clock.advance(minutes=2)
    outcome = scheduler.tick(settings())
    assert (outcome["sms_delivered"], outcome["sms_undelivered"]) == (1, 1)
    first, second = receipt(delivered), receipt(failed)
    assert (first.delivery, first.report_shard) == ("delivered", None)
    assert first.delivered_at is not None
    assert (second.delivery, second.delivery_code) == ("failed", "MK:0005")
    # Recorded once: the next tick asks about neither.
    assert scheduler.tick(settings())["sms_delivered"] == 0
    # The liaison sees whether the person was reached (never the number or the text).
    r = api.call("GET", f"/v1/disputes/{failed}", token=sign_in(api, fake))
    case_id = r.data["cases"][0]["case_id"]
    liaison = keys.issue("liaison", "jd", "test")["key"]
    r = api.call("GET", f"/v1/liaison/cases/{case_id}/messages", token=liaison)
    assert r.status_code == 200, r.body
    (seen,) = r.data["items"]
    assert (seen["template"], seen["status"], seen["provider"]) == (
        "dispute_receipt",
        "sent",
        fake.name,
    )
    assert (seen["delivery"], seen["delivery_code"]) == ("failed", "MK:0005")
    assert PHONE not in r.body.decode() and "申诉" not in r.body.decode()
    # The operators' statistics: the delivery rate per template, each report counted once.
    operator = keys.issue("operator", None, "test")["key"]
    r = api.call("GET", "/v1/admin/stats", token=operator)
    assert r.data["sms_delivery"] == [
        {
            "template": "dispute_receipt",
            "delivered": 1,
            "failed": 1,
            "unreported": 0,
            "delivery_rate": 0.5,
        }
    ]


def test_a_report_that_never_comes_is_recorded_unreported_after_a_day(client, fake, frozen_clock):
    api = Api(client, frozen_clock)
    dispute_id = file(api, sign_in(api, fake))
    scheduler.tick(settings())
    frozen_clock.advance(days=1, minutes=1)
    scheduler.tick(settings())
    item = receipt(dispute_id)
    assert (item.delivery, item.report_shard) == ("unreported", None)


def test_quiet_hours_hold_a_follow_up_whatever_the_provider(client, fake, frozen_clock):
    """A liaison answers at 22:00 Shanghai: the person hears of it at 08:00, not before."""
    api = Api(client, frozen_clock)
    token = sign_in(api, fake)
    r = api.call(
        "POST",
        "/v1/disputes",
        {"items": [{"company": "jd", "reported_count": 3, "expected_count": 1, "reason": "other"}]},
        token=token,
    )
    case_id = r.data["cases"][0]["case_id"]
    scheduler.tick(settings())  # the receipt
    night = clock.parse_iso("2026-11-27T14:00:00Z")  # 22:00 in Shanghai
    frozen_clock.set(night)
    liaison = keys.issue("liaison", "jd", "test")["key"]
    r = api.call(
        "POST",
        f"/v1/liaison/cases/{case_id}/transitions",
        {"action": "respond", "response_code": "accounts_unbound", "message": "已解绑"},
        token=liaison,
    )
    assert r.status_code == 200, r.body
    before = len(fake.sent)
    for hour in range(1, 13):
        frozen_clock.set(night + timedelta(hours=hour) - timedelta(minutes=1))
        scheduler.tick(settings())
        if len(fake.sent) > before:
            break
    sent_at = clock.now()
    assert len(fake.sent) == before + 1
    assert sent_at >= clock.parse_iso("2026-11-28T00:00:00Z")  # 08:00 in Shanghai


def test_a_message_no_approved_template_fits_is_dead_at_once(client, fake, frozen_clock):
    """A mapping that lacks a branch (here: a digest step it does not know) is no transient
    fault: retrying cannot help, so the message is dead with the reason, and nothing is sent."""
    from chalicelib.domain.ports import SmsMessage

    sender = dispatcher.sender(settings())
    before = len(fake.sent)
    message = SmsMessage("dispute_digest", {"dispute_id": "D1", "count": 2, "step": "x"}, "")
    with pytest.raises(Exception) as refused:
        sender.send("+86" + PHONE, message, phone_key="k", masked="138****8000")
    assert (refused.value.code, refused.value.permanent) == ("no_approved_template", True)
    assert len(fake.sent) == before


def test_the_outbox_stream_sends_through_the_provider_as_it_does_through_sns(
    client, fake, frozen_clock
):
    """The Lambda on the outbox stream: each new message at once, each exactly once."""
    from tests.support import stream_records

    api = Api(client, frozen_clock)
    dispute_id = file(api, sign_in(api, fake))
    records = stream_records(settings(), "outbox")
    outcomes = dispatcher.dispatch_stream_records(settings(), records)
    assert [o.status for o in outcomes] == ["sent"]
    assert receipt(dispute_id).provider_message_id == fake.sent[-1].message_id
    # Redelivered (Lambda retries a batch): nothing is sent twice.
    assert dispatcher.dispatch_stream_records(settings(), records)[0].status == "skipped"
    assert len(fake.sent) == 2  # the code and the receipt
