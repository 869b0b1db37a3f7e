"""Benchmark: one scheduler sweep at 1k and 10k cases with the same 50 due (docs/design.md §8).

    python scripts/bench_sweep.py            # 1 000 and 10 000 cases, 50 due
    python scripts/bench_sweep.py 500 5000 --due 20   # other sizes and due set

Runs entirely in an emulated AWS (moto, in process): never a real account. For each size it
makes fresh tables, seeds the cases straight into DynamoDB with PynamoDB batch writes (not
through the API: 10k filings would take minutes), then runs one `scheduler.tick` — the due
timers, then the due SMS — and prints the DynamoDB requests it made, by operation, and its
wall time.

The request count is the cost that carries over to DynamoDB: it must not change with the
table. The wall time is moto's, which keeps every table in one Python dict and (unlike
DynamoDB) walks the whole table for each index query, so here the time still grows somewhat
with the table even though the requests do not. moto also deep-copies every table a
transaction touches before each transaction (~3 s a transaction at 10k cases); the benchmark
replaces that backup with an item-level one (`item_level_transaction_backup`) so that the
time shown is the sweep's rather than the emulator's.

tests/integration/test_timers_sweep.py imports this file (by path) for `emulated_aws`,
`seed_cases` and `RequestCounter`, so the test and the benchmark seed the same cases.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # run as a script: make chalicelib importable
    sys.path.insert(0, str(ROOT))

import moto  # noqa: E402  (before any boto3 client exists)

from chalicelib import config  # noqa: E402
from chalicelib.adapters import aws, case_store, kms, tables  # noqa: E402
from chalicelib.adapters.tables import Case, Dispute, Event  # noqa: E402
from chalicelib.config import Settings  # noqa: E402
from chalicelib.domain import clock, identity, timers  # noqa: E402
from chalicelib.domain.directory import load_directory  # noqa: E402
from chalicelib.domain.workflow import load_workflow  # noqa: E402
from chalicelib.services import scheduler  # noqa: E402

SIZES = (1_000, 10_000)
DUE = 50
WARM_UP = 50  # cases in an unreported first run
# Friday 10:00 in Shanghai, as in tests/conftest.py: every seeded date below is relative.
NOW = datetime(2026, 11, 27, 2, 0, tzinfo=UTC)
# Filed Monday 10:00 Shanghai: acknowledge-by (2 working days) ended Wednesday; due now.
DUE_FILED = NOW - timedelta(days=4)
# Filed this morning: the earliest deadline (fraud lane, 1 working day) ends Monday.
NOT_DUE_FILED = NOW - timedelta(hours=1)
COMPANIES = ("tencent", "alibaba", "alipay", "baidu", "kuaishou", "douyin", "jd", "meituan")
_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"  # chalicelib/domain/ids.py
# Not-due ids start after every possible due id, so a due set is the same at every size.
NOT_DUE_BASE = 1_000_000


# -- the emulated AWS -----------------------------------------------------------------------
def stage_env() -> dict[str, str]:
    """What tests/conftest.py sets: fake credentials and the `local` stage's variables."""
    chalice = json.loads((ROOT / ".chalice" / "config.json").read_text())
    return {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "ap-east-1",
        "AWS_ACCOUNT_ID_ENDPOINT_MODE": "disabled",
        **chalice["environment_variables"],
        **chalice["stages"]["local"]["environment_variables"],
    }


def use_stage_env() -> None:
    for name in ("AWS_PROFILE", "AWS_ENDPOINT_URL", "AWS_SESSION_TOKEN"):
        os.environ.pop(name, None)  # never reach real AWS, whatever the shell holds
    os.environ.update(stage_env())


@contextmanager
def emulated_aws() -> Iterator[Settings]:
    """Fresh moto DynamoDB/KMS/SNS with this stage's tables and KMS key (as the `world`
    fixture makes, without the demo subscribers: the sweep never looks at them)."""
    with moto.mock_aws():
        tables.reset()
        aws.reset()
        settings = config.settings()
        tables.create_all(settings)
        client = aws.client("kms", settings.region)
        key_id = client.create_key(Description="recount bench")["KeyMetadata"]["KeyId"]
        client.create_alias(AliasName=settings.kms_key_id, TargetKeyId=key_id)
        try:
            yield settings
        finally:
            tables.reset()
            aws.reset()


# -- seeding ----------------------------------------------------------------------------------
def case_id(n: int) -> str:
    """A valid, deterministic case id (C + 9 Crockford base32 digits) for number n."""
    digits = []
    for _ in range(9):
        n, r = divmod(n, 32)
        digits.append(_ALPHABET[r])
    return "C" + "".join(reversed(digits))


