"""Company webhooks end to end (issue 18, docs/design.md §10): a liaison sets an endpoint, case
changes reach a real HTTP receiver on loopback, signed the Standard Webhooks way and verified
with the `standardwebhooks` package as a company would; retries keep their webhook-id; an
endpoint that never answers ends dead and disabled; rotation signs with both secrets for 24 h;
outside stage local only public https addresses are called.
"""

from __future__ import annotations

import json
import threading
from dataclasses import replace
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

from chalicelib.adapters import webhook_store
from chalicelib.domain.webhooks import load_rules
from chalicelib.services import keys, scheduler, webhooks
from tests.conftest import DEMO
from tests.support import Api

PHONE, ID6, _ = DEMO["active"]


class Receiver:
    """A company's endpoint on loopback: answers with the next status queued (200 by default),
    keeps every request as (headers, body)."""

    def __init__(self) -> None:
        self.requests: list[tuple[dict[str, str], str]] = []
        self.statuses: list[int] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", "0"))
                body = self.rfile.read(length).decode()
                receiver.requests.append(({k.lower(): v for k, v in self.headers.items()}, body))
                status = receiver.statuses.pop(0) if receiver.statuses else 200
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hooks"

    def events(self) -> list[str]:
        return [json.loads(body)["type"] for _, body in self.requests]

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver():
    r = Receiver()
    yield r
    r.close()


class Desk:
    def __init__(self, client, clock, settings) -> None:
        self.api = Api(client, clock)
        self.clock = clock
        self.settings = settings
        self.liaison = keys.issue("liaison", "jd", "hooks")["key"]
        self.operator = keys.issue("operator", None, "hooks")["key"]
        self.token: str | None = None

    def person(self) -> str:
        if self.token is None:
            self.token = self.api.sign_in(PHONE, ID6)
        return self.token

    def call(self, method: str, path: str, body=None, token: str | None = None):
        return self.api.call(method, path, body, token=token or self.liaison)

    def register(self, url: str, events: list[str] | None = None) -> str:
        body = {"url": url} if events is None else {"url": url, "events": events}
        r = self.call("PUT", "/v1/liaison/webhook", body)
        assert r.status_code == 201, r.body
        return r.data["secret"]

    def file(self, company: str = "jd", reason: str = "not_mine") -> str:
        item = {"company": company, "reported_count": 3, "expected_count": 1, "reason": reason}
        r = self.api.call("POST", "/v1/disputes", {"items": [item]}, token=self.person())
        assert r.status_code == 201, r.body
        return r.data["cases"][0]["case_id"]

    def act(self, case_id: str, body: dict):
        r = self.call("POST", f"/v1/liaison/cases/{case_id}/transitions", body)
        assert r.status_code == 200, r.body

    def person_act(self, case_id: str, body: dict):
        r = self.api.call("POST", f"/v1/cases/{case_id}/actions", body, token=self.person())
        assert r.status_code == 200, r.body

    def pump(self) -> None:
        scheduler.tick(self.settings)


@pytest.fixture
def desk(client, frozen_clock, world) -> Desk:
    return Desk(client, frozen_clock, world)


def verified(secret: str, headers: dict[str, str], body: str) -> dict:
    return Webhook(secret).verify(body, headers)


