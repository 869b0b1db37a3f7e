"""The list indexes are write-sharded (issue 19 item 2, docs/scale.md): a company's queue is
spread over `<company>#<n>` keys and the operators' state view over `<state>#<n>`. A page reads
every shard and merges them, so what a liaison or an operator sees — the order, every page, the
cursors — is the same whatever the number of shards."""

from __future__ import annotations

import pytest

from chalicelib.adapters import case_store
from chalicelib.services import paging
from tests.integration.helpers import assert_problem, scan
from tests.integration.test_case_actions import Desk
from tests.integration.test_request_counts import DynamoCalls, warm_webhook_subscriptions

PEOPLE = ["active", "second", "unicom", *(f"extra{n}" for n in range(6))]


@pytest.fixture
def desk(client, frozen_clock, world) -> Desk:
    return Desk(client, frozen_clock, world)


def file_one_a_second(desk: Desk) -> list[str]:
    """Nine Tencent cases, one a second: the newest-first order is the reverse."""
    made = []
    for who in PEOPLE:
        desk.clock.advance(seconds=1)
        made.append(desk.file("tencent", "jd", who=who)[1]["tencent"])
    return made


def walk_admin(desk: Desk, query: str) -> list[str]:
    seen, cursor = [], None
    for _ in range(50):
        q = query + (f"&cursor={cursor}" if cursor else "")
        r = desk.api.call("GET", f"/v1/admin/cases?{q}", token=desk.operator)
        assert r.status_code == 200, r.body
        seen += [x["case_id"] for x in r.data["items"]]
        cursor = r.data["next_cursor"]
        if cursor is None:
            return seen
    raise AssertionError("the cursor never ran out")


@pytest.mark.parametrize("shards", [1, 4, 7])
def test_every_page_and_the_order_are_the_same_whatever_the_shards(
    desk: Desk, monkeypatch, shards: int
):
    monkeypatch.setattr(case_store, "LIST_SHARDS", shards)
    made = file_one_a_second(desk)
    newest_first = made[::-1]

    for limit in (1, 2, 3, 4, 9, 100):
        walked = [x["case_id"] for x in desk.walk("tencent", f"limit={limit}")]
        assert walked == newest_first, (shards, limit)

    # Filters apply inside each shard; the merged pages keep the order.
    acknowledged = made[1::2]
    for case_id in acknowledged:
        desk.clock.advance(seconds=1)
        desk.ok(desk.transition("tencent", case_id, {"action": "acknowledge"}), "acknowledged")
    for limit in (1, 2, 5):
        walked = [x["case_id"] for x in desk.walk("tencent", f"state=submitted&limit={limit}")]
        assert walked == [c for c in newest_first if c not in acknowledged], (shards, limit)
        # The operators' view is newest change first.
        by_change = walk_admin(desk, f"state=acknowledged&company=tencent&limit={limit}")
        assert by_change == acknowledged[::-1], (shards, limit)

    stored = scan(desk.settings, "cases")
    keys = {c["queue_key"]["S"] for c in stored if c["company"]["S"] == "tencent"}
    assert {k.partition("#")[0] for k in keys} == {"tencent"}
    assert len(keys) <= shards and (len(keys) > 1) == (shards > 1)  # spread over the shards
    for c in stored:
        assert c["state_key"]["S"].startswith(c["state"]["S"] + "#")


def test_a_queue_page_is_one_query_per_shard(desk: Desk):
    file_one_a_second(desk)
    warm_webhook_subscriptions()
    token = desk.liaison("tencent")
    calls = DynamoCalls()
    try:
        ops, _, r = calls.measure(
            lambda: desk.api.call("GET", "/v1/liaison/cases?limit=3", token=token)
        )
        assert r.status_code == 200 and len(r.data["items"]) == 3
        # Besides the key's own check (a GetItem, its last use): one Query for each shard.
        assert ops["Query"] == case_store.LIST_SHARDS, ops
    finally:
        calls.unhook()


def test_a_cursor_from_before_the_sharding_is_refused_not_misread(desk: Desk):
    file_one_a_second(desk)
    # What the unsharded index handed back: one key, signed for this very query.
    old = {
        "case_id": {"S": "c" * 26},
        "company": {"S": "tencent"},
        "created_at": {"S": "2026-11-27T02:00:05Z"},
    }
    scope = "liaison:tencent:None:None:None"
    cursor = paging.encode(desk.settings.token_key, scope, old)
    r = desk.api.call("GET", f"/v1/liaison/cases?cursor={cursor}", token=desk.liaison("tencent"))
    assert_problem(r, 400, "invalid_cursor")
