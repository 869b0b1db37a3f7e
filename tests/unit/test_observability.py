"""Logs and metrics plumbing (chalicelib/api/observability.py): the redaction net, the metrics read
from stream records, EMF output and JSON log lines. No AWS needed."""

from __future__ import annotations

import json
import logging

import pytest

from chalicelib.api import observability as obs


@pytest.mark.parametrize(
    "text",
    [
        "13800138000",
        "+8613800138000",
        "8613800138000",
        "008613800138000",
        "+86 138 0013 8000",
        "138-0013-8000",
        "phone=13800138000;",
        "PhoneNumber='+8619912345678'",
        # Issue 15: the log net finds what the storage masking finds (one definition).
        "１３８００１３８０００",  # full-width, as a Chinese IME types it
        "+８６ １３８ ００１３ ８０００",
        "١٣٨٠٠١٣٨٠٠٠",  # Arabic-Indic
        "138.0013.8000",
        "+86.138.0013.8000",
        "(138)0013-8000",
        "138_0013_8000",
        "138/0013/8000",
        "1 3 8 0 0 1 3 8 0 0 0",
        "一三八零零一三八零零零",
        "1\u200b3800138000",
    ],
)
def test_mobile_numbers_are_scrubbed(text):
    clean = obs.redact_text(text)
    assert "[number]" in clean
    assert not any(run in clean for run in ("13800138000", "0013", "19912345678"))


@pytest.mark.parametrize(
    "text",
    [
        "12345X",
        "id 12345x.",
        "100234",
        "code=654321",
        "验证码654321",
        "验证码６５４３２１",
        "验证码٦٥٤٣٢١",
        "holder １２３４５Ｘ",
    ],
)
def test_id_tails_and_codes_are_scrubbed(text):
    clean = obs.redact_text(text)
    assert "[digits]" in clean
    assert not any(c.isdecimal() for c in clean.replace("[digits]", ""))


@pytest.mark.parametrize(
    "text",
    [
        "11010119800112345X",
        "身份证 110101 19800112 345x",
        "110101.19800112.345X",
        "１１０１０１１９８００１１２３４５Ｘ",
    ],
)
def test_whole_id_numbers_are_scrubbed(text):
    clean = obs.redact_text(text)
    assert "[digits]" in clean and not any(c.isdecimal() for c in clean)


@pytest.mark.parametrize(
    "text",
    [
        "138****8000 北京市",  # the masked form is what staff see
        "C7K78Y458S",
        "D123456789",
        "K0000012345",
        "2026-11-27T02:00:00.123456Z",
        "2026-11-27 02:00:00,123+0000",
        "5ab2da63-4454-4e30-aa98-98241573a786",
        "C00000000A:v2:company_responded",
        "duration 12.345678 s",
        "arn:aws:lambda:ap-east-1:123456789012:function:recount-prod",
        "1-5759e988-bd862e3fe1be46a994272793",  # an X-Ray trace id
        "12345678-1234-4234-8234-123456789012",
        # UUIDs whose digits read as a mobile number, alone and in a sentence
        "d83b4e29-edda-4314-9f46-19204892566d",
        "request 46af796c-2800-428b-9ac7-a18893224839 done",
        "1-5759e988-a13800138000bd862e3fe1be",
        "客服95188 400-670-0700 10086 座机010-12345678",
        "2026-12-01 3个账号",
        "一个账号",
    ],
)
def test_identifiers_times_and_masks_are_left_alone(text):
    assert obs.redact_text(text) == text


def test_a_number_beside_a_request_id_is_still_scrubbed():
    rid = "d83b4e29-edda-4314-9f46-19204892566d"
    assert obs.redact_text(f"{rid} 13800138000 {rid}") == f"{rid} [number] {rid}"
    # glued to it, it is no request id
    assert "13800138000" not in obs.redact_text(f"{rid}13800138000")


def test_redact_walks_structures_and_renders_objects():
    value, hit = obs.redact(
        {"a": ["x", {"b": "+8613800138000"}], "n": 13800138000, "e": ValueError("13800138000")}
    )
    assert hit
    assert value["a"][1]["b"] == "[number]"
    assert value["n"] == 13800138000  # a number-typed field is data, not text
    assert value["e"] == "[number]"
    assert obs.redact({"ok": "fine", "n": None}) == ({"ok": "fine", "n": None}, False)


def _record(event: str, image: dict | None = None, arn: str = "") -> dict:
    record = {"eventName": event, "dynamodb": {"NewImage": image or {}}}
    if arn:
        record["eventSourceARN"] = arn
    return record


def _image(**fields: str) -> dict:
    return {k: {"S": v} for k, v in fields.items()}


