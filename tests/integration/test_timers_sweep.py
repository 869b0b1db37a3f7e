"""The timer sweep (docs/design.md §8, issue 5): overlapping sweeps and stale reads fire each timer
once, and a sweep's DynamoDB requests follow what is due, not the size of the table.

Cases are seeded straight into DynamoDB by `seed_cases` from scripts/bench_sweep.py (loaded by
path: scripts/ is not a package), so this test and `make bench` measure the same cases: half
of them filed Monday (acknowledge-by passed, due now), the rest filed this morning (armed, in
the same sparse due-timer index, not due).
"""

from __future__ import annotations

import importlib.util
import threading
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from moto.dynamodb.responses import DynamoHandler

from chalicelib.adapters import case_store
from chalicelib.adapters.tables import Case
from chalicelib.domain import clock
from chalicelib.domain.actors import Actor
from chalicelib.domain.records import CaseRecord
from chalicelib.services import scheduler, stats_summary
from chalicelib.services.cases import take_action
from tests.conftest import START
from tests.integration.helpers import scan
from tests.support import emulated_aws

BENCH_PATH = Path(__file__).resolve().parents[2] / "scripts" / "bench_sweep.py"


def _load_bench():
    spec = importlib.util.spec_from_file_location("bench_sweep", BENCH_PATH)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


bench = _load_bench()
assert bench.NOW == START  # the seeded dates are relative to the frozen clock's start


def trail(case_id: str) -> list[str]:
    return [e.action for e in case_store.events_of(case_id)]


def escalation_sms(settings) -> Counter[str]:
    """case id → outbox items of the escalation SMS."""
    return Counter(
        item["case_id"]["S"]
        for item in scan(settings, "outbox")
        if item["template"]["S"] == "case_escalated"
    )


def assert_fired_once(settings, due: list[str], sms: list[str] | None = None) -> None:
    """Each due case escalated exactly once: one audit event, one SMS, one version up."""
    for case_id in due:
        assert trail(case_id) == ["file", "sla_breach"], case_id
        case = Case.get(case_id, consistent_read=True)
        assert (case.state, int(case.version)) == ("escalated", 2)
    assert escalation_sms(settings) == Counter(dict.fromkeys(sms or due, 1))


def due_index_read(settings) -> tuple[dict[str, list[str]], dict[str, CaseRecord]]:
    """What a sweep reads first: each shard's due hits, then each hit's case."""
    now = clock.iso(clock.now())
    hits = {
        str(shard): case_store.due_cases(str(shard), now, scheduler.PER_SHARD)
        for shard in range(settings.timer_shards)
    }
    cases = {case_id: case_store.get_case(case_id) for ids in hits.values() for case_id in ids}
    return hits, cases


# -- overlapping sweeps --------------------------------------------------------------------
def test_a_sweep_that_read_before_another_fired_skips_every_timer(world, monkeypatch):
    """Sweep B reads the due index and the cases; sweep A fires them all; B then fires from
    its stale read: every write fails its version condition and is skipped."""
    due = bench.seed_cases(world, due=6, not_due=6)
    stale_hits, stale_cases = due_index_read(world)
    assert sorted(stale_cases) == sorted(due)

    first = scheduler.fire_due_timers(world)
    assert sorted((f.case_id, f.timer, f.outcome) for f in first) == [
        (case_id, "ack_due", "fired") for case_id in sorted(due)
    ]
    with monkeypatch.context() as m:
        m.setattr(case_store, "due_cases", lambda shard, now, limit: stale_hits[shard])
        m.setattr(case_store, "get_case", lambda case_id: stale_cases[case_id])
        second = scheduler.fire_due_timers(world)
    assert sorted((f.case_id, f.timer, f.outcome) for f in second) == [
        (case_id, "ack_due", "skipped") for case_id in sorted(due)
    ]
    assert_fired_once(world, due)


