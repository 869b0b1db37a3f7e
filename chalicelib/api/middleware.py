"""Per-invocation set-up, for every kind of event (HTTP, schedule, streams):

- `observe`: structured logs and metrics (chalicelib/api/observability.py), outermost, so it
  sees every response and every failure. Powertools is imported on the first invocation, not
  when `app` is imported (cold start: see scripts/bench_cold_start.py).
- `bind_tables`: bind the models to this stage's tables (config is read per call).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any


def observe(event: Any, get_response: Callable[[Any], Any]) -> Any:
    from chalicelib.api import observability

    return observability.around(event, get_response)


def bind_tables(event: Any, get_response: Callable[[Any], Any]) -> Any:
    # Imported here: the models pull in PynamoDB and botocore, which `import app` need not pay
    # for when the route modules load their services lazily (scripts/bench_cold_start.py).
    from chalicelib import config
    from chalicelib.adapters import tables

    tables.bind(config.settings())
    return get_response(event)
