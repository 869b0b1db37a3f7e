"""The Lambda zip that `make package` builds, unpacked and run the way Lambda runs it (issue 12).

`make package` (stage dev) builds build/dev/deployment.zip; it is unpacked into a scratch folder
and loaded in a fresh interpreter whose import path is that folder and the standard library
alone (tests/integration/package_driver.py), with the environment the template gives the
functions. AWS is moto server on loopback, provisioned from the template's own table
definitions, with the KMS key and the two key secrets the stack would hold. The events are real
Lambda events: API Gateway proxy events built by `chalice local`'s own converter, DynamoDB
stream records read from moto's streams, and the scheduler's EventBridge event.
"""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
import zipfile
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import boto3
import pytest
from chalice.local import LambdaEventConverter, RouteMatcher
from moto.core import DEFAULT_ACCOUNT_ID
from moto.sns.models import sns_backends

from chalicelib.domain.identity import holder_check_hmac, phone_hmac
from tests.integration.test_package import package
from tests.support import serialised_moto, stream_records

HERE = Path(__file__).resolve().parent
STAGE = "dev"
REGION = "ap-east-1"
PHONE, ID_LAST6 = "13800138000", "12345X"
E164 = "+86" + PHONE
HMAC_KEY = "package-test-hmac-key-0123456789abcdef"
TOKEN_KEYS = {"current": "k1", "k1": "package-test-token-key-0123456789abcdef"}
OPERATOR_KEY_ID = "KPACKAGE01"
OPERATOR_SECRET = "package-test-operator-secret"


# -- the package, unpacked ---------------------------------------------------------------------
@pytest.fixture(scope="module")
def packaged(tmp_path_factory) -> tuple[dict[str, Any], Path]:
    template_path = package.package(STAGE, lint=False)
    unpacked = tmp_path_factory.mktemp("lambda-package")
    with zipfile.ZipFile(template_path.parent / "deployment.zip") as archive:
        archive.extractall(unpacked)
    return json.loads(template_path.read_text()), unpacked


# -- the AWS the stack would create, on moto server --------------------------------------------
@pytest.fixture(scope="module")
def moto_endpoint() -> Iterator[str]:
    with serialised_moto() as endpoint:  # as make run's: DynamoDB one request at a time
        yield endpoint


def _aws(endpoint: str, service: str):
    return boto3.client(service, region_name=REGION, endpoint_url=endpoint)


def _create_tables(template: dict[str, Any], endpoint: str) -> None:
    ddb = _aws(endpoint, "dynamodb")
    for resource in template["Resources"].values():
        if resource["Type"] != "AWS::DynamoDB::Table":
            continue
        props = resource["Properties"]
        args: dict[str, Any] = {
            key: props[key]
            for key in ("TableName", "AttributeDefinitions", "KeySchema", "BillingMode")
        }
        if "GlobalSecondaryIndexes" in props:
            args["GlobalSecondaryIndexes"] = props["GlobalSecondaryIndexes"]
        if "StreamSpecification" in props:
            args["StreamSpecification"] = {"StreamEnabled": True, **props["StreamSpecification"]}
        ddb.create_table(**args)
        ttl = props.get("TimeToLiveSpecification")
        if ttl:
            ddb.update_time_to_live(TableName=props["TableName"], TimeToLiveSpecification=ttl)


