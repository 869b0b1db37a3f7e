"""Proving a person holds a number (docs/design.md §6): verification codes and sessions, over
HTTP against moto, with a frozen clock."""

from __future__ import annotations

import re
from datetime import timedelta

from chalicelib.domain import clock
from tests.integration.helpers import (
    ACTIVE_ID,
    ACTIVE_PHONE,
    CANCELLED_PHONE,
    SECOND_ID,
    SECOND_PHONE,
    UNICOM_ID,
    UNICOM_PHONE,
    UNKNOWN_PHONE,
    assert_problem,
    assert_retry_after,
    header,
    media_type,
    other_code,
    request_code,
    scan,
    sms_to,
)
from tests.support import Api, sent_sms

CODES = "/v1/verification-codes"
SESSIONS = "/v1/sessions"


def _session(api: Api, phone: str, id_last6: str, code: str):
    return api.call("POST", SESSIONS, {"phone": phone, "id_last6": id_last6, "code": code})


# -- verification codes ---------------------------------------------------------------------


def test_code_answer_is_the_same_for_known_and_unknown_numbers(client, frozen_clock):
    api = Api(client, frozen_clock)
    known = api.call("POST", CODES, {"phone": ACTIVE_PHONE})
    unknown = api.call("POST", CODES, {"phone": UNKNOWN_PHONE})

    assert known.status_code == unknown.status_code == 202
    assert known.data == unknown.data  # anti-enumeration: nothing tells them apart
    assert media_type(known) == media_type(unknown) == "application/json"
    assert sorted(k.lower() for k in known.headers) == sorted(k.lower() for k in unknown.headers)

    # Only the registered number gets an SMS.
    assert len(sms_to(ACTIVE_PHONE)) == 1
    assert sms_to(UNKNOWN_PHONE) == []
    assert len(sent_sms()) == 1

    text = sms_to(ACTIVE_PHONE)[0]
    assert text.startswith("【recount演示】"), text
    assert re.search(r"验证码\d{6}", text), text
    # No one, staff included, may ask for the code.
    assert "任何人" in text and "工作人员" in text and "索要" in text, text
    assert "诈骗" in text, text


def test_rate_limit_answer_does_not_reveal_whether_number_is_known(client, frozen_clock):
    """A second request within 60 s must be answered alike for known and unknown numbers;
    otherwise the 60 s limit tells a caller which numbers are registered."""
    api = Api(client, frozen_clock)
    for phone in (ACTIVE_PHONE, UNKNOWN_PHONE):
        assert api.call("POST", CODES, {"phone": phone}).status_code == 202
    frozen_clock.advance(seconds=5)
    known = api.call("POST", CODES, {"phone": ACTIVE_PHONE})
    unknown = api.call("POST", CODES, {"phone": UNKNOWN_PHONE})
    assert_problem(known, 429, "code_too_soon")
    assert (unknown.status_code, unknown.data) == (known.status_code, known.data)
    assert header(unknown, "Retry-After") == header(known, "Retry-After")


def test_number_formats_are_one_number_and_one_code_a_minute(client, frozen_clock):
    api = Api(client, frozen_clock)
    first = api.call("POST", CODES, {"phone": "+86 138 0013 8000"})
    assert first.status_code == 202, first.body
    assert len(sms_to(ACTIVE_PHONE)) == 1  # sent to +8613800138000

    frozen_clock.advance(seconds=20)
    for same in ("13800138000", "0086-138-0013-8000", "+8613800138000", " 138 0013 8000 "):
        again = api.call("POST", CODES, {"phone": same})
        assert_problem(again, 429, "code_too_soon")
        assert_retry_after(again, 1, 40)
    assert len(sms_to(ACTIVE_PHONE)) == 1

    frozen_clock.advance(seconds=41)  # 61 s after the first
    assert api.call("POST", CODES, {"phone": ACTIVE_PHONE}).status_code == 202
    assert len(sms_to(ACTIVE_PHONE)) == 2


