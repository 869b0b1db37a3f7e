"""The statistics table (`stats`, model tables.Stat: pk, sk, value) and the audit stream.

Items in the table:

- counters: pk = scope (`company#jd`, `hot#2026-W48`), sk = `<figure>@<shard>`, value = N,
  only ever changed with ADD. A figure is split over COUNTER_SHARDS items (by case id) so
  that concurrent transactions from different stream shards rarely touch the same item
  (DynamoDB cancels a transaction that meets another one on an item); reads add them up.
- hotspot index: pk = `hotcases#<week>#<company>#<province>#<city>`, sk = case id: the cases
  behind one hotspot cell, so a drill-down is a Query, never a Scan.
- per-case markers: pk = `case#<case_id>`, sk = `counted`, with `versions` (the audit-event
  versions already counted, a number set) and `flags` (once-per-case outcomes already
  counted, a string set).

One audit event is counted in ONE TransactWriteItems: the marker update, conditioned on the
marker being exactly as it was read (absent, or the same number of versions), and every
counter ADD and index put the event causes. A redelivered record finds its version in the
marker and is skipped; a crash before the commit leaves nothing half-counted; two workers
racing on one case cannot both commit (the loser re-reads and sees the version counted).

Markers and index entries carry `expires_at` (epoch seconds) for a TTL on the table; the
counters do not expire.
"""

from __future__ import annotations

import functools
import json
import logging
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from botocore.exceptions import ClientError

from chalicelib.adapters import aws
from chalicelib.config import Settings
from chalicelib.domain import timers

log = logging.getLogger("recount.stats")

COUNTER_SHARDS = 4
MARKER_SK = "counted"
APPLIED, STALE, CONFLICT = "applied", "stale", "conflict"


@functools.cache
def _deserializer() -> Any:
    # boto3's type layer costs ~20 ms of import: load it when a stream record first arrives.
    from boto3.dynamodb.types import TypeDeserializer

    return TypeDeserializer()


def _table(settings: Settings) -> str:
    return settings.table_name("stats")


def _ddb(settings: Settings) -> Any:
    return aws.client("dynamodb", settings.region)


def shard_of(case_id: str) -> int:
    # One case's events always hit the same counter shard.
    return int(timers.shard_for(case_id, COUNTER_SHARDS))


def plain(image: Mapping[str, Any]) -> dict[str, Any]:
    """A stream record's NewImage (DynamoDB JSON) as Python values; whole numbers as int."""

    def tidy(value: Any) -> Any:
        if isinstance(value, Decimal):
            return int(value) if value == value.to_integral_value() else float(value)
        if isinstance(value, dict):
            return {k: tidy(v) for k, v in value.items()}
        if isinstance(value, list | set | frozenset):
            return [tidy(v) for v in value]
        return value

    return {k: tidy(_deserializer().deserialize(v)) for k, v in image.items()}


# -- per-case markers and the one transaction per event --------------------------------------
@dataclass(frozen=True)
class Marker:
    exists: bool
    versions: frozenset[int]
    flags: frozenset[str]


def marker_key(case_id: str) -> tuple[str, str]:
    """The (pk, sk) of a case's marker."""
    return f"case#{case_id}", MARKER_SK


def _key(pk: str, sk: str) -> dict[str, Any]:
    return {"pk": {"S": pk}, "sk": {"S": sk}}


def read_marker(settings: Settings, case_id: str) -> Marker:
    item = (
        _ddb(settings)
        .get_item(
            TableName=_table(settings),
            Key=_key(*marker_key(case_id)),
            ConsistentRead=True,
        )
        .get("Item")
    )
    if item is None:
        return Marker(False, frozenset(), frozenset())
    return Marker(
        True,
        frozenset(int(v) for v in item.get("versions", {}).get("NS", [])),
        frozenset(item.get("flags", {}).get("SS", [])),
    )


