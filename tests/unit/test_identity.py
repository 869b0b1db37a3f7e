"""Keyed hashes, ID-digit normalisation, codes and session tokens (docs/design.md §6, §8).

Pure domain tests: no AWS, no moto.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from chalicelib.domain import identity
from chalicelib.domain.errors import Problem

KEY = identity.TokenKeys("k1", {"k1": b"k" * 32})
OTHER_KEY = identity.TokenKeys("k1", {"k1": b"o" * 32})
PEPPER = b"p" * 32
OTHER_PEPPER = b"q" * 32
NOW = datetime(2026, 11, 27, 2, 0, tzinfo=UTC)
LATER = NOW + timedelta(minutes=30)
E164 = "+8613800138000"
PHONE_KEY = identity.phone_hmac(PEPPER, E164)


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


@pytest.fixture
def token() -> str:
    return identity.issue_token(KEY, PHONE_KEY, LATER)


# --- tokens -----------------------------------------------------------------------------------


def test_token_round_trip(token: str) -> None:
    session = identity.verify_token(KEY, token, NOW)
    assert session == identity.Session(PHONE_KEY, LATER)
    assert session is not None and session.expires_at.tzinfo is not None


def test_token_carries_no_number(token: str) -> None:
    assert E164 not in token and "13800138000" not in token
    payload = json.loads(base64.urlsafe_b64decode(token.split(".")[2] + "=="))
    assert set(payload) == {"sub", "exp"}
    assert "13800138000" not in json.dumps(payload)


def test_expired_token(token: str) -> None:
    assert identity.verify_token(KEY, token, LATER) is None
    assert identity.verify_token(KEY, token, LATER + timedelta(seconds=1)) is None
    assert identity.verify_token(KEY, token, LATER - timedelta(seconds=1)) is not None


def test_token_signed_with_another_key(token: str) -> None:
    assert identity.verify_token(OTHER_KEY, token, NOW) is None
    forged = identity.issue_token(OTHER_KEY, PHONE_KEY, LATER)
    assert identity.verify_token(KEY, forged, NOW) is None


def test_tampered_payload_with_the_old_signature(token: str) -> None:
    version, kid, _payload, sig = token.split(".")
    other = b64(json.dumps({"sub": "someone-else", "exp": int(LATER.timestamp())}).encode())
    assert identity.verify_token(KEY, f"{version}.{kid}.{other}.{sig}", NOW) is None
    longer = b64(json.dumps({"sub": PHONE_KEY, "exp": int(LATER.timestamp()) + 86400}).encode())
    assert identity.verify_token(KEY, f"{version}.{kid}.{longer}.{sig}", NOW) is None


def test_tampered_signature(token: str) -> None:
    version, kid, payload, sig = token.split(".")
    flipped = ("A" if sig[0] != "A" else "B") + sig[1:]
    assert identity.verify_token(KEY, f"{version}.{kid}.{payload}.{flipped}", NOW) is None
    assert identity.verify_token(KEY, f"{version}.{kid}.{payload}.", NOW) is None
    assert identity.verify_token(KEY, f"{version}.{kid}.{payload}.{sig}=", NOW) is None
    assert identity.verify_token(KEY, f"{version}.{kid}.{payload}.{sig[:-1]}", NOW) is None


def test_wrong_version_or_shape(token: str) -> None:
    _version, kid, payload, sig = token.split(".")
    assert identity.verify_token(KEY, f"v1.{kid}.{payload}.{sig}", NOW) is None
    assert identity.verify_token(KEY, f"v1.{payload}.{sig}", NOW) is None
    assert identity.verify_token(KEY, f"{kid}.{payload}.{sig}", NOW) is None
    assert identity.verify_token(KEY, f"{token}.x", NOW) is None
    assert identity.verify_token(KEY, "Bearer " + token, NOW) is None


@pytest.mark.parametrize(
    "garbage",
    [
        "",
        ".",
        "..",
        "v1..",
        "v1.%%%.###",
        "v1.abc.é",  # non-ASCII signature
        "v1.é.abc",
        "v1.payload.签名",
        "v1.\x00.\x00",
        "x" * 10_000,
        "v1." + "a" * 600 + ".b",
        "null",
        "v1.bnVsbA.x",
    ],
)
def test_garbage_is_none(garbage: str) -> None:
    assert identity.verify_token(KEY, garbage, NOW) is None


@pytest.mark.parametrize(
    "claims",
    [
        {"sub": "x"},
        {"exp": 4102444800},
        {"sub": "x", "exp": "soon"},
        [1, 2],
        "text",
        None,
    ],
)
def test_validly_signed_but_malformed_claims_are_none(claims: object) -> None:
    assert identity.verify_token(KEY, signed(claims), NOW) is None


def signed(claims: object, kid: str = "k1") -> str:
    """A token with these claims, correctly signed with KEY."""
    payload = b64(json.dumps(claims).encode())
    sig = b64(hmac.new(KEY.keys[kid], f"v2.{kid}.{payload}".encode(), hashlib.sha256).digest())
    return f"v2.{kid}.{payload}.{sig}"


@pytest.mark.parametrize("exp", [10**20, -(10**20), 253402300800, -62135596801])
def test_an_exp_beyond_the_calendar_is_no_session(exp: int) -> None:
    """A validly signed token whose time overflows the platform's dates: None, never a raise
    (the API answers 401, not 500)."""
    assert identity.verify_token(KEY, signed({"sub": "x", "exp": exp}), NOW) is None


def test_tokens_of_a_listed_old_key_verify_until_it_is_dropped() -> None:
    """Rotation: k2 signs now; k1's tokens verify while k1 is listed, then no more."""
    old = identity.issue_token(KEY, PHONE_KEY, LATER)
    rotated = identity.TokenKeys("k2", {"k1": KEY.keys["k1"], "k2": b"n" * 32})
    new = identity.issue_token(rotated, PHONE_KEY, LATER)
    assert new.split(".")[1] == "k2" and old.split(".")[1] == "k1"
    assert identity.verify_token(rotated, old, NOW) == identity.Session(PHONE_KEY, LATER)
    assert identity.verify_token(rotated, new, NOW) == identity.Session(PHONE_KEY, LATER)
    dropped = identity.TokenKeys("k2", {"k2": b"n" * 32})
    assert identity.verify_token(dropped, old, NOW) is None
    assert identity.verify_token(dropped, new, NOW) is not None
    assert identity.verify_token(KEY, new, NOW) is None  # a key id it does not know


