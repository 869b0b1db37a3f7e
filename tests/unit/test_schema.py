"""The mini JSON-Schema validator of chalicelib/api/schema.py (pure: no Chalice, no AWS).

The schemas below mirror the shapes of the real request bodies without importing the routes.
"""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from chalicelib.api.schema import validate
from chalicelib.domain.errors import FieldError

ITEM = {
    "type": "object",
    "additionalProperties": False,
    "required": ["company", "reported_count", "expected_count", "reason"],
    "properties": {
        "company": {"type": "string", "maxLength": 32},
        "reported_count": {"type": "integer", "minimum": 0, "maximum": 999},
        "expected_count": {"type": "integer", "minimum": 0, "maximum": 999},
        "reason": {"type": "string", "enum": ["not_mine", "other"]},
        "note": {"type": ["string", "null"], "maxLength": 400},
    },
}
DISPUTE = {
    "type": "object",
    "additionalProperties": False,
    "required": ["items"],
    "properties": {
        "kind": {"type": "string", "enum": ["accounts", "sim_cards"]},
        "items": {"type": "array", "minItems": 1, "maxItems": 3, "items": ITEM},
        "flag": {"type": "boolean"},
    },
}
SESSION = {
    "type": "object",
    "additionalProperties": False,
    "required": ["phone", "id_last6", "code"],
    "properties": {
        "phone": {"type": "string", "maxLength": 32},
        "id_last6": {"type": "string", "maxLength": 6, "pattern": "[0-9]{5}[0-9Xx]"},
        "code": {"type": "string", "maxLength": 6, "pattern": "[0-9]{6}"},
    },
}


def good_item(**over: Any) -> dict[str, Any]:
    return {
        "company": "tencent",
        "reported_count": 5,
        "expected_count": 2,
        "reason": "not_mine",
        **over,
    }


def where(errors: list[FieldError]) -> list[str]:
    return [e.field for e in errors]


def test_valid_bodies_have_no_errors() -> None:
    assert validate({"items": [good_item()]}, DISPUTE) == []
    assert validate({"kind": "sim_cards", "items": [good_item()], "flag": False}, DISPUTE) == []
    assert validate({"phone": "13800138000", "id_last6": "12345x", "code": "012345"}, SESSION) == []
    assert validate({"items": [good_item(note=None)]}, DISPUTE) == []
    assert validate({"items": [good_item(note="好")]}, DISPUTE) == []


# --- required and unknown fields --------------------------------------------------------------


def test_required_fields() -> None:
    errors = validate({}, SESSION)
    assert sorted(where(errors)) == ["code", "id_last6", "phone"]
    assert all(e.message == "is required" for e in errors)


def test_required_nested_field_names_its_path() -> None:
    item = good_item()
    del item["reason"]
    errors = validate({"items": [good_item(), item]}, DISPUTE)
    assert where(errors) == ["items[1].reason"]


def test_unknown_fields_are_rejected() -> None:
    errors = validate({"items": [good_item()], "admin": True}, DISPUTE)
    assert where(errors) == ["admin"]
    assert "not a known field" in errors[0].message


def test_unknown_nested_field() -> None:
    errors = validate({"items": [{**good_item(), "extra": 1}]}, DISPUTE)
    assert where(errors) == ["items[0].extra"]


def test_unknown_field_names_are_bounded() -> None:
    errors = validate({"items": [good_item()], "x" * 10_000: 1}, DISPUTE)
    assert len(errors) == 1 and len(errors[0].field) <= 100


def test_extra_fields_allowed_without_additional_properties_false() -> None:
    assert validate({"a": 1, "b": 2}, {"type": "object", "properties": {"a": {}}}) == []


# --- types ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "type_", "ok"),
    [
        (1, "integer", True),
        (0, "integer", True),
        (-7, "integer", True),
        (True, "integer", False),
        (False, "integer", False),
        (1.0, "integer", False),
        ("1", "integer", False),
        (None, "integer", False),
        (True, "boolean", True),
        (0, "boolean", False),
        ("true", "boolean", False),
        ("", "string", True),
        (1, "string", False),
        (None, "string", False),
        ([], "array", True),
        ((), "array", False),
        ({}, "array", False),
        ({}, "object", True),
        ([], "object", False),
        ("{}", "object", False),
        (None, "null", True),
        (0, "null", False),
        ("", "null", False),
    ],
)
def test_types(value: Any, type_: str, ok: bool) -> None:
    errors = validate(value, {"type": type_})
    assert (errors == []) is ok
    if not ok:
        assert where(errors) == ["(body)"]
        assert type_ in errors[0].message


def test_a_list_of_types() -> None:
    schema = {"type": ["string", "null"]}
    assert validate(None, schema) == []
    assert validate("x", schema) == []
    errors = validate(3, schema)
    assert where(errors) == ["(body)"] and "string or null" in errors[0].message


def test_bool_is_not_a_count() -> None:
    errors = validate({"items": [{**good_item(), "reported_count": True}]}, DISPUTE)
    assert where(errors) == ["items[0].reported_count"]


def test_a_wrong_type_stops_further_checks_on_that_value() -> None:
    errors = validate({"items": "tencent"}, DISPUTE)
    assert where(errors) == ["items"]
    errors = validate([], DISPUTE)
    assert where(errors) == ["(body)"]


# --- enum, maxLength, pattern, bounds ---------------------------------------------------------