def apply(
    settings: Settings,
    case_id: str,
    version: int,
    marker: Marker,
    *,
    flags: Iterable[str],
    counters: Mapping[tuple[str, str], int],
    index: Iterable[tuple[str, str]],
    marker_expires: datetime,
    index_expires: datetime,
) -> str:
    """Counts one event in one transaction. APPLIED; STALE when the marker changed since it
    was read (re-read it: the event may have been counted meanwhile); CONFLICT when another
    transaction held one of the items (try again shortly)."""
    table = _table(settings)
    names = {"#versions": "versions", "#exp": "expires_at"}
    values: dict[str, Any] = {
        ":v": {"NS": [str(version)]},
        ":exp": {"N": str(int(marker_expires.timestamp()))},
    }
    add = "#versions :v"
    new_flags = sorted(set(flags) - marker.flags)
    if new_flags:
        names["#flags"] = "flags"
        values[":f"] = {"SS": new_flags}
        add += ", #flags :f"
    if marker.exists:
        condition = "size(#versions) = :n"
        values[":n"] = {"N": str(len(marker.versions))}
    else:
        condition = "attribute_not_exists(pk)"
    items: list[dict[str, Any]] = [
        {
            "Update": {
                "TableName": table,
                "Key": _key(*marker_key(case_id)),
                "UpdateExpression": f"ADD {add} SET #exp = :exp",
                "ConditionExpression": condition,
                "ExpressionAttributeNames": names,
                "ExpressionAttributeValues": values,
            }
        }
    ]
    shard = shard_of(case_id)
    for (scope, figure), delta in sorted(counters.items()):
        if delta:
            items.append(
                {
                    "Update": {
                        "TableName": table,
                        "Key": {"pk": {"S": scope}, "sk": {"S": f"{figure}@{shard}"}},
                        "UpdateExpression": "ADD #value :d",
                        "ExpressionAttributeNames": {"#value": "value"},
                        "ExpressionAttributeValues": {":d": {"N": str(delta)}},
                    }
                }
            )
    for scope, ref in index:
        items.append(
            {
                "Put": {
                    "TableName": table,
                    "Item": {
                        "pk": {"S": scope},
                        "sk": {"S": ref},
                        "value": {"N": "1"},
                        "expires_at": {"N": str(int(index_expires.timestamp()))},
                    },
                }
            }
        )
    try:
        _ddb(settings).transact_write_items(TransactItems=items)
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code") != "TransactionCanceledException":
            raise
        reasons = [r.get("Code") for r in exc.response.get("CancellationReasons", [])]
        if not reasons:  # some emulators put the reasons only in the message
            message = exc.response.get("Error", {}).get("Message", "")
            reasons = [r.strip() for r in message.partition("[")[2].rstrip("]").split(",")]
        if reasons and reasons[0] == "ConditionalCheckFailed":
            return STALE
        if "TransactionConflict" in reasons:
            return CONFLICT
        raise
    return APPLIED


# -- reading ----------------------------------------------------------------------------------
def figures(settings: Settings, scope: str) -> dict[str, int]:
    """Every counter of one scope, its shards added up: figure → value."""
    out: dict[str, int] = {}
    for item in _query(settings, scope):
        figure = item["sk"]["S"].rpartition("@")[0]
        out[figure] = out.get(figure, 0) + int(item.get("value", {}).get("N", "0"))
    return out


def _query(settings: Settings, scope: str) -> Iterable[dict[str, Any]]:
    paginator = _ddb(settings).get_paginator("query")
    for page in paginator.paginate(
        TableName=_table(settings),
        KeyConditionExpression="pk = :pk",
        ExpressionAttributeValues={":pk": {"S": scope}},
    ):
        yield from page["Items"]


def index_page(
    settings: Settings, scope: str, limit: int, start: dict | None
) -> tuple[list[str], dict | None]:
    """One page of the case ids behind a hotspot cell, and the key to continue from."""
    kwargs: dict[str, Any] = {
        "TableName": _table(settings),
        "KeyConditionExpression": "pk = :pk",
        "ExpressionAttributeValues": {":pk": {"S": scope}},
        "Limit": limit,
    }
    if start:
        kwargs["ExclusiveStartKey"] = start
    page = _ddb(settings).query(**kwargs)
    ids = [item["sk"]["S"] for item in page["Items"]]
    last = page.get("LastEvaluatedKey")
    return ids, (last if last and len(ids) >= limit else None)


