"""What a filing costs in DynamoDB requests (docs/design.md §3: one transaction; §8: no Scan).

A botocore `before-call.dynamodb` hook on every client PynamoDB uses counts each operation the
service sends while one request is served."""

from __future__ import annotations

import json
from collections import Counter

from chalicelib.adapters import tables
from chalicelib.services import keys
from tests.integration.helpers import (
    ACTIVE_ID,
    ACTIVE_PHONE,
    SECOND_ID,
    SECOND_PHONE,
    UNICOM_ID,
    UNICOM_PHONE,
    item,
)
from tests.support import Api

COMPANIES = ["tencent", "alibaba", "alipay", "baidu", "kuaishou", "douyin", "jd", "meituan"]
WRITES = {
    "PutItem",
    "UpdateItem",
    "DeleteItem",
    "BatchWriteItem",
    "TransactWriteItems",
    "ExecuteStatement",
    "BatchExecuteStatement",
    "ExecuteTransaction",
}


class DynamoCalls:
    """Counts DynamoDB operations on every PynamoDB client, and the items per transaction."""

    def __init__(self) -> None:
        self.ops: Counter[str] = Counter()
        self.transact_sizes: list[int] = []
        self._hooked: dict[int, object] = {}

    def _on_call(self, model, params, **_: object) -> None:
        self.ops[model.name] += 1
        if model.name == "TransactWriteItems":
            body = json.loads(params["body"])  # the serialised request
            self.transact_sizes.append(len(body["TransactItems"]))

    def hook(self) -> None:
        """(Re-)register on every client: models may have been re-bound to new clients."""
        from chalicelib import config
        from chalicelib.adapters import aws

        clients = [m._get_connection().connection.client for m in tables.MODELS]
        clients.append(tables.connection().client)
        # The statistics table is read and written with boto3's own client (stats_store).
        clients.append(aws.client("dynamodb", config.settings().region))
        for client in clients:
            events = client.meta.events
            if id(events) not in self._hooked:
                events.register("before-call.dynamodb", self._on_call, unique_id="count-calls")
                self._hooked[id(events)] = events

    def measure(self, action) -> tuple[Counter[str], list[int], object]:
        self.hook()
        self.ops.clear()
        self.transact_sizes.clear()
        result = action()
        return Counter(self.ops), list(self.transact_sizes), result

    def unhook(self) -> None:
        for events in self._hooked.values():
            events.unregister("before-call.dynamodb", unique_id="count-calls")


def warm_webhook_subscriptions() -> None:
    """A warm container: the companies' webhook subscriptions read in the last minute (one
    BatchGetItem a minute, counted in tests/integration/test_webhooks.py)."""
    from chalicelib.adapters import webhook_store
    from chalicelib.services import webhooks

    webhook_store.subscriptions(webhooks.all_companies())