def test_outbox_metrics_follow_each_message_status():
    records = [
        _record("INSERT", _image(message_id="m1", status="pending")),
        _record("MODIFY", _image(message_id="m1", status="sending")),  # a claim: nothing yet
        _record("MODIFY", _image(message_id="m1", status="sent")),
        _record("MODIFY", _image(message_id="m2", status="merged")),
        _record("MODIFY", _image(message_id="m3", status="pending", last_error="ClientError")),
        _record("MODIFY", _image(message_id="m4", status="pending", last_error="daily_cap")),
        _record("MODIFY", _image(message_id="m5", status="dead", last_error="ClientError")),
        # Delivery reports on sent messages: counted as reports, not as sends again.
        _record("MODIFY", _image(message_id="m1", status="sent", delivery="delivered")),
        _record("MODIFY", _image(message_id="m6", status="sent", delivery="failed")),
        _record("MODIFY", _image(message_id="m7", status="sent", delivery="unreported")),
        _record("REMOVE", _image()),
    ]
    assert obs.outbox_metrics(records) == {
        "SmsQueued": 1,
        "SmsSent": 1,
        "SmsMerged": 1,
        "SmsFailed": 1,
        "SmsDeferred": 1,
        "SmsDead": 1,
        "SmsDelivered": 1,
        "SmsUndelivered": 1,
        "SmsUnreported": 1,
    }


def test_audit_metrics_count_filings_escalations_and_breaches_once():
    records = [
        _record("INSERT", _image(action="file", to_state="submitted")),
        _record("INSERT", _image(action="sla_breach", to_state="escalated")),
        _record("INSERT", _image(action="reopen", to_state="escalated")),
        _record("INSERT", _image(action="acknowledge", to_state="acknowledged")),
        _record("MODIFY", _image(action="file", to_state="escalated")),  # erasure rewrites
        _record("REMOVE", _image()),
    ]
    assert obs.audit_metrics(records) == {"CasesOpened": 1, "SlaBreaches": 1, "Escalations": 2}


def test_a_batch_knows_its_stream_by_arn_or_by_shape(monkeypatch):
    monkeypatch.setenv("RECOUNT_TABLE_PREFIX", "recount-prod")
    arn = "arn:aws:dynamodb:ap-east-1:1:table/recount-prod-outbox/stream/2026-11-27T00:00:00.000"
    assert obs._stream_of([_record("INSERT", arn=arn)]) == "outbox"
    assert obs._stream_of([_record("INSERT", _image(message_id="m"))]) == "outbox"
    assert obs._stream_of([_record("INSERT", _image(to_state="resolved"))]) == "events"
    assert obs._stream_of([]) == ""


def test_metrics_are_flushed_as_emf_with_service_and_stage(capsys):
    obs.reset()
    obs.use_stage("local")
    obs.count("SmsDead")
    obs.count("SmsSent", 3)
    obs.count("SmsFailed", 0)  # nothing happened: nothing published
    obs.flush()
    obs.flush()  # nothing left: no second blob, no warning
    (line,) = capsys.readouterr().out.splitlines()
    blob = json.loads(line)
    (directive,) = blob["_aws"]["CloudWatchMetrics"]
    assert directive["Namespace"] == "Recount"
    assert sorted(directive["Dimensions"][0]) == ["service", "stage"]
    assert {m["Name"] for m in directive["Metrics"]} == {"SmsDead", "SmsSent"}
    assert blob["service"] == "recount" and blob["stage"] == "local"
    assert blob["SmsSent"] == 3.0 or blob["SmsSent"] == [3.0]


def test_log_lines_are_json_and_scrubbed(capsys):
    log = obs.logger()
    log.info("sent to %s", "+8613800138000", extra={"case_id": "C7K78Y458S"})
    logging.getLogger("recount.dispatcher").warning("sms_failed", extra={"holder": "12345X"})
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert lines[0]["message"] == "sent to [number]" and lines[0]["redacted"] is True
    assert lines[0]["case_id"] == "C7K78Y458S" and lines[0]["service"] == "recount"
    assert lines[1]["message"] == "sms_failed" and lines[1]["holder"] == "[digits]"


def test_each_threads_lines_carry_its_own_request(capsys):
    """`chalice local` serves requests on threads: each line names its own request's route
    and correlation id, not those of a request running beside it."""
    import threading

    from chalice.app import Request, Response

    both_inside = threading.Barrier(2)

    def request(route: str, request_id: str) -> Request:
        return Request(
            {
                "httpMethod": "GET",
                "path": route,
                "headers": {},
                "multiValueQueryStringParameters": None,
                "pathParameters": None,
                "stageVariables": None,
                "requestContext": {
                    "resourcePath": route,
                    "requestId": request_id,
                    "httpMethod": "GET",
                },
                "body": None,
                "isBase64Encoded": False,
            }
        )

    def serve(route: str, request_id: str) -> None:
        def respond(_event):
            both_inside.wait()  # the other request has set its keys by now
            logging.getLogger("recount.test").info("working")
            both_inside.wait()
            return Response(body="{}", status_code=200)

        obs.around(request(route, request_id), respond)

    threads = [
        threading.Thread(target=serve, args=("/v1/healthz", "r-healthz")),
        threading.Thread(target=serve, args=("/v1/directory", "r-directory")),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    seen = [(line["message"], line.get("correlation_id"), line.get("route")) for line in lines]
    assert sorted(seen) == [
        ("request", "r-directory", "/v1/directory"),
        ("request", "r-healthz", "/v1/healthz"),
        ("working", "r-directory", "/v1/directory"),
        ("working", "r-healthz", "/v1/healthz"),
    ], seen