def test_five_codes_a_day_per_number(client, frozen_clock):
    api = Api(client, frozen_clock)
    for _ in range(5):
        r = api.call("POST", CODES, {"phone": SECOND_PHONE})
        assert r.status_code == 202, r.body
        frozen_clock.advance(seconds=61)
    refused = api.call("POST", CODES, {"phone": "+86 139 0013 9000"})
    assert_problem(refused, 429, "daily_code_limit")
    assert_retry_after(refused, 1, 24 * 3600)
    assert len(sms_to(SECOND_PHONE)) == 5

    # Another number is not affected.
    assert api.call("POST", CODES, {"phone": ACTIVE_PHONE}).status_code == 202

    # A new day in Shanghai (midnight UTC+8) opens a new allowance.
    frozen_clock.advance(seconds=int(header(refused, "Retry-After")) + 1)
    assert api.call("POST", CODES, {"phone": SECOND_PHONE}).status_code == 202
    assert len(sms_to(SECOND_PHONE)) == 6


def test_cancelled_number_is_told_to_call_the_hotlines(client, frozen_clock):
    api = Api(client, frozen_clock)
    r = api.call("POST", CODES, {"phone": CANCELLED_PHONE})
    body = assert_problem(r, 422, "number_cancelled")
    assert "客服" in body["detail"], body
    assert sms_to(CANCELLED_PHONE) == []


def test_per_client_cap(client, frozen_clock):
    api = Api(client, frozen_clock)
    statuses = []
    for i in range(40):
        r = api.call("POST", CODES, {"phone": f"139{i:08d}"})  # distinct, valid, unknown
        statuses.append(r.status_code)
        if r.status_code == 429:
            assert_problem(r, 429, "client_rate_limited")
            assert_retry_after(r, 1, 3600)
            break
        frozen_clock.advance(seconds=1)
    assert statuses == [202] * 30 + [429], statuses

    # The cap holds for a registered number too, and sends nothing.
    assert_problem(api.call("POST", CODES, {"phone": ACTIVE_PHONE}), 429, "client_rate_limited")
    assert sms_to(ACTIVE_PHONE) == []

    frozen_clock.advance(hours=1)
    assert api.call("POST", CODES, {"phone": ACTIVE_PHONE}).status_code == 202


# -- sessions -------------------------------------------------------------------------------


def test_sign_in_issues_a_token_and_a_code_works_once(client, frozen_clock):
    api = Api(client, frozen_clock)
    code = request_code(api, ACTIVE_PHONE, advance=False)
    signed_in_at = clock.now()
    r = _session(api, ACTIVE_PHONE, ACTIVE_ID, code)
    assert r.status_code == 201, r.body
    assert isinstance(r.data["token"], str) and len(r.data["token"]) > 20
    assert clock.parse_iso(r.data["expires_at"]) == signed_in_at + timedelta(seconds=1800)
    token = r.data["token"]
    assert api.call("GET", "/v1/disputes", token=token).status_code == 200

    # Single use: the same code again fails, in any format of the number.
    again = _session(api, "+86 138 0013 8000", ACTIVE_ID, code)
    body = assert_problem(again, 401, "new_code_needed")
    assert body.get("attempts_left") == 0, body
    # ... and using it did not reset the one-a-minute spacing.
    assert_problem(
        api.call("POST", "/v1/verification-codes", {"phone": ACTIVE_PHONE}), 429, "code_too_soon"
    )


def test_code_expires_after_five_minutes(client, frozen_clock):
    api = Api(client, frozen_clock)
    code = request_code(api, ACTIVE_PHONE, advance=False)
    frozen_clock.advance(seconds=301)
    assert_problem(_session(api, ACTIVE_PHONE, ACTIVE_ID, code), 401, "new_code_needed")

    code = request_code(api, ACTIVE_PHONE, advance=False)
    frozen_clock.advance(seconds=299)
    assert _session(api, ACTIVE_PHONE, ACTIVE_ID, code).status_code == 201


