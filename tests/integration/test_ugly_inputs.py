"""Hostile and careless input to every route with a body (docs/design.md §6): never a 5xx, always
an RFC 9457 problem with a stable code, and stored disputes untouched by whatever is refused."""

from __future__ import annotations

import json

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from chalicelib.domain.intake import REASONS
from tests.integration.helpers import (
    ACTIVE_ID,
    ACTIVE_PHONE,
    assert_problem,
    item,
    media_type,
    snapshot,
)
from tests.support import Api

CODES = "/v1/verification-codes"
SESSIONS = "/v1/sessions"
DISPUTES = "/v1/disputes"
LIMIT = 16 * 1024
COMPANIES = ["tencent", "alibaba", "alipay", "baidu", "kuaishou", "douyin", "jd", "meituan"]
CARRIERS = ["china_mobile", "china_unicom", "china_telecom", "china_broadnet"]

VALID = {
    CODES: {"phone": "13912345678"},
    SESSIONS: {"phone": "13912345678", "id_last6": "12345X", "code": "123456"},
    DISPUTES: {"items": [item("meituan", 2, 1)]},
}


class Prepared:
    """A signed-in person with one stored dispute, and a picture of the tables to compare."""

    def __init__(self, client, world, frozen_clock) -> None:
        self.api = Api(client, frozen_clock)
        self.world = world
        self.token = self.api.sign_in(ACTIVE_PHONE, ACTIVE_ID)
        r = self.api.call("POST", DISPUTES, {"items": [item("tencent", 3, 1)]}, token=self.token)
        assert r.status_code == 201, r.body
        self.dispute_id = r.data["dispute_id"]
        self.view = self.read()
        self.before = snapshot(world)

    def read(self) -> dict:
        r = self.api.call("GET", f"{DISPUTES}/{self.dispute_id}", token=self.token)
        assert r.status_code == 200, r.body
        return r.data

    def post(self, path: str, body=None, *, raw=None, headers=None):
        token = self.token if path == DISPUTES else None
        return self.api.call("POST", path, body, token=token, raw=raw, headers=headers)

    def assert_unchanged(self) -> None:
        assert snapshot(self.world) == self.before
        assert self.read() == self.view


def _padded(path: str, size: int) -> bytes:
    """A JSON body of exactly `size` bytes for `path` (one string field padded)."""
    if path == DISPUTES:
        template = {"items": [{**item("baidu", 2, 1), "note": ""}]}
    else:
        template = dict(VALID[path], phone="")
    empty = len(json.dumps(template).encode())
    if path == DISPUTES:
        template["items"][0]["note"] = "a" * (size - empty)
    else:
        template["phone"] = "1" * (size - empty)
    raw = json.dumps(template).encode()
    assert len(raw) == size
    return raw


def test_bodies_that_are_not_json_objects(client, world, frozen_clock):
    p = Prepared(client, world, frozen_clock)
    malformed = [
        '{"phone": ',
        "{'phone': '13912345678'}",
        '{"phone": "13912345678",}',
        '{"phone": "13912345678"}}',
        "phone=13912345678",
        "<phone>13912345678</phone>",
        b"\xff\xfe{\x00}\x00",
        b'{"phone": "\xc3\x28"}',  # invalid UTF-8
        "\ufeff" + json.dumps(VALID[CODES]),  # BOM
        "[" * 5000,
    ]
    not_objects = [
        "[]",
        "[1, 2]",
        json.dumps([VALID[CODES]]),
        '"phone"',
        "42",
        "-0.5",
        "null",
        "true",
    ]
    for path in (CODES, SESSIONS, DISPUTES):
        for raw in malformed:
            assert_problem(p.post(path, raw=raw), 400, "malformed_json")
        for raw in not_objects:
            assert_problem(p.post(path, raw=raw), 422, "body_not_object")
        for raw in ("", "   \n\t"):
            assert_problem(p.post(path, raw=raw), 400)
        # 16 KiB is the limit: one byte over is 413, at the limit the body is read.
        over = p.post(path, raw=_padded(path, LIMIT + 1))
        assert_problem(over, 413, "payload_too_large")
        assert_problem(p.post(path, raw=b"x" * (LIMIT * 4)), 413, "payload_too_large")
        at = p.post(path, raw=_padded(path, LIMIT))
        assert_problem(at, 422, "validation_failed")
    p.assert_unchanged()


