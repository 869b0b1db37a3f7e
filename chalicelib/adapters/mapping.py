"""Domain records to storage models and back, field by field by name (docs/design.md §9): the
records in chalicelib/domain/records.py name their fields as the models name attributes."""

from __future__ import annotations

from dataclasses import fields
from typing import Any, TypeVar

from pynamodb.attributes import MapAttribute
from pynamodb.models import Model

M = TypeVar("M", bound=Model)
R = TypeVar("R")


def to_model(model_class: type[M], record: Any) -> M:
    """The model holding every field of `record`; a None field is left unset, as PynamoDB
    stores nulls."""
    values = {f.name: getattr(record, f.name) for f in fields(record)}
    return model_class(**{name: value for name, value in values.items() if value is not None})


def to_record(record_class: type[R], model: Model) -> R:
    """The record of a model as read; attributes the item lacks take the record's defaults."""
    values: dict[str, Any] = {}
    for f in fields(record_class):  # type: ignore[arg-type]
        value = getattr(model, f.name, None)
        if isinstance(value, MapAttribute):
            value = value.as_dict()
        if value is not None:
            values[f.name] = value
    return record_class(**values)