def test_filing_costs_one_write_whatever_the_number_of_companies(client, frozen_clock):
    api = Api(client, frozen_clock)
    people = {
        1: api.sign_in(ACTIVE_PHONE, ACTIVE_ID),  # also makes every client exist before hooking
        3: api.sign_in(SECOND_PHONE, SECOND_ID),
        8: api.sign_in(UNICOM_PHONE, UNICOM_ID),
    }
    warm_webhook_subscriptions()
    calls = DynamoCalls()
    try:
        # The hook sees the service's traffic: a read the test makes is counted.
        ops, _, r = calls.measure(lambda: api.call("GET", "/v1/disputes", token=people[1]))
        assert r.status_code == 200 and ops["Query"] == 1, ops

        for n, token in people.items():
            body = {"items": [item(c, n + 1, 0) for c in COMPANIES[:n]]}
            ops, sizes, r = calls.measure(
                lambda b=body, t=token: api.call("POST", "/v1/disputes", b, token=t)
            )
            assert r.status_code == 201, r.body
            assert len(r.data["cases"]) == n
            writes = {op: k for op, k in ops.items() if op in WRITES}
            assert writes == {"TransactWriteItems": 1}, (n, ops)
            # dispute + per company (case, open-case lock, audit event) + one receipt
            assert sizes == [1 + 3 * n + 1], (n, sizes)
            # Reads today: one GetItem (the holder record behind the session); no Scan.
            assert ops == Counter({"TransactWriteItems": 1, "GetItem": 1}), (n, ops)

        # With an Idempotency-Key: one PutItem first (the key claimed for this request, so a
        # parallel retry sees it in flight), then the filing as before ...
        body = {"items": [item("meituan", 2, 1)]}
        headers = {"Idempotency-Key": "count-me"}
        ops, sizes, r = calls.measure(
            lambda: api.call("POST", "/v1/disputes", body, token=people[3], headers=headers)
        )
        assert r.status_code == 201, r.body
        assert ops == Counter({"PutItem": 1, "TransactWriteItems": 1, "GetItem": 1}), ops
        assert sizes == [1 + 3 + 1 + 1]  # ... whose transaction also stores the answer
        # ... and a replay is answered from that record: the claim refused, one read.
        ops, sizes, replay = calls.measure(
            lambda: api.call("POST", "/v1/disputes", body, token=people[3], headers=headers)
        )
        assert replay.data == r.data
        assert ops == Counter({"PutItem": 1, "GetItem": 1}), ops

        # A refused filing (a case already open) writes nothing that sticks: the one
        # transaction is cancelled, then the conflicting lock is read to name the case.
        ops, _, conflict = calls.measure(
            lambda: api.call(
                "POST", "/v1/disputes", {"items": [item("tencent", 9, 1)]}, token=people[1]
            )
        )
        assert conflict.status_code == 409, conflict.body
        assert {op: k for op, k in ops.items() if op in WRITES} == {"TransactWriteItems": 1}
        assert "Scan" not in ops
    finally:
        calls.unhook()


def test_sending_a_follow_up_reads_its_case_once_a_receipt_reads_nothing(
    client, world, frozen_clock
):
    """What the dispatcher costs per message (docs/design.md §7). Issue 16 added ONE GetItem
    for a follow-up whose truth depends on the case (it is dropped if the case moved on); a
    receipt or a settled outcome is never stale and reads nothing."""
    from chalicelib.domain import clock
    from chalicelib.services import dispatcher, keys

    api = Api(client, frozen_clock)
    token = api.sign_in(ACTIVE_PHONE, ACTIVE_ID)
    r = api.call("POST", "/v1/disputes", {"items": [item("tencent", 3, 1)]}, token=token)
    assert r.status_code == 201, r.body
    dispute_id, case_id = r.data["dispute_id"], r.data["cases"][0]["case_id"]
    liaison = keys.issue("liaison", "tencent", "counts")["key"]
    request = {"action": "request_user_action", "message": "请完成核验"}
    r = api.call("POST", f"/v1/liaison/cases/{case_id}/transitions", request, token=liaison)
    assert r.status_code == 200, r.body

    calls = DynamoCalls()
    try:
        # The receipt: claim, the daily-cap counter, mark sent (and, on the local stage only,
        # the PutItem of the /dev/sms copy). No read of a case.
        assert world.is_local
        ops, _, outcome = calls.measure(
            lambda: dispatcher.dispatch(world, f"{dispute_id}:file:dispute_receipt")
        )
        assert outcome.status == "sent"
        assert ops == Counter({"UpdateItem": 3, "PutItem": 1}), ops

        # The request to act, due after the digest window: the same, plus one GetItem (is it
        # still true?). A request is never merged, so no Query for others to merge.
        frozen_clock.set(clock.now() + dispatcher.sms_rules.DIGEST_WINDOW)
        ops, _, outcome = calls.measure(
            lambda: dispatcher.dispatch(world, f"{case_id}:v2:user_action_requested")
        )
        assert outcome.status == "sent"
        assert ops == Counter({"UpdateItem": 3, "PutItem": 1, "GetItem": 1}), ops
    finally:
        calls.unhook()


