"""Which failures are AWS's (chalicelib/adapters/faults.py), on errors shaped exactly as
botocore raises them and as PynamoDB 6 wraps them."""

from __future__ import annotations

from typing import Any

import pytest
from botocore.exceptions import (
    ClientError,
    ConnectionClosedError,
    ConnectTimeoutError,
    EndpointConnectionError,
    NoCredentialsError,
    ParamValidationError,
    ReadTimeoutError,
)
from pynamodb.exceptions import (
    CancellationReason,
    DeleteError,
    GetError,
    PutError,
    QueryError,
    TransactWriteError,
    UpdateError,
    VerboseClientError,
)

from chalicelib.adapters.faults import (
    OutOfTime,
    condition_failed,
    describe,
    error_code,
    is_aws_fault,
)
from chalicelib.domain.errors import Problem

URL = "https://dynamodb.ap-east-1.amazonaws.com/"


def answer(
    code: str, status: int = 400, reasons: list[str] | None = None, op: str = "UpdateItem"
) -> ClientError:
    """An error answer from AWS, as botocore raises it."""
    response: dict[str, Any] = {
        "Error": {"Code": code, "Message": "..."},
        "ResponseMetadata": {"HTTPStatusCode": status},
    }
    if reasons is not None:
        response["CancellationReasons"] = [{"Code": r} for r in reasons]
    return ClientError(response, op)


def wrapped(error: BaseException, outer: type[Exception] = UpdateError) -> Exception:
    """As PynamoDB 6 raises it: a ClientError becomes a VerboseClientError (`from` the
    original, keeping only the error), and either is the `cause` of PynamoDB's own error."""
    cause: BaseException = error
    if isinstance(error, ClientError):
        reasons = error.response.get("CancellationReasons", [])
        try:
            raise VerboseClientError(
                {"Error": error.response["Error"]},
                error.operation_name,
                {"request_id": "", "table_name": "t"},
                cancellation_reasons=(
                    CancellationReason(code=r["Code"]) if r["Code"] != "None" else None
                    for r in reasons
                ),
            ) from error
        except VerboseClientError as verbose:
            cause = verbose
    return outer("Failed", cause)


NETWORK = [
    EndpointConnectionError(endpoint_url=URL),
    ConnectTimeoutError(endpoint_url=URL),
    ReadTimeoutError(endpoint_url=URL),
    ConnectionClosedError(endpoint_url=URL),
]
FAULT_ANSWERS = [
    answer("ProvisionedThroughputExceededException"),
    answer("ThrottlingException"),
    answer("RequestLimitExceeded"),
    answer("Throttling", op="Publish"),
    answer("KMSThrottlingException", op="Decrypt"),
    answer("InternalServerError", 500),
    answer("ServiceUnavailable", 503),
    answer("SomethingNew", 502),  # any 5xx
    answer("SomethingNew", 429),
    answer("TransactionCanceledException", reasons=["None", "TransactionConflict"]),
    answer("TransactionCanceledException", reasons=["ThrottlingError", "None"]),
]
NOT_FAULTS = [
    answer("ConditionalCheckFailedException"),
    answer("ValidationException"),
    answer("ResourceNotFoundException"),
    answer("AccessDeniedException"),
    answer("TransactionCanceledException", reasons=["None", "ConditionalCheckFailed"]),
    # A condition failed: an answer, even if another item also met a conflict.
    answer(
        "TransactionCanceledException", reasons=["ConditionalCheckFailed", "TransactionConflict"]
    ),
    answer("TransactionCanceledException", reasons=["ValidationError"]),
]


@pytest.mark.parametrize("error", NETWORK + FAULT_ANSWERS, ids=repr)
@pytest.mark.parametrize("outer", [None, GetError, PutError, UpdateError, DeleteError, QueryError])
def test_aws_failing_is_a_fault_bare_or_wrapped(error, outer):
    assert is_aws_fault(error if outer is None else wrapped(error, outer))


@pytest.mark.parametrize("error", NETWORK + FAULT_ANSWERS + NOT_FAULTS, ids=repr)
def test_transactions_are_classified_alike(error):
    assert is_aws_fault(wrapped(error, TransactWriteError)) == is_aws_fault(error)


@pytest.mark.parametrize("error", NOT_FAULTS, ids=repr)
def test_answers_to_the_request_are_not_faults(error):
    assert not is_aws_fault(error)
    assert not is_aws_fault(wrapped(error))


@pytest.mark.parametrize(
    "error",
    [
        ValueError("a bug"),
        KeyError("x"),
        Problem(409, "conflict", "Conflict"),
        NoCredentialsError(),  # misconfigured, not AWS failing
        ParamValidationError(report="bad"),  # our bug
    ],
    ids=repr,
)
def test_our_own_failures_are_not_faults(error):
    assert not is_aws_fault(error)


def test_running_out_of_the_request_budget_is_a_fault():
    assert is_aws_fault(OutOfTime("spent"))
    assert describe(OutOfTime("spent")) == "OutOfTime"


@pytest.mark.parametrize("error", NETWORK, ids=repr)
def test_a_connection_error_has_no_code_and_is_no_failed_condition(error):
    """PynamoDB's `cause_response_code` raises AttributeError for these (their `response` is
    None): the adapters ask here instead."""
    outer = wrapped(error)
    assert error_code(outer) is None
    assert not condition_failed(outer)


def test_a_failed_condition_is_read_through_the_wrapping():
    error = wrapped(answer("ConditionalCheckFailedException"))
    assert condition_failed(error)
    assert error_code(error) == "ConditionalCheckFailedException"
    assert not condition_failed(wrapped(answer("ThrottlingException")))


def test_describe_names_the_chain_the_operation_and_the_code_never_the_message():
    error = wrapped(answer("ThrottlingException", op="GetItem"), GetError)
    assert describe(error) == (
        "GetError <- VerboseClientError <- ClientError (GetItem: ThrottlingException)"
    )
    assert describe(wrapped(ReadTimeoutError(endpoint_url=URL))) == (
        "UpdateError <- ReadTimeoutError"
    )


def test_a_cycle_in_the_chain_ends():
    first, second = RuntimeError("a"), RuntimeError("b")
    first.__cause__, second.__cause__ = second, first
    assert not is_aws_fault(first)
    assert describe(first) == "RuntimeError <- RuntimeError"
