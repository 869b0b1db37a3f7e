"""Settings read from the environment at call time.

Chalice's test client applies `.chalice/config.json` variables only during a request, and
Lambda may be reconfigured between deployments: nothing here is read at import time.
"""

from __future__ import annotations

import os
from dataclasses import dataclass


@dataclass(frozen=True)
class Settings:
    stage: str
    table_prefix: str
    region: str
    kms_key_id: str
    hmac_key: bytes
    token_key: bytes
    sms_signature: str
    session_ttl_seconds: int
    timer_shards: int
    code_ttl_seconds: int

    @property
    def is_local(self) -> bool:
        return self.stage == "local"

    def table_name(self, base: str) -> str:
        return table_name(self.table_prefix, base)


def table_name(prefix: str, base: str) -> str:
    return f"{prefix}-{base}"


def table_location() -> tuple[str, str]:
    """(table prefix, region): all the models need to find their tables, and no secret."""
    region = os.environ.get("AWS_DEFAULT_REGION") or os.environ.get("AWS_REGION", "ap-east-1")
    return os.environ.get("RECOUNT_TABLE_PREFIX", "recount-local"), region


def _required(name: str) -> str:
    value = os.environ.get(name, "")
    if not value:
        raise RuntimeError(f"environment variable {name} is not set")
    return value


def _demo_speed(stage: str) -> float:
    """`make run`'s demo clock (stage local only): lifetimes of codes and sessions stretch by
    the same factor, so they still last minutes of real time and a person can sign in."""
    raw = os.environ.get("RECOUNT_DEMO_CLOCK_SPEED", "")
    return float(raw) if stage == "local" and raw else 1.0


def settings() -> Settings:
    stage = os.environ.get("RECOUNT_STAGE", "local")
    speed = _demo_speed(stage)
    table_prefix, region = table_location()
    return Settings(
        stage=stage,
        table_prefix=table_prefix,
        region=region,
        kms_key_id=os.environ.get("RECOUNT_KMS_KEY_ID", "alias/recount-local"),
        hmac_key=_required("RECOUNT_HMAC_KEY").encode(),
        token_key=_required("RECOUNT_TOKEN_KEY").encode(),
        sms_signature=os.environ.get("RECOUNT_SMS_SIGNATURE", "【recount】"),
        session_ttl_seconds=int(int(os.environ.get("RECOUNT_SESSION_TTL_SECONDS", "1800")) * speed),
        timer_shards=int(os.environ.get("RECOUNT_TIMER_SHARDS", "4")),
        code_ttl_seconds=int(int(os.environ.get("RECOUNT_CODE_TTL_SECONDS", "300")) * speed),
    )
