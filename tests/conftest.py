"""Test set-up: moto is imported before any boto3 client exists; every test gets a fresh
emulated AWS (DynamoDB, KMS, SNS) with this stage's tables, key and demo subscribers."""

from __future__ import annotations

import json
import os
from datetime import UTC, datetime
from pathlib import Path

# Never reach real AWS from a test, whatever the developer's shell holds.
for _name in ("AWS_PROFILE", "AWS_ENDPOINT_URL", "AWS_SESSION_TOKEN"):
    os.environ.pop(_name, None)
os.environ.update(
    AWS_ACCESS_KEY_ID="testing",
    AWS_SECRET_ACCESS_KEY="testing",
    AWS_DEFAULT_REGION="ap-east-1",
    AWS_ACCOUNT_ID_ENDPOINT_MODE="disabled",
)

import moto  # noqa: E402  (must precede boto3 clients)
import pytest  # noqa: E402

from chalicelib.adapters import aws as aws_clients  # noqa: E402
from chalicelib.adapters import tables  # noqa: E402
from chalicelib.domain import clock  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
STAGE_ENV = json.loads((ROOT / ".chalice" / "config.json").read_text())
DEMO = {
    "active": ("13800138000", "12345X", "China Mobile"),
    "second": ("13900139000", "65432X", "China Mobile"),
    "unicom": ("18612345678", "100234", "China Unicom"),
    "cancelled": ("13700137000", "111111", "China Mobile"),
}
START = datetime(2026, 11, 27, 2, 0, tzinfo=UTC)  # Friday 10:00 in Shanghai


@pytest.fixture(autouse=True)
def stage_env(monkeypatch):
    """The `local` stage's variables from .chalice/config.json, outside requests too."""
    env = {
        **STAGE_ENV["environment_variables"],
        **STAGE_ENV["stages"]["local"]["environment_variables"],
    }
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    return env


@pytest.fixture
def frozen_clock():
    fixed = clock.FrozenClock(START)
    previous = clock.use(fixed)
    yield fixed
    clock.use(previous)


@pytest.fixture
def world(stage_env, frozen_clock):
    """A fresh emulated AWS with tables, the KMS key and demo subscribers."""
    from chalicelib import config
    from chalicelib.adapters.registry import registry
    from chalicelib.services import stats

    with moto.mock_aws():
        tables.reset()
        aws_clients.reset()
        stats.reset_pump()
        settings = config.settings()
        tables.create_all(settings)
        kms = aws_clients.client("kms", settings.region)
        key_id = kms.create_key(Description="recount test")["KeyMetadata"]["KeyId"]
        kms.create_alias(AliasName=settings.kms_key_id, TargetKeyId=key_id)
        reg = registry(settings)
        for phone, id6, carrier in DEMO.values():
            reg.enrol(
                "+86" + phone,
                id6,
                "cancelled" if phone == DEMO["cancelled"][0] else "active",
                carrier,
            )
        yield settings
        tables.reset()
        aws_clients.reset()


@pytest.fixture
def client(world):
    from chalice.test import Client

    from app import app

    with Client(app, stage_name="local") as c:
        yield c
