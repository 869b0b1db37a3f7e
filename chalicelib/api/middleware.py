"""Per-invocation set-up: bind the models to this stage's tables (config is read per call)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from chalicelib import config
from chalicelib.adapters import tables


def bind_tables(event: Any, get_response: Callable[[Any], Any]) -> Any:
    tables.bind(config.settings())
    return get_response(event)