def test_every_event_is_delivered_once_per_change_signed_with_the_company_secret(desk, receiver):
    secret = desk.register(receiver.url)
    ask = {"action": "request_user_action", "message": "请先登录该账号"}
    respond = {"action": "respond", "response_code": "accounts_unbound", "message": "已解绑"}

    first = desk.file()  # case.opened
    desk.act(first, ask)
    desk.person_act(first, {"action": "user_done"})  # case.user_done
    desk.act(first, respond)
    desk.person_act(first, {"action": "confirm", "new_count": 2})  # confirmed + escalated
    desk.person_act(first, {"action": "withdraw"})  # case.withdrawn

    second = desk.file("tencent")  # another company: nothing reaches jd's endpoint
    desk.person_act(second, {"action": "withdraw"})
    third = desk.file()  # case.opened
    desk.act(third, respond)
    desk.person_act(third, {"action": "reopen"})  # reopened + escalated
    desk.person_act(third, {"action": "withdraw"})  # case.withdrawn
    fifth = desk.file()  # case.opened
    desk.act(fifth, respond)
    desk.person_act(fifth, {"action": "disagree", "statement": "并未解绑"})  # case.disagreed
    fourth = desk.file("alipay")
    alipay = keys.issue("liaison", "alipay", "hooks")["key"]
    r = desk.call(
        "POST",
        f"/v1/liaison/cases/{fourth}/transitions",
        {"action": "misrouted", "target_company": "jd"},
        token=alipay,
    )
    assert r.status_code == 200, r.body  # case.rerouted_in at jd
    desk.pump()

    assert sorted(receiver.events()) == sorted(
        [
            *["case.opened", "case.user_done", "case.confirmed", "case.escalated"],
            "case.withdrawn",
            *["case.opened", "case.reopened", "case.escalated", "case.withdrawn"],
            *["case.opened", "case.disagreed"],
            "case.rerouted_in",
        ]
    )
    ids = [h["webhook-id"] for h, _ in receiver.requests]
    assert len(set(ids)) == len(ids)  # each change once
    for headers, body in receiver.requests:
        payload = verified(secret, headers, body)
        assert payload["id"] == headers["webhook-id"]
        data = payload["data"]
        assert data["company"] == "jd" and data["phone_masked"] == "138****8000"
        assert PHONE not in body and "phone_cipher" not in body and "history" not in data
    # Delivered again by nobody: a second pump sends nothing more.
    desk.pump()
    assert len(receiver.requests) == len(ids)


def test_only_the_events_the_endpoint_takes_and_overdue_on_a_missed_deadline(desk, receiver):
    desk.register(receiver.url, ["case.overdue", "case.withdrawn"])
    case_id = desk.file()
    desk.pump()
    assert receiver.requests == []  # case.opened is not taken
    desk.clock.advance(days=5)  # past the 2-working-day acknowledgement deadline
    desk.pump()  # sla_breach: case.overdue (and case.escalated, not taken)
    assert receiver.events() == ["case.overdue"]
    assert json.loads(receiver.requests[0][1])["data"]["case_id"] == case_id


def test_a_failing_receiver_gets_the_same_webhook_id_until_it_answers(desk, receiver):
    secret = desk.register(receiver.url, ["case.opened"])
    receiver.statuses = [500, 503, 502]
    desk.file()
    desk.pump()  # the first attempt
    for delay in load_rules().retry_after[:3]:
        desk.clock.advance(seconds=delay.total_seconds())
        desk.pump()
    assert [h["webhook-id"] for h, _ in receiver.requests] == [
        receiver.requests[0][0]["webhook-id"]
    ] * 4
    for headers, body in receiver.requests:
        verified(secret, headers, body)
    (entry,) = desk.call("GET", "/v1/liaison/webhook/deliveries").data["items"]
    assert (entry["status"], entry["attempts"], entry["response_status"]) == ("delivered", 4, 200)
    assert entry["latency_ms"] >= 0 and entry["event"] == "case.opened"
    assert desk.call("GET", "/v1/liaison/webhook").data["failing_since"] is None


def test_a_receiver_that_never_answers_ends_dead_and_disabled(desk, receiver):
    desk.register(receiver.url, ["case.opened"])
    receiver.close()  # nothing listens there any more
    desk.file()
    desk.pump()
    rules = load_rules()
    for delay in rules.retry_after:
        desk.clock.advance(seconds=delay.total_seconds())
        desk.pump()
    (entry,) = desk.call("GET", "/v1/liaison/webhook/deliveries").data["items"]
    assert entry["status"] == "dead" and entry["attempts"] == len(rules.retry_after) + 1
    assert entry["error"] == "connection_failed"
    endpoint = desk.call("GET", "/v1/liaison/webhook").data
    assert endpoint["enabled"] is False and "failed since" in endpoint["disabled_reason"]
    listed = desk.call("GET", "/v1/admin/webhooks", token=desk.operator).data["items"]
    assert [(e["company"], e["enabled"]) for e in listed] == [("jd", False)]
    # Disabled: new events are not delivered until the liaison saves the endpoint again.
    desk.token = None  # days later: the person signs in again
    desk.file("douyin")
    r = desk.call("PUT", "/v1/liaison/webhook", {"url": endpoint["url"], "events": ["case.opened"]})
    assert r.status_code == 200 and r.data["enabled"] is True and "secret" not in r.data


