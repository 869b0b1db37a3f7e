"""Proving a person holds a number: verification codes and sessions (docs/design.md §6, person)."""

from __future__ import annotations

import hashlib
from datetime import datetime, timedelta
from typing import Any

from chalicelib.adapters import guards, kms
from chalicelib.adapters.registry import number_registry
from chalicelib.adapters.sms import sender
from chalicelib.config import Settings
from chalicelib.domain import clock, sms_text
from chalicelib.domain.errors import Problem, too_many
from chalicelib.domain.identity import (
    code_digest,
    issue_token,
    new_code,
    normalise_id_last6,
    phone_hmac,
)
from chalicelib.domain.phone import MobileNumber, parse_mobile
from chalicelib.domain.ports import NumberRegistry, SmsRefused, SmsSender
from chalicelib.domain.workdays import SHANGHAI

CODE_INTERVAL_S = 60
CODES_PER_DAY = 5
CODES_PER_CLIENT_HOUR = 30
# Tries per code; with CODES_PER_DAY, at most 15 guesses a day per number. No failure count
# locks the whole number: that would let anyone who knows a number lock its owner out.
TRIES_PER_CODE = 3
HOLDER_RETENTION = timedelta(days=180)


def _day_end(now: datetime) -> datetime:
    local = now.astimezone(SHANGHAI)
    return (local + timedelta(days=1)).replace(hour=0, minute=0, second=0, microsecond=0)


def _client_key(settings: Settings, client_ip: str) -> str:
    # An address is personal data too: count by a keyed hash of it.
    return hashlib.sha256(settings.hmac_key + b"client:" + client_ip.encode()).hexdigest()[:32]


def request_code(
    settings: Settings,
    raw_phone: object,
    client_ip: str,
    *,
    numbers: NumberRegistry | None = None,
    sms: SmsSender | None = None,
) -> None:
    """`numbers` and `sms` default to the stage's own (adapters)."""
    number = parse_mobile(raw_phone)
    now = clock.now()
    hour = now.strftime("%Y%m%d%H")
    if not guards.count_within(
        f"rate#client#{_client_key(settings, client_ip)}#{hour}",
        CODES_PER_CLIENT_HOUR,
        now + timedelta(hours=2),
    ):
        retry = 3600 - (now.minute * 60 + now.second)
        raise too_many("client_rate_limited", "Too many code requests from this client", retry)

    status = (numbers or number_registry(settings)).status(number.e164)
    if status.cancelled:
        raise Problem(
            422,
            "number_cancelled",
            "This number is cancelled",
            "该号码已销号，无法接收验证码。请直接拨打相关企业的客服电话处理账号绑定问题。",
        )
    key = phone_hmac(settings.hmac_key, number.e164)
    code = new_code()
    until = now + timedelta(seconds=settings.code_ttl_seconds)
    # Recorded for unknown numbers too (with a digest no code matches), so the once-a-minute
    # rule answers alike whether or not the number is registered: no enumeration.
    day_end = _day_end(now)
    digest = code_digest(settings.hmac_key, key, code) if status.known else "unusable"
    day_pk = f"rate#code#{key}#{now.astimezone(SHANGHAI):%Y%m%d}"
    refused = guards.issue_code(
        f"code#{key}",
        digest,
        clock.iso(now),
        until,
        clock.iso(until),
        last_before_iso=clock.iso(now - timedelta(seconds=CODE_INTERVAL_S)),
        day_pk=day_pk,
        per_day=CODES_PER_DAY,
        day_end=day_end,
    )
    if refused == "too_soon":
        last = guards.get_live(f"code#{key}", now)
        waited = (now - clock.parse_iso(last.at)).total_seconds() if last and last.at else 0
        raise too_many("code_too_soon", "One code per minute", int(CODE_INTERVAL_S - waited))
    if refused == "daily_limit":
        raise too_many(
            "daily_code_limit", "At most 5 codes a day", int((day_end - now).total_seconds())
        )
    if not status.known:
        return
    message = sms_text.message("verification_code", {"code": code}, settings.sms_signature)
    try:
        (sms or sender(settings)).send(number.e164, message, phone_key=key, masked=number.masked)
    except Exception as exc:
        # Nothing reached the person: neither the minute's spacing nor the day's cap is spent.
        guards.withdraw_code(f"code#{key}", digest)
        guards.count_back(day_pk)
        if isinstance(exc, SmsRefused) and exc.permanent:
            raise Problem(
                422,
                "sms_undeliverable",
                "SMS cannot reach this number",
                "The SMS provider cannot deliver to this number; check it, or call the "
                "anti-fraud hotline 96110 for help",
                extra={"provider_code": exc.code},
            ) from None
        raise Problem(
            503,
            "sms_unavailable",
            "SMS unavailable",
            "The code could not be sent; try again shortly",
            headers={"Retry-After": "30"},
        ) from None


def open_session(
    settings: Settings,
    raw_phone: object,
    raw_id_last6: object,
    raw_code: object,
    *,
    numbers: NumberRegistry | None = None,
) -> dict[str, Any]:
    number = parse_mobile(raw_phone)
    id_last6 = normalise_id_last6(raw_id_last6)
    now = clock.now()
    key = phone_hmac(settings.hmac_key, number.e164)
    pk = f"code#{key}"
    # The try is taken before anything is checked, atomically: no burst gets a fourth.
    record = guards.take_try(pk, clock.iso(now), TRIES_PER_CODE)
    if record is None:
        raise Problem(
            401,
            "new_code_needed",
            "A new code is needed",
            "There is no valid code for this number (none was sent, it expired, it was used, "
            "or its tries are spent): request a new code",
            extra={"attempts_left": 0},
        )
    code_ok = record.digest is not None and record.digest == code_digest(
        settings.hmac_key, key, str(raw_code)
    )
    registry = numbers or number_registry(settings)
    holder_ok = code_ok and registry.holder_matches(number.e164, id_last6)
    if code_ok:
        # Spent either way: a right code with wrong ID digits burns it, so a stolen code buys
        # one guess at the ID, not three.
        spent = guards.spend_code(pk, str(record.digest))
        holder_ok = holder_ok and spent
    if not holder_ok:
        left = 0 if code_ok else max(0, TRIES_PER_CODE - int(record.count or 0))
        raise Problem(
            401,
            "verification_failed",
            "Verification failed",
            "The number, the code or the ID digits do not match"
            + ("; request a new code" if left == 0 else ""),
            extra={"attempts_left": left},
        )
    _remember_holder(settings, number, key, now)
    expires = now + timedelta(seconds=settings.session_ttl_seconds)
    return {
        "token": issue_token(settings.token_keys, key, expires),
        "token_type": "Bearer",
        "expires_at": clock.iso(expires),
    }


def _remember_holder(settings: Settings, number: MobileNumber, key: str, now: datetime) -> None:
    """Keeps what later SMS need, never the plain number: ciphertext, mask and region."""
    guards.put(
        f"holder#{key}",
        now + HOLDER_RETENTION,
        data={
            "cipher": kms.encrypt_number(settings, number.e164),
            "masked": number.masked,
            "region": number.region(),
            "carrier": number.carrier_name(),
        },
    )
