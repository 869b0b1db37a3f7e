"""The mini JSON-Schema validator of chalicelib/api/schema.py (pure: no AWS).

The schemas below mirror the shapes of the real request bodies; at the end, the validator is
cross-checked against the `jsonschema` package, on generated schemas and on the routes' own.
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
        "id_last6": {"type": "string", "maxLength": 6, "pattern": "^[0-9]{5}[0-9Xx]$"},
        "code": {"type": "string", "maxLength": 6, "pattern": "^[0-9]{6}$"},
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
        (1.0, "integer", True),  # JSON Schema: an integral number is an integer
        (1.5, "integer", False),
        (1.5, "number", True),
        (True, "number", False),
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
def test_an_anchored_pattern_must_match_the_whole_value(code: str, ok: bool) -> None:
    # Python's $ also matches before a final newline: maxLength keeps "123456\n" out.
    errors = validate(code, {"type": "string", "maxLength": 6, "pattern": "^[0-9]{6}$"})
    assert (errors == []) is ok
    if not ok:
        assert set(where(errors)) == {"(body)"}


def test_a_pattern_is_a_search_as_in_json_schema() -> None:
    assert validate("a123456", {"type": "string", "pattern": "[0-9]{6}"}) == []
    assert where(validate("a12345", {"type": "string", "pattern": "[0-9]{6}"})) == ["(body)"]


def test_min_length_and_const() -> None:
    assert where(validate("", {"type": "string", "minLength": 1})) == ["(body)"]
    assert validate("好", {"type": "string", "minLength": 1}) == []
    assert validate("a", {"const": "a"}) == []
    assert where(validate("b", {"const": "a"})) == ["(body)"]
    assert where(validate(True, {"const": 1})) == ["(body)"]  # true is not 1 in JSON
    assert validate(1.0, {"enum": [1]}) == []  # 1.0 is 1


def test_if_then_else_applies_one_branch_with_its_paths() -> None:
    schema = {
        "type": "object",
        "if": {"required": ["role"], "properties": {"role": {"const": "operator"}}},
        "then": {"properties": {"company": {"type": "null"}}},
        "else": {"properties": {"company": {"enum": ["jd", "tencent"]}}},
    }
    assert validate({"company": "jd"}, schema) == []
    assert validate({"role": "operator", "company": None}, schema) == []
    assert where(validate({"role": "operator", "company": "jd"}, schema)) == ["company"]
    assert where(validate({"company": ""}, schema)) == ["company"]
    assert where(validate({"company": None}, schema)) == ["company"]


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


# --- the same verdicts as the jsonschema package ----------------------------------------------
def reference(schema: dict[str, Any]) -> Any:
    """The jsonschema package's 2020-12 validator: the verdicts ours must give."""
    from jsonschema import Draft202012Validator

    return Draft202012Validator(schema)


# Patterns as the routes write them: anchored, so a search is a whole-value match.
PATTERNS = ("^[0-9]{6}$", "^[0-9]{5}[0-9Xx]$", "^a", "b$", "[0-9]", "^\\s*[0-9]+\\s*$")
KEYS = ("a", "b", "c")
# Strings near the patterns: whole matches, partial ones, and a final newline.
NEAR_PATTERNS = ("123456", "012345X", "ab", "ba", "a1", " 12 ", "123456\n", "1234567")
TEXT = st.text(alphabet="ab01Xx \n好", max_size=8) | st.sampled_from(NEAR_PATTERNS)
# 1.0 is an integer and equals 1; true is neither 1 nor a number: where validators part ways.
TRICKY = st.sampled_from([0.0, 1.0, 2.0, 1.5, True, False, 0, 1])
SCALARS = st.none() | st.integers(-3, 12) | st.floats(-3, 12) | TRICKY | TEXT
VALUES = st.recursive(
    SCALARS,
    lambda children: (
        st.lists(children, max_size=4)
        | st.dictionaries(st.sampled_from(KEYS), children, max_size=3)
    ),
    max_leaves=12,
)
TYPES = st.sampled_from(["object", "array", "string", "integer", "number", "boolean", "null"])


def _keywords(draw: st.DrawFn) -> dict[str, Any]:
    """Any of the supported keywords for one schema node (their values small and legal)."""
    schema: dict[str, Any] = {}
    if draw(st.booleans()):
        schema["type"] = draw(TYPES | st.lists(TYPES, min_size=1, max_size=3, unique=True))
    options: dict[str, st.SearchStrategy[Any]] = {
        "enum": st.lists(SCALARS, min_size=1, max_size=4),
        "const": SCALARS,
        "minLength": st.integers(0, 4),
        "maxLength": st.integers(0, 6),
        "pattern": st.sampled_from(PATTERNS),
        "minimum": st.integers(-2, 10),
        "maximum": st.integers(-2, 10),
        "minItems": st.integers(0, 3),
        "maxItems": st.integers(0, 3),
        "required": st.lists(st.sampled_from(KEYS), max_size=3, unique=True),
        "additionalProperties": st.just(False),
    }
    for name in draw(st.sets(st.sampled_from(sorted(options)), max_size=3)):
        schema[name] = draw(options[name])
    return schema