def test_rotation_signs_with_both_secrets_for_24_hours(desk, receiver):
    old = desk.register(receiver.url, ["case.opened"])
    r = desk.call("POST", "/v1/liaison/webhook/rotate-secret")
    assert r.status_code == 200 and r.data["secret"] != old, r.body
    new = r.data["secret"]
    assert r.data["secrets_in_force"] == 2
    desk.file()
    desk.pump()
    headers, body = receiver.requests[-1]
    assert len(headers["webhook-signature"].split(" ")) == 2
    verified(old, headers, body)  # a receiver still on the old secret
    verified(new, headers, body)  # and one already on the new
    desk.clock.advance(hours=24, seconds=1)
    r = desk.call("POST", "/v1/liaison/webhook/test")
    assert r.status_code == 200 and r.data["status"] == "delivered", r.body
    headers, body = receiver.requests[-1]
    verified(new, headers, body)
    with pytest.raises(WebhookVerificationError):
        verified(old, headers, body)


def test_a_test_ping_the_log_and_resend(desk, receiver):
    desk.register(receiver.url)
    r = desk.call("POST", "/v1/liaison/webhook/test")
    assert (r.status_code, r.data["event"], r.data["status"]) == (200, "ping", "delivered")
    assert receiver.events() == ["ping"]
    log = desk.call("GET", "/v1/liaison/webhook/deliveries").data["items"]
    assert [e["id"] for e in log] == [r.data["id"]]
    again = desk.call("POST", f"/v1/liaison/webhook/deliveries/{r.data['id']}/resend")
    assert again.status_code == 200 and again.data["attempts"] == 1, again.body
    assert [h["webhook-id"] for h, _ in receiver.requests] == [r.data["id"]] * 2
    # Another company's delivery is as absent as a missing one.
    other = keys.issue("liaison", "tencent", "hooks")["key"]
    for path in (
        f"/v1/liaison/webhook/deliveries/{r.data['id']}/resend",
        "/v1/liaison/webhook/deliveries/wh:nothing/resend",
    ):
        r2 = desk.call("POST", path, token=other)
        assert (r2.status_code, r2.data["code"]) == (404, "not_found"), r2.body


def test_the_endpoint_lifecycle_and_bad_input(desk, receiver):
    assert desk.call("GET", "/v1/liaison/webhook").status_code == 404
    for body, code in (
        ({"url": ""}, "validation_failed"),
        ({"url": receiver.url, "events": ["case.nope"]}, "validation_failed"),
        ({"url": receiver.url, "events": []}, "validation_failed"),
        ({"url": "ftp://example.com/x"}, "validation_failed"),  # the document: https?://
        ({"url": "http://user:pw@127.0.0.1/x"}, "webhook_url_refused"),
    ):
        r = desk.call("PUT", "/v1/liaison/webhook", body)
        assert (r.status_code, r.data["code"]) == (422, code), (body, r.body)
    secret = desk.register(receiver.url)
    got = desk.call("GET", "/v1/liaison/webhook").data
    assert got["events"] == load_rules().event_types and "secret" not in got
    assert secret not in json.dumps(got)
    assert desk.call("DELETE", "/v1/liaison/webhook").status_code == 204
    assert desk.call("DELETE", "/v1/liaison/webhook").status_code == 404
    r = desk.call("POST", "/v1/admin/webhooks/nobody/disable", token=desk.operator)
    assert r.status_code == 404