# -- the events table's stream (stage local: chalice local runs no stream handlers) ------------
class StreamReader:
    """Reads a table's DynamoDB stream from TRIM_HORIZON on, remembering each shard's last
    sequence number; new shards are picked up on every read, closed ones dropped when
    drained. (Stage local only: on AWS the stream invokes the aggregator itself.)"""

    MAX_CALLS_PER_SHARD = 20

    def __init__(self, settings: Settings, base: str = "events") -> None:
        self.table = settings.table_name(base)
        self.region = settings.region
        self.arn: str | None = None
        self.iterators: dict[str, str] = {}
        self.last_sequence: dict[str, str] = {}
        self.drained: set[str] = set()

    def _client(self) -> Any:
        return aws.client("dynamodbstreams", self.region)

    def _reset(self) -> None:
        self.arn = None
        self.iterators.clear()
        self.last_sequence.clear()
        self.drained.clear()

    def _discover(self) -> None:
        if self.arn is None:
            table = aws.client("dynamodb", self.region).describe_table(TableName=self.table)
            self.arn = table["Table"].get("LatestStreamArn")
            if self.arn is None:
                raise RuntimeError(f"table {self.table} has no stream")
        streams = self._client()
        kwargs: dict[str, Any] = {"StreamArn": self.arn}
        while True:
            description = streams.describe_stream(**kwargs)["StreamDescription"]
            for shard in description.get("Shards", []):
                shard_id = shard["ShardId"]
                if shard_id not in self.iterators and shard_id not in self.drained:
                    self.iterators[shard_id] = self._iterator(shard_id)
            last = description.get("LastEvaluatedShardId")
            if not last:
                break
            kwargs["ExclusiveStartShardId"] = last

    def _iterator(self, shard_id: str) -> str:
        kwargs: dict[str, Any] = {"StreamArn": self.arn, "ShardId": shard_id}
        if shard_id in self.last_sequence:
            kwargs |= {
                "ShardIteratorType": "AFTER_SEQUENCE_NUMBER",
                "SequenceNumber": self.last_sequence[shard_id],
            }
        else:
            kwargs["ShardIteratorType"] = "TRIM_HORIZON"
        return self._client().get_shard_iterator(**kwargs)["ShardIterator"]

    def read(self) -> list[dict[str, Any]]:
        """Every record written since the last read, oldest first per shard."""
        try:
            self._discover()
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") == "ResourceNotFoundException":
                self._reset()  # the table (and its stream) was made anew
                return []
            raise
        records: list[dict[str, Any]] = []
        for shard_id in list(self.iterators):
            # A fresh iterator after the last record read, every time: moto restores a whole
            # table (its stream included) when a transaction is cancelled, and an iterator
            # held across that keeps reading the discarded copy. Counted events are skipped
            # by their markers, so re-reading is harmless.
            self.iterators[shard_id] = self._iterator(shard_id)
            for _ in range(self.MAX_CALLS_PER_SHARD):
                try:
                    page = self._client().get_records(
                        ShardIterator=self.iterators[shard_id], Limit=1000
                    )
                except ClientError as exc:
                    code = exc.response.get("Error", {}).get("Code")
                    if code == "ExpiredIteratorException":
                        self.iterators[shard_id] = self._iterator(shard_id)
                        continue
                    if code in ("ResourceNotFoundException", "TrimmedDataAccessException"):
                        self._reset()
                        return records
                    raise
                batch = page.get("Records", [])
                records.extend(batch)
                if batch:
                    self.last_sequence[shard_id] = batch[-1]["dynamodb"]["SequenceNumber"]
                following = page.get("NextShardIterator")
                if following is None:  # a closed shard, read to its end
                    del self.iterators[shard_id]
                    self.drained.add(shard_id)
                    break
                self.iterators[shard_id] = following
                if not batch:
                    break
        return records


# -- the summary: every scope's counters in one item, for reads at the floor ------------------
SUMMARY_KEY = ("summary", "all")


def put_summary(settings: Settings, scopes: Mapping[str, Mapping[str, int]], at: str) -> None:
    """Every scope's counters, as of `at`, in one item (the scheduler's minute writes it)."""
    pk, sk = SUMMARY_KEY
    _ddb(settings).put_item(
        TableName=_table(settings),
        Item={
            "pk": {"S": pk},
            "sk": {"S": sk},
            "data": {"S": json.dumps(scopes, sort_keys=True)},
            "at": {"S": at},
        },
    )


def get_summary(settings: Settings) -> tuple[dict[str, dict[str, int]], str] | None:
    """(scope → counters, as of when), or None before the first summary: one GetItem."""
    item = _ddb(settings).get_item(TableName=_table(settings), Key=_key(*SUMMARY_KEY)).get("Item")
    if not item or "data" not in item:
        return None
    return json.loads(item["data"]["S"]), item.get("at", {}).get("S", "")
