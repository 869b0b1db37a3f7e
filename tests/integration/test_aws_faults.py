"""When AWS fails (docs/design.md §6, §12): 503 `service_unavailable` with `Retry-After`, within
API Gateway's 29 s, nothing half-written.

Faults come from a loopback stand-in for AWS (`FaultyEndpoint`, 127.0.0.1 only) that refuses
connections, never answers, hangs up, or answers an AWS error: real sockets, and botocore's
own retries and error parsing. Either every client is pointed at it (`AWS_ENDPOINT_URL`: AWS
is down) or one operation of one client is sent there (a failure between two calls of one
request) while the rest reaches moto.

Nothing is timed. What bounds a request's time is asserted on the clients' configuration
(`test_every_client_runs_on_the_limits_and_the_budget_is_under_29_s`); the fault tests count
the attempts botocore sent (at `Endpoint._send`, where it writes to the socket) and record the
pauses it chose between them instead of sleeping them.
"""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import SimpleNamespace
from typing import Any

import botocore.endpoint
import pytest
from botocore.retries.standard import ExponentialBackoff

from chalicelib.adapters import aws, faults, tables
from chalicelib.adapters.faults import OutOfTime
from chalicelib.api import observability
from chalicelib.services import keys
from tests.conftest import DEMO
from tests.integration.helpers import (
    ACTIVE_ID,
    ACTIVE_PHONE,
    all_tables,
    assert_problem,
    assert_retry_after,
    item,
)
from tests.support import Api, stream_records

API_GATEWAY_LIMIT_S = 29.0
SHORT_READ_TIMEOUT_S = 0.1  # the silent endpoint's test only: production's is asserted below


# -- a failing AWS on the loopback interface ---------------------------------------------------
class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _Server

    def do_POST(self) -> None:  # every AWS protocol we use is a POST
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        fake = self.server.fake
        if fake.mode == "silent":
            fake.stopping.wait(10)  # bounded: released when the test ends
            self.close_connection = True
            return
        if fake.mode == "hangup":
            self.close_connection = True  # closed without a word
            return
        error = {"__type": f"com.amazonaws#{fake.code}", "message": "injected", **fake.extra}
        body = json.dumps(error).encode()
        self.send_response(fake.status)
        self.send_header("Content-Type", "application/x-amz-json-1.0")
        self.send_header("x-amzn-RequestId", "injected-fault")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: Any) -> None:
        pass


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    fake: FaultyEndpoint


