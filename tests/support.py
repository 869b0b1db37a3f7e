"""Helpers the API tests share: JSON requests, reading the emulated SNS, signing in."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from moto.core import DEFAULT_ACCOUNT_ID
from moto.sns.models import sns_backends

from scripts.stage_config import stage_variables


class Api:
    def __init__(self, client, frozen_clock=None) -> None:
        self.client = client
        self.clock = frozen_clock

    def call(
        self,
        method: str,
        path: str,
        body: Any = None,
        *,
        token: str | None = None,
        raw: bytes | str | None = None,
        headers: dict[str, str] | None = None,
    ):
        h = {"Content-Type": "application/json", **(headers or {})}
        if token:
            h["Authorization"] = f"Bearer {token}"
        data = raw if raw is not None else (json.dumps(body) if body is not None else None)
        response = getattr(self.client.http, method.lower())(path, headers=h, body=data)
        kind = {k.lower(): v for k, v in response.headers.items()}.get("content-type", "")
        response.data = json.loads(response.body) if response.body and "json" in kind else None
        return response

    def sign_in(self, phone: str, id_last6: str) -> str:
        r = self.call("POST", "/v1/verification-codes", {"phone": phone})
        assert r.status_code == 202, r.body
        code = last_code(phone)
        r = self.call("POST", "/v1/sessions", {"phone": phone, "id_last6": id_last6, "code": code})
        assert r.status_code == 201, r.body
        if self.clock is not None:
            self.clock.advance(seconds=61)  # the next code may be asked for after a minute
        return r.data["token"]


def sent_sms(region: str = "ap-east-1") -> list[tuple[str, str]]:
    """(number, text) of every SMS that moto's SNS recorded, oldest first."""
    return list(sns_backends[DEFAULT_ACCOUNT_ID][region].sms_messages.values())


def last_code(phone: str) -> str:
    e164 = "+86" + phone[-11:]
    texts = [text for number, text in sent_sms() if number == e164 and "验证码" in text]
    assert texts, f"no code was sent to {phone}"
    return "".join(c for c in texts[-1].split("验证码", 1)[1][:6])


def local_stage_env() -> dict[str, str]:
    return stage_variables("local")


@contextmanager
def serialised_moto() -> Iterator[str]:
    """moto server on a free loopback port, answering DynamoDB one request at a time as
    `make run`'s does (scripts/local_servers.py); yields its URL, stops it afterwards."""
    import importlib.util
    import logging

    from moto.server import ThreadedMotoServer

    path = Path(__file__).resolve().parents[1] / "scripts" / "local_servers.py"
    spec = importlib.util.spec_from_file_location("recount_local_servers", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    module.serialise_dynamodb()
    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # one line per request otherwise
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    try:
        yield f"http://{host}:{port}"
    finally:
        server.stop()


def real_dynamodb_engine() -> str | None:
    """The endpoint of a real DynamoDB engine (DynamoDB Local under `make conformance`), where
    DynamoDB goes instead of moto; KMS, SNS and the rest stay emulated."""
    return os.environ.get("AWS_ENDPOINT_URL_DYNAMODB") or None


def fresh_tables(settings) -> None:
    """This stage's tables, empty. A real engine keeps tables between tests, so they are
    dropped first; and DynamoDB Local 3.3 deletes expired items within a second (moto never
    does), while the tests' frozen clock writes expiries that real time has long passed: TTL is
    off there, and what the tests check is the app's own filtering of expired items."""
    from chalicelib.adapters import aws, tables

    if not real_dynamodb_engine():
        tables.create_all(settings)
        return
    ddb = aws.client("dynamodb", settings.region)
    mine = f"{settings.table_prefix}-"
    for page in ddb.get_paginator("list_tables").paginate():
        for name in page["TableNames"]:
            if name.startswith(mine):
                ddb.delete_table(TableName=name)
    tables.create_all(settings)
    for page in ddb.get_paginator("list_tables").paginate():
        for name in page["TableNames"]:
            ttl = ddb.describe_time_to_live(TableName=name)["TimeToLiveDescription"]
            if name.startswith(mine) and ttl.get("TimeToLiveStatus") == "ENABLED":
                spec = {"AttributeName": ttl["AttributeName"], "Enabled": False}
                ddb.update_time_to_live(TableName=name, TimeToLiveSpecification=spec)


@contextmanager
def emulated_aws(subscribers: list[tuple[str, str, str, str]]) -> Iterator[Any]:
    """A fresh moto world with this stage's tables, the KMS key and the given subscribers
    (national number, ID last 6, status, carrier); yields the settings. The caller sets the
    stage's environment first (see local_stage_env)."""
    import moto

    from chalicelib import config
    from chalicelib.adapters import aws, secrets, tables, webhook_store
    from chalicelib.adapters.registry import registry
    from chalicelib.services import local_stream_pump, public_scorecard

    with moto.mock_aws():
        tables.reset()
        aws.reset()
        secrets.reset()
        webhook_store.reset()
        public_scorecard.reset()
        local_stream_pump.reset_pump()
        try:
            settings = config.settings()
            fresh_tables(settings)
            kms = aws.client("kms", settings.region)
            key_id = kms.create_key(Description="recount test")["KeyMetadata"]["KeyId"]
            kms.create_alias(AliasName=settings.kms_key_id, TargetKeyId=key_id)
            reg = registry(settings)
            for phone, id_last6, status, carrier in subscribers:
                reg.enrol("+86" + phone, id_last6, status, carrier)
            yield settings
        finally:
            local_stream_pump.reset_pump()
            tables.reset()
            aws.reset()
            secrets.reset()
            webhook_store.reset()


def stream_records(settings, base: str) -> list[dict[str, Any]]:
    """Every record of a table's stream in the emulated AWS, oldest first, shaped as Lambda
    hands them over (the test client has no stream event generator)."""
    import boto3
    from botocore.config import Config

    ddb = boto3.client("dynamodb", region_name=settings.region)
    arn = ddb.describe_table(TableName=settings.table_name(base))["Table"]["LatestStreamArn"]
    streams = boto3.client(
        "dynamodbstreams",
        region_name=settings.region,
        config=Config(account_id_endpoint_mode="disabled"),
    )
    records: list[dict[str, Any]] = []
    for shard in streams.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"]:
        iterator = streams.get_shard_iterator(
            StreamArn=arn, ShardId=shard["ShardId"], ShardIteratorType="TRIM_HORIZON"
        )["ShardIterator"]
        records.extend(streams.get_records(ShardIterator=iterator)["Records"])
    for record in records:  # as Lambda hands them over: JSON, with the stream's ARN
        record["eventSourceARN"] = arn
        stamp = record["dynamodb"].get("ApproximateCreationDateTime")
        if hasattr(stamp, "timestamp"):
            record["dynamodb"]["ApproximateCreationDateTime"] = stamp.timestamp()
    return records