def _provision(template: dict[str, Any], endpoint: str) -> dict[str, str]:
    """Tables, key, secrets and one subscriber and operator key; returns the secrets' ARNs
    by logical id (what the template's `Ref`s resolve to)."""
    _create_tables(template, endpoint)
    kms = _aws(endpoint, "kms")
    key_id = kms.create_key(Description="recount package test")["KeyMetadata"]["KeyId"]
    kms.create_alias(AliasName=f"alias/recount-{STAGE}", TargetKeyId=key_id)
    secrets = _aws(endpoint, "secretsmanager")
    refs = {
        "HmacKeySecret": secrets.create_secret(
            Name=f"recount/{STAGE}/hmac-key", SecretString=HMAC_KEY
        )["ARN"],
        "TokenKeysSecret": secrets.create_secret(
            Name=f"recount/{STAGE}/token-keys", SecretString=json.dumps(TOKEN_KEYS)
        )["ARN"],
        # As the stack makes it: empty until the operator puts a provider's key (SNS here).
        "SmsProviderSecret": secrets.create_secret(
            Name=f"recount/{STAGE}/sms-provider", SecretString="{}"
        )["ARN"],
    }
    ddb = _aws(endpoint, "dynamodb")
    key = HMAC_KEY.encode()
    ddb.put_item(
        TableName=f"recount-{STAGE}-subscribers",
        Item={
            "phone_key": {"S": phone_hmac(key, E164)},
            "holder_check": {"S": holder_check_hmac(key, E164, ID_LAST6)},
            "status": {"S": "active"},
            "carrier": {"S": "China Mobile"},
        },
    )
    ddb.put_item(
        TableName=f"recount-{STAGE}-keys",
        Item={
            "key_id": {"S": OPERATOR_KEY_ID},
            "role": {"S": "operator"},
            "secret_digest": {"S": hashlib.sha256(OPERATOR_SECRET.encode()).hexdigest()},
            "created_at": {"S": datetime.now(UTC).isoformat()},
        },
    )
    return refs


def function_environment(template: dict[str, Any], refs: dict[str, str]) -> dict[str, str]:
    """The API function's variables as CloudFormation would resolve them."""
    variables = template["Resources"]["APIHandler"]["Properties"]["Environment"]["Variables"]
    env = {}
    for name, value in variables.items():
        env[name] = refs[value["Ref"]] if isinstance(value, dict) else value
    return env


