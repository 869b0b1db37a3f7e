"""The public company scorecard (issue 8): GET /v1/scorecard, no authentication; each figure
shown only when at least 10 cases stand behind it, else null with a reason.

Seeded (as DynamoDB stream records of the events table, fed to the aggregator): every case
filed Fri 27 Nov 2026 10:00 Shanghai, acknowledgement deadline the end of Tue 1 Dec.

  jd       10 cases, each answered with `respond` straight from submitted: 8 on Mon 30 Nov
           (1 working day, on time), 2 on Wed 2 Dec (3 working days, after the deadline in
           force); 3 of the 10 responses reopened by the person.
           → received 10; on time 8/10 = 0.8 (acknowledgement and response alike);
             median of [1×8, 3×2] = 1.0; reopen rate 3/10 = 0.3 — all shown.
  tencent  9 cases, the same pattern (7 on time, 2 late, 1 reopened): nothing shown; then a
           10th filing: received 10 is shown, the other figures (9 responses) are not.
"""

from __future__ import annotations

import itertools
from datetime import datetime

from boto3.dynamodb.types import TypeSerializer

from chalicelib.domain import clock
from chalicelib.domain.workdays import SHANGHAI
from chalicelib.services import public_scorecard, stats_aggregation
from tests.integration.helpers import header
from tests.support import Api

FILED = clock.iso(datetime(2026, 11, 27, 10, tzinfo=SHANGHAI))
ACK_DUE = "2026-12-01T15:59:59Z"
ON_TIME = clock.iso(datetime(2026, 11, 30, 10, tzinfo=SHANGHAI))
LATE = clock.iso(datetime(2026, 12, 2, 10, tzinfo=SHANGHAI))
REOPENED = clock.iso(datetime(2026, 12, 3, 10, tzinfo=SHANGHAI))
HIDDEN = {"value": None, "cases": None, "reason": "fewer_than_10_cases"}

_ids = itertools.count(1)
_serializer = TypeSerializer()


def record(**image) -> dict:
    return {
        "eventName": "INSERT",
        "dynamodb": {"NewImage": {k: _serializer.serialize(v) for k, v in image.items() if v}},
    }


def history(company: str, respond_at: str | None, reopen: bool) -> list[dict]:
    """One case's audit events: filed; perhaps responded; perhaps reopened."""
    case_id = f"CS{next(_ids):08d}"
    context = {
        "case_id": case_id,
        "company": company,
        "kind": "accounts",
        "lane": "standard",
        "region": "江苏省南京市",
        "case_created_at": FILED,
    }
    events = [
        record(**context, version=1, action="file", to_state="submitted", at=FILED, due_at=ACK_DUE)
    ]
    if respond_at:
        events.append(
            record(
                **context,
                version=2,
                action="respond",
                from_state="submitted",
                to_state="responded",
                at=respond_at,
                due_at=ACK_DUE,
            )
        )
    if reopen:
        events.append(
            record(
                **context,
                version=3,
                action="reopen",
                from_state="responded",
                to_state="escalated",
                at=REOPENED,
            )
        )
    return events


def seed(settings, company: str, cases: int, late: int, reopened: int) -> None:
    records = []
    for i in range(cases):
        records += history(company, LATE if i < late else ON_TIME, reopen=i < reopened)
    assert stats_aggregation.aggregate_records(settings, records) == len(records)


def scorecard(api: Api, token: str | None = None) -> dict:
    r = api.call("GET", "/v1/scorecard", token=token)
    assert r.status_code == 200, r.body
    assert header(r, "Cache-Control") == "public, max-age=300"
    return {c["company"]: c for c in r.data["companies"]} | {"_": r.data}


def test_each_figure_needs_ten_cases_behind_it(client, world):
    api = Api(client)
    seed(world, "jd", cases=10, late=2, reopened=3)
    seed(world, "tencent", cases=9, late=2, reopened=1)

    card = scorecard(api)
    assert card["_"]["min_cases"] == 10
    assert card["jd"]["name_zh"] and card["jd"]["type"] == "company"
    assert card["jd"]["figures"] == {
        "received": {"value": 10, "cases": 10},
        "on_time_acknowledgement": {"value": 0.8, "cases": 10},
        "on_time_response": {"value": 0.8, "cases": 10},
        "median_working_days_to_respond": {"value": 1.0, "cases": 10},
        "reopen_rate": {"value": 0.3, "cases": 10},
    }
    assert card["tencent"]["figures"] == {
        "received": HIDDEN,
        "on_time_acknowledgement": HIDDEN,
        "on_time_response": HIDDEN,
        "median_working_days_to_respond": HIDDEN,
        "reopen_rate": HIDDEN,
    }
    # A company with no cases at all shows nothing either.
    assert all(f == HIDDEN for f in card["baidu"]["figures"].values())

    # The tenth tencent filing: the count is shown; the rest still rest on 9 responses.
    assert stats_aggregation.aggregate_records(world, history("tencent", None, reopen=False)) == 1
    public_scorecard.reset()  # a minute later: the process's copy has expired
    figures = scorecard(api)["tencent"]["figures"]
    assert figures["received"] == {"value": 10, "cases": 10}
    assert figures["on_time_response"] == HIDDEN
    assert figures["median_working_days_to_respond"] == HIDDEN

    # The operators' figures behind it are exact whatever the threshold.
    from chalicelib.services import keys

    operator = keys.issue("operator", None, "scorecard")["key"]
    r = api.call("GET", "/v1/admin/stats", token=operator)
    tencent = next(c for c in r.data["companies"] if c["company"] == "tencent")
    assert tencent["response"] == {"on_time": 7, "total": 9, "on_time_rate": 0.7778}
    assert tencent["reopen"] == {"reopened": 1, "responses": 9, "rate": 0.1111}
    assert tencent["open"]["submitted"] == 1 and tencent["open"]["escalated"] == 1


def test_the_scorecard_is_public_and_says_nothing_of_who(client, world):
    api = Api(client)
    seed(world, "jd", cases=10, late=0, reopened=0)
    bare = scorecard(api)
    with_garbage = scorecard(api, token="garbage")
    bare.pop("_"), with_garbage.pop("_")
    assert bare == with_garbage
    text = api.call("GET", "/v1/scorecard").body.decode()
    assert "江苏" not in text and "CS0" not in text  # no regions, no case ids