def test_a_token_cannot_name_another_key_for_its_signature() -> None:
    rotated = identity.TokenKeys("k2", {"k1": KEY.keys["k1"], "k2": b"n" * 32})
    version, _kid, payload, sig = identity.issue_token(rotated, PHONE_KEY, LATER).split(".")
    assert identity.verify_token(rotated, f"{version}.k1.{payload}.{sig}", NOW) is None


@pytest.mark.parametrize(
    ("current", "keys"), [("k9", {"k1": b"k" * 32}), ("k.1", {"k.1": b"k" * 32}), ("", {"": b"k"})]
)
def test_token_keys_must_name_their_current_key_with_a_plain_id(current, keys) -> None:
    with pytest.raises(ValueError):
        identity.TokenKeys(current, keys)


@settings(max_examples=300, deadline=None)
@given(
    st.text(max_size=200)
    | st.builds("v2.k1.{}.{}".format, st.text(max_size=60), st.text(max_size=60))
    | st.builds(
        "v2.k1.{}.{}".format,
        st.text(alphabet="ABCDEFabcdef0123456789-_", max_size=60),
        st.text(max_size=60),
    )
)
def test_arbitrary_text_never_raises(text: str) -> None:
    assert identity.verify_token(KEY, text, NOW) is None


@settings(max_examples=200, deadline=None)
@given(st.integers(min_value=0), st.text(min_size=1, max_size=4))
def test_any_single_edit_of_a_token_is_rejected(position: int, insert: str) -> None:
    token = identity.issue_token(KEY, PHONE_KEY, LATER)
    i = position % len(token)
    edited = token[:i] + insert + token[i + 1 :]
    if edited == token:
        return
    # The signature covers the payload's exact spelling and is compared as text: any edit fails.
    assert identity.verify_token(KEY, edited, NOW) is None