def seed_cases(
    settings: Settings,
    *,
    due: int,
    not_due: int,
    due_filed: datetime = DUE_FILED,
    not_due_filed: datetime = NOT_DUE_FILED,
) -> list[str]:
    """Writes `due` cases whose acknowledge-by has passed and `not_due` cases filed today:
    the dispute, case and `file` audit event a filing writes, with the timers armed as a
    filing arms them (the workflow's, with the company's deadlines; the same shard key). The
    open-case lock and the receipt SMS are left out: the sweep never reads them. Case i of
    each group always gets the same id, number, company and lane, so a due set is identical
    at every size. Returns the due case ids."""
    workflow, directory = load_workflow(), load_directory()
    # One encrypted number for all: the sweep never decrypts it (only a sent SMS would).
    cipher = kms.encrypt_number(settings, "+8613800138000")
    due_ids: list[str] = []
    with (
        Case.batch_write() as cases,
        Dispute.batch_write() as disputes,
        Event.batch_write() as events,
    ):
        groups = ((0, due, due_filed), (NOT_DUE_BASE, not_due, not_due_filed))
        for base, count, filed in groups:
            created = clock.iso(filed)
            for i in range(count):
                cid = case_id(base + i)
                company = COMPANIES[i % len(COMPANIES)]
                lane = "fraud" if i % 10 == 9 else "standard"
                armed = timers.arm(
                    workflow,
                    workflow.initial_arm,
                    filed,
                    fraud_lane=lane == "fraud",
                    deadlines=directory.get(company).deadlines,
                )
                next_due = timers.next_due(armed)
                national = f"139{(base + i) % 100_000_000:08d}"
                state = workflow.state(workflow.initial_state)
                case = Case(
                    cid,
                    dispute_id="D" + cid[1:],
                    company=company,
                    kind="accounts",
                    lane=lane,
                    reason="fraud_suspected" if lane == "fraud" else "not_mine",
                    reported_count=3,
                    expected_count=1,
                    state=state.name,
                    action_on=state.action_on,
                    version=1,
                    phone_key=identity.phone_hmac(settings.hmac_key, "+86" + national),
                    phone_cipher=cipher,
                    phone_masked=f"{national[:3]}****{national[-4:]}",
                    phone_region="",
                    created_at=created,
                    updated_at=created,
                    due_at=timers.company_due(workflow, armed),
                    timers=armed,
                    next_due_at=next_due,
                    timer_shard=timers.shard_for(cid, settings.timer_shards),
                    **case_store.list_keys(cid, company, state.name),
                )
                cases.save(case)
                disputes.save(
                    Dispute(
                        case.dispute_id,
                        phone_key=case.phone_key,
                        phone_cipher=cipher,
                        phone_masked=case.phone_masked,
                        kind="accounts",
                        created_at=created,
                        case_ids=[cid],
                    )
                )
                events.save(
                    Event(
                        cid,
                        1,
                        action="file",
                        actor="user",
                        from_state=None,
                        to_state=state.name,
                        at=created,
                        code=case.reason,
                    )
                )
                if base == 0:
                    due_ids.append(cid)
    return due_ids


# -- moto's transaction backup ------------------------------------------------------------------
@contextmanager
def item_level_transaction_backup() -> Iterator[None]:
    """moto's TransactWriteItems deep-copies every table it touches, as its rollback backup,
    before each transaction: O(table) per write, ~3 s a transaction at 10k cases, which would
    swamp the sweep's own time. For the benchmark only, back up just the items the
    transaction names (what a rollback needs) and restore those on failure; moto's
    behaviour is otherwise unchanged. The request counts never depend on this."""
    from moto.dynamodb import models
    from moto.dynamodb.models.dynamo_type import DynamoType
    from moto.dynamodb.models.table import Table

    backend = models.DynamoDBBackend
    original = backend.transact_write_items
    real_copy = models.copy

    class _NoTableCopy:
        @staticmethod
        def deepcopy(value: Any, memo: Any = None) -> Any:
            return value if isinstance(value, Table) else real_copy.deepcopy(value, memo)

    def slot(table: Table, key: dict[str, Any]) -> tuple[Any, Any]:
        hash_value = DynamoType(key[table.hash_key_attr])
        range_value = DynamoType(key[table.range_key_attr]) if table.range_key_attr else None
        return hash_value, range_value

    def transact_write_items(self: Any, transact_items: list[dict[str, Any]]) -> None:
        saved = []
        for entry in transact_items:
            op = next(iter(entry.values()))
            table = self.get_table(op["TableName"])
            key = op.get("Key") or {
                name: op["Item"][name]
                for name in (table.hash_key_attr, table.range_key_attr)
                if name
            }
            before = self.get_item(op["TableName"], key)
            saved.append((table, slot(table, key), real_copy.deepcopy(before)))
        models.copy = _NoTableCopy
        try:
            original(self, transact_items)
        except Exception:
            for table, (hash_value, range_value), item in reversed(saved):
                if range_value is None:
                    table.items.pop(hash_value, None)
                    if item is not None:
                        table.items[hash_value] = item
                else:
                    table.items[hash_value].pop(range_value, None)
                    if item is not None:
                        table.items[hash_value][range_value] = item
            raise
        finally:
            models.copy = real_copy

    backend.transact_write_items = transact_write_items
    try:
        yield
    finally:
        backend.transact_write_items = original


