"""Fraud hotspots (issue 8): filings by region × company × ISO week against the 8 weeks before,
the spike rule (count ≥ 5 and ≥ 3 × (baseline mean + 1)) on a synthetic cluster it must flag
and a background it must not, and the drill-down into the masked cases behind a flag.

Audit events are fed to the aggregator as DynamoDB stream records (what Lambda delivers),
so the whole path — stream record → counters and index → route — is the real one.

W48 is 23–29 Nov 2026; its baseline is W40–W47. The seeded weeks:

  cell                          W40..W43   W44..W47   W48   baseline mean  threshold  spike
  北京市 × tencent (uniform)      1 each     1 each     1       1.0          6          no
  上海市 × alipay  (uniform)      1 each     1 each     1 (+3)  1.0          6          no (4)
  浙江省杭州市 × jd (uniform)     1 each     1 each     1       1.0          6          no
  北京市 × jd (busy, steady)      0          5 each     5       2.5          10.5       no
  广东省深圳市 × jd (the ring)    0          1 in W45   7       0.125        5          YES

Looking back from W44 and W45 the busy cell itself was a spike (5 against a mean of 0 and
0.625); from W46 on its new level is the baseline (5 against 1.25: threshold 6.75).
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import quote

import pytest
from boto3.dynamodb.types import TypeSerializer

from app import app
from chalicelib.adapters import case_store
from chalicelib.adapters.tables import Case
from chalicelib.domain import clock
from chalicelib.domain.workdays import SHANGHAI
from chalicelib.services import keys, stats_aggregation
from tests.conftest import START
from tests.integration.helpers import assert_problem
from tests.support import Api, emulated_aws, local_stage_env

W48_MONDAY = datetime(2026, 11, 23, tzinfo=SHANGHAI)
_ids = itertools.count(1)
_serializer = TypeSerializer()


def monday_of(week: int) -> datetime:
    return W48_MONDAY - timedelta(weeks=48 - week)


def filing(company: str, region: str, at: datetime, case_id: str | None = None) -> dict:
    """A `file` audit event as the events table's stream delivers it (NEW_IMAGE)."""
    case_id = case_id or f"CH{next(_ids):08d}"
    when = clock.iso(at)
    image = {
        "case_id": case_id,
        "version": 1,
        "action": "file",
        "actor": "user",
        "to_state": "submitted",
        "at": when,
        "code": "fraud_suspected",
        "company": company,
        "kind": "accounts",
        "lane": "fraud",
        "region": region,
        "case_created_at": when,
        "due_at": clock.iso(at + timedelta(days=2)),
    }
    return {
        "eventID": f"e-{case_id}",
        "eventName": "INSERT",
        "dynamodb": {
            "Keys": {"case_id": {"S": case_id}, "version": {"N": "1"}},
            "NewImage": {k: _serializer.serialize(v) for k, v in image.items()},
            "StreamViewType": "NEW_IMAGE",
        },
    }


def background() -> list[dict]:
    records = []
    for week in range(40, 49):
        wednesday = monday_of(week) + timedelta(days=2, hours=12)
        for company, region in (
            ("tencent", "北京市"),
            ("alipay", "上海市"),
            ("jd", "浙江省杭州市"),
        ):
            records.append(filing(company, region, wednesday))
        if week >= 44:
            records += [filing("jd", "北京市", wednesday + timedelta(minutes=i)) for i in range(5)]
    # Near miss: four more in one cell this week are not a ring (fewer than 5 over baseline).
    records += [
        filing("alipay", "上海市", W48_MONDAY + timedelta(days=3, minutes=i)) for i in range(3)
    ]
    return records


CLUSTER_IDS = [f"CRING{i:05d}" for i in range(7)]


def cluster() -> list[dict]:
    records = [filing("jd", "广东省深圳市", monday_of(45) + timedelta(days=1))]
    # 00:30 Monday in Shanghai is still Sunday in UTC: it belongs to W48 all the same.
    starts = [W48_MONDAY + timedelta(minutes=30)]
    starts += [W48_MONDAY + timedelta(days=4, hours=9, minutes=i) for i in range(6)]
    records += [
        filing("jd", "广东省深圳市", at, case_id)
        for at, case_id in zip(starts, CLUSTER_IDS, strict=True)
    ]
    return records