# --- ID digits --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("12345X", "12345X"),
        ("12345x", "12345X"),
        ("123456", "123456"),
        (" 12345x ", "12345X"),
        ("000000", "000000"),
    ],
)
def test_id_last6_normalised(raw: str, expected: str) -> None:
    assert identity.normalise_id_last6(raw) == expected


@pytest.mark.parametrize(
    "raw",
    [
        "",
        "12345",
        "1234567",
        "1234X",
        "12345XX",
        "1234X5",
        "X12345",
        "12345Y",
        "abcdef",
        "12 345X",
        "１２３４５X",  # full-width digits
        "١٢٣٤٥٦",  # Arabic-Indic digits
        "12345X\x00",
        None,
        123456,
        ["12345X"],
    ],
)
def test_id_last6_rejected(raw: object) -> None:
    with pytest.raises(Problem) as exc:
        identity.normalise_id_last6(raw)
    assert exc.value.status == 422
    assert [e.field for e in exc.value.errors] == ["id_last6"]


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=12))
def test_id_last6_accepts_only_the_documented_shape(raw: str) -> None:
    try:
        value = identity.normalise_id_last6(raw)
    except Problem as problem:
        assert problem.status == 422
    else:
        assert len(value) == 6
        assert all(c in "0123456789" for c in value[:5])
        assert value[5] in "0123456789X"


# --- keyed hashes and codes -------------------------------------------------------------------


def test_hmacs_differ_per_key_and_per_input() -> None:
    assert identity.phone_hmac(PEPPER, E164) != identity.phone_hmac(OTHER_PEPPER, E164)
    assert identity.phone_hmac(PEPPER, E164) != identity.phone_hmac(PEPPER, "+8613900139000")
    assert identity.phone_hmac(PEPPER, E164) == identity.phone_hmac(PEPPER, E164)
    a = identity.holder_check_hmac(PEPPER, E164, "12345X")
    assert a != identity.holder_check_hmac(OTHER_PEPPER, E164, "12345X")
    assert a != identity.holder_check_hmac(PEPPER, E164, "123456")
    assert a != identity.holder_check_hmac(PEPPER, "+8613900139000", "12345X")
    # Domain separation: the phone look-up key is not the holder check.
    assert identity.phone_hmac(PEPPER, E164) not in {a, identity.code_digest(PEPPER, E164, "")}


def test_hmacs_never_contain_the_digits() -> None:
    for e164, id6 in [(E164, "12345X"), ("+8618612345678", "100234"), ("+8613700137000", "111111")]:
        for digest in (
            identity.phone_hmac(PEPPER, e164),
            identity.holder_check_hmac(PEPPER, e164, id6),
            identity.code_digest(PEPPER, identity.phone_hmac(PEPPER, e164), "123456"),
        ):
            assert len(digest) == 64
            assert e164 not in digest and e164[3:] not in digest
            assert id6 not in digest and id6.lower() not in digest


def test_code_digest_depends_on_key_number_and_code() -> None:
    base = identity.code_digest(PEPPER, PHONE_KEY, "123456")
    assert base == identity.code_digest(PEPPER, PHONE_KEY, "123456")
    assert base != identity.code_digest(OTHER_PEPPER, PHONE_KEY, "123456")
    assert base != identity.code_digest(
        PEPPER, identity.phone_hmac(PEPPER, "+8613900139000"), "123456"
    )
    assert base != identity.code_digest(PEPPER, PHONE_KEY, "123457")


def test_new_code_is_six_digits_and_varies() -> None:
    codes = [identity.new_code() for _ in range(500)]
    for code in codes:
        assert len(code) == 6 and code.isascii() and code.isdigit()
    assert len(set(codes)) > 400
    assert any(c.startswith("0") for c in codes)  # zero-padded, not a shorter number


def test_secret_digest_is_stable_and_hides_the_secret() -> None:
    secret = "lk_live_abcdef0123456789"
    assert identity.secret_digest(secret) == identity.secret_digest(secret)
    assert identity.secret_digest(secret) != identity.secret_digest(secret + "x")
    assert secret not in identity.secret_digest(secret)
