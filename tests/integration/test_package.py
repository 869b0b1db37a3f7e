"""`make package` (issue 7): the merge template is built from the PynamoDB models, the hand-written
IAM policy grants exactly the AWS calls the code makes (recorded while a representative flow runs
in a moto world), and the packaged SAM template passes cfn-lint.

The policy check is empirical: every botocore call the service makes during the flow is
recorded (a transaction counts as the item actions IAM checks: PutItem, UpdateItem,
DeleteItem, ConditionCheckItem), mapped to IAM (action, table, index), and compared, both
ways, with what .chalice/policy.json (both stages' policy) grants. A new call in the code fails
here until the policy names it; a grant no flow needs fails here until it is removed.
"""

from __future__ import annotations

import importlib.util
import json
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import botocore.client
import pytest

from chalicelib.adapters import tables
from chalicelib.api.http import REGISTRY
from chalicelib.services import keys
from scripts.stage_config import stage_settings
from tests.conftest import DEMO
from tests.support import Api, last_code, stream_records

ROOT = Path(__file__).resolve().parents[2]
STAGES = ("dev", "prod")


def _load_package_module():
    spec = importlib.util.spec_from_file_location("recount_package", ROOT / "scripts/package.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


package = _load_package_module()


def policy(stage: str) -> dict[str, Any]:
    """Both deployed stages use one policy: it names resources by logical id in their stack."""
    name = stage_settings(stage)["iam_policy_file"]
    return json.loads((ROOT / ".chalice" / name).read_text())


# -- recording the AWS calls the service makes -----------------------------------------------
TRANSACT_ITEM_ACTIONS = {
    "Put": "PutItem",
    "Update": "UpdateItem",
    "Delete": "DeleteItem",
    "ConditionCheck": "ConditionCheckItem",
    "Get": "GetItem",
}


class Recorder:
    """Every AWS call while `on`: as IAM sees it, (action, table, index)."""

    def __init__(self) -> None:
        self.calls: set[tuple[str, str | None, str | None]] = set()
        self.on = False

    def record(self, service: str, operation: str, params: dict[str, Any]) -> None:
        if not self.on:
            return
        if service != "dynamodb":
            self.calls.add((f"{service}:{operation}", None, None))
        elif operation in ("TransactWriteItems", "TransactGetItems"):
            for entry in params.get("TransactItems", []):
                for kind, body in entry.items():
                    self.calls.add(
                        (f"dynamodb:{TRANSACT_ITEM_ACTIONS[kind]}", body["TableName"], None)
                    )
        elif operation in ("BatchGetItem", "BatchWriteItem"):
            for table in params.get("RequestItems", {}):
                self.calls.add((f"dynamodb:{operation}", table, None))
        else:
            self.calls.add(
                (f"dynamodb:{operation}", params.get("TableName"), params.get("IndexName"))
            )

    @contextmanager
    def paused(self) -> Iterator[None]:
        was, self.on = self.on, False
        try:
            yield
        finally:
            self.on = was


@pytest.fixture
def recorder(monkeypatch) -> Recorder:
    rec = Recorder()
    original = botocore.client.BaseClient._make_api_call

    def make_api_call(self, operation_name, api_params):
        rec.record(self._service_model.service_name, operation_name, api_params)
        return original(self, operation_name, api_params)

    monkeypatch.setattr(botocore.client.BaseClient, "_make_api_call", make_api_call)
    return rec


# -- a representative flow: every route, every actor, the scheduler and both streams -----------
RESPOND = {"action": "respond", "response_code": "accounts_unbound", "message": "已解绑2个账号"}


def _item(company: str, reason: str = "not_mine") -> dict[str, Any]:
    return {"company": company, "reported_count": 3, "expected_count": 1, "reason": reason}


def run_flow(client, frozen_clock, settings, recorder: Recorder | None = None) -> dict[str, Any]:
    """People, liaisons, the operator, the scheduler and both stream handlers, with failures.

    Returns what was made (for the log tests). `recorder` (if any) is paused while the test
    itself reads the emulated AWS.
    """
    rec = recorder or Recorder()
    api = Api(client, frozen_clock)

    def ok(response, status: int = 200) -> dict[str, Any]:
        assert response.status_code == status, (response.status_code, response.body)
        return response.data or {}

    active_phone, active_id, _ = DEMO["active"]
    second_phone, second_id, _ = DEMO["second"]
    cancelled_phone = DEMO["cancelled"][0]

    # Identity: unknown and cancelled numbers, a wrong ID tail, a wrong code, sign-ins.
    api.call("POST", "/v1/verification-codes", {"phone": "13912345678"})
    api.call("POST", "/v1/verification-codes", {"phone": cancelled_phone})
    api.call("POST", "/v1/verification-codes", {"phone": second_phone})
    code = last_code(second_phone)
    wrong = f"{(int(code) + 1) % 1_000_000:06d}"
    api.call("POST", "/v1/sessions", {"phone": second_phone, "id_last6": second_id, "code": wrong})
    api.call("POST", "/v1/sessions", {"phone": second_phone, "id_last6": "000000", "code": code})
    frozen_clock.advance(seconds=61)
    second = api.sign_in(second_phone, second_id)
    token = api.sign_in(active_phone, active_id)

    # Keys: the operator issues liaison keys through the API and revokes one.
    operator = keys.issue("operator", None, "package test")["key"]
    liaison: dict[str, str] = {}
    for company in ("tencent", "jd", "alipay", "baidu", "meituan"):
        issued = ok(
            api.call(
                "POST",
                "/v1/admin/liaison-keys",
                {"role": "liaison", "company": company, "label": "flow"},
                token=operator,
            ),
            201,
        )
        liaison[company] = issued["key"]
    spare = ok(
        api.call(
            "POST", "/v1/admin/liaison-keys", {"role": "liaison", "company": "jd"}, token=operator
        ),
        201,
    )
    ok(api.call("DELETE", f"/v1/admin/liaison-keys/{spare['key_id']}", token=operator), 204)

    # Filing: idempotent, replayed, a conflict, a second person.
    body = {
        "items": [
            _item("tencent", "recycled_number"),
            _item("jd", "fraud_suspected"),
            _item("alipay"),
            _item("baidu"),
        ]
    }
    filed = ok(
        api.call("POST", "/v1/disputes", body, token=token, headers={"Idempotency-Key": "k1"}), 201
    )
    api.call("POST", "/v1/disputes", body, token=token, headers={"Idempotency-Key": "k1"})
    api.call("POST", "/v1/disputes", {"items": [_item("tencent")]}, token=token)  # 409
    other = ok(api.call("POST", "/v1/disputes", {"items": [_item("meituan")]}, token=second), 201)
    case = {c["company"]: c["case_id"] for c in filed["cases"]}
    ok(api.call("GET", "/v1/disputes", token=token))
    ok(api.call("GET", f"/v1/disputes/{filed['dispute_id']}", token=token))

    def liaison_act(company: str, case_id: str, action: dict[str, Any]) -> dict[str, Any]:
        path = f"/v1/liaison/cases/{case_id}/transitions"
        return ok(api.call("POST", path, action, token=liaison[company]))

    def person_act(case_id: str, action: dict[str, Any], who: str = token) -> dict[str, Any]:
        return ok(api.call("POST", f"/v1/cases/{case_id}/actions", action, token=who))

    # Liaisons and the person work the cases through most transitions.
    ok(api.call("GET", "/v1/liaison/cases?limit=2", token=liaison["tencent"]))
    ok(api.call("GET", f"/v1/liaison/cases/{case['tencent']}", token=liaison["tencent"]))
    liaison_act("tencent", case["tencent"], {"action": "acknowledge", "internal_note": "查"})
    liaison_act("jd", case["jd"], {"action": "request_user_action", "message": "请先登录"})
    person_act(case["jd"], {"action": "user_done"})
    liaison_act("alipay", case["alipay"], RESPOND)
    person_act(case["alipay"], {"action": "confirm", "new_count": 3})  # still wrong: escalated
    ok(api.call("GET", f"/v1/admin/cases/{case['alipay']}", token=operator))
    ok(
        api.call(
            "POST",
            f"/v1/admin/cases/{case['alipay']}/transitions",
            {"action": "resolve", "message": "已核实"},
            token=operator,
        )
    )
    liaison_act("baidu", case["baidu"], {"action": "misrouted", "target_company": "kuaishou"})
    ok(
        api.call(
            "POST",
            "/v1/liaison/cases:batch",
            {
                "items": [
                    {"case_id": case["tencent"], **RESPOND},
                    {"case_id": "C000000000", **RESPOND},
                ]
            },
            token=liaison["tencent"],
        )
    )
    # The other person's case is left to the scheduler's deadlines.
    meituan_case = other["cases"][0]["case_id"]

    # Every parameterless GET route, as the actor it is for.
    tokens = {None: None, "person": token, "liaison": liaison["tencent"], "operator": operator}
    for endpoint in REGISTRY:
        if endpoint.method == "GET" and "{" not in endpoint.path:
            api.call("GET", endpoint.path, token=tokens.get(endpoint.auth))

    # The scheduler over two weeks: reminders, deadlines, SLA breaches, every due SMS.
    for _ in range(8):
        frozen_clock.advance(days=2)
        tick = client.events.generate_cw_event(
            source="aws.events", detail_type="Scheduled Event", detail={}, resources=[]
        )
        client.lambda_.invoke("scheduler_tick", tick)
    ok(api.call("GET", f"/v1/liaison/cases/{meituan_case}", token=liaison["meituan"]))

    # Both streams, as Lambda hands them over.
    with rec.paused():
        outbox_records = stream_records(settings, "outbox")
        audit_records = stream_records(settings, "events")
    for start in range(0, len(outbox_records), 25):
        client.lambda_.invoke("outbox_dispatcher", {"Records": outbox_records[start : start + 25]})
    client.lambda_.invoke("statistics_aggregator", {"Records": audit_records})

    # Settle the first dispute and erase it.
    token = api.sign_in(active_phone, active_id)  # the first session has long expired
    settled = ("resolved", "disputed_closed", "withdrawn", "expired", "rerouted")
    shown = ok(api.call("GET", f"/v1/disputes/{filed['dispute_id']}", token=token))
    for open_case in [c for c in shown["cases"] if c["state"] not in settled]:
        person_act(open_case["case_id"], {"action": "withdraw"}, who=token)
    ok(api.call("DELETE", f"/v1/disputes/{filed['dispute_id']}", token=token), 204)
    return {"dispute_id": filed["dispute_id"], "cases": case, "operator": operator}


# -- reading the policy ------------------------------------------------------------------------
def _resource_names(template: dict[str, Any]) -> dict[str, str]:
    """Table logical id → table name, from the merge template."""
    return {
        rid: r["Properties"]["TableName"]
        for rid, r in template["Resources"].items()
        if r.get("Type") == "AWS::DynamoDB::Table"
    }


def _resolve(resource: Any, template: dict[str, Any]) -> tuple[str, str | None, str | None]:
    """A policy Resource → (kind, name, index): table, index, stream, key, queue, logs or *."""
    tables_by_id = _resource_names(template)
    resources = template["Resources"]
    if resource == "*":
        return ("*", None, None)
    if isinstance(resource, dict) and "Fn::GetAtt" in resource:
        rid, attribute = resource["Fn::GetAtt"]
        assert rid in resources, f"the policy names {rid}, which the template does not declare"
        kind = resources[rid]["Type"]
        if kind == "AWS::DynamoDB::Table":
            return ({"Arn": "table", "StreamArn": "stream"}[attribute], tables_by_id[rid], None)
        return (kind, rid, attribute)
    if isinstance(resource, dict) and "Ref" in resource:
        rid = resource["Ref"]
        assert rid in resources, f"the policy names {rid}, which the template does not declare"
        return (resources[rid]["Type"], rid, None)
    if isinstance(resource, dict) and "Fn::Sub" in resource:
        text = resource["Fn::Sub"]
        assert text.startswith("${") and ".Arn}/index/" in text, text
        rid, index = text[2:].split(".Arn}/index/")
        assert rid in tables_by_id, f"the policy names {rid}, which the template does not declare"
        assert "*" not in index, text
        return ("index", tables_by_id[rid], index)
    raise AssertionError(f"the policy names a resource this test cannot check: {resource!r}")


def grants(stage: str) -> list[tuple[str, tuple[str, str | None, str | None]]]:
    template = package.merge_template(stage)
    out = []
    for statement in policy(stage)["Statement"]:
        assert statement["Effect"] == "Allow", statement
        actions = statement["Action"]
        resources = statement["Resource"]
        for action in [actions] if isinstance(actions, str) else actions:
            assert "*" not in action, f"wildcard action {action}"
            for resource in [resources] if not isinstance(resources, list) else resources:
                out.append((action, _resolve(resource, template)))
    return out


def dynamodb_grants(stage: str) -> set[tuple[str, str, str | None]]:
    base = f"recount-{stage}-"
    found = set()
    for action, (kind, name, index) in grants(stage):
        if kind in ("table", "index"):
            found.add((action, name.removeprefix(base), index))
    return found


# -- the merge template follows the models ------------------------------------------------------
def _model_keys(model) -> list[dict[str, str]]:
    attrs = model.get_attributes()
    keys_ = [{"AttributeName": n, "KeyType": "HASH"} for n, a in attrs.items() if a.is_hash_key]
    keys_ += [{"AttributeName": n, "KeyType": "RANGE"} for n, a in attrs.items() if a.is_range_key]
    return keys_


def _model_indexes(model) -> dict[str, dict[str, Any]]:
    from pynamodb.indexes import GlobalSecondaryIndex

    found = {}
    for value in vars(model).values():
        if isinstance(value, GlobalSecondaryIndex):
            attrs = {
                n: a
                for n, a in vars(type(value)).items()
                if getattr(a, "is_hash_key", False) or getattr(a, "is_range_key", False)
            }
            hash_ = [n for n, a in attrs.items() if a.is_hash_key]
            range_ = [n for n, a in attrs.items() if a.is_range_key]
            projection = value.Meta.projection
            found[value.Meta.index_name] = {
                "KeySchema": [{"AttributeName": hash_[0], "KeyType": "HASH"}]
                + [{"AttributeName": r, "KeyType": "RANGE"} for r in range_],
                "ProjectionType": projection.projection_type,
                "NonKeyAttributes": sorted(projection.non_key_attributes or []),
            }
    return found


@pytest.mark.parametrize("stage", STAGES)
def test_every_model_has_its_table_with_keys_indexes_stream_ttl_pitr_and_sse(stage):
    template = package.merge_template(stage)
    resources = template["Resources"]
    declared = _resource_names(template)
    expected = {m for m in tables.MODELS if m is not tables.DevSms}
    assert set(declared.values()) == {f"recount-{stage}-{m.Meta.base}" for m in expected}
    assert f"recount-{stage}-dev-sms" not in declared.values()
    for model in expected:
        rid = package.table_logical_id(model.Meta.base)
        props = resources[rid]["Properties"]
        assert resources[rid]["DeletionPolicy"] == "Retain"
        assert props["TableName"] == f"recount-{stage}-{model.Meta.base}"
        assert props["BillingMode"] == "PAY_PER_REQUEST"
        assert props["KeySchema"] == _model_keys(model), model
        indexes = {i["IndexName"]: i for i in props.get("GlobalSecondaryIndexes", [])}
        want = _model_indexes(model)
        assert set(indexes) == set(want), model
        for name, index in indexes.items():
            assert index["KeySchema"] == want[name]["KeySchema"], (model, name)
            assert index["Projection"]["ProjectionType"] == want[name]["ProjectionType"]
            assert (
                sorted(index["Projection"].get("NonKeyAttributes", []))
                == (want[name]["NonKeyAttributes"])
            )
        defined = {d["AttributeName"] for d in props["AttributeDefinitions"]}
        used = {k["AttributeName"] for k in props["KeySchema"]} | {
            k["AttributeName"] for i in indexes.values() for k in i["KeySchema"]
        }
        assert defined == used, model
        view = getattr(model.Meta, "stream_view_type", None)
        if view:
            assert props["StreamSpecification"] == {"StreamViewType": "NEW_IMAGE"}
        else:
            assert "StreamSpecification" not in props
        if "expires_at" in model.get_attributes():
            assert props["TimeToLiveSpecification"] == {
                "AttributeName": "expires_at",
                "Enabled": True,
            }
        else:
            assert "TimeToLiveSpecification" not in props
        assert props["PointInTimeRecoverySpecification"] == {"PointInTimeRecoveryEnabled": True}
        assert props["SSESpecification"] == {
            "SSEEnabled": True,
            "SSEType": "KMS",
            "KMSMasterKeyId": {"Ref": "RecountKey"},
        }
    assert resources["RecountKeyAlias"]["Properties"]["AliasName"] == f"alias/recount-{stage}"
    env = package.stage_environment(stage)
    assert env["RECOUNT_KMS_KEY_ID"] == f"alias/recount-{stage}"
    assert env["RECOUNT_TABLE_PREFIX"] == f"recount-{stage}"


@pytest.mark.parametrize("stage", STAGES)
def test_stream_sources_get_the_settings_chalice_cannot_set(stage):
    resources = package.merge_template(stage)["Resources"]
    for fn, table in (("OutboxDispatcher", "OutboxTable"), ("StatisticsAggregator", "EventsTable")):
        events = resources[fn]["Properties"]["Events"]
        (source,) = events.values()
        props = source["Properties"]
        assert props["Stream"] == {"Fn::GetAtt": [table, "StreamArn"]}
        assert props["BisectBatchOnFunctionError"] is True
        assert 0 < props["MaximumRetryAttempts"] <= 10
        assert 60 <= props["MaximumRecordAgeInSeconds"] <= 86400
        assert props["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
        assert props["DestinationConfig"]["OnFailure"]["Destination"] == {
            "Fn::GetAtt": ["StreamFailureQueue", "Arn"]
        }
    alarms = {
        rid: r["Properties"]
        for rid, r in resources.items()
        if r.get("Type") == "AWS::CloudWatch::Alarm"
    }
    metrics = {p.get("MetricName") for p in alarms.values()}
    assert {"SmsDead", "SlaBreaches", "5XXError", "Errors", "Throttles", "IteratorAge"} <= metrics
    throttle_alarms = [rid for rid in alarms if rid.endswith("TableThrottlesAlarm")]
    assert len(throttle_alarms) == len([m for m in tables.MODELS if m is not tables.DevSms])
    assert all(p["AlarmActions"] == [{"Ref": "AlarmTopic"}] for p in alarms.values())


@pytest.mark.parametrize("stage", STAGES)
def test_api_gateways_own_errors_are_problem_json_too(stage):
    """What API Gateway answers before any function runs (no such route, throttling, …)."""
    responses = package.merge_template(stage)["Resources"]["RestAPI"]["Properties"][
        "GatewayResponses"
    ]
    assert {"MISSING_AUTHENTICATION_TOKEN", "THROTTLED", "DEFAULT_4XX", "DEFAULT_5XX"} <= set(
        responses
    )
    for kind, response in responses.items():
        headers = response["ResponseParameters"]["Headers"]
        assert headers["Content-Type"] == "'application/problem+json'", kind
        # As on every answer of the app's (and of make run's stand-in for the gateway).
        assert headers["X-Content-Type-Options"] == "'nosniff'", kind
        assert headers["Referrer-Policy"] == "'no-referrer'", kind
        assert headers["Cache-Control"] == "'no-store'", kind
        (template,) = response["ResponseTemplates"].values()
        # Rendered as API Gateway does: the message arrives quoted, the request id bare.
        rendered = template.replace(
            "$context.error.messageString", '"Missing Authentication Token"'
        ).replace("$context.requestId", "c0ffee")
        body = json.loads(rendered)
        assert body["type"] == f"https://recount.example/problems/{body['code']}", kind
        assert body["title"] and body["detail"] and body["request_id"] == "c0ffee"
        if "StatusCode" in response:
            assert body["status"] == int(response["StatusCode"]), kind
        else:
            assert "status" not in body, kind  # the original status, which we cannot know
    missing = responses["MISSING_AUTHENTICATION_TOKEN"]
    assert missing["StatusCode"] == "404"
    (template,) = missing["ResponseTemplates"].values()
    assert "Missing Authentication Token" not in template  # a wrong path is not an auth failure


# -- the policy grants what the code uses, and nothing more -------------------------------------
EXPECTED_NON_DYNAMODB = {
    # The number envelope (adapters/kms.py) and SMS (adapters/sms.py).
    "kms:Encrypt",
    "kms:Decrypt",
    "sns:Publish",
    # The SMS provider's credentials (adapters/sms_china.py; the key secrets are read only in
    # deployed stages, see below).
    "secretsmanager:GetSecretValue",
}
# What Lambda itself needs for the functions: their logs, their streams, the failure queue.
PLATFORM = {
    ("logs:CreateLogStream", "AWS::Logs::LogGroup"),
    ("logs:PutLogEvents", "AWS::Logs::LogGroup"),
    ("dynamodb:DescribeStream", "stream"),
    ("dynamodb:GetRecords", "stream"),
    ("dynamodb:GetShardIterator", "stream"),
    ("dynamodb:ListStreams", "*"),  # no resource-level permission exists for it
    ("sqs:SendMessage", "AWS::SQS::Queue"),
    ("kms:Encrypt", "AWS::KMS::Key"),
    ("kms:Decrypt", "AWS::KMS::Key"),
    ("sns:Publish", "*"),  # SMS to a phone number has no ARN: AWS requires "*"
    # The keys, read at run time (stage local has demo keys instead: the package test reads
    # these two secrets from the unpacked zip, tests/integration/test_package_runs.py).
    ("secretsmanager:GetSecretValue", "AWS::SecretsManager::Secret"),
}


def provider_flow(client, frozen_clock, world, recorder: Recorder, monkeypatch) -> None:
    """The same service on an in-China provider (its credentials' secret, its delivery
    reports' index): a code, a filing, its receipt sent and reported delivered."""
    from chalicelib import config
    from chalicelib.adapters import aws
    from chalicelib.services import scheduler
    from scripts.fake_sms_providers import FakeAliyun
    from tests.integration import test_sms_providers as providers

    with recorder.paused():
        fake = FakeAliyun(now=lambda: frozen_clock.now().timestamp()).start()
        monkeypatch.setenv("RECOUNT_SMS_PROVIDER", "aliyun")
        monkeypatch.setenv("RECOUNT_SMS_ENDPOINT", fake.endpoint)
        aws.client("secretsmanager", world.region).create_secret(
            Name="recount/local/sms-provider",
            SecretString=json.dumps(providers.CREDENTIALS["aliyun"]),
        )
    try:
        api = Api(client, frozen_clock)
        providers.file(api, providers.sign_in(api, fake), "baidu")
        assert scheduler.tick(config.settings())["sms_sent"] == 1
        fake.deliver(fake.sent[-1].message_id)
        assert scheduler.tick(config.settings())["sms_delivered"] == 1
    finally:
        fake.stop()


def webhook_flow(client, frozen_clock, world, recorder: Recorder) -> None:
    """A company's endpoint (the guards table), an event delivered from the outbox, its
    delivery log (the outbox's webhook_log index), an operator's list."""
    from chalicelib.services import keys, scheduler
    from tests.integration.test_webhooks import Receiver

    api = Api(client, frozen_clock)
    receiver = Receiver()
    try:
        liaison = keys.issue("liaison", "kuaishou", "policy")["key"]
        put = api.call("PUT", "/v1/liaison/webhook", {"url": receiver.url}, token=liaison)
        assert put.status_code == 201, put.body
        token = api.sign_in(*DEMO["second"][:2])
        filing = {"items": [_item("kuaishou")]}
        assert api.call("POST", "/v1/disputes", filing, token=token).status_code == 201
        scheduler.tick(world)
        assert [json.loads(b)["type"] for _, b in receiver.requests] == ["case.opened"]
        log = api.call("GET", "/v1/liaison/webhook/deliveries", token=liaison)
        assert log.status_code == 200 and len(log.data["items"]) == 1, log.body
    finally:
        receiver.close()


def test_the_policy_grants_exactly_the_calls_the_code_makes(
    client, world, frozen_clock, recorder, monkeypatch
):
    recorder.on = True
    run_flow(client, frozen_clock, world, recorder)
    webhook_flow(client, frozen_clock, world, recorder)
    provider_flow(client, frozen_clock, world, recorder, monkeypatch)
    recorder.on = False
    local = f"{world.table_prefix}-"
    used = {
        (action, table.removeprefix(local), index)
        for action, table, index in recorder.calls
        if action.startswith("dynamodb:") and table != f"{local}dev-sms"  # stage local only
    }
    others = {action for action, _, _ in recorder.calls if not action.startswith("dynamodb:")}
    assert others == EXPECTED_NON_DYNAMODB, sorted(others)
    assert not any(a in ("dynamodb:Scan", "dynamodb:DescribeTable") for a, _, _ in used)

    for stage in STAGES:
        granted = dynamodb_grants(stage)
        missing = sorted(used - granted, key=str)
        unused = sorted(granted - used, key=str)
        assert not missing, (
            f".chalice/policy.json ({stage}) lacks what the code does (action, table, index): "
            f"{missing}"
        )
        assert not unused, (
            f".chalice/policy.json ({stage}) grants what no flow uses (action, table, index): "
            f"{unused}"
        )


@pytest.mark.parametrize("stage", STAGES)
def test_the_policy_has_no_wildcards_beyond_what_aws_requires(stage):
    rest = set()
    for action, (kind, name, _) in grants(stage):
        if kind in ("table", "index"):
            assert name.startswith(f"recount-{stage}-"), name
            continue
        if kind == "stream":
            assert name in (f"recount-{stage}-outbox", f"recount-{stage}-events"), name
        rest.add((action, kind))
    assert rest == PLATFORM, sorted(rest ^ PLATFORM)
    # The key is used only for the number envelope (its encryption context is required) and,
    # through Secrets Manager alone, to decrypt the key secrets.
    kms = [s for s in policy(stage)["Statement"] if any(a.startswith("kms:") for a in s["Action"])]
    conditions = [s["Condition"]["StringEquals"] for s in kms]
    assert len(conditions) == 2
    assert {"kms:EncryptionContext:purpose": "recount-sms-recipient"} in conditions
    through = {"Fn::Sub": "secretsmanager.${AWS::Region}.${AWS::URLSuffix}"}
    assert {"kms:ViaService": through} in conditions
    (secrets,) = [
        s for s in policy(stage)["Statement"] if "secretsmanager:GetSecretValue" in s["Action"]
    ]
    assert secrets["Resource"] == [
        {"Ref": "HmacKeySecret"},
        {"Ref": "TokenKeysSecret"},
        {"Ref": "SmsProviderSecret"},
    ]


def test_dev_and_prod_share_one_policy():
    files = {stage_settings(stage)["iam_policy_file"] for stage in ("dev", "prod")}
    assert files == {"policy.json"}


# -- the packaged template passes cfn-lint ------------------------------------------------------
def test_make_package_output_passes_cfn_lint():
    """`chalice package --merge-template` + cfn-lint (SAM transform) for prod, in a region of
    each partition: Hong Kong (aws) and Beijing (aws-cn)."""
    template_path = package.package("prod", lint=False)
    data = json.loads(Path(template_path).read_text())
    text = json.dumps(data)
    assert "set-by-package" not in text  # the placeholder stream ARNs were replaced
    assert package.partition_problems(data) == []
    roles = [r for r in data["Resources"].values() if r["Type"] == "AWS::IAM::Role"]
    assert roles
    for role in roles:
        (attached,) = role["Properties"]["Policies"]
        assert attached["PolicyDocument"] == policy("prod")
    functions = {
        rid: r["Properties"]
        for rid, r in data["Resources"].items()
        if r["Type"] == "AWS::Serverless::Function"
    }
    assert set(functions) == set(package.FUNCTIONS)
    for props in functions.values():
        assert props["Runtime"] == "python3.11"
        variables = props["Environment"]["Variables"]
        assert variables["RECOUNT_TABLE_PREFIX"] == "recount-prod"
        # Where the keys are, never the keys: no variable holds or resolves a secret.
        assert variables["RECOUNT_HMAC_SECRET"] == {"Ref": "HmacKeySecret"}
        assert variables["RECOUNT_TOKEN_SECRET"] == {"Ref": "TokenKeysSecret"}
        assert not set(variables) & {"RECOUNT_HMAC_KEY", "RECOUNT_TOKEN_KEY"}
        assert "resolve:secretsmanager" not in json.dumps(variables)
    api = data["Resources"]["RestAPI"]["Properties"]
    assert (
        api["GatewayResponses"]
        == package.gateway_responses()["RestAPI"]["Properties"]["GatewayResponses"]
    )
    assert api["EndpointConfiguration"] == "REGIONAL"  # edge-optimized APIs do not exist in China
    result = package.cfn_lint(Path(template_path))
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_partition_check_catches_what_ties_a_template_to_aws():
    tied = {
        "A": {"Properties": {"Arn": "arn:aws:iam::1:root", "Url": "sqs.ap-east-1.amazonaws.com"}},
        "B": [{"Principal": "lambda.amazonaws.com"}, {"Fn::Sub": "arn:${AWS::Partition}:iam::"}],
    }
    assert package.partition_problems(tied) == [
        "/A/Properties/Arn: arn:aws:iam::1:root",
        "/A/Properties/Url: sqs.ap-east-1.amazonaws.com",
    ]
