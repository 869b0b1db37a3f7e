"""docs/design.md §8: numbers never in plain text in a table or a log line; ID digits never stored.

Runs the person's flows end to end (codes, sign-ins with failures and a lock-out, several
disputes, idempotent replays, reads), then reads every item of every table and every log
record emitted at DEBUG."""

from __future__ import annotations

import base64
import json
import logging
import re

from tests.conftest import DEMO
from tests.integration.helpers import (
    ACTIVE_ID,
    ACTIVE_PHONE,
    CANCELLED_PHONE,
    SECOND_ID,
    SECOND_PHONE,
    UNICOM_ID,
    UNICOM_PHONE,
    UNKNOWN_PHONE,
    all_tables,
    item,
    other_code,
    request_code,
)
from tests.support import Api, sent_sms

ID_DIGITS = ("12345X", "12345x", "65432X", "100234", "111111")
_SPACED = f"{ACTIVE_PHONE[:3]} {ACTIVE_PHONE[3:7]} {ACTIVE_PHONE[7:]}"
TYPED_NOTE = f"我的号码 +86 {_SPACED}，身份证110101198001{ACTIVE_ID}"
# Loggers of the test harness itself (moto emulating AWS); they ship nowhere.
HARNESS_LOGGERS = ("moto",)


def _number_forms(national: str) -> set[str]:
    spaced = f"{national[:3]} {national[3:7]} {national[7:]}"
    return {
        national,
        "+86" + national,
        "86" + national,
        "0086" + national,
        spaced,
        "+86 " + spaced,
        spaced.replace(" ", "-"),
    }


NUMBERS = [phone for phone, _, _ in DEMO.values()] + [UNKNOWN_PHONE]
# Base64 is plain text too (botocore logs blobs such as a KMS Plaintext that way).
_B64 = {base64.b64encode(f.encode()).decode() for n in NUMBERS for f in (n, "+86" + n)}
NEEDLES = sorted({form for n in NUMBERS for form in _number_forms(n)} | _B64, key=len, reverse=True)


def _leaks(text: str) -> list[str]:
    """Plain numbers (as written, or once spaces and hyphens are dropped) and ID digits."""
    squeezed = re.sub(r"[\s\-]", "", text)
    found = [n for n in NEEDLES if n in text]
    found += [f"{n} (squeezed)" for n in NUMBERS if n in squeezed and n not in text]
    found += [d for d in ID_DIGITS if d in text]
    return found


def _run_flows(api: Api, frozen_clock) -> None:
    # Codes: known, unknown, cancelled, another format.
    for phone in (UNKNOWN_PHONE, "+86 137 0013 7000"):
        api.call("POST", "/v1/verification-codes", {"phone": phone})
    assert api.call("POST", "/v1/verification-codes", {"phone": CANCELLED_PHONE}).status_code == 422

    # Sign-ins: a lower-case x, failures then success, and a code burned by wrong tries.
    token = api.sign_in(ACTIVE_PHONE, ACTIVE_ID.lower())
    code = request_code(api, SECOND_PHONE, advance=False)
    for wrong_id in ("654329", "111111"):
        r = api.call(
            "POST", "/v1/sessions", {"phone": SECOND_PHONE, "id_last6": wrong_id, "code": code}
        )
        assert r.status_code in (401, 422), r.body
    frozen_clock.advance(seconds=61)
    second = api.sign_in(SECOND_PHONE, SECOND_ID)
    code = request_code(api, UNICOM_PHONE, advance=False)
    for _ in range(6):
        api.call(
            "POST",
            "/v1/sessions",
            {"phone": UNICOM_PHONE, "id_last6": UNICOM_ID, "code": other_code(code)},
        )
    burned = api.call(
        "POST", "/v1/sessions", {"phone": UNICOM_PHONE, "id_last6": UNICOM_ID, "code": code}
    )
    assert (burned.status_code, burned.data["code"]) == (401, "new_code_needed")

    # Disputes: triage lanes, sim cards, a conflict, idempotent replays, reads.
    filings = [
        (
            token,
            {
                "items": [
                    item("tencent", 3, 0, "recycled_number"),
                    item("jd", 5, 0, "fraud_suspected"),
                ]
            },
            "a",
        ),
        # A person types their own number and ID into the note: it is stored masked.
        (token, {"items": [item("baidu", 2, 1, "other", note=TYPED_NOTE)]}, "b"),
        (token, {"kind": "sim_cards", "items": [item("china_mobile", 3, 1)]}, None),
        (second, {"items": [item("tencent", 4, 1), item("meituan", 1, 0, "forgot_own")]}, "c"),
    ]
    ids = []
    for who, body, key in filings:
        headers = {"Idempotency-Key": key} if key else None
        r = api.call("POST", "/v1/disputes", body, token=who, headers=headers)
        assert r.status_code == 201, r.body
        ids.append((who, r.data["dispute_id"]))
        if key:
            replay = api.call("POST", "/v1/disputes", body, token=who, headers=headers)
            assert replay.data["dispute_id"] == r.data["dispute_id"]
    conflict = api.call("POST", "/v1/disputes", filings[0][1], token=token)
    assert conflict.status_code == 409
    for who, dispute_id in ids:
        assert api.call("GET", f"/v1/disputes/{dispute_id}", token=who).status_code == 200
    assert api.call("GET", "/v1/disputes", token=second).status_code == 200
    assert api.call("GET", f"/dev/sms?phone={ACTIVE_PHONE}").status_code == 200