# -- counting requests --------------------------------------------------------------------------
class RequestCounter:
    """Counts the DynamoDB operations on every client PynamoDB uses (each model's, and the
    shared one for transactions) with a botocore `before-call.dynamodb` hook."""

    def __init__(self) -> None:
        self.ops: Counter[str] = Counter()
        self._events: dict[int, Any] = {}

    def _on_call(self, model: Any, **_: Any) -> None:
        self.ops[model.name] += 1

    def hook(self) -> None:
        """Creates (warms) every client, then hooks each one once."""
        from chalicelib import config
        from chalicelib.adapters import aws

        clients = [m._get_connection().connection.client for m in tables.MODELS]
        clients.append(tables.connection().client)
        # The statistics table is read and written with boto3's own client (stats_store).
        clients.append(aws.client("dynamodb", config.settings().region))
        for client in clients:
            events = client.meta.events
            if id(events) not in self._events:
                events.register("before-call.dynamodb", self._on_call, unique_id="bench-sweep")
                self._events[id(events)] = events

    def unhook(self) -> None:
        for events in self._events.values():
            events.unregister("before-call.dynamodb", unique_id="bench-sweep")
        self._events.clear()

    def measure(self, action: Callable[[], Any]) -> tuple[Counter[str], float, Any]:
        """(operations, wall seconds, result) of one call."""
        self.hook()
        self.ops.clear()
        started = time.perf_counter()
        result = action()
        elapsed = time.perf_counter() - started
        return Counter(self.ops), elapsed, result


# -- the benchmark ----------------------------------------------------------------------------
def run(size: int, due: int) -> dict[str, Any]:
    """Seeds `size` cases (`due` of them due) in a fresh emulated AWS and measures one tick."""
    previous = clock.use(clock.FrozenClock(NOW))
    try:
        with emulated_aws() as settings, item_level_transaction_backup():
            started = time.perf_counter()
            seed_cases(settings, due=due, not_due=size - due)
            seeded = time.perf_counter() - started
            counter = RequestCounter()
            try:
                ops, elapsed, summary = counter.measure(lambda: scheduler.tick(settings))
            finally:
                counter.unhook()
    finally:
        clock.use(previous)
    return {
        "cases": size,
        "due": due,
        "fired": summary["timers_fired"],
        "ops": ops,
        "seconds": elapsed,
        "seed_seconds": seeded,
    }


def table(rows: Sequence[dict[str, Any]]) -> str:
    names = sorted({op for row in rows for op in row["ops"]})
    head = ["cases", "due", "fired", *names, "requests", "sweep ms", "seed s"]
    lines = [head]
    for row in rows:
        lines.append(
            [
                f"{row['cases']:,}",
                str(row["due"]),
                str(row["fired"]),
                *(str(row["ops"].get(op, 0)) for op in names),
                str(sum(row["ops"].values())),
                f"{row['seconds'] * 1000:.0f}",
                f"{row['seed_seconds']:.1f}",
            ]
        )
    widths = [max(len(line[i]) for line in lines) for i in range(len(head))]
    out = ["  ".join(cell.rjust(w) for cell, w in zip(line, widths, strict=True)) for line in lines]
    out.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(out)


def main(argv: Sequence[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("sizes", nargs="*", type=int, default=list(SIZES), help="cases")
    parser.add_argument("--due", type=int, default=DUE, help="cases due (the same set)")
    args = parser.parse_args(argv)
    use_stage_env()
    run(WARM_UP, min(args.due, WARM_UP))  # first-call costs (imports, caches) stay out of it
    rows = []
    for size in args.sizes:
        rows.append(run(size, min(args.due, size)))
        print(f"  {size:,} cases: done", file=sys.stderr, flush=True)
    print(f"One scheduler tick (due timers, then due SMS) in moto, {args.due} cases due:")
    print(table(rows))
    same = all(row["ops"] == rows[0]["ops"] for row in rows)
    print("DynamoDB requests identical at every size:", "yes" if same else "NO")
    return 0 if same and all(row["fired"] == row["due"] for row in rows) else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
