"""`make bench` (part): what each API operation costs in DynamoDB requests, beside its floor.

Every route is called once or more as the caller it is meant for (the walk of
tests/integration/test_response_headers.py, in an emulated AWS), with a botocore hook on every
DynamoDB client counting the requests each call makes. A request count is deterministic: it
is the cost figure that does not depend on this machine. The floor is the least a correct
implementation can do (stated below, with why); `over` flags an operation above it.

    .venv/bin/python scripts/bench_requests.py
"""

from __future__ import annotations

import os
import sys
from collections import Counter, defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from chalicelib.adapters.case_store import LIST_SHARDS  # noqa: E402

# The floors: (requests, why). Reads and writes each count one per request.
FLOORS: dict[tuple[str, str], tuple[int, str]] = {
    ("POST", "/v1/disputes"): (
        2,
        "the holder record, one transaction (+1: an Idempotency-Key's claim)",
    ),
    ("GET", "/v1/disputes"): (2, "the person's disputes, their cases in one batch"),
    ("GET", "/v1/disputes/{dispute_id}"): (2, "the dispute, its cases in one batch"),
    ("POST", "/v1/cases/{case_id}/actions"): (2, "the case, one transaction"),
    ("GET", "/v1/liaison/cases/{case_id}"): (2, "the case, its history"),
    ("POST", "/v1/liaison/cases/{case_id}/transitions"): (2, "the case, one transaction"),
    ("GET", "/v1/admin/cases/{case_id}"): (2, "the case, its history"),
    ("POST", "/v1/admin/cases/{case_id}/transitions"): (2, "the case, one transaction"),
    ("GET", "/v1/liaison/cases"): (LIST_SHARDS, "one Query per shard of the company's queue"),
    ("GET", "/v1/admin/cases"): (LIST_SHARDS, "one Query per shard of the state's cases"),
    ("GET", "/v1/admin/stats"): (1, "the statistics summary"),
    ("GET", "/v1/scorecard"): (1, "the statistics summary, then none for 60 s"),
    ("GET", "/v1/directory"): (0, "the directory ships with the code"),
    ("GET", "/v1/healthz"): (0, "answers without AWS"),
}


def measure() -> list[tuple[str, str, int, Counter[str]]]:
    os.environ.update(
        AWS_ACCESS_KEY_ID="testing",
        AWS_SECRET_ACCESS_KEY="testing",
        AWS_DEFAULT_REGION="ap-east-1",
        AWS_ACCOUNT_ID_ENDPOINT_MODE="disabled",
    )
    from tests.support import local_stage_env

    os.environ.update(local_stage_env())
    os.environ["POWERTOOLS_LOG_LEVEL"] = "WARNING"  # the table, not the request log
    from chalice.test import Client

    from app import app
    from chalicelib.domain import clock
    from tests.conftest import START, demo_subscribers
    from tests.integration import test_response_headers as walk
    from tests.integration.test_request_counts import DynamoCalls
    from tests.support import Api, emulated_aws

    costs: dict[tuple[str, str], list[Counter[str]]] = defaultdict(list)
    fixed = clock.FrozenClock(START)
    previous = clock.use(fixed)
    try:
        with (
            emulated_aws(demo_subscribers()) as settings,
            Client(app, stage_name="local") as client,
        ):
            from chalicelib.services import scheduler

            scheduler.tick(settings)  # the minute's statistics summary, as a deployed stage has
            calls = DynamoCalls()
            original = walk.Walk.call

            def counted(self, route, path, body=None, **kw):
                ops, _, response = calls.measure(lambda: original(self, route, path, body, **kw))
                costs[route].append(ops)
                if route[0] == "GET":  # once more, warm: a read's first call may be a key's first
                    again, _, _ = calls.measure(lambda: original(self, route, path, body, **kw))
                    costs[route].append(again)
                return response

            walk.Walk.call = counted  # type: ignore[method-assign]
            try:
                walk.walk_every_route(Api(client, fixed))
            finally:
                walk.Walk.call = original  # type: ignore[method-assign]
                calls.unhook()
    finally:
        clock.use(previous)
    rows = []
    for (method, path), measured in sorted(costs.items(), key=lambda kv: (kv[0][1], kv[0][0])):
        least = min(measured, key=lambda c: sum(c.values()))
        most = max(measured, key=lambda c: sum(c.values()))
        rows.append((method, path, sum(least.values()), sum(most.values()), least))
    return rows


def main() -> int:
    rows = measure()
    print(
        "DynamoDB requests per API operation: the least and the most one call of it made in\n"
        "the walk (the most includes once-a-minute reads such as the webhook subscriptions, a\n"
        "key's first use, an Idempotency-Key's claim), its floor, and the least call's detail.\n"
    )
    print(f"{'operation':<58} {'least':>5} {'most':>5} {'floor':>5}  detail")
    over = 0
    for method, path, least, most, ops in rows:
        floor = FLOORS.get((method, path))
        mark = ""
        if floor is not None and least > floor[0]:
            mark = "  over"
            over += 1
        detail = ", ".join(f"{op} {n}" for op, n in sorted(ops.items())) or "—"
        shown = str(floor[0]) if floor else "—"
        print(f"{method + ' ' + path:<58} {least:>5} {most:>5} {shown:>5}  {detail}{mark}")
    print("\nFloors: " + "; ".join(f"{m} {p}: {n} ({why})" for (m, p), (n, why) in FLOORS.items()))
    print(f"\n{over} operation(s) above their floor.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
