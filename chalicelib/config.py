"""Settings read from the environment at call time.

Chalice's test client applies `.chalice/config.json` variables only during a request, and
Lambda may be reconfigured between deployments: nothing here is read at import time.

The keys are no settings: deployed stages read them from Secrets Manager when first used
(chalicelib/adapters/secrets.py, cached), and the environment names only where they are.
Stage `local` alone takes demo keys from the environment, which are no secrets.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from chalicelib.domain.identity import TokenKeys

LOCAL_TOKEN_KEY_ID = "local"
# Variables that would put a key in plain sight (the Lambda console, the template).
KEY_VARIABLES = ("RECOUNT_HMAC_KEY", "RECOUNT_TOKEN_KEY")


@dataclass(frozen=True)
class Settings:
    stage: str
    table_prefix: str
    region: str
    kms_key_id: str
    sms_signature: str
    session_ttl_seconds: int
    timer_shards: int
    code_ttl_seconds: int
    retention_days: int  # how long a dispute's records outlive its last settled case
    hmac_secret: str  # Secrets Manager id of the look-up key; "" in stage local
    token_secret: str  # Secrets Manager id of the token keys (JSON); "" in stage local
    # SMS provider: sns (the default), aliyun or tencent (docs/design.md §11). Their
    # credentials are a JSON secret in Secrets Manager in every stage, `make run`'s too.
    sms_provider: str = "sns"
    sms_secret: str = ""
    # host[:port] in place of the provider's public endpoint: `make run` and the tests point
    # the official SDK at a loopback fake of the provider (plain http in stage local only).
    sms_endpoint: str = ""
    # How long a process serves its copy of the public scorecard (services/public_scorecard.py).
    scorecard_cache_seconds: float = 60.0

    @property
    def sms_sign_name(self) -> str:
        """The registered signature the in-China providers add themselves: 【recount】 → recount."""
        return self.sms_signature.strip().removeprefix("【").removesuffix("】")

    @property
    def is_local(self) -> bool:
        return self.stage == "local"

    @property
    def retention(self) -> timedelta:
        return timedelta(days=self.retention_days)

    @property
    def hmac_key(self) -> bytes:
        """The pepper of every number look-up (phone_hmac): rotating it orphans them."""
        if self.is_local:
            return _required("RECOUNT_HMAC_KEY").encode()
        from chalicelib.adapters import secrets

        return secrets.hmac_key(self.region, _named(self.hmac_secret, "RECOUNT_HMAC_SECRET"))

    @property
    def token_keys(self) -> TokenKeys:
        """Session-token keys by id: the current one signs, every listed one verifies."""
        from chalicelib.domain.identity import TokenKeys

        if self.is_local:
            key = _required("RECOUNT_TOKEN_KEY").encode()
            return TokenKeys(LOCAL_TOKEN_KEY_ID, {LOCAL_TOKEN_KEY_ID: key})
        from chalicelib.adapters import secrets

        return secrets.token_keys(self.region, _named(self.token_secret, "RECOUNT_TOKEN_SECRET"))

    @property
    def token_key(self) -> bytes:
        """The current token key, which also signs paging cursors."""
        return self.token_keys.signing_key

    def table_name(self, base: str) -> str:
        return table_name(self.table_prefix, base)


def table_name(prefix: str, base: str) -> str:
    return f"{prefix}-{base}"


def table_location() -> tuple[str, str]:
    """(table prefix, region): all the models need to find their tables, and no secret."""
    region = os.environ.get("AWS_DEFAULT_REGION") or os.environ.get("AWS_REGION", "ap-east-1")
    return os.environ.get("RECOUNT_TABLE_PREFIX", "recount-local"), region


def _named(secret_id: str, variable: str) -> str:
    if any(os.environ.get(name) for name in KEY_VARIABLES):
        raise RuntimeError(
            "a deployed stage reads its keys from Secrets Manager, never from the environment; "
            f"remove {', '.join(KEY_VARIABLES)}"
        )
    if not secret_id:
        raise RuntimeError(f"environment variable {variable} (a Secrets Manager id) is not set")
    return secret_id


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


def _secret_id(stage: str, name: str) -> str:
    """Where a key is; checked when a key is used (packaging and pages need none)."""
    return "" if stage == "local" else os.environ.get(name, "")


def settings() -> Settings:
    stage = os.environ.get("RECOUNT_STAGE", "local")
    speed = _demo_speed(stage)
    table_prefix, region = table_location()
    return Settings(
        stage=stage,
        table_prefix=table_prefix,
        region=region,
        kms_key_id=os.environ.get("RECOUNT_KMS_KEY_ID", "alias/recount-local"),
        sms_signature=os.environ.get("RECOUNT_SMS_SIGNATURE", "【recount】"),
        session_ttl_seconds=int(int(os.environ.get("RECOUNT_SESSION_TTL_SECONDS", "1800")) * speed),
        timer_shards=int(os.environ.get("RECOUNT_TIMER_SHARDS", "4")),
        code_ttl_seconds=int(int(os.environ.get("RECOUNT_CODE_TTL_SECONDS", "300")) * speed),
        retention_days=int(os.environ.get("RECOUNT_RETENTION_DAYS", "180")),
        hmac_secret=_secret_id(stage, "RECOUNT_HMAC_SECRET"),
        token_secret=_secret_id(stage, "RECOUNT_TOKEN_SECRET"),
        sms_provider=os.environ.get("RECOUNT_SMS_PROVIDER", "sns") or "sns",
        sms_secret=os.environ.get("RECOUNT_SMS_SECRET", f"recount/{stage}/sms-provider"),
        sms_endpoint=os.environ.get("RECOUNT_SMS_ENDPOINT", ""),
        scorecard_cache_seconds=float(os.environ.get("RECOUNT_SCORECARD_CACHE_SECONDS", "60")),
    )