def save_cluster_cases() -> None:
    """The cases behind the cluster (all but the last: the person erased it since)."""
    for i, case_id in enumerate(CLUSTER_IDS[:-1]):
        state = "acknowledged" if i % 2 else "submitted"
        Case(
            case_id,
            dispute_id=f"DRING{i:05d}",
            company="jd",
            kind="accounts",
            lane="fraud",
            reason="fraud_suspected",
            reported_count=3,
            expected_count=0,
            state=state,
            action_on="company",
            version=1,
            phone_key=f"hmac-{i}",
            phone_cipher="cipher",
            phone_masked=f"135****{i:04d}",
            phone_region="广东省深圳市",
            created_at="2026-11-27T01:00:00Z",
            updated_at="2026-11-27T01:00:00Z",
            **case_store.list_keys(case_id, "jd", state),
        ).save()


@pytest.fixture(scope="module")
def hot() -> Iterator[tuple[Api, str, Any]]:
    from chalice.test import Client

    with pytest.MonkeyPatch.context() as mp:
        for name, value in local_stage_env().items():
            mp.setenv(name, value)
        previous = clock.use(clock.FrozenClock(START))
        try:
            with emulated_aws([]) as settings:
                records = background() + cluster()
                assert stats_aggregation.aggregate_records(settings, records) == len(records)
                save_cluster_cases()
                with Client(app, stage_name="local") as client:
                    yield Api(client), keys.issue("operator", None, "hot")["key"], settings
        finally:
            clock.use(previous)


def get(api: Api, token: str, path: str):
    r = api.call("GET", path, token=token)
    assert r.status_code == 200, r.body
    return r.data


def test_the_ring_is_flagged_and_the_background_is_not(hot):
    api, token, _ = hot
    data = get(api, token, "/v1/admin/hotspots?week=2026-W48")
    assert data["week"] == "2026-W48"
    assert data["baseline_weeks"] == [f"2026-W{w}" for w in range(40, 48)]
    assert data["rule"]["min_count"] == 5 and data["rule"]["factor"] == 3
    cells = {(c["region"], c["company"]): c for c in data["cells"]}
    expected = {
        ("广东省深圳市", "jd"): (7, 0.125, 5.0, True),
        ("北京市", "jd"): (5, 2.5, 10.5, False),
        ("上海市", "alipay"): (4, 1.0, 6.0, False),
        ("北京市", "tencent"): (1, 1.0, 6.0, False),
        ("浙江省杭州市", "jd"): (1, 1.0, 6.0, False),
    }
    got = {
        key: (c["count"], c["baseline_mean"], c["threshold"], c["spike"])
        for key, c in cells.items()
    }
    assert got == expected
    assert data["spike_count"] == 1
    ring = data["cells"][0]  # spikes first
    assert (ring["province"], ring["city"], ring["company"]) == ("广东省", "深圳市", "jd")
    assert ring["drill"] == {"week": "2026-W48", "region": "广东省深圳市", "company": "jd"}


def test_the_same_rule_looks_back_from_any_week(hot):
    api, token, _ = hot
    # W44: the busy cell starts at 5 a week against an empty history: 5 ≥ max(5, 3 × 1).
    # W45: 5 against a mean of 5/8: the threshold is max(5, 3 × 1.625 = 4.875): still a spike.
    # W46: 5 against 10/8: 3 × 2.25 = 6.75 > 5: the new level has become the baseline.
    # (The ring's single W45 filing is 1: below the floor.)
    for week, spikes in (("2026-W44", [5]), ("2026-W45", [5]), ("2026-W46", [])):
        data = get(api, token, f"/v1/admin/hotspots?week={week}&spikes_only=true")
        assert [c["count"] for c in data["cells"]] == spikes, week
        assert all((c["region"], c["company"]) == ("北京市", "jd") for c in data["cells"])
    # Filters, and the current week (START is in W48) by default.
    data = get(api, token, "/v1/admin/hotspots?company=alipay")
    assert data["week"] == "2026-W48"
    assert [(c["region"], c["count"]) for c in data["cells"]] == [("上海市", 4)]