# -- one warm Lambda container running the unpacked package -----------------------------------
class PackagedLambda:
    def __init__(self, unpacked: Path, env: dict[str, str], routes: list[str]) -> None:
        self.logs = unpacked.parent / f"{unpacked.name}.log"
        self._log = self.logs.open("w")
        self.process = subprocess.Popen(
            [sys.executable, "-I", "-S", str(HERE / "package_driver.py"), str(unpacked)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self._log,
            env=env,
            text=True,
        )
        assert self._read() == {"started": True}
        self._events = LambdaEventConverter(RouteMatcher(routes))

    def _read(self) -> dict[str, Any]:
        line = self.process.stdout.readline()
        assert line, f"the package's interpreter died:\n{self.logs.read_text()}"
        return json.loads(line)

    def invoke(self, handler: str, event: dict[str, Any]) -> Any:
        self.process.stdin.write(json.dumps({"handler": handler, "event": event}) + "\n")
        self.process.stdin.flush()
        answer = self._read()
        assert "error" not in answer, answer["error"]
        return answer["result"]

    def http(
        self,
        method: str,
        path: str,
        body: Any = None,
        headers: dict[str, str] | None = None,
    ) -> SimpleNamespace:
        """An API Gateway proxy event as `chalice local` builds it, answered by the package."""
        headers = {"content-type": "application/json", **(headers or {})}
        event = self._events.create_lambda_event(
            method, path, headers, None if body is None else json.dumps(body)
        )
        event["requestContext"]["requestId"] = f"package-test-{method}-{path}"
        result = self.invoke("api_handler", event)
        response_headers = {k.lower(): v for k, v in result.get("headers", {}).items()}
        for name, values in (result.get("multiValueHeaders") or {}).items():
            response_headers[name.lower()] = values[-1]
        text = result.get("body") or ""
        kind = response_headers.get("content-type", "")
        return SimpleNamespace(
            status=result["statusCode"],
            headers=response_headers,
            text=text,
            data=json.loads(text) if text and "json" in kind else None,
        )

    def close(self) -> str:
        self.process.stdin.close()
        self.process.wait(timeout=30)
        self._log.close()
        return self.logs.read_text()


@pytest.fixture(scope="module")
def lambda_container(packaged, moto_endpoint) -> Iterator[PackagedLambda]:
    from app import app as local_app

    template, unpacked = packaged
    refs = _provision(template, moto_endpoint)
    env = {
        **function_environment(template, refs),
        "AWS_ENDPOINT_URL": moto_endpoint,
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": REGION,
        "AWS_REGION": REGION,
        "AWS_ACCOUNT_ID_ENDPOINT_MODE": "disabled",
        "AWS_LAMBDA_FUNCTION_NAME": f"recount-{STAGE}",
        "LANG": "C.UTF-8",
    }
    container = PackagedLambda(unpacked, env, list(local_app.routes))
    try:
        yield container
    finally:
        container.close()


def sms_to(e164: str) -> list[str]:
    return [
        text
        for number, text in sns_backends[DEFAULT_ACCOUNT_ID][REGION].sms_messages.values()
        if number == e164
    ]


def _stream_event(endpoint: str, base: str, monkeypatch) -> dict[str, Any]:
    monkeypatch.setenv("AWS_ENDPOINT_URL", endpoint)
    where = SimpleNamespace(region=REGION, table_name=lambda b: f"recount-{STAGE}-{b}")
    return {"Records": stream_records(where, base)}


# -- the tests ---------------------------------------------------------------------------------
def test_the_zip_holds_what_the_code_reads(packaged):
    _, unpacked = packaged
    for name in package.runtime_data_files():
        assert (unpacked / name).is_file(), name
    assert (unpacked / "workflows" / "case_workflow.yaml").is_file()
    assert (unpacked / "templates" / "sms").is_dir()


def test_make_package_fails_naming_a_missing_file(packaged, tmp_path):
    _, unpacked = packaged
    broken = tmp_path / "deployment.zip"
    with zipfile.ZipFile(broken, "w") as archive:
        for path in sorted(unpacked.rglob("*")):
            name = path.relative_to(unpacked).as_posix()
            if path.is_file() and name != "workflows/directory.yaml":
                archive.write(path, name)
    with pytest.raises(SystemExit, match=r"workflows/directory\.yaml"):
        package.check_zip(broken, package.runtime_data_files())


def test_every_kind_of_event_answers_from_the_package(lambda_container, moto_endpoint, monkeypatch):
    run = lambda_container

    page = run.http("GET", "/")
    assert page.status == 200 and page.headers["content-type"].startswith("text/html")
    assert "申诉" in page.text

    directory = run.http("GET", "/v1/directory")
    assert directory.status == 200, directory.text
    assert "jd" in json.dumps(directory.data)

    # The person: a code by SMS, a session, a filing.
    assert run.http("POST", "/v1/verification-codes", {"phone": PHONE}).status == 202
    (code_sms,) = sms_to(E164)
    code = code_sms.split("验证码", 1)[1][:6]
    session = run.http("POST", "/v1/sessions", {"phone": PHONE, "id_last6": ID_LAST6, "code": code})
    assert session.status == 201, session.text
    token = session.data["token"]
    assert token.startswith("v2.k1."), "signed with the current key from Secrets Manager"
    bearer = {"authorization": f"Bearer {token}"}
    item = {"company": "jd", "reported_count": 3, "expected_count": 1, "reason": "not_mine"}
    filed = run.http("POST", "/v1/disputes", {"items": [item]}, bearer)
    assert filed.status == 201, filed.text
    (case,) = filed.data["cases"]
    mine = run.http("GET", f"/v1/disputes/{filed.data['dispute_id']}", headers=bearer)
    assert mine.status == 200 and mine.data["cases"][0]["case_id"] == case["case_id"]

    bad = run.http("POST", "/v1/disputes", {"items": [item], "extra": 1}, bearer)
    assert bad.status == 422 and bad.headers["content-type"] == "application/problem+json"

    # The operator issues a liaison key; the liaison acknowledges with If-Match.
    operator = {"authorization": f"Bearer rk_{OPERATOR_KEY_ID}_{OPERATOR_SECRET}"}
    issued = run.http(
        "POST", "/v1/admin/liaison-keys", {"role": "liaison", "company": "jd"}, operator
    )
    assert issued.status == 201, issued.text
    liaison = {"authorization": f"Bearer {issued.data['key']}"}
    seen = run.http("GET", f"/v1/liaison/cases/{case['case_id']}", headers=liaison)
    assert seen.status == 200 and PHONE not in seen.text
    acknowledged = run.http(
        "POST",
        f"/v1/liaison/cases/{case['case_id']}/transitions",
        {"action": "acknowledge"},
        {**liaison, "if-match": seen.headers["etag"]},
    )
    assert acknowledged.status == 200, acknowledged.text
    assert acknowledged.data["state"] == "acknowledged"
    # The queue, read across its shards (case_store.LIST_SHARDS), and the operators' view.
    queue = run.http("GET", "/v1/liaison/cases?state=acknowledged", headers=liaison)
    assert queue.status == 200, queue.text
    assert [c["case_id"] for c in queue.data["items"]] == [case["case_id"]]
    in_state = run.http("GET", "/v1/admin/cases?state=acknowledged", headers=operator)
    assert [c["case_id"] for c in in_state.data["items"]] == [case["case_id"]]

    # The outbox stream: the filing's receipt goes out through SNS.
    dispatched = run.invoke(
        "outbox_dispatcher", _stream_event(moto_endpoint, "outbox", monkeypatch)
    )
    assert dispatched["batchItemFailures"] == [] and dispatched["dispatched"] >= 1
    receipts = [text for text in sms_to(E164) if filed.data["dispute_id"] in text]
    assert receipts, sms_to(E164)

    # The audit stream feeds the statistics.
    aggregated = run.invoke(
        "statistics_aggregator", _stream_event(moto_endpoint, "events", monkeypatch)
    )
    assert aggregated["batchItemFailures"] == [] and aggregated["counted"] >= 2
    stats = run.http("GET", "/v1/admin/stats", headers=operator)
    assert stats.status == 200, stats.text

    # The scheduler's tick, as EventBridge sends it.
    tick = {
        "version": "0",
        "id": "package-test-tick",
        "detail-type": "Scheduled Event",
        "source": "aws.events",
        "account": DEFAULT_ACCOUNT_ID,
        "time": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "region": REGION,
        "resources": [f"arn:aws:events:{REGION}:{DEFAULT_ACCOUNT_ID}:rule/recount-dev-tick"],
        "detail": {},
    }
    run.invoke("scheduler_tick", tick)


def test_the_package_ran_on_its_own_modules_only(lambda_container, packaged):
    """After every kind of event: each module loaded came from the zip or the standard
    library, never from this project's virtual environment."""
    _, unpacked = packaged
    loaded = lambda_container.invoke("loaded_modules", {})
    stdlib = Path(sys.base_prefix)
    for name in ("app", "chalice", "chalicelib", "boto3", "botocore", "pynamodb", "jinja2"):
        assert Path(loaded["modules"][name]).is_relative_to(unpacked), name
    driver = HERE / "package_driver.py"
    for name, file in loaded["modules"].items():
        path = Path(file or driver)
        if path != driver:
            assert path.is_relative_to(unpacked) or path.is_relative_to(stdlib), (name, file)
    venv = Path(sys.prefix)
    assert not any(Path(p).is_relative_to(venv) for p in loaded["path"] if p)


def test_the_package_logs_json_lines_without_a_number(lambda_container):
    logs = lambda_container.close()
    lines = [json.loads(line) for line in logs.splitlines() if line.startswith("{")]
    assert lines, logs[-2000:]
    assert PHONE not in logs and ID_LAST6 not in logs
