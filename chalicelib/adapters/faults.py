"""Which failures are AWS's own (unreachable, too slow, throttled after retries, failing
inside) rather than ours or the caller's: the one place that decides. The API answers them
503 `service_unavailable` (chalicelib/api/http.py); workers leave them to be retried.

PynamoDB wraps botocore's errors (`GetError`, `TransactWriteError`, ... with `.cause`, itself
chained to botocore's own `ClientError`): every test here walks that chain. Nothing heavy is
imported: botocore is only looked at once something has loaded it.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from typing import Any


class OutOfTime(Exception):
    """An HTTP request's time for AWS is spent (adapters.aws.request_budget)."""


# Throttled after botocore's retries (botocore's standard list, DynamoDB's, KMS's, SNS's).
THROTTLED = frozenset(
    {
        "Throttling",
        "ThrottlingException",
        "ThrottledException",
        "RequestThrottled",
        "RequestThrottledException",
        "TooManyRequestsException",
        "ProvisionedThroughputExceededException",
        "RequestLimitExceeded",
        "BandwidthLimitExceeded",
        "LimitExceededException",
        "TransactionInProgressException",
        "KMSThrottlingException",
        "SlowDown",
        "PriorRequestNotComplete",
    }
)
# AWS failing inside; most come with a 5xx status, which is enough on its own.
TRANSIENT = frozenset(
    {
        "InternalServerError",
        "InternalFailure",
        "InternalError",
        "ServiceUnavailable",
        "RequestTimeout",
        "RequestTimeoutException",
        "KMSInternalException",
        "DependencyTimeoutException",
    }
)
# A transaction cancelled for these reasons alone would go through if sent again. One
# cancelled by a condition is an answer, never a fault: callers map it to a 409 or the like.
TRANSIENT_CANCELLATIONS = frozenset(
    {"TransactionConflict", "ThrottlingError", "ProvisionedThroughputExceeded"}
)


def _chain(exc: BaseException) -> Iterator[BaseException]:
    """The exception, then what it wraps: PynamoDB's `.cause`, then `raise ... from`."""
    seen: set[int] = set()
    node: BaseException | None = exc
    while node is not None and id(node) not in seen:
        seen.add(id(node))
        yield node
        cause = getattr(node, "cause", None)
        node = cause if isinstance(cause, BaseException) else node.__cause__


def _response(node: BaseException) -> dict[str, Any] | None:
    # botocore's HTTP errors carry `response = None`; only ClientError has a dict.
    response = getattr(node, "response", None)
    return response if isinstance(response, dict) and "Error" in response else None


def error_code(exc: BaseException) -> str | None:
    """AWS's error code (`ConditionalCheckFailedException`, ...), or None if AWS never
    answered (a connection error, a timeout) or the error is not AWS's."""
    for node in _chain(exc):
        response = _response(node)
        if response is not None:
            return response["Error"].get("Code")
    return None


def condition_failed(exc: BaseException) -> bool:
    """A conditional write refused because its condition was false: an answer, not a fault."""
    return error_code(exc) == "ConditionalCheckFailedException"


def _is_network_error(node: BaseException) -> bool:
    if "botocore.exceptions" not in sys.modules:
        return False  # nothing has loaded botocore: no AWS call can have failed
    from botocore.exceptions import ConnectionError, HTTPClientError

    # ConnectionError: EndpointConnectionError, ConnectTimeoutError, SSL and proxy errors;
    # HTTPClientError: ReadTimeoutError, ConnectionClosedError.
    return isinstance(node, ConnectionError | HTTPClientError)


def _is_fault_response(response: dict[str, Any]) -> bool:
    code = response["Error"].get("Code") or ""
    if code == "TransactionCanceledException":
        reasons = {(r or {}).get("Code") for r in response.get("CancellationReasons") or []}
        return "ConditionalCheckFailed" not in reasons and bool(reasons & TRANSIENT_CANCELLATIONS)
    status = (response.get("ResponseMetadata") or {}).get("HTTPStatusCode") or 0
    return code in THROTTLED or code in TRANSIENT or status >= 500 or status == 429


def is_aws_fault(exc: BaseException) -> bool:
    """True if AWS failed us: not the caller's doing, and likely to pass if tried again."""
    for node in _chain(exc):
        if isinstance(node, OutOfTime) or _is_network_error(node):
            return True
        response = _response(node)
        # PynamoDB's VerboseClientError keeps only the error; the botocore ClientError it
        # wraps (next in the chain) has the status and the cancellation reasons.
        if response is not None and _is_fault_response(response):
            return True
    return False


def describe(exc: BaseException) -> str:
    """For logs: the chain's types, the operation and AWS's code, never a message (it may
    quote a key)."""
    chain = list(_chain(exc))
    names = " <- ".join(type(node).__name__ for node in chain)
    operation = next((op for n in chain if (op := getattr(n, "operation_name", None))), "")
    detail = ": ".join(part for part in (operation, error_code(exc) or "") if part)
    return f"{names} ({detail})" if detail else names
