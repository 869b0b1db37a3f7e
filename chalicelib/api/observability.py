"""Structured logs and metrics for every invocation: Powertools Logger (JSON, one line per record,
correlated by request id and case id) and Metrics (CloudWatch EMF), wired in as Chalice
middleware (chalicelib/api/middleware.py).

Kept out of start-up: Powertools is imported on the first invocation, not when `app` is imported.

Metrics come from what the handlers return and from the stream records they are handed, so no
service knows about them:

    DisputesFiled      POST /v1/disputes answered 201
    CasesOpened        audit stream: a `file` event
    Escalations        audit stream: an event into `escalated` (any actor)
    SlaBreaches        audit stream: an `sla_breach` event (the scheduler's deadline escalation)
    SmsQueued          outbox stream: a new message
    SmsSent / SmsMerged / SmsFailed / SmsDeferred / SmsDead
                       outbox stream: a message's new status after a send attempt, whichever
                       dispatcher (stream or scheduler backstop) made it
    SmsDropped         outbox stream: a message no longer true at send time, dropped unsent
    WebhooksQueued / WebhooksDelivered / WebhooksFailed / WebhooksDead / WebhooksDropped
                       outbox stream: a company webhook delivery's steps (messages `wh:…`)
    SmsDelivered / SmsUndelivered / SmsUnreported
                       outbox stream: the carrier's delivery report on a sent message, as the
                       scheduler pulled it from an in-China provider (never from SNS)
    TimersFired        the scheduler tick's own count

`count()` is the port for anything else: domain-free, it only adds to this invocation's metrics.

Privacy (docs/design.md §8): no code should log a number or ID digits; as a safety net every string
in a log record is scrubbed before it is written — mainland mobile numbers and ID numbers as the
domain finds them (domain/redaction.py: any digits, any separators), and stand-alone
six-character ID-tail / code shapes — and the record is marked `"redacted": true`.
"""

from __future__ import annotations

import json
import os
import re
import sys
import time
import warnings
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from chalicelib.domain.redaction import replace_numbers

if TYPE_CHECKING:
    from aws_lambda_powertools.logging.types import LogRecord

SERVICE = "recount"
NAMESPACE = "Recount"

# What a mobile or ID number is, in any script and with any separators, is the domain's one
# definition (chalicelib/domain/redaction.py). Logs add one shape of their own: six characters
# like an ID card's last six or a verification code, standing alone (searched in the domain's
# normalised copy, so full-width and other-script digits count).
_SIX = re.compile(r"(?<![0-9A-Za-z.])[0-9]{5}[0-9Xx](?![0-9A-Za-z])")
MOBILE_MASK = "[number]"
SIX_MASK = "[digits]"


# Request ids (UUIDs) and X-Ray trace ids, whole: one in about 3,000 UUIDs has eleven digits in
# a row that read as a mobile number ("…-9f46-19204892566d").
_TRACE_IDS = re.compile(
    r"(?<![0-9A-Za-z-])(?:[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}"
    r"|1-[0-9a-f]{8}-[0-9a-f]{24})(?![0-9A-Za-z-])"
)


def redact_text(text: str) -> str:
    pieces = _TRACE_IDS.split(text)
    ids = _TRACE_IDS.findall(text)
    out = [_redact_piece(pieces[0])]
    for found, piece in zip(ids, pieces[1:], strict=True):
        out += [found, _redact_piece(piece)]
    return "".join(out)


def _redact_piece(text: str) -> str:
    return replace_numbers(
        text,
        mobile=lambda number, span: MOBILE_MASK,
        id_number=lambda number, span: SIX_MASK,
        also=[(_SIX, SIX_MASK)],
        spare_hex_tokens=True,  # other hexadecimal ids are not numbers either
    )


def redact(value: Any) -> tuple[Any, bool]:
    """The value with every string scrubbed, and whether anything was scrubbed."""
    if isinstance(value, str):
        clean = redact_text(value)
        return clean, clean != value
    if isinstance(value, dict):
        out, hit = {}, False
        for key, item in value.items():
            out[key], changed = redact(item)
            hit |= changed
        return out, hit
    if isinstance(value, list | tuple):
        pairs = [redact(item) for item in value]
        return [p[0] for p in pairs], any(p[1] for p in pairs)
    if value is None or isinstance(value, bool | int | float):
        return value, False
    return redact(str(value))  # an exception or any other object is logged as its text


class _CurrentStdout:
    """Writes to whatever sys.stdout is now (Lambda's, or a test's capture)."""

    def write(self, text: str) -> int:
        return sys.stdout.write(text)

    def flush(self) -> None:
        sys.stdout.flush()


_state: dict[str, Any] = {"logger": None, "metrics": None, "cold": True}


def logger():
    """The service's Powertools Logger (created on first use)."""
    if _state["logger"] is None:
        from aws_lambda_powertools import Logger
        from aws_lambda_powertools.logging.formatter import LambdaPowertoolsFormatter

        class RedactingFormatter(LambdaPowertoolsFormatter):
            def serialize(self, log: LogRecord) -> str:
                clean, hit = redact(log)
                if hit:
                    clean["redacted"] = True
                return super().serialize(clean)

        _state["logger"] = Logger(
            service=SERVICE,
            level=os.environ.get("POWERTOOLS_LOG_LEVEL", "INFO"),
            stream=_CurrentStdout(),
            logger_formatter=RedactingFormatter(utc=True),
        )
    return _state["logger"]