def test_reading_a_dispute_costs_two_requests_whatever_the_number_of_cases(client, frozen_clock):
    """docs/design.md §12: the dispute, then its cases in one batch, each carrying its history
    and the number's carrier (a recycled number's renewal route needs no holder read)."""
    api = Api(client, frozen_clock)
    people = {
        1: api.sign_in(ACTIVE_PHONE, ACTIVE_ID),
        3: api.sign_in(SECOND_PHONE, SECOND_ID),
        8: api.sign_in(UNICOM_PHONE, UNICOM_ID),
    }
    warm_webhook_subscriptions()
    calls = DynamoCalls()
    try:
        for n, token in people.items():
            body = {"items": [item(c, 3, 1, "recycled_number") for c in COMPANIES[:n]]}
            filed = api.call("POST", "/v1/disputes", body, token=token)
            assert filed.status_code == 201, filed.body
            case_id = filed.data["cases"][0]["case_id"]
            liaison = keys.issue("liaison", COMPANIES[0], "counts")["key"]
            acted = api.call(
                "POST",
                f"/v1/liaison/cases/{case_id}/transitions",
                {"action": "acknowledge"},
                token=liaison,
            )
            assert acted.status_code == 200, acted.body
            path = f"/v1/disputes/{filed.data['dispute_id']}"
            ops, _, read = calls.measure(lambda p=path, t=token: api.call("GET", p, token=t))
            assert read.status_code == 200 and len(read.data["cases"]) == n
            assert ops == Counter({"GetItem": 1, "BatchGetItem": 1}), (n, ops)
            # The history read with the case is the audit trail's, for the person.
            first = read.data["cases"][0]
            assert [e["action"] for e in first["history"]] == ["file", "acknowledge"]
            assert first["next_steps"]["number_renewal_first"], first["next_steps"]
    finally:
        calls.unhook()


def test_the_public_scorecard_costs_one_request_then_none_for_a_minute(client, world):
    """A flood of scorecard requests costs one GetItem (the minute's summary) per process per
    CACHE_SECONDS; the scheduler's minute writes the summary with a fixed cost."""
    from chalicelib.services import public_scorecard, scheduler

    scheduler.tick(world)  # writes the summary
    calls = DynamoCalls()
    try:
        ops, _, first = calls.measure(lambda: client.http.get("/v1/scorecard"))
        assert first.status_code == 200
        assert ops == Counter({"GetItem": 1}), ops
        for _ in range(20):
            ops, _, again = calls.measure(lambda: client.http.get("/v1/scorecard"))
            assert ops == Counter() and again.body == first.body, ops
        cache = next(v for k, v in again.headers.items() if k.lower() == "cache-control")
        assert cache.startswith("public, max-age=") and int(cache.rsplit("=", 1)[1]) >= 60
        public_scorecard.reset()  # a minute later, or another container
        ops, _, _ = calls.measure(lambda: client.http.get("/v1/scorecard"))
        assert ops == Counter({"GetItem": 1}), ops
    finally:
        calls.unhook()


def test_the_operators_statistics_cost_one_request_and_say_as_of_when(client, frozen_clock, world):
    """From the minute's summary: one GetItem, `as_of` its time. With no recent summary (the
    scheduler stopped), live: one Query per scope, as of now."""
    from chalicelib.domain import clock
    from chalicelib.services import scheduler, stats_summary

    operator = keys.issue("operator", None, "counts")["key"]
    api = Api(client, frozen_clock)
    scheduler.tick(world)  # writes the summary
    counted_at = clock.iso(clock.now())
    frozen_clock.advance(seconds=50)
    calls = DynamoCalls()
    try:
        ops, _, r = calls.measure(lambda: api.call("GET", "/v1/admin/stats", token=operator))
        assert r.status_code == 200, r.body
        assert ops["GetItem"] == 2 and ops["Query"] == 0, ops  # the key, the summary
        assert r.data["as_of"] == counted_at != r.data["generated_at"]

        frozen_clock.advance(minutes=5)  # no tick since: the summary is too old to trust
        ops, _, r = calls.measure(lambda: api.call("GET", "/v1/admin/stats", token=operator))
        assert ops["Query"] == len(stats_summary.scopes()), ops
        assert r.data["as_of"] == r.data["generated_at"]
    finally:
        calls.unhook()