def test_no_plain_number_or_id_digits_in_any_table_or_log(client, world, frozen_clock, caplog):
    caplog.set_level(logging.DEBUG)
    api = Api(client, frozen_clock)
    _run_flows(api, frozen_clock)
    # What the service logged while serving the flows (moto's own loggers aside).
    records = [r for r in caplog.records if not r.name.startswith(HARNESS_LOGGERS)]
    caplog.set_level(logging.WARNING)  # the test's own scans below are not the service's
    caplog.clear()  # and keep thousands of DEBUG lines out of a failure report

    dump = all_tables(world)
    assert len(dump) >= 8, sorted(dump)
    assert sum(len(items) for items in dump.values()) > 30  # the flows really wrote
    leaks = {}
    for table, items in dump.items():
        for stored in items:
            text = json.dumps(stored, ensure_ascii=False, default=str)
            found = _leaks(text)
            if found:
                leaks.setdefault(table, []).append((found, text[:300]))
    assert leaks == {}, leaks

    assert records, "nothing was logged at DEBUG: the capture is not working"
    # Verification codes are secrets: the text that carries one is not logged either.
    codes = [m.group(0) for _, text in sent_sms() for m in re.finditer(r"验证码\d{6}", text)]
    assert len(codes) >= 4, codes
    logged: dict[str, set[str]] = {}
    for record in records:
        try:
            message = record.getMessage()
        except Exception:  # a library's malformed format string is not our concern here
            message = str(record.msg)
        text = message + " " + (record.exc_text or "")
        found = _leaks(text) + [c for c in codes if c in text]
        if found:
            logged.setdefault(record.name, set()).update(found)
    assert logged == {}, "\n".join(f"{n}: {', '.join(sorted(f))}" for n, f in logged.items())


def test_the_leak_detector_finds_what_it_looks_for():
    """The checks above can fail: each form of a number and the ID digits are caught."""
    assert _leaks('{"n": "13800138000"}') == ["13800138000"]
    assert "+8613900139000" in _leaks("PhoneNumber='+8613900139000'")
    assert "186 1234 5678" in _leaks("call 186 1234 5678")
    assert "186-1234-5678" in _leaks("call 186-1234-5678")
    assert _leaks("137 0013\n7000") == ["13700137000 (squeezed)"]
    assert _leaks("holder 65432X") == ["65432X"]
    assert _leaks("id=100234;") == ["100234"]
    assert _leaks("138****8000 北京市") == []
    assert _leaks("Plaintext: " + base64.b64encode(b"+8613700137000").decode()) != []


def test_a_key_label_with_a_number_is_stored_masked(client, world, frozen_clock):
    """An operator labels a liaison key with whom it is for; a number in the label is stored
    masked, like any free text (the one redaction: chalicelib/domain/redaction.py)."""
    from chalicelib.adapters.tables import ApiKey
    from chalicelib.services import keys

    operator = keys.issue("operator", None, "privacy test")["key"]
    api = Api(client, frozen_clock)
    dotted = f"{ACTIVE_PHONE[:3]}.{ACTIVE_PHONE[3:7]}.{ACTIVE_PHONE[7:]}"
    label = f"京东对接人 王 {dotted} / 身份证110101.19800112.{ACTIVE_ID[-4:]}"
    r = api.call(
        "POST", "/v1/admin/liaison-keys", {"company": "jd", "label": label}, token=operator
    )
    assert r.status_code in (200, 201), r.body
    stored = ApiKey.get(r.data["key_id"], consistent_read=True).label
    masked = f"{ACTIVE_PHONE[:3]}****{ACTIVE_PHONE[-4:]}"
    assert stored == f"京东对接人 王 {masked} / 身份证******.********.****"
    dump = json.dumps(all_tables(world), ensure_ascii=False, default=str)
    assert _leaks(dump) == [] and "19800112" not in dump


def test_an_error_never_echoes_a_number_it_was_sent(client, world):
    """An unknown field named like a number comes back masked in the problem."""
    r = client.http.post(
        "/v1/verification-codes",
        headers={"Content-Type": "application/json"},
        body=json.dumps({"phone": "13800138000", "13900139000": 1}),
    )
    assert r.status_code == 422, r.body
    text = r.body.decode()
    assert "13900139000" not in text and "139****9000" in text, text