@pytest.mark.parametrize(
    "url",
    [
        "https://127.0.0.1/hooks",
        "https://10.1.2.3/hooks",
        "https://192.168.0.10/hooks",
        "https://169.254.169.254/latest/meta-data/",
        "https://[::1]/hooks",
        "https://[::ffff:127.0.0.1]/hooks",
        "http://hooks.example.com/",
    ],
)
def test_outside_stage_local_only_public_https_addresses_are_taken(desk, url):
    prod = replace(desk.settings, stage="prod")
    actor = desk_actor("jd")
    with pytest.raises(Exception) as refused:
        webhooks.put_endpoint(prod, actor, {"url": url})
    assert refused.value.code == "webhook_url_refused", url
    assert webhook_store.get("jd") is None


def test_an_address_that_turns_private_is_refused_at_connect_time(desk, receiver, monkeypatch):
    """DNS rebinding: saved while it resolved public, private when called. The call checks
    the address it connects to, so nothing reaches the loopback receiver in stage prod."""
    from chalicelib.adapters import webhook_http

    desk.register(receiver.url.replace("127.0.0.1", "hooks.example.com"), ["case.opened"])
    original = webhook_http.post
    monkeypatch.setattr(
        webhook_http,
        "post",
        lambda url, body, headers, **kw: original(
            url.replace("http://", "https://"),
            body,
            headers,
            **{**kw, "allow_private": False, "resolve": lambda host, port: ["127.0.0.1"]},
        ),
    )
    desk.file()
    desk.pump()
    (entry,) = desk.call("GET", "/v1/liaison/webhook/deliveries").data["items"]
    assert entry["status"] == "pending" and entry["error"].startswith("address_refused")
    assert receiver.requests == []


def desk_actor(company: str):
    from chalicelib.domain.actors import Actor

    return Actor("liaison", company=company)


def test_a_transition_reads_no_subscription_while_the_cache_is_warm(desk, receiver):
    """The subscription check costs one BatchGetItem a minute per process, not one per change
    (and none for a change that makes no event)."""
    from tests.integration.test_request_counts import DynamoCalls

    desk.register(receiver.url)
    case_id = desk.file()
    calls = DynamoCalls()
    try:
        ops, _, _ = calls.measure(lambda: desk.act(case_id, {"action": "acknowledge"}))
        assert "BatchGetItem" not in ops, ops
        desk.clock.advance(seconds=1)
        webhook_store.reset()  # a minute later, or a fresh container
        ops, _, _ = calls.measure(lambda: desk.person_act(case_id, {"action": "withdraw"}))
        assert ops["BatchGetItem"] == 1, ops
    finally:
        calls.unhook()


def test_a_deadline_coming_near_is_told_once_per_deadline(desk, receiver):
    """Filed Fri 27 Nov 10:00 (Shanghai): acknowledge by Tue 1 Dec, so near from the end of
    Mon 30 Nov; once acknowledged, the response deadline (11 Dec) comes near on 10 Dec."""
    from chalicelib.adapters import case_store
    from chalicelib.domain import clock

    desk.register(receiver.url, ["case.deadline_near"])
    case_id = desk.file()
    assert case_store.get_case(case_id).near_at == "2026-11-30T15:59:59Z"
    desk.clock.set(clock.parse_iso("2026-11-30T15:59:58Z"))
    desk.pump()
    desk.pump()
    assert receiver.events() == []
    desk.clock.set(clock.parse_iso("2026-11-30T16:00:00Z"))
    desk.pump()
    desk.pump()  # delivered on the next tick (the stream's job in AWS)
    assert receiver.events() == ["case.deadline_near"]
    data = json.loads(receiver.requests[0][1])["data"]
    assert (data["case_id"], data["due_at"]) == (case_id, "2026-12-01T15:59:59Z")
    desk.pump()
    assert len(receiver.requests) == 1  # once per deadline
    desk.act(case_id, {"action": "acknowledge"})
    assert case_store.get_case(case_id).near_at == "2026-12-10T15:59:59Z"
    desk.clock.set(clock.parse_iso("2026-12-10T16:00:01Z"))
    desk.pump()
    desk.pump()
    assert receiver.events() == ["case.deadline_near"] * 2
    assert json.loads(receiver.requests[1][1])["data"]["due_at"] == "2026-12-11T15:59:59Z"
