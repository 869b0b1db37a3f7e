"""Domain records to storage models and back, field by field by name (docs/design.md §2): the
records in chalicelib/domain/records.py name their fields as the models name attributes."""

from __future__ import annotations

from dataclasses import fields
from typing import Any, TypeVar

from pynamodb.attributes import (
    BinarySetAttribute,
    MapAttribute,
    NumberSetAttribute,
    UnicodeSetAttribute,
)
from pynamodb.models import Model

M = TypeVar("M", bound=Model)
_SETS = (UnicodeSetAttribute, NumberSetAttribute, BinarySetAttribute)
R = TypeVar("R")


def to_model(model_class: type[M], record: Any) -> M:
    """The model holding every field of `record`. A None field is left unset, as PynamoDB
    stores nulls; a tuple becomes the attribute's list or set (an empty set is unset:
    DynamoDB stores no empty set)."""
    attributes = model_class.get_attributes()
    values: dict[str, Any] = {}
    for f in fields(record):
        value = getattr(record, f.name)
        if isinstance(value, tuple):
            value = (set(value) or None) if isinstance(attributes[f.name], _SETS) else list(value)
        if value is not None:
            values[f.name] = value
    return model_class(**values)


def to_record(record_class: type[R], model: Model) -> R:
    """The record of a model as read; attributes the item lacks take the record's defaults."""
    values: dict[str, Any] = {}
    for f in fields(record_class):  # type: ignore[arg-type]
        value = getattr(model, f.name, None)
        if isinstance(value, MapAttribute):
            value = value.as_dict()
        elif isinstance(value, set):
            value = tuple(sorted(value))
        elif isinstance(value, list):
            value = tuple(value)
        if value is not None:
            values[f.name] = value
    return record_class(**values)