def test_only_json_is_accepted(client, world, frozen_clock):
    p = Prepared(client, world, frozen_clock)
    for path in (CODES, SESSIONS, DISPUTES):
        raw = json.dumps(VALID[path])
        for content_type in (
            "text/plain",
            "application/x-www-form-urlencoded",
            "application/xml",
            "multipart/form-data; boundary=xyz",
            "text/html",
            "application/vnd.api+json",
            "image/png",
        ):
            r = p.post(path, raw=raw, headers={"Content-Type": content_type})
            assert_problem(r, 415, "unsupported_media_type")
    p.assert_unchanged()
    # JSON with parameters or in capitals is JSON.
    for content_type in ("application/json; charset=utf-8", "Application/JSON"):
        r = p.post(CODES, VALID[CODES], headers={"Content-Type": content_type})
        assert r.status_code == 202, (content_type, r.body)
        frozen_clock.advance(seconds=61)


def test_a_method_a_route_lacks_is_a_405_problem_with_allow(client, world, frozen_clock):
    p = Prepared(client, world, frozen_clock)
    for method, path, allowed in (
        ("PUT", DISPUTES, {"GET", "POST"}),
        ("PATCH", f"{DISPUTES}/{p.dispute_id}", {"GET", "DELETE"}),
        ("DELETE", "/v1/healthz", {"GET"}),
        ("POST", "/openapi.json", {"GET"}),
    ):
        r = p.api.call(method, path, VALID[DISPUTES], token=p.token)
        body = assert_problem(r, 405, "method_not_allowed")
        assert method in body["detail"]
        assert set(r.headers["Allow"].split(", ")) == allowed
    p.assert_unchanged()


def test_unknown_fields_and_wrong_types(client, world, frozen_clock):
    p = Prepared(client, world, frozen_clock)
    good = item("baidu", 2, 1)

    def items(**change):
        return {"items": [{**good, **change}]}

    cases = [
        (CODES, {}, "phone"),
        (CODES, {"phone": "13912345678", "extra": 1}, "extra"),
        (CODES, {"Phone": "13912345678"}, "Phone"),
        (CODES, {"phone": 13912345678}, "phone"),
        (CODES, {"phone": None}, "phone"),
        (CODES, {"phone": ["13912345678"]}, "phone"),
        (CODES, {"phone": {"number": "13912345678"}}, "phone"),
        (CODES, {"phone": True}, "phone"),
        (SESSIONS, {**VALID[SESSIONS], "remember_me": True}, "remember_me"),
        (SESSIONS, {"phone": "13912345678", "id_last6": "12345X"}, "code"),
        (SESSIONS, {**VALID[SESSIONS], "phone": 13912345678}, "phone"),
        (SESSIONS, {**VALID[SESSIONS], "id_last6": 123456}, "id_last6"),
        (SESSIONS, {**VALID[SESSIONS], "code": 123456}, "code"),
        (SESSIONS, {**VALID[SESSIONS], "code": "12345"}, "code"),
        (SESSIONS, {**VALID[SESSIONS], "code": "1234567"}, "code"),
        (SESSIONS, {**VALID[SESSIONS], "code": "12345a"}, "code"),
        (DISPUTES, {}, "items"),
        (DISPUTES, {"items": [good], "extra": 1}, "extra"),
        (DISPUTES, {"items": "tencent"}, "items"),
        (DISPUTES, {"items": {"0": good}}, "items"),
        (DISPUTES, {"items": None}, "items"),
        (DISPUTES, {"items": []}, "items"),
        (DISPUTES, {"items": [good] * 13}, "items"),
        (DISPUTES, {"items": [5]}, "items[0]"),
        (DISPUTES, {"items": [good], "kind": "sims"}, "kind"),
        (DISPUTES, {"items": [good], "kind": 1}, "kind"),
        (DISPUTES, {"items": [good], "kind": None}, "kind"),
        (DISPUTES, items(colour="red"), "items[0].colour"),
        (DISPUTES, items(company=7), "items[0].company"),
        (DISPUTES, items(company="x" * 100), "items[0].company"),
        (DISPUTES, items(reason="because"), "items[0].reason"),
        (DISPUTES, items(reason=None), "items[0].reason"),
        (DISPUTES, items(note=5), "items[0].note"),
        (DISPUTES, items(note=["a"]), "items[0].note"),
        (
            DISPUTES,
            {"items": [{k: v for k, v in good.items() if k != "reason"}]},
            "items[0].reason",
        ),
    ]
    for field in ("reported_count", "expected_count"):
        for value in ("3", "", 2.5, True, False, None, -1, 1000, 10**30, [3], {"n": 3}):
            cases.append((DISPUTES, items(**{field: value}), f"items[0].{field}"))
    for path, body, field in cases:
        r = p.post(path, body)
        assert_problem(r, 422, "validation_failed", field=field)
    # Numbers JSON allows but Python reads as floats, and huge exponents.
    for raw in ("1e3", "1E400", "-1e400", "2.5e0", "NaN", "Infinity"):
        body = (
            '{"items": [{"company": "baidu", "reported_count": RAW, '
            '"expected_count": 1, "reason": "other"}]}'
        )
        r = p.post(DISPUTES, raw=body.replace("RAW", raw))
        assert r.status_code in (400, 422), (raw, r.status_code, r.body)
        assert_problem(r, r.status_code)
    p.assert_unchanged()

    # A whole number written 3.0 or 3.0e0 is an integer, as JSON Schema (and the document)
    # says: taken, and stored and shown as the integer it is.
    body = '{"items": [{"company": "baidu", "reported_count": 3.0e0, "expected_count": 1.0, '
    r = p.post(DISPUTES, raw=body + '"reason": "other"}]}')
    assert r.status_code == 201, r.body
    (case,) = json.loads(r.body)["cases"]
    assert (case["reported_count"], case["expected_count"]) == (3, 1)
    assert isinstance(case["reported_count"], int) and isinstance(case["expected_count"], int)