def test_a_stale_index_read_never_fires_twice(world, monkeypatch):
    """The index lags (its reads are eventually consistent) and still lists cases whose timer
    has fired: the sweep re-reads each case consistently and finds nothing due."""
    due = bench.seed_cases(world, due=6, not_due=6)
    stale_hits, _ = due_index_read(world)
    assert len(scheduler.fire_due_timers(world)) == 6

    # Meanwhile the person withdraws one case (all its timers go) that the index still lists.
    withdrawn = case_store.get_case(due[0])
    person = Actor("user", phone_key=withdrawn.phone_key)
    take_action(world, person, withdrawn.case_id, {"action": "withdraw"})

    with monkeypatch.context() as m:
        m.setattr(case_store, "due_cases", lambda shard, now, limit: stale_hits[shard])
        again = scheduler.fire_due_timers(world)
    assert again == []
    assert trail(withdrawn.case_id) == ["file", "sla_breach", "withdraw"]
    assert_fired_once(world, due[1:], sms=due)


def test_two_sweeps_running_at_once_fire_each_timer_once(world, monkeypatch):
    """Two scheduler invocations overlap (a slow minute): both read the same due set and race
    to fire it. DynamoDB runs each request atomically; moto does not (a cancelled transaction
    restores whole tables, undoing the other thread's writes), so each emulated request is
    made atomic here, as it is in DynamoDB."""
    due = bench.seed_cases(world, due=12, not_due=6)
    atomic = threading.Lock()
    call_action = DynamoHandler.call_action

    def one_request_at_a_time(self):
        with atomic:
            return call_action(self)

    monkeypatch.setattr(DynamoHandler, "call_action", one_request_at_a_time)
    bench.RequestCounter().hook()  # create every client before two threads share them
    start = threading.Barrier(2)

    def sweep() -> list[scheduler.Fired]:
        start.wait(timeout=10)
        return scheduler.fire_due_timers(world)

    with ThreadPoolExecutor(max_workers=2) as pool:
        runs = [f.result(timeout=60) for f in [pool.submit(sweep), pool.submit(sweep)]]
    outcomes = Counter(f.outcome for run in runs for f in run)
    fired = sorted(f.case_id for run in runs for f in run if f.outcome == "fired")
    assert fired == sorted(due), outcomes
    assert set(outcomes) <= {"fired", "skipped"}, outcomes
    assert_fired_once(world, due)
    # Whatever the interleaving, one more sweep finds nothing left to do.
    assert scheduler.fire_due_timers(world) == []


# -- cost follows what is due ----------------------------------------------------------------
DUE = 10


def sweep_requests(not_due: int) -> Counter[str]:
    """One scheduler tick's DynamoDB requests, in a fresh emulated AWS holding DUE due cases
    and `not_due` cases whose timers are armed for later."""
    with emulated_aws([]) as settings:  # the sweep never looks at subscribers
        due = bench.seed_cases(settings, due=DUE, not_due=not_due)
        counter = bench.RequestCounter()
        try:
            ops, _, summary = counter.measure(lambda: scheduler.tick(settings))
        finally:
            counter.unhook()
        assert summary["timers_fired"] == DUE
        assert_fired_once(settings, due)
        # The not-due cases sit in the same index partitions, beyond the sweep's `<= now`.
        indexed = sum(
            len(list(Case.due_timers.query(str(s)))) for s in range(settings.timer_shards)
        )
        assert indexed == DUE + not_due
    return ops


def test_the_sweep_costs_the_same_with_ten_times_more_cases_not_due(frozen_clock, stage_env):
    small = sweep_requests(not_due=20)
    large = sweep_requests(not_due=200)
    assert large == small
    assert sum(large.values()) / sum(small.values()) == 1.0
    # Per shard one Query for due timers, one for due SMS and one for deadlines coming near
    # (company webhooks); per due case one consistent read and one transaction; one read of
    # the webhook subscriptions (cached a minute); the statistics summary: one Query per
    # scope and one PutItem. No Scan, nothing per case that is not due.
    shards = int(stage_env["RECOUNT_TIMER_SHARDS"])
    scopes = len(stats_summary.scopes())
    assert small == Counter(
        {
            "Query": 3 * shards + scopes,
            "GetItem": DUE,
            "TransactWriteItems": DUE,
            "BatchGetItem": 1,
            "PutItem": 1,
        }
    )
