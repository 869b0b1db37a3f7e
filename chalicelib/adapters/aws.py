"""Lazy boto3 clients: created on first use (never at import), one per service and region.

Every AWS client — these, and PynamoDB's (chalicelib/adapters/tables.py) — runs on the limits
below, so that an HTTP request ends, 503 or not, before API Gateway gives up at 29 s:

- one call (botocore 1.44 standard retries): at most MAX_ATTEMPTS attempts of at most
  CONNECT_TIMEOUT_S + READ_TIMEOUT_S each, with a jittered pause before retry i of at most
  2^(i-1) s (throttling; far less otherwise) plus up to 5 s more if AWS sends
  x-amz-retry-after: 3 × (1 + 3) + (1 + 5) + (2 + 5) = 25 s. PynamoDB 6 has no retry loop
  of its own (`max_retry_attempts` only sets botocore's; `base_backoff_ms` is gone), except
  BatchGetItem's unprocessed keys, which it asks for again without limit;
- one HTTP request, however many calls it makes (and that loop too): no attempt starts once
  REQUEST_BUDGET_S have passed (`request_budget`), so it ends within 15 + one attempt (4) +
  one pause (7) = 26 s. `worst_case_seconds` computes both.

Workers (tick, streams) have no request budget: only the per-call limit, within their
Lambda timeout.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any, TypeVar

from chalicelib.adapters.faults import OutOfTime

CONNECT_TIMEOUT_S = 1.0
READ_TIMEOUT_S = 3.0  # per socket read: DynamoDB, KMS and SNS answer in milliseconds
MAX_ATTEMPTS = 3  # the first try included
REQUEST_BUDGET_S = 15.0
# botocore's standard retry pause before retry i (1-based): random × min(2^(i-1), 20) s for
# throttling, raised by at most 5 s to honour x-amz-retry-after.
_PAUSE_CAP_S, _RETRY_AFTER_EXTRA_S = 20.0, 5.0

_deadline: ContextVar[float | None] = ContextVar("aws_deadline", default=None)


def config(**options: Any) -> Any:
    """The botocore Config every boto3 client gets (PynamoDB's get the same numbers)."""
    from botocore.config import Config

    return Config(
        connect_timeout=CONNECT_TIMEOUT_S,
        read_timeout=READ_TIMEOUT_S,
        retries={"mode": "standard", "total_max_attempts": MAX_ATTEMPTS},
        **options,
    )


def worst_case_seconds(
    connect: float, read: float, attempts: int, budget: float | None = None
) -> float:
    """The longest one call can take on these limits; with `budget`, one HTTP request."""
    pauses = [min(2.0**i, _PAUSE_CAP_S) + _RETRY_AFTER_EXTRA_S for i in range(attempts - 1)]
    if budget is None:
        return attempts * (connect + read) + sum(pauses)
    return budget + (connect + read) + max(pauses, default=0.0)


# Clients are made one at a time, each once. Making one parses botocore's service model: a
# tenth of a second of CPU. A process serving requests on threads (`chalice local`, make run)
# met a burst of first requests with every thread making every client under the GIL, and the
# burst spent its whole AWS budget before its first call (503s; docs/scale.md).
_making = threading.RLock()
T = TypeVar("T")
_clients: dict[tuple[str, str], Any] = {}


def client(service: str, region: str) -> Any:
    made = _clients.get((service, region))
    if made is None:
        with _making:
            made = _clients.get((service, region))
            if made is None:
                made = _clients[(service, region)] = watch(_new_client(service, region))
    return made


def _new_client(service: str, region: str) -> Any:
    import boto3  # imported here to keep cold start light for routes that never call AWS

    # DynamoDB Streams under moto (botocore >= 1.44.4) need account-id endpoints off; AWS
    # itself serves streams either way.
    options = {"account_id_endpoint_mode": "disabled"} if service == "dynamodbstreams" else {}
    return boto3.session.Session().client(service, region_name=region, config=config(**options))


def made_once(get: Callable[[], T]) -> T:
    """What `get` returns, got by one thread at a time: where it makes a client on first use
    (PynamoDB's connections), the others wait for that one."""
    with _making:
        return get()


def reset() -> None:
    with _making:
        _clients.clear()


# -- the per-request budget -------------------------------------------------------------------
@contextmanager
def request_budget(seconds: float | None = None) -> Iterator[None]:
    """While inside, no AWS attempt starts after `seconds` (REQUEST_BUDGET_S) from now."""
    limit = REQUEST_BUDGET_S if seconds is None else seconds
    token = _deadline.set(time.monotonic() + limit)
    try:
        yield
    finally:
        _deadline.reset(token)


def _check_budget(**_: Any) -> None:
    deadline = _deadline.get()
    if deadline is not None and time.monotonic() >= deadline:
        raise OutOfTime("the request's time for AWS is spent")


def watch(made: Any) -> Any:
    """Holds a botocore client to the request budget: checked before every attempt, retries
    included. First in line, so nothing (not even moto in tests) sees a refused attempt.
    Idempotent (cheap enough to call on every use)."""
    made.meta.events.register_first("before-send", _check_budget, unique_id="recount-budget")
    return made