def test_drilling_into_the_flag_lists_its_masked_cases_page_by_page(hot):
    api, token, _ = hot
    region = quote("广东省深圳市")
    path = f"/v1/admin/hotspots/cases?week=2026-W48&region={region}&company=jd&limit=3"
    items, pages = [], 0
    cursor = None
    while True:
        data = get(api, token, path + (f"&cursor={quote(cursor)}" if cursor else ""))
        assert data["region"] == "广东省深圳市" and data["company"] == "jd"
        assert len(data["items"]) <= 3
        items += data["items"]
        pages += 1
        cursor = data["next_cursor"]
        if not cursor:
            break
    assert pages == 3
    assert sorted(i["case_id"] for i in items) == CLUSTER_IDS
    by_id = {i["case_id"]: i for i in items}
    for n, case_id in enumerate(CLUSTER_IDS[:-1]):
        assert by_id[case_id]["phone_masked"] == f"135****{n:04d}"
        assert by_id[case_id]["state"] == ("acknowledged" if n % 2 else "submitted")
        assert set(by_id[case_id]) >= {"case_id", "phone_masked", "state"}
    assert by_id[CLUSTER_IDS[-1]] == {
        "case_id": CLUSTER_IDS[-1],
        "state": "erased",
        "phone_masked": None,
    }
    # The ring's W45 filing is in W45's list, not this week's.
    data = get(api, token, f"/v1/admin/hotspots/cases?week=2026-W45&region={region}&company=jd")
    assert len(data["items"]) == 1 and data["items"][0]["case_id"] not in CLUSTER_IDS


def test_a_cursor_only_continues_the_cell_it_came_from(hot):
    api, token, _ = hot
    region = quote("广东省深圳市")
    first = get(
        api, token, f"/v1/admin/hotspots/cases?week=2026-W48&region={region}&company=jd&limit=3"
    )
    cursor = quote(first["next_cursor"])
    other = f"/v1/admin/hotspots/cases?week=2026-W48&region={quote('北京市')}&company=jd"
    assert_problem(api.call("GET", f"{other}&cursor={cursor}", token=token), 400, "invalid_cursor")


@pytest.mark.parametrize("week", ["0001-W09", "0002-W01", "0999-W10", "9999-W51"])
def test_weeks_at_the_ends_of_the_calendar_answer_zero_padded(hot, week):
    api, token, _ = hot
    data = get(api, token, f"/v1/admin/hotspots?week={week}")
    assert data["week"] == week and data["cells"] == []


@pytest.mark.parametrize(
    "query",
    [
        "week=2026-48",
        "week=2025-W53",  # 2025 has 52 ISO weeks
        "week=2026-W00",
        "week=0001-W01",  # its baseline weeks would fall before year 1
        "week=0000-W01",
        "week=9999-W52",  # it would end in year 10000
        "week=10000-W01",
        "company=nonesuch",
        "spikes_only=perhaps",
    ],
)
def test_hotspot_queries_are_validated(hot, query):
    api, token, _ = hot
    body = assert_problem(api.call("GET", f"/v1/admin/hotspots?{query}", token=token), 422)
    if query in ("week=0001-W01", "week=9999-W52"):
        assert "years 1 to 9999" in body["detail"]


@pytest.mark.parametrize(
    "query",
    [
        "region=x&company=jd",  # no week
        "week=2026-W48&company=jd",  # no region
        "week=2026-W48&region=x",  # no company
        "week=2026-W48&region=x&company=jd&limit=0",
    ],
)
def test_drill_down_queries_are_validated(hot, query):
    api, token, _ = hot
    assert_problem(api.call("GET", f"/v1/admin/hotspots/cases?{query}", token=token), 422)


def test_hotspots_are_for_operators_only(hot):
    api, _, _ = hot
    liaison = keys.issue("liaison", "jd", "hot liaison")["key"]
    for path in ("/v1/admin/hotspots", "/v1/admin/hotspots/cases?week=2026-W48"):
        assert_problem(api.call("GET", path, token=liaison), 403, "forbidden")
        assert_problem(api.call("GET", path), 401, "unauthenticated")