def metrics():
    """The service's Powertools Metrics (EMF to stdout; created on first use)."""
    if _state["metrics"] is None:
        from aws_lambda_powertools import Metrics

        _state["metrics"] = Metrics(namespace=NAMESPACE, service=SERVICE)
    return _state["metrics"]


def use_stage(stage: str) -> None:
    """Every metric carries the stage (alarms select on it); set once per container."""
    if _state.get("stage") != stage:
        with warnings.catch_warnings():  # a new stage replaces the old one: that is the point
            warnings.simplefilter("ignore")
            metrics().set_default_dimensions(stage=stage)
        _state["stage"] = stage


def count(name: str, value: int = 1) -> None:
    """The metrics port: adds to this invocation's metrics (flushed when it ends)."""
    if value <= 0:
        return
    from aws_lambda_powertools.metrics import MetricUnit

    metrics().add_metric(name=name, unit=MetricUnit.Count, value=value)


def flush() -> None:
    m = metrics()
    if m.metric_set:
        m.flush_metrics()


def reset() -> None:
    """Drop pending metrics (tests)."""
    if _state["metrics"] is not None:
        _state["metrics"].clear_metrics()


# ---------------------------------------------------------------------------- the middleware


def _lambda_context(event: Any) -> Any:
    return getattr(event, "lambda_context", None) or getattr(event, "context", None)


def _kind(event: Any) -> str:
    from chalice.app import CloudWatchEvent, DynamoDBEvent, Request

    if isinstance(event, Request):
        return "http"
    if isinstance(event, DynamoDBEvent):
        return "stream"
    if isinstance(event, CloudWatchEvent):
        return "schedule"
    return "other"


def around(event: Any, get_response: Callable[[Any], Any]) -> Any:
    """Runs one invocation with its log context and publishes its metrics."""
    log = logger()
    stage = os.environ.get("RECOUNT_STAGE", "local")
    use_stage(stage)
    kind = _kind(event)
    context = _lambda_context(event)
    # Per invocation, and per thread: `chalice local` (make run) serves requests on threads,
    # where keys appended for all would label one request's lines with another's route.
    log.clear_state()
    log.thread_safe_clear_keys()
    log.thread_safe_append_keys(
        stage=stage,
        invocation=kind,
        cold_start=_state["cold"],
        function_request_id=getattr(context, "aws_request_id", None),
        function_name=getattr(context, "function_name", None),
    )
    _state["cold"] = False
    handler = {"http": _http, "stream": _stream, "schedule": _schedule}.get(kind, _other)
    return handler(event, get_response, log)


def _other(event: Any, get_response: Callable[[Any], Any], log: Any) -> Any:
    response = get_response(event)
    flush()
    return response


def _http(event: Any, get_response: Callable[[Any], Any], log: Any) -> Any:
    context = event.context or {}
    route = context.get("resourcePath") or event.path
    params = event.uri_params or {}
    lambda_context = _lambda_context(event)
    log.thread_safe_append_keys(
        correlation_id=context.get("requestId") or getattr(lambda_context, "aws_request_id", None)
    )
    log.thread_safe_append_keys(
        route=route,
        method=event.method,
        case_id=params.get("case_id"),
        dispute_id=params.get("dispute_id"),
    )
    started = time.perf_counter()
    response = get_response(event)
    status = getattr(response, "status_code", 200)
    extra: dict[str, Any] = {
        "status": status,
        "duration_ms": round((time.perf_counter() - started) * 1000, 1),
    }
    if route == "/v1/disputes" and event.method == "POST" and status == 201:
        filed = _json(response)
        if filed is not None:
            extra["dispute_id"] = filed.get("dispute_id")
            extra["case_ids"] = [c.get("case_id") for c in filed.get("cases", [])]
        if not _is_replay(response):
            count("DisputesFiled")
    if status >= 500:
        log.error("request", extra=extra)
    else:
        log.info("request", extra=extra)
    flush()
    return response


def _json(response: Any) -> dict[str, Any] | None:
    try:
        body = json.loads(response.body)
    except (TypeError, ValueError):
        return None
    return body if isinstance(body, dict) else None


def _is_replay(response: Any) -> bool:
    headers = {k.lower(): v for k, v in (getattr(response, "headers", None) or {}).items()}
    return headers.get("idempotent-replayed", "").lower() == "true"


def _schedule(event: Any, get_response: Callable[[Any], Any], log: Any) -> Any:
    started = time.perf_counter()
    result = get_response(event)
    summary = result if isinstance(result, dict) else {}
    count("TimersFired", int(summary.get("timers_fired", 0) or 0))
    log.info(
        "tick",
        extra={
            "result": {k: v for k, v in summary.items() if isinstance(v, int | float)},
            "duration_ms": round((time.perf_counter() - started) * 1000, 1),
        },
    )
    flush()
    return result