@st.composite
def schemas(draw: st.DrawFn, depth: int = 2) -> dict[str, Any]:
    schema = _keywords(draw)
    if depth and draw(st.booleans()):
        schema["properties"] = draw(
            st.dictionaries(st.sampled_from(KEYS), schemas(depth - 1), max_size=3)
        )
    if depth and draw(st.booleans()):
        schema["items"] = draw(schemas(depth - 1))
    if depth and draw(st.integers(0, 3)) == 0:
        schema["if"] = draw(schemas(depth - 1))
        for branch in ("then", "else"):
            if draw(st.booleans()):
                schema[branch] = draw(schemas(depth - 1))
    return schema


@settings(max_examples=500, deadline=None)
@given(schemas(), st.data())
def test_the_validator_agrees_with_jsonschema_on_generated_schemas(schema, data) -> None:
    from jsonschema import Draft202012Validator

    Draft202012Validator.check_schema(schema)
    value = data.draw(_near(schema))
    assert (validate(value, schema) == []) is reference(schema).is_valid(value)


def _near(schema: dict[str, Any]) -> st.SearchStrategy[Any]:
    """Values close to what a schema accepts: its enums, its properties, and noise."""
    options = [VALUES]
    if "pattern" in schema or "minLength" in schema or "maxLength" in schema:
        options.append(TEXT)
    if {"type", "enum", "const", "minimum", "maximum"} & set(schema):
        options.append(TRICKY)
    if "enum" in schema:
        options.append(st.sampled_from(schema["enum"]))
    if "const" in schema:
        options.append(st.just(schema["const"]))
    if "items" in schema:
        options.append(st.lists(_near(schema["items"]), max_size=3))
    props = {**schema.get("properties", {})}
    for branch in ("then", "else"):
        props.update(schema.get(branch, {}).get("properties", {}))
    if props:
        options.append(st.fixed_dictionaries({}, optional={k: _near(v) for k, v in props.items()}))
    return st.one_of(options)


def _route_bodies() -> list[tuple[str, dict[str, Any]]]:
    from app import app  # noqa: F401 - registers every route
    from chalicelib.api.http import REGISTRY

    return [
        (f"{ep.method} {ep.path}", ep.body_schema) for ep in REGISTRY if ep.body_schema is not None
    ]


ROUTE_BODIES = _route_bodies()


@pytest.mark.parametrize(("route", "schema"), ROUTE_BODIES, ids=[r for r, _ in ROUTE_BODIES])
@settings(max_examples=60, deadline=None)
@given(data=st.data())
def test_the_validator_agrees_with_jsonschema_on_the_routes_bodies(
    route: str, schema: dict[str, Any], data: st.DataObject
) -> None:
    value = data.draw(_near(schema))
    expected = reference(schema).is_valid(value)
    assert (validate(value, schema) == []) is expected, (route, value)


EDGES = [
    ({"type": "integer"}, 1.0),
    ({"type": "integer"}, 1.5),
    ({"type": "integer"}, True),
    ({"type": "number"}, False),
    ({"enum": [1]}, True),
    ({"enum": [1]}, 1.0),
    ({"enum": [True]}, 1),
    ({"const": 0}, False),
    ({"const": [1, 2]}, [1.0, 2]),
    ({"maximum": 0}, True),
    ({"minimum": 2}, 1.5),
    ({"pattern": "^a"}, "ab"),
    ({"pattern": "^a$"}, "a\n"),
    ({"pattern": "^a$"}, 1),
    ({"maxLength": 1}, "好"),
    ({"minItems": 1}, {}),
    ({"required": ["a"]}, []),
    ({"additionalProperties": False}, {"a": 1}),
    ({"if": {"const": 1}, "then": {"type": "string"}}, 1),
    ({"if": {"const": 1}, "else": {"type": "string"}}, 2),
    ({"items": {"type": "string"}, "maxItems": 1}, ["a", 2]),
]


@pytest.mark.parametrize(("schema", "value"), EDGES)
def test_the_validator_agrees_with_jsonschema_where_validators_part_ways(schema, value) -> None:
    assert (validate(value, schema) == []) is reference(schema).is_valid(value)


def test_an_integral_number_is_an_integer_as_in_json_schema() -> None:
    assert validate(3.0, {"type": "integer", "maximum": 3}) == []
    assert where(validate(3.5, {"type": "integer"})) == ["(body)"]