@dataclass
class FaultyEndpoint:
    """`refuse`: nothing listens; `silent`: accepts and never answers; `hangup`: reads the
    request and closes; `answer`: an AWS error (`status`, `code`)."""

    mode: str
    status: int = 0
    code: str = ""
    extra: dict[str, Any] = field(default_factory=dict)
    url: str = ""
    stopping: threading.Event = field(default_factory=threading.Event)
    _server: _Server | None = None

    def __enter__(self) -> FaultyEndpoint:
        if self.mode == "refuse":
            with socket.socket() as probe:  # a loopback port that was free a moment ago
                probe.bind(("127.0.0.1", 0))
                port = probe.getsockname()[1]
        else:
            self._server = _Server(("127.0.0.1", 0), _Handler)
            self._server.fake = self
            port = self._server.server_address[1]
            threading.Thread(target=self._server.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{port}"
        return self

    def __exit__(self, *exc: object) -> None:
        self.stopping.set()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()


@dataclass(frozen=True)
class Kind:
    mode: str
    error: str  # what the log names: botocore's exception, or AWS's error code
    status: int = 0
    code: str = ""


KINDS = {
    "unreachable": Kind("refuse", "EndpointConnectionError"),
    "hangs_up": Kind("hangup", "ConnectionClosedError"),
    "read_timeout": Kind("silent", "ReadTimeoutError"),
    "provisioned_throughput": Kind(
        "answer",
        "ProvisionedThroughputExceededException",
        400,
        "ProvisionedThroughputExceededException",
    ),
    "throttling": Kind("answer", "ThrottlingException", 400, "ThrottlingException"),
    "internal_error": Kind("answer", "InternalServerError", 500, "InternalServerError"),
    "unavailable": Kind("answer", "ServiceUnavailable", 503, "ServiceUnavailable"),
}


def endpoint(kind: Kind) -> FaultyEndpoint:
    return FaultyEndpoint(kind.mode, kind.status, kind.code)


# -- what botocore sends -----------------------------------------------------------------------
@dataclass
class Wire:
    """Every attempt botocore sent over the network (moto's answers never get this far), and
    every pause it chose before a retry."""

    attempts: list[str] = field(default_factory=list)
    pauses: list[float] = field(default_factory=list)

    def take(self) -> tuple[list[str], list[float]]:
        out = (list(self.attempts), list(self.pauses))
        self.attempts.clear()
        self.pauses.clear()
        return out


@pytest.fixture
def wire(monkeypatch: pytest.MonkeyPatch) -> Wire:
    seen = Wire()
    send = botocore.endpoint.Endpoint._send

    def counted(self: Any, request: Any) -> Any:
        target = request.headers.get("X-Amz-Target") or b"?"
        target = target.decode() if isinstance(target, bytes) else target
        seen.attempts.append(target.rpartition(".")[2])
        return send(self, request)

    monkeypatch.setattr(botocore.endpoint.Endpoint, "_send", counted)
    # botocore.endpoint uses `time` for nothing but the pause before a retry.
    monkeypatch.setattr(botocore.endpoint, "time", SimpleNamespace(sleep=seen.pauses.append))
    return seen


def fresh_clients() -> None:
    """Clients read the endpoint and their limits when made: make them anew."""
    tables.reset()
    aws.reset()


@contextmanager
def aws_at(monkeypatch: pytest.MonkeyPatch, url: str) -> Iterator[None]:
    """Every AWS client made inside talks to `url`."""
    monkeypatch.setenv("AWS_ENDPOINT_URL", url)
    fresh_clients()
    try:
        yield
    finally:
        monkeypatch.delenv("AWS_ENDPOINT_URL")
        fresh_clients()


def short_read_timeout(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(aws, "READ_TIMEOUT_S", SHORT_READ_TIMEOUT_S)
    monkeypatch.setattr(tables._Meta, "read_timeout_seconds", SHORT_READ_TIMEOUT_S)


@contextmanager
def redirected(
    client: Any, operation: str, url: str, times: int | None = None, after: int = 0
) -> Iterator[list[str | None]]:
    """Sends attempts of `operation` by this one client to `url`: all of them, or `times`
    of them after the first `after`; yields each attempt's ClientRequestToken (if any)."""
    tokens: list[str | None] = []

    def redirect(request: Any, **_: Any) -> None:
        body = request.body or b""
        json_body = body.startswith(b"{") if isinstance(body, bytes) else False
        tokens.append(json.loads(body).get("ClientRequestToken") if json_body else None)
        if len(tokens) > after and (times is None or len(tokens) <= after + times):
            request.url = url + "/"

    event = f"before-send.{client.meta.service_model.service_id.hyphenize()}.{operation}"
    client.meta.events.register_first(event, redirect, unique_id=f"test-redirect-{operation}")
    try:
        yield tokens
    finally:
        client.meta.events.unregister(event, unique_id=f"test-redirect-{operation}")


def max_pause(retry: int) -> float:
    """The longest pause botocore's standard mode takes before retry `retry` (1-based), as
    throttling and without x-amz-retry-after (the stand-in sends none)."""
    scale = ExponentialBackoff._DEFAULT_BACKOFF_CONFIG["throttling_base_scale"]
    return min(scale * ExponentialBackoff._BASE ** (retry - 1), ExponentialBackoff._MAX_BACKOFF)


def log_lines(out: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in out.splitlines() if line.startswith("{")]


# -- a person with a dispute, and a liaison ---------------------------------------------------
@dataclass
class Scene:
    api: Api
    token: str
    liaison: str
    dispute_id: str
    case_id: str

    def requests(self) -> list[tuple[str, str, dict | None, str | None]]:
        """One of every kind of request: codes, sign-in, filing, reading, acting, liaising."""
        return [
            ("POST", "/v1/verification-codes", {"phone": ACTIVE_PHONE}, None),
            (
                "POST",
                "/v1/sessions",
                {"phone": ACTIVE_PHONE, "id_last6": ACTIVE_ID, "code": "123456"},
                None,
            ),
            ("POST", "/v1/disputes", {"items": [item("baidu")]}, self.token),
            ("GET", "/v1/disputes", None, self.token),
            ("GET", f"/v1/disputes/{self.dispute_id}", None, self.token),
            ("POST", f"/v1/cases/{self.case_id}/actions", {"action": "withdraw"}, self.token),
            ("GET", "/v1/liaison/cases", None, self.liaison),  # the key is read first
            (
                "POST",
                f"/v1/liaison/cases/{self.case_id}/transitions",
                {"action": "acknowledge"},
                self.liaison,
            ),
        ]


def scene(client: Any, frozen_clock: Any) -> Scene:
    api = Api(client, frozen_clock)
    token = api.sign_in(ACTIVE_PHONE, ACTIVE_ID)
    filed = api.call("POST", "/v1/disputes", {"items": [item("tencent"), item("jd")]}, token=token)
    assert filed.status_code == 201, filed.body
    case_id = next(c["case_id"] for c in filed.data["cases"] if c["company"] == "tencent")
    liaison = keys.issue("liaison", "tencent", "faults")["key"]
    return Scene(api, token, liaison, filed.data["dispute_id"], case_id)


def assert_unavailable(response: Any) -> None:
    assert_problem(response, 503, "service_unavailable")
    assert_retry_after(response, 1, 30)


# -- AWS down: every request ------------------------------------------------------------------
@pytest.mark.parametrize("name", list(KINDS))
def test_every_request_answers_503_when_aws_fails_and_nothing_changes(
    name, client, world, frozen_clock, wire, monkeypatch, capsys
):
    kind = KINDS[name]
    s = scene(client, frozen_clock)
    before = all_tables(world)
    if kind.mode == "silent":
        short_read_timeout(monkeypatch)
    requests = s.requests()
    capsys.readouterr()
    with endpoint(kind) as fake, aws_at(monkeypatch, fake.url):
        for method, path, body, token in requests:
            wire.take()
            r = s.api.call(method, path, body, token=token)
            assert_unavailable(r)
            attempts, pauses = wire.take()
            # One AWS call, tried MAX_ATTEMPTS times by botocore; then the request ends.
            assert len(attempts) == aws.MAX_ATTEMPTS and len(set(attempts)) == 1, (path, attempts)
            assert len(pauses) == aws.MAX_ATTEMPTS - 1, (path, pauses)
            assert all(0 <= p <= max_pause(i + 1) for i, p in enumerate(pauses)), pauses
    assert all_tables(world) == before

    logged = [
        r for r in log_lines(capsys.readouterr().out) if r.get("message") == "aws_unavailable"
    ]
    assert len(logged) == len(requests)
    for record in logged:
        assert record["level"] == "ERROR" and record.get("correlation_id"), record
        assert kind.error in record["error"], record
    # ... and the service answers again as soon as AWS does.
    assert s.api.call("GET", "/v1/disputes", token=s.token).status_code == 200


# -- a failure between two calls of one request -----------------------------------------------
WRITES = {
    "filing": lambda s: ("POST", "/v1/disputes", {"items": [item("baidu")]}, s.token),
    "person_action": lambda s: (
        "POST",
        f"/v1/cases/{s.case_id}/actions",
        {"action": "withdraw"},
        s.token,
    ),
    "liaison_transition": lambda s: (
        "POST",
        f"/v1/liaison/cases/{s.case_id}/transitions",
        {"action": "acknowledge"},
        s.liaison,
    ),
}


@pytest.mark.parametrize("name", ["internal_error", "read_timeout"])
@pytest.mark.parametrize("write", list(WRITES))
def test_a_write_that_fails_after_the_reads_leaves_every_table_as_it_was(
    write, name, client, world, frozen_clock, wire, monkeypatch
):
    """The reads went through (moto answered them), then the one TransactWriteItems fails:
    the request answers 503 and no table holds a trace of it."""
    kind = KINDS[name]
    s = scene(client, frozen_clock)
    if kind.mode == "silent":
        short_read_timeout(monkeypatch)
        fresh_clients()
    s.api.call("GET", "/v1/liaison/cases", token=s.liaison)  # the key is checked and cached
    method, path, body, token = WRITES[write](s)
    before = all_tables(world)
    with (
        endpoint(kind) as fake,
        redirected(tables.connection().client, "TransactWriteItems", fake.url),
    ):
        wire.take()
        r = s.api.call(method, path, body, token=token)
        attempts, _ = wire.take()
    assert_unavailable(r)
    assert attempts == ["TransactWriteItems"] * aws.MAX_ATTEMPTS
    assert all_tables(world) == before


def test_a_transaction_meeting_another_is_503_and_leaves_nothing(client, world, frozen_clock, wire):
    """Cancelled for a conflict with another request's transaction (no condition failed):
    not the caller's fault, and botocore does not retry it; sent again, it goes through."""
    s = scene(client, frozen_clock)
    before = all_tables(world)
    reasons = [{"Code": "None"}, {"Code": "TransactionConflict"}]
    conflict = FaultyEndpoint(
        "answer", 400, "TransactionCanceledException", {"CancellationReasons": reasons}
    )
    body = {"items": [item("baidu")]}
    with conflict as fake, redirected(tables.connection().client, "TransactWriteItems", fake.url):
        assert_unavailable(s.api.call("POST", "/v1/disputes", body, token=s.token))
    assert wire.attempts == ["TransactWriteItems"]
    assert all_tables(world) == before
    assert s.api.call("POST", "/v1/disputes", body, token=s.token).status_code == 201


def test_the_write_is_retried_with_one_client_token_so_it_happens_once(
    client, world, frozen_clock, wire
):
    """botocore retries the filing's TransactWriteItems with the same ClientRequestToken:
    had an attempt reached DynamoDB and only its answer been lost, the retry would not
    write the dispute a second time."""
    s = scene(client, frozen_clock)
    before = len(all_tables(world)[world.table_name("disputes")])
    kind = KINDS["internal_error"]
    with endpoint(kind) as fake:
        fails = aws.MAX_ATTEMPTS - 1
        with redirected(
            tables.connection().client, "TransactWriteItems", fake.url, fails
        ) as tokens:
            r = s.api.call("POST", "/v1/disputes", {"items": [item("baidu")]}, token=s.token)
    assert r.status_code == 201, r.body
    assert len(tokens) == aws.MAX_ATTEMPTS and tokens[0] and len(set(tokens)) == 1, tokens
    assert wire.attempts == ["TransactWriteItems"] * fails  # the last one went to moto
    assert len(all_tables(world)[world.table_name("disputes")]) == before + 1


def test_an_erasure_cut_short_by_aws_can_be_finished(client, world, frozen_clock, wire):
    """Erasing takes more than one transaction when a dispute has many events: if AWS fails
    between two, the dispute is still there and erasing it again finishes the work."""
    s = scene(client, frozen_clock)
    shown = s.api.call("GET", f"/v1/disputes/{s.dispute_id}", token=s.token).data
    case_ids = [c["case_id"] for c in shown["cases"]]
    for case_id in case_ids:
        r = s.api.call(
            "POST", f"/v1/cases/{case_id}/actions", {"action": "withdraw"}, token=s.token
        )
        assert r.status_code == 200, r.body
    for version in range(10, 110):  # a long history: the erasure needs two transactions
        tables.Event(
            case_ids[0],
            version,
            action="comment",
            actor="user",
            to_state="withdrawn",
            at="2026-11-27T02:00:00Z",
            message="自由文本",
        ).save()
    path = f"/v1/disputes/{s.dispute_id}"
    writes = tables.connection().client
    with (
        endpoint(KINDS["internal_error"]) as fake,
        redirected(writes, "TransactWriteItems", fake.url, after=1),
    ):
        assert_unavailable(s.api.call("DELETE", path, token=s.token))
    assert wire.attempts == ["TransactWriteItems"] * aws.MAX_ATTEMPTS
    assert s.api.call("GET", path, token=s.token).status_code == 200  # still there

    assert s.api.call("DELETE", path, token=s.token).status_code == 204
    dump = all_tables(world)
    assert dump[world.table_name("disputes")] == dump[world.table_name("cases")] == []
    events = [e for e in dump[world.table_name("events")] if e["case_id"]["S"] in case_ids]
    assert len(events) == 104 and not any("message" in e for e in events)


def test_a_request_out_of_time_sends_no_further_attempt(
    client, world, frozen_clock, monkeypatch, capsys
):
    s = scene(client, frozen_clock)
    before = all_tables(world)
    monkeypatch.setattr(aws, "REQUEST_BUDGET_S", 0.0)
    capsys.readouterr()
    assert_unavailable(
        s.api.call("POST", "/v1/disputes", {"items": [item("baidu")]}, token=s.token)
    )
    (logged,) = [
        r for r in log_lines(capsys.readouterr().out) if r.get("message") == "aws_unavailable"
    ]
    assert logged["error"] == "OutOfTime"  # refused before the first attempt left
    assert all_tables(world) == before


# -- the limits ---------------------------------------------------------------------------------
def _every_client(settings) -> dict[str, Any]:
    clients = {m.__name__: m._get_connection().connection.client for m in tables.MODELS}
    clients["transactions"] = tables.connection().client
    for service in ("dynamodb", "dynamodbstreams", "kms", "sns", "secretsmanager"):
        clients[service] = aws.client(service, settings.region)
    return clients


def _one_call(name: str, made: Any) -> None:
    calls = {
        "dynamodbstreams": lambda: made.list_streams(),
        "kms": lambda: made.list_keys(),
        "sns": lambda: made.list_topics(),
        "secretsmanager": lambda: made.list_secrets(),
    }
    calls.get(name, lambda: made.list_tables())()


def test_every_client_runs_on_the_limits_and_the_budget_is_under_29_s(world):
    clients = _every_client(world)
    for name, made in clients.items():
        config = made.meta.config
        assert config.connect_timeout == aws.CONNECT_TIMEOUT_S == 1.0, name
        assert config.read_timeout == aws.READ_TIMEOUT_S == 3.0, name
        assert config.retries == {"mode": "standard", "total_max_attempts": 3}, name
    assert clients["dynamodbstreams"].meta.config.account_id_endpoint_mode == "disabled"

    # The longest a call can take: every attempt to its timeouts, every pause to its cap
    # (botocore's throttling backoff, plus the most x-amz-retry-after may add).
    extra = ExponentialBackoff._RETRY_AFTER_MAX_ADDITIONAL
    attempts = aws.MAX_ATTEMPTS
    pauses = [max_pause(retry) + extra for retry in range(1, attempts)]
    per_attempt = aws.CONNECT_TIMEOUT_S + aws.READ_TIMEOUT_S
    per_call = attempts * per_attempt + sum(pauses)
    # A request starts no attempt after its budget: at worst one more attempt and one pause.
    per_request = aws.REQUEST_BUDGET_S + per_attempt + max(pauses)
    assert (per_call, per_request) == (25.0, 26.0)
    assert per_call < API_GATEWAY_LIMIT_S and per_request < API_GATEWAY_LIMIT_S
    assert aws.worst_case_seconds(1.0, 3.0, 3) == per_call
    assert aws.worst_case_seconds(1.0, 3.0, 3, aws.REQUEST_BUDGET_S) == per_request

    # ... and every client honours the budget: out of time, nothing more is sent.
    for name, made in clients.items():
        with aws.request_budget(0), pytest.raises(OutOfTime):
            _one_call(name, made)


# -- the workers --------------------------------------------------------------------------------
def test_the_audit_stream_hands_back_what_it_could_not_count(client, world, frozen_clock):
    scene(client, frozen_clock)
    records = stream_records(world, "events")
    inserted = [r["dynamodb"]["SequenceNumber"] for r in records if r["eventName"] == "INSERT"]
    assert inserted
    stats = world.table_name("stats")
    before = all_tables(world)[stats]
    observability.reset()
    ddb = aws.client("dynamodb", world.region)
    # Each event is counted after reading its case's marker: that read fails.
    with endpoint(KINDS["internal_error"]) as fake, redirected(ddb, "GetItem", fake.url):
        failed = client.lambda_.invoke("statistics_aggregator", {"Records": records}).payload
    # From the first record it could not count on: Lambda delivers them again, in order.
    assert failed["counted"] == 0
    assert [f["itemIdentifier"] for f in failed["batchItemFailures"]][:1] == inserted[:1]
    assert all_tables(world)[stats] == before

    again = client.lambda_.invoke("statistics_aggregator", {"Records": records}).payload
    assert again["batchItemFailures"] == [] and again["counted"] >= len(inserted)


def test_the_scheduler_tick_fails_loudly_when_aws_does(client, world, frozen_clock, monkeypatch):
    scene(client, frozen_clock)
    before = all_tables(world)
    tick = client.events.generate_cw_event(
        source="aws.events", detail_type="Scheduled Event", detail={}, resources=[]
    )
    with (
        endpoint(KINDS["unreachable"]) as fake,
        aws_at(monkeypatch, fake.url),
        pytest.raises(Exception) as raised,
    ):
        client.lambda_.invoke("scheduler_tick", tick)
    assert faults.is_aws_fault(raised.value), raised.value
    assert all_tables(world) == before


def test_an_sms_whose_provider_hangs_up_is_given_back_to_retry(client, world, frozen_clock):
    """SNS closes the connection (no `response` on the error): the message goes back to the
    outbox with the error noted, to be retried; the day's SMS cap is not spent."""
    scene(client, frozen_clock)
    records = [r for r in stream_records(world, "outbox") if r["eventName"] == "INSERT"]
    assert records
    sns = aws.client("sns", world.region)
    with endpoint(KINDS["hangs_up"]) as fake, redirected(sns, "Publish", fake.url):
        out = client.lambda_.invoke("outbox_dispatcher", {"Records": records}).payload
    assert out["batchItemFailures"] == []
    outbox = all_tables(world)[world.table_name("outbox")]
    assert outbox and all(m["status"]["S"] == "pending" for m in outbox)
    assert {m["last_error"]["S"] for m in outbox} == {"ConnectionClosedError"}
    assert {m["attempts"]["N"] for m in outbox} == {"1"}
    caps = [
        g
        for g in all_tables(world)[world.table_name("guards")]
        if g["pk"]["S"].startswith("rate#sms#")
    ]
    assert all(g["count"]["N"] == "0" for g in caps), caps


def test_a_code_sns_could_not_send_spends_neither_the_minute_nor_the_day(
    client, world, frozen_clock
):
    """SNS hangs up on the code: 503 sms_unavailable, and the person may ask again at once —
    the code record is withdrawn and the day's count given back."""
    api = Api(client, frozen_clock)
    sns = aws.client("sns", world.region)
    phone = DEMO["active"][0]
    with endpoint(KINDS["hangs_up"]) as fake, redirected(sns, "Publish", fake.url):
        failed = api.call("POST", "/v1/verification-codes", {"phone": phone})
    assert failed.status_code == 503 and failed.data["code"] == "sms_unavailable", failed.body
    guards_now = all_tables(world)[world.table_name("guards")]
    assert not [g for g in guards_now if g["pk"]["S"].startswith("code#")]
    assert {g["count"]["N"] for g in guards_now if g["pk"]["S"].startswith("rate#code#")} == {"0"}
    again = api.call("POST", "/v1/verification-codes", {"phone": phone})
    assert again.status_code == 202, again.body