def test_text_fields(client, world, frozen_clock):
    p = Prepared(client, world, frozen_clock)
    note_cases = [
        "a\x00b",
        "bell\x07",
        "tab\there",
        "bidi\u202eevil",  # a right-to-left override disguises what is read
        "zero\u200bwidth",
        "\x1b[31mred",
        "del\x7f",
        "n\x85el",
        "sep\u2028arator",
        "x" * 201,
        "中" * 201,
        "a" * 10_000,
    ]
    for note in note_cases:
        r = p.post(DISPUTES, {"items": [item("baidu", 2, 1, note=note)]})
        assert_problem(r, 422, "validation_failed", field="items[0].note")
    # 10,000 CJK characters are 30,000 bytes of UTF-8: over the body limit.
    r = p.post(
        DISPUTES,
        raw=json.dumps(
            {"items": [item("baidu", 2, 1, note="中" * 10_000)]}, ensure_ascii=False
        ).encode(),
    )
    assert_problem(r, 413, "payload_too_large")

    # Lone surrogates (raw JSON escapes) cannot be stored or shown: refused, never a 5xx.
    for escape in ("\\ud800", "\\udfff", "a\\udc00b", "\\ud83d"):
        note_body = (
            '{"items": [{"company": "baidu", "reported_count": 2, "expected_count": 1, '
            '"reason": "other", "note": "ESC"}]}'
        )
        for path, raw in (
            (DISPUTES, note_body),
            (CODES, '{"phone": "1391234ESC5678"}'),
            (SESSIONS, '{"phone": "13912345678", "id_last6": "12345ESC", "code": "123456"}'),
        ):
            raw = raw.replace("ESC", escape)
            assert "\\u" in raw  # sent as a JSON escape, not as a character
            r = p.post(path, raw=raw)
            assert r.status_code in (400, 422), (path, raw, r.status_code, r.body)
            assert_problem(r, r.status_code)

    not_mainland = [
        "+1 202 555 0123",
        "+852 6123 4567",
        "+886 912 345 678",
        "+44 7911 123456",
        "010 8888 8888",  # a Beijing fixed line
        "+86 10 8888 8888",
        "95588",
        "1380013800",
        "138001380001",
        "+86 138 0013 800",
        "12345678901",
        "",
        "   ",
        "one three eight",
        "1" * 33,
    ]
    controls = [
        "138\x0000138000",
        "1380013\n8000",
        "\u202e13800138000",
        "13800138000\x7f",
        "13800138000\x00",
    ]
    for phone in not_mainland + controls:
        for path, body in (
            (CODES, {"phone": phone}),
            (SESSIONS, {"phone": phone, "id_last6": "12345X", "code": "123456"}),
        ):
            r = p.post(path, body)
            assert_problem(r, 422, "validation_failed", field="phone")

    for id_last6 in (
        "12345",
        "1234567",
        "12345Y",
        "X12345",
        "1234XX",
        " 12345X",
        "12345X ",
        "１２３４５X",  # full-width digits
        "123 45",
        "",
        "12345\x00",
    ):
        body = {"phone": ACTIVE_PHONE, "id_last6": id_last6, "code": "123456"}
        assert_problem(p.post(SESSIONS, body), 422, "validation_failed", field="id_last6")
    for raw_value in (123456, None, ["12345X"]):
        body = {"phone": ACTIVE_PHONE, "id_last6": raw_value, "code": "123456"}
        assert_problem(p.post(SESSIONS, body), 422, "validation_failed", field="id_last6")
    p.assert_unchanged()

    # At the limit a note is accepted, trimmed, and stored as sent (emoji count once).
    note = "  " + "中" * 198 + "\U0001f600!" + "  "
    r = p.post(DISPUTES, {"items": [item("baidu", 2, 1, note=note)]})
    assert r.status_code == 201, r.body
    assert r.data["cases"][0]["note"] == note.strip()
    # A text area's line breaks are kept (CRLF as LF).
    r = p.post(DISPUTES, {"items": [item("jd", 2, 1, note="第一行\r\n第二行\n")]})
    assert r.status_code == 201, r.body
    assert r.data["cases"][0]["note"] == "第一行\n第二行"