def _table_base(arn: str) -> str:
    """`…:table/recount-prod-outbox/stream/…` → `outbox` (the part after the stage prefix)."""
    prefix = os.environ.get("RECOUNT_TABLE_PREFIX", "recount-local") + "-"
    name = arn.split(":table/", 1)[-1].split("/", 1)[0]
    return name.removeprefix(prefix) if name.startswith(prefix) else name.rsplit("-", 1)[-1]


def _stream_of(records: list[dict[str, Any]]) -> str:
    """Which table's stream a batch comes from: by its ARN, else by the shape of its items."""
    if not records:
        return ""
    arn = records[0].get("eventSourceARN")
    if arn:
        return _table_base(arn)
    image = (records[0].get("dynamodb") or {}).get("NewImage") or {}
    keys = (records[0].get("dynamodb") or {}).get("Keys") or {}
    if "message_id" in keys or "message_id" in image:
        return "outbox"
    return "events" if "to_state" in image or "version" in keys else ""


def _s(image: dict[str, Any], name: str) -> str | None:
    value = image.get(name) or {}
    return value.get("S") if isinstance(value, dict) else None


OUTBOX_STATUS_METRICS = {
    "sent": "SmsSent",
    "merged": "SmsMerged",
    "dropped": "SmsDropped",
    "dead": "SmsDead",
}
DELIVERY_METRICS = {
    "delivered": "SmsDelivered",
    "failed": "SmsUndelivered",
    "unreported": "SmsUnreported",
}


def outbox_metrics(records: list[dict[str, Any]]) -> dict[str, int]:
    """What the outbox stream says happened to messages (NEW_IMAGE records)."""
    counts: dict[str, int] = {}

    def add(name: str) -> None:
        counts[name] = counts.get(name, 0) + 1

    for record in records:
        image = (record.get("dynamodb") or {}).get("NewImage") or {}
        status = _s(image, "status")
        if (_s(image, "message_id") or "").startswith("wh:"):
            webhook = _webhook_metric(record.get("eventName"), status, _s(image, "last_error"))
            if webhook:
                add(webhook)
            continue
        if record.get("eventName") == "INSERT":
            add("SmsQueued")
        elif record.get("eventName") == "MODIFY":
            delivery = _s(image, "delivery")
            if delivery in DELIVERY_METRICS:
                # A report on a message sent (and counted) earlier: the report alone counts.
                add(DELIVERY_METRICS[delivery])
            elif status in OUTBOX_STATUS_METRICS:
                add(OUTBOX_STATUS_METRICS[status])
            elif status == "pending" and _s(image, "last_error"):
                # Given back after a send attempt: held by the daily cap, or failed.
                add("SmsDeferred" if _s(image, "last_error") == "daily_cap" else "SmsFailed")
    return counts


def _webhook_metric(event: str | None, status: str | None, error: str | None) -> str | None:
    """A company webhook delivery's step (docs/design.md §10), counted apart from SMS."""
    if event == "INSERT":
        return "WebhooksQueued"
    if event != "MODIFY":
        return None
    if status == "pending" and error:
        return "WebhooksFailed"
    return {"sent": "WebhooksDelivered", "dead": "WebhooksDead", "dropped": "WebhooksDropped"}.get(
        status or ""
    )


def audit_metrics(records: list[dict[str, Any]]) -> dict[str, int]:
    """What the audit stream says happened to cases (each event is written once)."""
    counts: dict[str, int] = {}

    def add(name: str) -> None:
        counts[name] = counts.get(name, 0) + 1

    for record in records:
        if record.get("eventName") != "INSERT":
            continue
        image = (record.get("dynamodb") or {}).get("NewImage") or {}
        action = _s(image, "action")
        if action == "file":
            add("CasesOpened")
        if action == "sla_breach":
            add("SlaBreaches")
        if _s(image, "to_state") == "escalated":
            add("Escalations")
    return counts


def _stream(event: Any, get_response: Callable[[Any], Any], log: Any) -> Any:
    records = list(event.to_dict().get("Records", []))
    base = _stream_of(records)
    case_ids = sorted(
        {_s(((r.get("dynamodb") or {}).get("NewImage") or {}), "case_id") or "" for r in records}
        - {""}
    )
    log.thread_safe_append_keys(stream=base, case_id=case_ids[0] if len(case_ids) == 1 else None)
    started = time.perf_counter()
    result = get_response(event)
    summary = result if isinstance(result, dict) else {}
    # Counted only once the records went through: failed ones are retried and counted then.
    failed = {f.get("itemIdentifier") for f in summary.get("batchItemFailures") or []}
    done = [r for r in records if (r.get("dynamodb") or {}).get("SequenceNumber") not in failed]
    found = outbox_metrics(done) if base == "outbox" else audit_metrics(done)
    for name, value in sorted(found.items()):
        count(name, value)
    log.info(
        "stream_batch",
        extra={
            "records": len(records),
            "cases": len(case_ids),
            "failures": len(summary.get("batchItemFailures") or []),
            "duration_ms": round((time.perf_counter() - started) * 1000, 1),
        },
    )
    flush()
    return result
