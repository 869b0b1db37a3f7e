"""docs/design.md §8 on the real log output (issue 7): the Lambda's stdout — Powertools JSON log
lines and CloudWatch EMF metric blobs — carries no phone number, no ID digits and no
verification code, through API flows with failures, the scheduler and both stream handlers.

The output is captured where Lambda would ship it (stdout), not from log records: this is what
reaches CloudWatch Logs. The redaction net in chalicelib/api/observability.py must not be what
keeps the service's own lines clean: only the deliberately injected crash needs it.
"""

from __future__ import annotations

import json
import re
from typing import Any

from chalicelib.api import observability
from tests.conftest import DEMO
from tests.integration.test_package import run_flow
from tests.integration.test_privacy import _leaks
from tests.support import Api, sent_sms

ACTIVE_PHONE, ACTIVE_ID, _ = DEMO["active"]


def _lines(out: str) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """(log lines, EMF blobs): every line of stdout must be one JSON object."""
    logs, emf = [], []
    for line in out.splitlines():
        if not line.strip():
            continue
        record = json.loads(line)  # a non-JSON line fails here, naming itself
        assert isinstance(record, dict), line
        (emf if "_aws" in record else logs).append(record)
    return logs, emf


def _metric_totals(emf: list[dict[str, Any]]) -> dict[str, float]:
    totals: dict[str, float] = {}
    for blob in emf:
        (directive,) = blob["_aws"]["CloudWatchMetrics"]
        assert directive["Namespace"] == "Recount"
        assert sorted(directive["Dimensions"][0]) == ["service", "stage"]
        assert blob["service"] == "recount" and blob["stage"] == "local"
        for metric in directive["Metrics"]:
            value = blob[metric["Name"]]
            totals[metric["Name"]] = totals.get(metric["Name"], 0) + sum(
                value if isinstance(value, list) else [value]
            )
    return totals


def _run(client, world, frozen_clock, capsys, monkeypatch):
    """Runs the flows and returns (log lines, EMF blobs, codes that were sent)."""
    observability.reset()
    capsys.readouterr()
    run_flow(client, frozen_clock, world)
    api = Api(client, frozen_clock)
    # Ugly inputs: numbers in every shape, in fields where they do not belong.
    for phone in ("+86 138 0013 8000", "138-0013-8000x", "0086 13800138000"):
        api.call("POST", "/v1/verification-codes", {"phone": phone, "extra": ACTIVE_PHONE})
    api.call(
        "POST",
        "/v1/sessions",
        {"phone": ACTIVE_PHONE, "id_last6": ACTIVE_ID, "code": "12345"},
    )
    token = api.sign_in(ACTIVE_PHONE, ACTIVE_ID)
    api.call("POST", "/v1/disputes", {"items": [{"company": ACTIVE_PHONE}]}, token=token)

    # A crash whose message carries the number and the ID digits: the one line that needs the
    # redaction net.
    from chalicelib.services import disputes

    def crash(*args, **kwargs):
        raise RuntimeError(f"boom for +86{ACTIVE_PHONE} holder {ACTIVE_ID}")

    monkeypatch.setattr(disputes, "file_dispute", crash)
    crashed = api.call(
        "POST",
        "/v1/disputes",
        {"items": [{"company": "jd", "reported_count": 3, "expected_count": 1, "reason": "other"}]},
        token=token,
    )
    assert crashed.status_code == 500, crashed.body
    out = capsys.readouterr().out
    codes = [m.group(0)[-6:] for _, text in sent_sms() for m in re.finditer(r"验证码\d{6}", text)]
    logs, emf = _lines(out)
    return logs, emf, codes


def test_the_log_output_is_private_structured_correlated_and_carries_the_metrics(
    client, world, frozen_clock, capsys, monkeypatch
):
    """One run of the flows (about 8 s), four properties of what it wrote."""
    output = _run(client, world, frozen_clock, capsys, monkeypatch)
    no_line_carries_a_number_id_digits_or_a_code(output)
    only_the_injected_crash_needed_the_redaction_net(output)
    every_line_is_structured_and_correlated(output)
    metrics_appear_in_emf(output)


def no_line_carries_a_number_id_digits_or_a_code(output):
    logs, emf, codes = output
    assert len(logs) > 50, len(logs)
    assert len(codes) >= 3, codes
    leaks = {}
    for record in logs + emf:
        text = json.dumps(record, ensure_ascii=False)
        found = _leaks(text) + [c for c in codes if c in text]
        if found:
            leaks[text[:300]] = found
    assert leaks == {}, leaks


def only_the_injected_crash_needed_the_redaction_net(output):
    logs, _, _ = output
    redacted = [r for r in logs if r.get("redacted")]
    assert redacted, "the crash's line was not scrubbed"
    for record in redacted:
        assert record["message"] == "unhandled_error" or record.get("status") == 500, record
        assert "[number]" in json.dumps(record, ensure_ascii=False) or record.get("status") == 500


def every_line_is_structured_and_correlated(output):
    logs, _, _ = output
    for record in logs:
        for key in ("level", "message", "timestamp", "service", "stage", "invocation"):
            assert key in record, (key, record)
        assert record["service"] == "recount"
    requests = [r for r in logs if r["message"] == "request"]
    assert requests and all(r.get("correlation_id") for r in requests)
    assert all(isinstance(r["status"], int) and r["route"].startswith("/") for r in requests)
    filed = [r for r in requests if r["route"] == "/v1/disputes" and r["status"] == 201]
    assert filed and all(r["case_ids"] and r["dispute_id"] for r in filed)
    transitions = [r for r in requests if r["route"].endswith("/transitions")]
    assert transitions and all(r.get("case_id") for r in transitions)
    crash = [r for r in logs if r["message"] == "unhandled_error"]
    assert crash and crash[0].get("correlation_id") and crash[0]["level"] == "ERROR"
    assert "exception" in crash[0]
    batches = {r.get("stream") for r in logs if r["message"] == "stream_batch"}
    assert batches == {"outbox", "events"}
    assert any(r["message"] == "tick" for r in logs)


def metrics_appear_in_emf(output):
    _, emf, _ = output
    totals = _metric_totals(emf)
    for name in (
        "DisputesFiled",
        "CasesOpened",
        "Escalations",
        "SlaBreaches",
        "SmsQueued",
        "SmsSent",
        "TimersFired",
    ):
        assert totals.get(name, 0) >= 1, (name, totals)
    assert totals["DisputesFiled"] >= 2  # the 409 and the refused bodies are not filings