def test_wrong_id_fails_and_lower_case_x_is_accepted(client, frozen_clock):
    api = Api(client, frozen_clock)
    code = request_code(api, ACTIVE_PHONE)
    wrong = _session(api, ACTIVE_PHONE, "123459", code)
    # The right code with wrong ID digits burns the code: a stolen code buys one ID guess.
    assert assert_problem(wrong, 401, "verification_failed")["attempts_left"] == 0
    assert_problem(_session(api, ACTIVE_PHONE, ACTIVE_ID, code), 401, "new_code_needed")
    # Another holder's ID digits do not fit this number either.
    code = request_code(api, ACTIVE_PHONE)
    assert_problem(_session(api, ACTIVE_PHONE, SECOND_ID, code), 401, "verification_failed")

    code = request_code(api, ACTIVE_PHONE)
    assert ACTIVE_ID == "12345X"
    ok = _session(api, ACTIVE_PHONE, "12345x", code)
    assert ok.status_code == 201, ok.body
    # Every code has its own tries: a wrong code on a new one leaves 2 more.
    code = request_code(api, ACTIVE_PHONE)
    body = assert_problem(
        _session(api, ACTIVE_PHONE, ACTIVE_ID, other_code(code)), 401, "verification_failed"
    )
    assert body.get("attempts_left") == 2, body

    # An ID ending in a digit signs in as well.
    code = request_code(api, UNICOM_PHONE)
    assert _session(api, UNICOM_PHONE, UNICOM_ID, code).status_code == 201


def test_three_wrong_tries_burn_the_code_and_lock_no_one_out(client, frozen_clock):
    api = Api(client, frozen_clock)
    code = request_code(api, SECOND_PHONE, advance=False)
    wrong = other_code(code)
    answers = []
    for _ in range(4):
        r = _session(api, SECOND_PHONE, SECOND_ID, wrong)
        answers.append((r.status_code, r.data["code"], r.data["attempts_left"]))
    assert answers == [
        (401, "verification_failed", 2),
        (401, "verification_failed", 1),
        (401, "verification_failed", 0),
        (401, "new_code_needed", 0),
    ], answers
    # The right code is burned with the rest.
    assert_problem(_session(api, SECOND_PHONE, SECOND_ID, code), 401, "new_code_needed")
    # No lock on the number: a new code a minute later signs the owner in.
    frozen_clock.advance(seconds=61)
    fresh = request_code(api, SECOND_PHONE, advance=False)
    assert _session(api, SECOND_PHONE, SECOND_ID, fresh).status_code == 201


def test_tries_without_a_live_code_change_nothing(client, world, frozen_clock):
    """Anyone who knows a number may guess: with no code out, every guess is refused and
    nothing is written — the owner's next code works at once."""
    api = Api(client, frozen_clock)
    before = scan(world, "guards")
    for n in range(20):
        r = _session(api, SECOND_PHONE, SECOND_ID, f"{n:06d}")
        assert_problem(r, 401, "new_code_needed")
    assert scan(world, "guards") == before
    code = request_code(api, SECOND_PHONE, advance=False)
    assert _session(api, SECOND_PHONE, SECOND_ID, code).status_code == 201


def test_the_daily_code_cap_bounds_guessing_to_fifteen_a_day(client, frozen_clock):
    api = Api(client, frozen_clock)
    evaluated = 0
    for _ in range(5):
        code = request_code(api, SECOND_PHONE, advance=False)
        for _ in range(3):
            r = _session(api, SECOND_PHONE, SECOND_ID, other_code(code))
            evaluated += r.data["code"] == "verification_failed"
        frozen_clock.advance(seconds=61)
    assert evaluated == 15
    r = api.call("POST", "/v1/verification-codes", {"phone": SECOND_PHONE})
    assert_problem(r, 429, "daily_code_limit")


def test_a_token_whose_expiry_overflows_the_calendar_is_401_not_500(client, world):
    """Validly signed (with the stage's own key), but `exp` is past year 9999: a session that
    cannot exist, so the caller must sign in again."""
    import base64
    import hashlib
    import hmac
    import json

    keys = world.token_keys
    payload = base64.urlsafe_b64encode(
        json.dumps({"sub": "someone", "exp": 10**20}).encode()
    ).rstrip(b"=")
    signed = f"v2.{keys.current}.{payload.decode()}".encode()
    sig = base64.urlsafe_b64encode(hmac.new(keys.signing_key, signed, hashlib.sha256).digest())
    token = f"{signed.decode()}.{sig.rstrip(b'=').decode()}"
    response = Api(client).call("GET", "/v1/disputes", token=token)
    assert response.status_code == 401, response.body
    assert response.data["code"] == "unauthenticated"
