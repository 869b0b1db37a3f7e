"""A small JSON Schema subset: validates request bodies and is published in /openapi.json.

Supported: type (object, array, string, integer, boolean, null, or a list of them), enum,
properties, required, additionalProperties: false, minItems/maxItems, maxLength,
minimum/maximum, pattern, items. Enough for our bodies; errors name the field path.
"""

from __future__ import annotations

import re
from typing import Any

from chalicelib.domain.errors import FieldError

_TYPES = {
    "object": lambda v: isinstance(v, dict),
    "array": lambda v: isinstance(v, list),
    "string": lambda v: isinstance(v, str),
    "integer": lambda v: isinstance(v, int) and not isinstance(v, bool),
    "boolean": lambda v: isinstance(v, bool),
    "null": lambda v: v is None,
}


def validate(value: Any, schema: dict[str, Any], path: str = "") -> list[FieldError]:
    errors: list[FieldError] = []
    _check(value, schema, path, errors)
    return errors


def _check(value: Any, schema: dict[str, Any], path: str, errors: list[FieldError]) -> None:
    where = path or "(body)"
    types = schema.get("type")
    if types:
        allowed = types if isinstance(types, list) else [types]
        if not any(_TYPES[t](value) for t in allowed):
            errors.append(FieldError(where, f"must be {' or '.join(allowed)}"))
            return
    if "enum" in schema and value not in schema["enum"]:
        errors.append(FieldError(where, f"must be one of {', '.join(map(str, schema['enum']))}"))
        return
    if isinstance(value, str):
        if "maxLength" in schema and len(value) > schema["maxLength"]:
            errors.append(FieldError(where, f"must be at most {schema['maxLength']} characters"))
        if "pattern" in schema and not re.fullmatch(schema["pattern"], value):
            errors.append(FieldError(where, "has an invalid format"))
    if isinstance(value, int) and not isinstance(value, bool):
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
