"""The use cases. `from chalicelib import services` costs nothing: each service module (and with
it PynamoDB and botocore) is imported on first use, `services.disputes.file_dispute(...)`, so a
route, page or worker that never touches a table never loads them (scripts/bench_cold_start.py).
"""

from __future__ import annotations

import importlib
from types import ModuleType
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from chalicelib.services import (
        cases,
        dev_inbox,
        dispatcher,
        disputes,
        identity,
        keys,
        queues,
        scheduler,
        stats,
        views,
    )

__all__ = [
    "cases",
    "dev_inbox",
    "dispatcher",
    "disputes",
    "identity",
    "keys",
    "queues",
    "scheduler",
    "stats",
    "views",
]


def __getattr__(name: str) -> ModuleType:
    # PEP 562: only reached while the submodule is not yet imported; importing it binds it
    # on this package, so later look-ups are plain attribute reads.
    if name not in __all__:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return importlib.import_module(f"{__name__}.{name}")
