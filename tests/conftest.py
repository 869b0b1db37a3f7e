"""Test set-up: moto is imported before any boto3 client exists; every test gets a fresh
emulated AWS (DynamoDB, KMS, SNS) with this stage's tables, key and demo subscribers."""

from __future__ import annotations

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

import pytest  # noqa: E402

from chalicelib.domain import clock  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
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
    from tests.support import local_stage_env

    env = local_stage_env()
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    return env


@pytest.fixture
def frozen_clock():
    fixed = clock.FrozenClock(START)
    previous = clock.use(fixed)
    yield fixed
    clock.use(previous)


def demo_subscribers() -> list[tuple[str, str, str, str]]:
    return [
        (phone, id6, "cancelled" if key == "cancelled" else "active", carrier)
        for key, (phone, id6, carrier) in DEMO.items()
    ]


@pytest.fixture
def world(stage_env, frozen_clock):
    """A fresh emulated AWS with tables, the KMS key and demo subscribers."""
    from tests.support import emulated_aws

    with emulated_aws(demo_subscribers()) as settings:
        yield settings


@pytest.fixture
def client(world):
    from chalice.test import Client

    from app import app

    with Client(app, stage_name="local") as c:
        yield c
