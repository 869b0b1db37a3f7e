"""Per-invocation set-up, for every kind of event (HTTP, schedule, streams):

- `observe`: structured logs and metrics (chalicelib/api/observability.py), outermost, so it
  sees every response and every failure. Powertools is imported on the first invocation, not
  when `app` is imported (cold start: see scripts/bench_cold_start.py).
- `http_responses`: what Chalice answers itself (a method a route lacks) as problem+json, and
  the headers every HTTP response carries (`nosniff`, `no-referrer`, `Cache-Control: no-store`
  unless the route chose its own caching: http.with_standard_headers).
- `bind_tables`: keep the models bound to this stage's tables (config is read per call).
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import Any

from chalicelib import config
from chalicelib.api.http import framework_error_as_problem, with_standard_headers


def observe(event: Any, get_response: Callable[[Any], Any]) -> Any:
    from chalicelib.api import observability

    return observability.around(event, get_response)


def http_responses(event: Any, get_response: Callable[[Any], Any]) -> Any:
    return with_standard_headers(framework_error_as_problem(get_response(event)))


def bind_tables(event: Any, get_response: Callable[[Any], Any]) -> Any:
    # Only once the models are loaded (with the first service a request uses; they bind
    # themselves then): a page or /openapi.json never pays for PynamoDB and botocore.
    tables = sys.modules.get("chalicelib.adapters.tables")
    if tables is not None:
        tables.bind(config.settings())
    return get_response(event)