# -- property tests: arbitrary JSON never causes a 5xx ----------------------------------------

_text = st.text(max_size=30) | st.text(
    st.characters(categories=["Cs", "Cc", "Zl", "Lo", "Nd"]), max_size=8
)
_scalars = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.integers(-2, 1001)
    | st.floats(allow_nan=True, allow_infinity=True)
    | _text
)
JSON = st.recursive(
    _scalars,
    lambda children: (
        st.lists(children, max_size=4)
        | st.dictionaries(
            _text | st.sampled_from(["items", "phone", "kind", "note"]), children, max_size=4
        )
    ),
    max_leaves=12,
)
_item = st.fixed_dictionaries(
    {
        "company": st.sampled_from(COMPANIES + CARRIERS) | JSON,
        "reported_count": st.integers(-1, 1000) | JSON,
        "expected_count": st.integers(-1, 1000) | JSON,
        "reason": st.sampled_from(REASONS) | JSON,
    },
    optional={"note": st.none() | _text | JSON, "surprise": JSON},
)
DISPUTE_LIKE = st.fixed_dictionaries(
    {"items": st.lists(_item, max_size=13) | JSON},
    optional={"kind": st.sampled_from(["accounts", "sim_cards"]) | JSON},
)
PHONE_LIKE = st.fixed_dictionaries(
    {
        "phone": st.from_regex(r"(\+86 ?|0086-?)?1[3-9][0-9]{9}", fullmatch=True)
        | st.text("0123456789 +-()x", max_size=20)
        | JSON
    },
    optional={"surprise": JSON},
)
PROPERTY = settings(
    max_examples=30,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


def _assert_sane(r) -> None:
    assert r.status_code < 500, (r.status_code, r.body)
    if r.status_code >= 400:
        assert_problem(r, r.status_code)
    else:
        assert media_type(r) == "application/json"


@PROPERTY
@given(body=JSON | DISPUTE_LIKE)
def test_any_json_at_disputes_is_never_a_5xx(client, frozen_clock, body):
    api = Api(client, frozen_clock)
    if not hasattr(client, "_ugly_token"):  # one world, one sign-in for all examples
        client._ugly_token = api.sign_in(ACTIVE_PHONE, ACTIVE_ID)
    _assert_sane(api.call("POST", DISPUTES, raw=json.dumps(body), token=client._ugly_token))


@PROPERTY
@given(body=JSON | PHONE_LIKE)
def test_any_json_at_verification_codes_is_never_a_5xx(client, frozen_clock, body):
    api = Api(client, frozen_clock)
    _assert_sane(api.call("POST", CODES, raw=json.dumps(body)))
    frozen_clock.advance(seconds=7)
