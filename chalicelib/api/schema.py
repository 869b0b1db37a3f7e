"""A small JSON Schema (2020-12) subset: validates request bodies and query parameters, and is
published in /openapi.json as is.

Supported: type (object, array, string, integer, number, boolean, null, or a list of them),
enum, const, properties, required, additionalProperties: false, minItems/maxItems,
minLength/maxLength, minimum/maximum, pattern, items, if/then/else, allOf. The semantics are
JSON Schema's, so that a generated client and this validator agree (tests/unit/test_schema.py
checks it against the `jsonschema` package): `pattern` is a search (our patterns anchor
themselves with ^…$), a string's length counts code points, true is not 1, and an integral
number such as 3.0 is an integer (api/http.py hands the services 3). Errors name the field
path, a then/else branch's `$comment` ("for action 'respond'") ends its errors' messages, and
a pattern's `x-invalid` says what a string that misses it lacks.
"""

from __future__ import annotations

import functools
import re
from typing import Any

from chalicelib.domain.errors import FieldError


def _is_number(v: Any) -> bool:
    return isinstance(v, int | float) and not isinstance(v, bool)


_TYPES = {
    "object": lambda v: isinstance(v, dict),
    "array": lambda v: isinstance(v, list),
    "string": lambda v: isinstance(v, str),
    "integer": lambda v: _is_number(v) and (isinstance(v, int) or float(v).is_integer()),
    "number": _is_number,
    "boolean": lambda v: isinstance(v, bool),
    "null": lambda v: v is None,
}


def validate(value: Any, schema: dict[str, Any], path: str = "") -> list[FieldError]:
    errors: list[FieldError] = []
    _check(value, schema, path, errors)
    return errors


@functools.lru_cache(maxsize=256)
def _pattern(pattern: str) -> re.Pattern[str]:
    return re.compile(pattern)


def _same(a: Any, b: Any) -> bool:
    """JSON equality: true is not 1, and 1 is 1.0 (as enum and const compare)."""
    if isinstance(a, bool) or isinstance(b, bool):
        return isinstance(a, bool) and isinstance(b, bool) and a == b
    if _is_number(a) and _is_number(b):
        return bool(a == b)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(_same(a[k], b[k]) for k in a)
    return type(a) is type(b) and bool(a == b)


def _check(value: Any, schema: dict[str, Any], path: str, errors: list[FieldError]) -> None:
    where = path or "(body)"
    types = schema.get("type")
    if types:
        allowed = types if isinstance(types, list) else [types]
        if not any(_TYPES[t](value) for t in allowed):
            errors.append(FieldError(where, f"must be {' or '.join(allowed)}"))
            return
    if "enum" in schema and not any(_same(value, e) for e in schema["enum"]):
        errors.append(FieldError(where, f"must be one of {', '.join(map(str, schema['enum']))}"))
        return
    if "const" in schema and not _same(value, schema["const"]):
        errors.append(FieldError(where, f"must be {schema['const']}"))
        return
    if isinstance(value, str):
        _check_string(value, schema, where, errors)
    if _is_number(value):
        if "minimum" in schema and value < schema["minimum"]:
            errors.append(FieldError(where, f"must be at least {schema['minimum']}"))
        if "maximum" in schema and value > schema["maximum"]:
            errors.append(FieldError(where, f"must be at most {schema['maximum']}"))
    if isinstance(value, list):
        if len(value) < schema.get("minItems", 0):
            errors.append(FieldError(where, f"must have at least {schema['minItems']} items"))
        if "maxItems" in schema and len(value) > schema["maxItems"]:
            errors.append(FieldError(where, f"must have at most {schema['maxItems']} items"))
        if "items" in schema:
            for i, item in enumerate(value[: schema.get("maxItems", len(value))]):
                _check(item, schema["items"], f"{path}[{i}]", errors)
    if isinstance(value, dict):
        _check_object(value, schema, path, errors)
    for part in schema.get("allOf", ()):
        _check(value, part, path, errors)
    if "if" in schema:
        # The condition's own errors are not the caller's: it only picks then or else.
        branch = schema.get("then") if not validate(value, schema["if"]) else schema.get("else")
        if branch is not None:
            found: list[FieldError] = []
            _check(value, branch, path, found)
            # A branch may say when it applies ($comment, "for action 'respond'"): the
            # caller reads why a field is needed.
            why = f" {branch['$comment']}" if "$comment" in branch else ""
            errors += [FieldError(e.field, e.message + why) for e in found]


def _check_string(value: str, schema: dict[str, Any], where: str, errors: list[FieldError]) -> None:
    if "minLength" in schema and len(value) < schema["minLength"]:
        least = schema["minLength"]
        errors.append(FieldError(where, f"must be at least {least} character{'s' * (least > 1)}"))
    if "maxLength" in schema and len(value) > schema["maxLength"]:
        errors.append(FieldError(where, f"must be at most {schema['maxLength']} characters"))
    if "pattern" in schema and not _pattern(schema["pattern"]).search(value):
        # `x-invalid`: what the pattern means, said to the caller (an annotation to JSON Schema)
        errors.append(FieldError(where, schema.get("x-invalid", "has an invalid format")))


def _check_object(
    value: dict[str, Any], schema: dict[str, Any], path: str, errors: list[FieldError]
) -> None:
    props = schema.get("properties", {})
    for name in schema.get("required", []):
        if name not in value:
            errors.append(FieldError(_join(path, name), "is required"))
    if schema.get("additionalProperties") is False:
        for name in value:
            if name not in props:
                errors.append(FieldError(_join(path, str(name)[:64]), "is not a known field"))
    for name, sub in props.items():
        if name in value:
            _check(value[name], sub, _join(path, name), errors)


def _join(path: str, name: str) -> str:
    return f"{path}.{name}" if path else name