def test_enum() -> None:
    assert validate({"kind": "accounts", "items": [good_item()]}, DISPUTE) == []
    errors = validate({"kind": "Accounts", "items": [good_item()]}, DISPUTE)
    assert where(errors) == ["kind"]
    assert "accounts" in errors[0].message and "sim_cards" in errors[0].message
    errors = validate({"items": [{**good_item(), "reason": "bored"}]}, DISPUTE)
    assert where(errors) == ["items[0].reason"]


def test_enum_without_a_type_compares_values() -> None:
    schema = {"enum": ["a", 1]}
    assert validate("a", schema) == []
    assert validate(1, schema) == []
    assert where(validate("b", schema)) == ["(body)"]
    assert where(validate([1], schema)) == ["(body)"]


def test_max_length_counts_characters() -> None:
    schema = {"type": "string", "maxLength": 3}
    assert validate("abc", schema) == []
    assert validate("好好好", schema) == []
    errors = validate("abcd", schema)
    assert where(errors) == ["(body)"] and "3" in errors[0].message
    assert where(validate("好好好好", schema)) == ["(body)"]


@pytest.mark.parametrize(
    ("code", "ok"),
    [
        ("123456", True),
        ("000000", True),
        ("12345", False),
        ("1234567", False),
        ("a123456", False),
        ("123456a", False),
        ("12345a", False),
        ("123456\n", False),
        (" 123456", False),
        ("", False),
    ],
)
def test_pattern_must_match_the_whole_value(code: str, ok: bool) -> None:
    errors = validate(code, {"type": "string", "pattern": "[0-9]{6}"})
    assert (errors == []) is ok
    if not ok:
        assert where(errors) == ["(body)"]


def test_pattern_and_max_length_both_reported() -> None:
    errors = validate({"phone": "1", "id_last6": "1234567", "code": "12"}, SESSION)
    assert sorted(where(errors)) == ["code", "id_last6", "id_last6"]


def test_minimum_and_maximum() -> None:
    schema = {"type": "integer", "minimum": 0, "maximum": 999}
    assert validate(0, schema) == []
    assert validate(999, schema) == []
    errors = validate(-1, schema)
    assert where(errors) == ["(body)"] and "0" in errors[0].message
    errors = validate(1000, schema)
    assert where(errors) == ["(body)"] and "999" in errors[0].message
    assert where(validate(10**100, schema)) == ["(body)"]


def test_bounds_apply_only_to_integers() -> None:
    assert validate("1000", {"minimum": 0, "maximum": 999}) == []
    assert validate(True, {"maximum": 0}) == []


def test_array_bounds() -> None:
    errors = validate({"items": []}, DISPUTE)
    assert where(errors) == ["items"] and "1" in errors[0].message
    errors = validate({"items": [good_item()] * 4}, DISPUTE)
    assert where(errors) == ["items"] and "3" in errors[0].message
    assert validate({"items": [good_item()] * 3}, DISPUTE) == []


def test_items_past_max_items_are_not_walked() -> None:
    # A huge array costs one error, not one per element.
    errors = validate({"items": [{"bad": 1}] * 10_000}, DISPUTE)
    assert "items" in where(errors)
    walked = {f.split(".")[0] for f in where(errors) if f.startswith("items[")}
    assert walked == {"items[0]", "items[1]", "items[2]"}


# --- nested paths -----------------------------------------------------------------------------


def test_nested_paths() -> None:
    body = {
        "items": [
            good_item(),
            {**good_item(), "company": 7, "expected_count": 1000},
            {**good_item(), "company": "x" * 33, "note": 5},
        ]
    }
    errors = validate(body, DISPUTE)
    assert sorted(where(errors)) == [
        "items[1].company",
        "items[1].expected_count",
        "items[2].company",
        "items[2].note",
    ]


def test_top_level_array_paths() -> None:
    schema = {"type": "array", "items": {"type": "object", "required": ["company"]}}
    assert where(validate([{}, {"company": "jd"}, {}], schema)) == ["[0].company", "[2].company"]


def test_path_prefix() -> None:
    assert where(validate({}, {"type": "object", "required": ["a"]}, "body")) == ["body.a"]


# --- any JSON value ---------------------------------------------------------------------------

JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda children: (
        st.lists(children, max_size=5) | st.dictionaries(st.text(max_size=10), children, max_size=5)
    ),
    max_leaves=25,
)


@settings(max_examples=100, deadline=None)
@given(JSON)
def test_any_json_value_yields_field_errors_never_an_exception(value: Any) -> None:
    for schema in (DISPUTE, SESSION, ITEM):
        errors = validate(value, schema)
        assert all(isinstance(e, FieldError) and isinstance(e.field, str) for e in errors)
        assert all(e.message for e in errors)
        if not isinstance(value, dict):
            assert where(errors) == ["(body)"]


@settings(max_examples=200, deadline=None)
@given(
    st.fixed_dictionaries(
        {
            "company": st.text(max_size=40),
            "reported_count": st.integers(min_value=-5, max_value=1005),
            "expected_count": st.integers(min_value=-5, max_value=1005),
            "reason": st.sampled_from(["not_mine", "other", "bored"]),
        }
    )
)
def test_item_errors_are_exactly_the_broken_fields(item: dict[str, Any]) -> None:
    expected = set()
    if len(item["company"]) > 32:
        expected.add("items[0].company")
    for key in ("reported_count", "expected_count"):
        if not 0 <= item[key] <= 999:
            expected.add(f"items[0].{key}")
    if item["reason"] == "bored":
        expected.add("items[0].reason")
    errors = validate({"items": [item]}, DISPUTE)
    assert set(where(errors)) == expected
    assert len(errors) == len(expected)
