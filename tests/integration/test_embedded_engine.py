"""The embedded engine keeps DynamoDB's per-request atomicity (issue 13, scripts/local_servers.py).

moto 5.2.5's threaded server runs `TransactWriteItems` item by item on a copy of the tables and
restores that copy when the transaction is cancelled: parallel conditional transactions can
all "win", and a cancelled one can erase what others wrote meanwhile. `make run` serves moto
with every DynamoDB request behind one lock. These bursts go through real HTTP to such a
server: 24 threads, each one conditional transaction, as 24 people filing at once would.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import boto3
import pytest
from botocore.config import Config

from tests.support import serialised_moto

BURST = 24
FILLER = 500
TABLE = "engine-test"


@pytest.fixture(scope="module")
def moto_endpoint() -> Iterator[str]:
    with serialised_moto() as endpoint:  # as make run's: DynamoDB one request at a time
        yield endpoint


def _client(endpoint: str):
    return boto3.client(
        "dynamodb",
        region_name="ap-east-1",
        endpoint_url=endpoint,
        config=Config(max_pool_connections=BURST, retries={"mode": "standard", "max_attempts": 1}),
    )


@pytest.fixture
def table(moto_endpoint) -> Iterator[tuple[str, str]]:
    ddb = _client(moto_endpoint)
    name = f"{TABLE}-{threading.get_ident()}"
    ddb.create_table(
        TableName=name,
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    # A table with history: moto copies it whole in every transaction, which is what leaves
    # room for other threads to interleave.
    for batch in range(0, FILLER, 25):
        ddb.batch_write_item(
            RequestItems={
                name: [
                    {"PutRequest": {"Item": {"pk": {"S": f"old-{n}"}}}}
                    for n in range(batch, batch + 25)
                ]
            }
        )
    yield moto_endpoint, name
    ddb.delete_table(TableName=name)


def _file(ddb, table: str, n: int) -> bool:
    """One filing: the open-case lock (only if none) and this filer's own case item."""
    try:
        ddb.transact_write_items(
            TransactItems=[
                {
                    "Put": {
                        "TableName": table,
                        "Item": {"pk": {"S": "open#number#jd"}, "ref": {"S": f"case-{n}"}},
                        "ConditionExpression": "attribute_not_exists(pk)",
                    }
                },
                {"Put": {"TableName": table, "Item": {"pk": {"S": f"case-{n}"}}}},
            ]
        )
        return True
    except ddb.exceptions.TransactionCanceledException:
        return False


def _items(endpoint: str, table: str) -> dict[str, dict]:
    scan = _client(endpoint).scan(TableName=table, ConsistentRead=True)  # tests may Scan
    return {
        item["pk"]["S"]: item for item in scan["Items"] if not item["pk"]["S"].startswith("old-")
    }


@pytest.mark.parametrize("round_", range(3))
def test_parallel_conditional_transactions_have_exactly_one_winner(table, round_):
    endpoint, name = table
    start = threading.Barrier(BURST)
    clients = [_client(endpoint) for _ in range(BURST)]  # ready before the burst

    def attempt(n: int) -> bool:
        start.wait(timeout=30)
        return _file(clients[n], name, n)

    with ThreadPoolExecutor(BURST) as pool:
        won = [n for n, ok in zip(range(BURST), pool.map(attempt, range(BURST)), strict=True) if ok]
    assert len(won) == 1, won
    items = _items(endpoint, name)
    (winner,) = won
    # The lock names the winner's case, and the winner's case is there: nothing was restored
    # over it, and no loser's case was written.
    assert items["open#number#jd"]["ref"]["S"] == f"case-{winner}"
    assert set(items) == {"open#number#jd", f"case-{winner}"}


def test_a_cancelled_transaction_erases_nothing_written_meanwhile(table):
    """Losers' cancellations interleaved with plain writes: every plain write survives."""
    endpoint, name = table
    start = threading.Barrier(BURST)
    clients = [_client(endpoint) for _ in range(BURST)]

    def attempt(n: int) -> None:
        start.wait(timeout=30)
        if n % 2:
            _file(clients[n], name, n)
        else:
            clients[n].put_item(TableName=name, Item={"pk": {"S": f"plain-{n}"}})

    with ThreadPoolExecutor(BURST) as pool:
        list(pool.map(attempt, range(BURST)))
    items = _items(endpoint, name)
    assert {f"plain-{n}" for n in range(0, BURST, 2)} <= set(items)
    cases = [k for k in items if k.startswith("case-")]
    assert len(cases) == 1 and items["open#number#jd"]["ref"]["S"] == cases[0]
