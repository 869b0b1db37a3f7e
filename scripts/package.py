"""`make package`: a CloudFormation (SAM) stack an operator can deploy as is.

    python scripts/package.py --stage prod      # or dev; writes build/<stage>/sam.json

1. Builds the merge template FROM the PynamoDB models (chalicelib/adapters/tables.py is the one
   source of truth): every table with its keys, GSIs and projections, a NEW_IMAGE stream where
   the model's Meta asks for one, TTL on `expires_at`, point-in-time recovery, SSE with the
   project's KMS key, on-demand billing. The dev-sms table exists in stage `local` only.
2. Adds what `chalice package` cannot: the KMS key and its alias (alias/recount-<stage>), the
   stream event-source settings (bisect on error, retry and age limits, an SQS on-failure
   destination, partial batch responses) with the real stream ARNs, fixed function names and
   their log groups (so the hand-written policy can name them), the alarms with their SNS
   topic, and API Gateway's own errors (unknown route, throttling, …) as problem+json.
   Also the two key secrets (generated values, read at run time: chalicelib/adapters/secrets.py),
   whose ARNs, not values, reach the functions' environment.
3. Runs `chalice package --stage X --merge-template <it> build/<stage>` with this interpreter
   (Chalice takes the Lambda runtime from the Python that runs it) and AWS_DEFAULT_REGION set.
4. Adds what the code reads at run time besides app.py, chalicelib/ and vendor/ (Chalice's
   only contents) to the Lambda zip: RUNTIME_DATA, at the paths the code resolves. Fails,
   naming the file, if any tracked file under them is missing from the zip.
5. Checks the template is partition-agnostic (no `arn:aws:`, no `amazonaws.com`: the China
   regions are `aws-cn` and `amazonaws.com.cn`) and runs cfn-lint (it applies the SAM
   transform itself) for every region in LINT_REGIONS.

The IAM policy is NOT generated: it is hand-written in .chalice/policy.json (both stages) and refers
to the resources below by logical id. tests/integration/test_package.py checks both against
each other and against the AWS calls the code really makes.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import time
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from scripts.stage_config import UnknownStage, stage_variables  # noqa: E402

BUILD = ROOT / "build"
DEPLOYED_STAGES = ("dev", "prod")
DEFAULT_REGION = "ap-east-1"
# The template deploys to any partition: linted for Hong Kong (aws) and Beijing (aws-cn).
LINT_REGIONS = ("ap-east-1", "cn-north-1")
# Top-level folders the code reads at run time (workflow, directory, SMS and page texts).
RUNTIME_DATA = ("workflows", "templates")
HMAC_SECRET_ID = "HmacKeySecret"
TOKEN_SECRET_ID = "TokenKeysSecret"
SMS_SECRET_ID = "SmsProviderSecret"
TTL_ATTRIBUTE = "expires_at"
KEY_ID = "RecountKey"
QUEUE_ID = "StreamFailureQueue"
TOPIC_ID = "AlarmTopic"
METRICS_NAMESPACE = "Recount"
SERVICE = "recount"
# Chalice's logical ids in the generated SAM template → our function-name suffix.
FUNCTIONS = {
    "APIHandler": "",
    "SchedulerTick": "-scheduler_tick",
    "OutboxDispatcher": "-outbox_dispatcher",
    "StatisticsAggregator": "-statistics_aggregator",
}
# Stream-triggered functions: (event id in Chalice's template, table base name, limits).
STREAM_SOURCES = {
    "OutboxDispatcher": {
        "event": "OutboxDispatcherDynamodbEventSource",
        "table": "outbox",
        # An unsent SMS is also picked up by the scheduler's backstop: give up early here.
        "MaximumRetryAttempts": 3,
        "MaximumRecordAgeInSeconds": 3600,
    },
    "StatisticsAggregator": {
        "event": "StatisticsAggregatorDynamodbEventSource",
        "table": "events",
        # Statistics have no other source: retry longer, within the stream's 24 h.
        "MaximumRetryAttempts": 10,
        "MaximumRecordAgeInSeconds": 21600,
    },
}
LOG_RETENTION_DAYS = {"dev": 14, "prod": 90}
PERIOD = 300


# ---------------------------------------------------------------------------- configuration


def stage_environment(stage: str) -> dict[str, str]:
    try:
        return stage_variables(stage)
    except UnknownStage as unknown:
        raise SystemExit(unknown.args[0]) from None


@contextmanager
def _environment(values: dict[str, str], unset: tuple[str, ...] = ()) -> Iterator[None]:
    saved = {name: os.environ.get(name) for name in (*values, *unset)}
    for name in unset:
        os.environ.pop(name, None)
    os.environ.update(values)
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def stage_settings(stage: str, region: str = DEFAULT_REGION):
    """The stage's Settings, read the way the Lambda reads them (chalicelib.config)."""
    from chalicelib import config

    env = {"AWS_DEFAULT_REGION": region, **stage_environment(stage)}
    # Exactly the stage's variables: none of the caller's own (a local shell's demo keys).
    others = tuple(n for n in os.environ if n.startswith("RECOUNT_") and n not in env)
    with _environment(env, unset=others):
        return config.settings()


def function_name(stage: str, logical_id: str) -> str:
    return f"{SERVICE}-{stage}{FUNCTIONS[logical_id]}"


# ---------------------------------------------------------------------------- tables


def table_logical_id(base: str) -> str:
    return "".join(part.capitalize() for part in re.split(r"[-_]", base)) + "Table"


def deployed_models(settings) -> list:
    from chalicelib.adapters import tables

    return [m for m in tables.MODELS if settings.is_local or m is not tables.DevSms]


def _key_schema(elements: list[dict[str, str]]) -> list[dict[str, str]]:
    """HASH first, then RANGE (PynamoDB does not keep the order)."""
    order = {"HASH": 0, "RANGE": 1}
    return [
        {"AttributeName": e["AttributeName"], "KeyType": e["KeyType"]}
        for e in sorted(elements, key=lambda e: order[e["KeyType"]])
    ]


def _projection(projection: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {"ProjectionType": projection["ProjectionType"]}
    if projection.get("NonKeyAttributes"):
        out["NonKeyAttributes"] = sorted(projection["NonKeyAttributes"])
    return out


def ttl_attribute(model) -> str | None:
    from pynamodb.attributes import TTLAttribute

    names = [n for n, a in model.get_attributes().items() if isinstance(a, TTLAttribute)]
    if len(names) > 1:
        raise SystemExit(f"{model.__name__} has several TTL attributes: {names}")
    return names[0] if names else None


def table_resource(model, settings) -> dict[str, Any]:
    schema = model._get_schema()
    definitions = {d["AttributeName"]: d["AttributeType"] for d in schema["attribute_definitions"]}
    properties: dict[str, Any] = {
        "TableName": settings.table_name(model.Meta.base),
        "BillingMode": "PAY_PER_REQUEST",
        "AttributeDefinitions": [
            {"AttributeName": name, "AttributeType": kind}
            for name, kind in sorted(definitions.items())
        ],
        "KeySchema": _key_schema(schema["key_schema"]),
        "PointInTimeRecoverySpecification": {"PointInTimeRecoveryEnabled": True},
        "SSESpecification": {
            "SSEEnabled": True,
            "SSEType": "KMS",
            "KMSMasterKeyId": {"Ref": KEY_ID},
        },
        "DeletionProtectionEnabled": settings.stage == "prod",
        "Tags": [{"Key": "app", "Value": SERVICE}, {"Key": "stage", "Value": settings.stage}],
    }
    if schema["global_secondary_indexes"]:
        properties["GlobalSecondaryIndexes"] = [
            {
                "IndexName": index["index_name"],
                "KeySchema": _key_schema(index["key_schema"]),
                "Projection": _projection(index["projection"]),
            }
            for index in sorted(schema["global_secondary_indexes"], key=lambda i: i["index_name"])
        ]
    if schema["local_secondary_indexes"]:
        raise SystemExit(f"{model.__name__}: local secondary indexes are not supported here")
    view = getattr(model.Meta, "stream_view_type", None)
    if view:
        properties["StreamSpecification"] = {"StreamViewType": view}
    ttl = ttl_attribute(model)
    if ttl:
        if ttl != TTL_ATTRIBUTE:
            raise SystemExit(f"{model.__name__}: the TTL attribute must be {TTL_ATTRIBUTE!r}")
        properties["TimeToLiveSpecification"] = {"AttributeName": ttl, "Enabled": True}
    return {
        "Type": "AWS::DynamoDB::Table",
        # The data outlives the stack: deleting or replacing the stack keeps the tables.
        "DeletionPolicy": "Retain",
        "UpdateReplacePolicy": "Retain",
        "Properties": properties,
    }


# ---------------------------------------------------------------------------- key, queue, logs


def key_resources(stage: str) -> dict[str, Any]:
    return {
        KEY_ID: {
            "Type": "AWS::KMS::Key",
            "DeletionPolicy": "Retain",
            "UpdateReplacePolicy": "Retain",
            "Properties": {
                "Description": f"recount {stage}: table encryption and the SMS-number envelope",
                "EnableKeyRotation": True,
                "KeyPolicy": {
                    "Version": "2012-10-17",
                    "Statement": [
                        {
                            # The account's IAM policies decide (the function role's names it).
                            "Sid": "EnableIamPolicies",
                            "Effect": "Allow",
                            "Principal": {
                                "AWS": {
                                    "Fn::Sub": "arn:${AWS::Partition}:iam::${AWS::AccountId}:root"
                                }
                            },
                            "Action": "kms:*",
                            "Resource": "*",
                        },
                        {
                            # AWS's documented statement for DynamoDB tables encrypted with a
                            # customer managed key: principals of this account, through DynamoDB.
                            "Sid": "DynamoDbOnBehalfOfThisAccount",
                            "Effect": "Allow",
                            "Principal": {"AWS": "*"},
                            "Action": [
                                "kms:Encrypt",
                                "kms:Decrypt",
                                "kms:ReEncrypt*",
                                "kms:GenerateDataKey*",
                                "kms:CreateGrant",
                                "kms:DescribeKey",
                            ],
                            "Resource": "*",
                            "Condition": {
                                "StringEquals": {
                                    "kms:CallerAccount": {"Ref": "AWS::AccountId"},
                                    "kms:ViaService": {
                                        # amazonaws.com.cn in the China regions
                                        "Fn::Sub": "dynamodb.${AWS::Region}.${AWS::URLSuffix}"
                                    },
                                }
                            },
                        },
                    ],
                },
                "Tags": [{"Key": "app", "Value": SERVICE}, {"Key": "stage", "Value": stage}],
            },
        },
        "RecountKeyAlias": {
            "Type": "AWS::KMS::Alias",
            "Properties": {"AliasName": f"alias/recount-{stage}", "TargetKeyId": {"Ref": KEY_ID}},
        },
    }


def queue_resources(stage: str) -> dict[str, Any]:
    return {
        QUEUE_ID: {
            "Type": "AWS::SQS::Queue",
            "Properties": {
                "QueueName": f"recount-{stage}-stream-failures",
                # What lands here is stream metadata (shard, sequence numbers), never items.
                "MessageRetentionPeriod": 1209600,
                "SqsManagedSseEnabled": True,
            },
        }
    }


def secret_resources(stage: str) -> dict[str, Any]:
    """The look-up key and the token keys, generated by Secrets Manager: no person sees them,
    no file holds them. Retained: losing the look-up key orphans every stored look-up."""
    generated = {"PasswordLength": 64, "ExcludePunctuation": True}
    tags = [{"Key": "app", "Value": SERVICE}, {"Key": "stage", "Value": stage}]
    retained = {"DeletionPolicy": "Retain", "UpdateReplacePolicy": "Retain"}
    return {
        HMAC_SECRET_ID: {
            "Type": "AWS::SecretsManager::Secret",
            **retained,
            "Properties": {
                "Name": f"recount/{stage}/hmac-key",
                "Description": "recount: HMAC key of every number look-up (never rotate "
                "casually: docs/operations.md)",
                "KmsKeyId": {"Ref": KEY_ID},
                "GenerateSecretString": generated,
                "Tags": tags,
            },
        },
        TOKEN_SECRET_ID: {
            "Type": "AWS::SecretsManager::Secret",
            **retained,
            "Properties": {
                "Name": f"recount/{stage}/token-keys",
                "Description": 'recount: session-token keys, {"current": id, id: key, …}',
                "KmsKeyId": {"Ref": KEY_ID},
                "GenerateSecretString": {
                    **generated,
                    "SecretStringTemplate": json.dumps({"current": "k1"}),
                    "GenerateStringKey": "k1",
                },
                "Tags": tags,
            },
        },
        # The in-China SMS provider's credentials (docs/operations.md): the stack makes the
        # empty secret, the operator puts the provider's key into it; no file ever holds it.
        SMS_SECRET_ID: {
            "Type": "AWS::SecretsManager::Secret",
            **retained,
            "Properties": {
                "Name": f"recount/{stage}/sms-provider",
                "Description": "recount: the SMS provider's credentials (aliyun or tencent), "
                "a JSON object put by the operator (docs/operations.md)",
                "KmsKeyId": {"Ref": KEY_ID},
                "SecretString": "{}",
                "Tags": tags,
            },
        },
    }


def log_group_id(logical_id: str) -> str:
    return f"{logical_id}LogGroup"


def log_resources(stage: str) -> dict[str, Any]:
    return {
        log_group_id(fn): {
            "Type": "AWS::Logs::LogGroup",
            "DeletionPolicy": "Delete",
            "UpdateReplacePolicy": "Delete",
            "Properties": {
                "LogGroupName": f"/aws/lambda/{function_name(stage, fn)}",
                "RetentionInDays": LOG_RETENTION_DAYS.get(stage, 14),
            },
        }
        for fn in FUNCTIONS
    }


def function_overrides(stage: str, settings) -> dict[str, Any]:
    """Merged into Chalice's functions: names, log groups first, stream settings."""
    out: dict[str, Any] = {}
    for fn in FUNCTIONS:
        out[fn] = {
            "DependsOn": [log_group_id(fn)],
            "Properties": {
                "FunctionName": function_name(stage, fn),
                # Where the keys are, not the keys (merged into Chalice's variables).
                "Environment": {
                    "Variables": {
                        "RECOUNT_HMAC_SECRET": {"Ref": HMAC_SECRET_ID},
                        "RECOUNT_TOKEN_SECRET": {"Ref": TOKEN_SECRET_ID},
                        "RECOUNT_SMS_SECRET": {"Ref": SMS_SECRET_ID},
                    }
                },
            },
        }
    for fn, source in STREAM_SOURCES.items():
        out[fn]["Properties"]["Events"] = {
            source["event"]: {
                "Type": "DynamoDB",
                "Properties": {
                    "Stream": {"Fn::GetAtt": [table_logical_id(source["table"]), "StreamArn"]},
                    "BisectBatchOnFunctionError": True,
                    "MaximumRetryAttempts": source["MaximumRetryAttempts"],
                    "MaximumRecordAgeInSeconds": source["MaximumRecordAgeInSeconds"],
                    "FunctionResponseTypes": ["ReportBatchItemFailures"],
                    "DestinationConfig": {
                        "OnFailure": {
                            "Type": "SQS",
                            "Destination": {"Fn::GetAtt": [QUEUE_ID, "Arn"]},
                        }
                    },
                },
            }
        }
    return out


# ---------------------------------------------------------------------------- gateway errors
# What API Gateway answers itself, before any function runs, in the same problem+json shape as
# every other error (chalicelib/api/http.py). A method or path with no route reaches API
# Gateway as MISSING_AUTHENTICATION_TOKEN (its 403 "Missing Authentication Token"): a 404
# here. The DEFAULT_* entries keep the original status, which a template cannot read.
GATEWAY_PROBLEMS = {
    # response type: (status, or None to keep API Gateway's; code; title; detail, or None for
    # API Gateway's own message)
    "MISSING_AUTHENTICATION_TOKEN": (
        404,
        "route_not_found",
        "Not Found",
        "No route has this method and path; see /openapi.json",
    ),
    "THROTTLED": (429, "throttled", "Too Many Requests", None),
    "REQUEST_TOO_LARGE": (413, "payload_too_large", "Content Too Large", None),
    "DEFAULT_4XX": (None, "request_rejected", "Request rejected", None),
    "DEFAULT_5XX": (None, "gateway_error", "Service unavailable", None),
}


def gateway_problem_template(status: int | None, code: str, title: str, detail: str | None) -> str:
    """The body API Gateway renders; $context.error.messageString is its message, quoted."""
    from chalicelib.api.http import PROBLEM_TYPE

    fields = [
        f'"type": "{PROBLEM_TYPE}{code}"',
        f'"title": "{title}"',
        *([f'"status": {status}'] if status else []),
        f'"detail": "{detail}"' if detail else '"detail": $context.error.messageString',
        f'"code": "{code}"',
        '"request_id": "$context.requestId"',
    ]
    return "{" + ", ".join(fields) + "}"


def gateway_responses() -> dict[str, Any]:
    """Merged into Chalice's RestAPI: SAM adds them to the API definition it deploys. They carry
    the headers every answer of the app carries (chalicelib/api/http.py), a problem never
    cached."""
    from chalicelib.api.http import ALWAYS_HEADERS, DEFAULT_CACHE_CONTROL

    headers = {
        "Content-Type": "application/problem+json",
        **ALWAYS_HEADERS,
        "Cache-Control": DEFAULT_CACHE_CONTROL,
    }
    responses = {}
    for kind, (status, code, title, detail) in GATEWAY_PROBLEMS.items():
        response: dict[str, Any] = {
            "ResponseParameters": {"Headers": {k: f"'{v}'" for k, v in headers.items()}},
            "ResponseTemplates": {
                "application/json": gateway_problem_template(status, code, title, detail)
            },
        }
        if status:
            response["StatusCode"] = str(status)
        responses[kind] = response
    return {"RestAPI": {"Properties": {"GatewayResponses": responses}}}


# ---------------------------------------------------------------------------- alarms


def _alarm(description: str, **properties: Any) -> dict[str, Any]:
    base = {
        "AlarmDescription": description,
        "ActionsEnabled": True,
        "AlarmActions": [{"Ref": TOPIC_ID}],
        "OKActions": [{"Ref": TOPIC_ID}],
        "EvaluationPeriods": 1,
        "ComparisonOperator": "GreaterThanOrEqualToThreshold",
        "TreatMissingData": "notBreaching",
    }
    return {"Type": "AWS::CloudWatch::Alarm", "Properties": {**base, **properties}}


def _app_metric(stage: str, name: str) -> dict[str, Any]:
    return {
        "Namespace": METRICS_NAMESPACE,
        "MetricName": name,
        "Dimensions": [
            {"Name": "service", "Value": SERVICE},
            {"Name": "stage", "Value": stage},
        ],
    }


def alarm_resources(stage: str, settings) -> dict[str, Any]:
    alarms: dict[str, Any] = {
        TOPIC_ID: {
            "Type": "AWS::SNS::Topic",
            "Properties": {"TopicName": f"recount-{stage}-alarms"},
        },
        "AlarmEmailSubscription": {
            "Type": "AWS::SNS::Subscription",
            "Condition": "HasAlarmEmail",
            "Properties": {
                "TopicArn": {"Ref": TOPIC_ID},
                "Protocol": "email",
                "Endpoint": {"Ref": "AlarmEmail"},
            },
        },
        "SmsDeadAlarm": _alarm(
            "An SMS was given up after every retry (docs/operations.md: dead SMS)",
            **_app_metric(stage, "SmsDead"),
            Statistic="Sum",
            Period=PERIOD,
            Threshold=1,
        ),
        "SmsFailuresAlarm": _alarm(
            "SMS sends keep failing (provider, KMS or spend limit): retries are piling up",
            **_app_metric(stage, "SmsFailed"),
            Statistic="Sum",
            Period=PERIOD,
            Threshold={"Ref": "SmsFailureThreshold"},
        ),
        "SlaBreachesAlarm": _alarm(
            "Companies miss their deadlines: cases escalate (docs/operations.md: backlog)",
            **_app_metric(stage, "SlaBreaches"),
            Statistic="Sum",
            Period=3600,
            Threshold={"Ref": "SlaBreachThreshold"},
        ),
        "SmsSpendAlarm": _alarm(
            "SNS SMS spend this month nears the account's spend limit (SMS stops at the limit)",
            Namespace="AWS/SNS",
            MetricName="SMSMonthToDateSpentUSD",
            Statistic="Maximum",
            Period=3600,
            Threshold={"Ref": "SmsSpendAlarmUsd"},
        ),
        "Api5xxAlarm": _alarm(
            "The API answered 5xx (docs/design.md §6: no 5xx for any input): a bug or an AWS fault",
            Namespace="AWS/ApiGateway",
            MetricName="5XXError",
            Dimensions=[
                {"Name": "ApiName", "Value": SERVICE},
                {"Name": "Stage", "Value": stage},
            ],
            Statistic="Sum",
            Period=PERIOD,
            Threshold=1,
        ),
        "StreamFailuresAlarm": _alarm(
            "Stream records were given up and parked on the failure queue",
            Namespace="AWS/SQS",
            MetricName="ApproximateNumberOfMessagesVisible",
            Dimensions=[{"Name": "QueueName", "Value": {"Fn::GetAtt": [QUEUE_ID, "QueueName"]}}],
            Statistic="Maximum",
            Period=PERIOD,
            Threshold=1,
        ),
    }
    for fn in FUNCTIONS:
        dims = [{"Name": "FunctionName", "Value": {"Ref": fn}}]
        for metric in ("Errors", "Throttles"):
            alarms[f"{fn}{metric}Alarm"] = _alarm(
                f"Lambda {metric.lower()} in {function_name(stage, fn)}",
                Namespace="AWS/Lambda",
                MetricName=metric,
                Dimensions=dims,
                Statistic="Sum",
                Period=PERIOD,
                Threshold=1,
            )
    for fn in STREAM_SOURCES:
        alarms[f"{fn}IteratorAgeAlarm"] = _alarm(
            f"{function_name(stage, fn)} is falling behind its stream",
            Namespace="AWS/Lambda",
            MetricName="IteratorAge",
            Dimensions=[{"Name": "FunctionName", "Value": {"Ref": fn}}],
            Statistic="Maximum",
            Period=PERIOD,
            Threshold=300000,
        )
    for model in deployed_models(settings):
        table = table_logical_id(model.Meta.base)
        targets: list[list[dict[str, Any]]] = [[{"Name": "TableName", "Value": {"Ref": table}}]]
        for index in model._get_schema()["global_secondary_indexes"]:
            targets.append(
                [
                    {"Name": "TableName", "Value": {"Ref": table}},
                    {"Name": "GlobalSecondaryIndexName", "Value": index["index_name"]},
                ]
            )
        queries, ids = [], []
        for t, dims in enumerate(targets):
            for kind in ("Read", "Write"):
                metric_id = f"{kind.lower()}{t}"
                ids.append(metric_id)
                queries.append(
                    {
                        "Id": metric_id,
                        "ReturnData": False,
                        "MetricStat": {
                            "Metric": {
                                "Namespace": "AWS/DynamoDB",
                                "MetricName": f"{kind}ThrottleEvents",
                                "Dimensions": dims,
                            },
                            "Period": PERIOD,
                            "Stat": "Sum",
                        },
                    }
                )
        queries.append(
            {
                "Id": "throttles",
                "Label": f"{model.Meta.base} throttled requests",
                "Expression": " + ".join(f"FILL({i}, 0)" for i in ids),
                "ReturnData": True,
            }
        )
        alarms[f"{table}ThrottlesAlarm"] = _alarm(
            f"DynamoDB throttles on {settings.table_name(model.Meta.base)} or its indexes",
            Metrics=queries,
            Threshold=1,
        )
    return alarms


# ---------------------------------------------------------------------------- the template


def merge_template(stage: str, region: str = DEFAULT_REGION) -> dict[str, Any]:
    """Everything `chalice package --merge-template` merges into its SAM template."""
    if stage not in DEPLOYED_STAGES:
        raise SystemExit(f"stage {stage!r} is not deployed; choose one of {DEPLOYED_STAGES}")
    settings = stage_settings(stage, region)
    resources: dict[str, Any] = {}
    for model in deployed_models(settings):
        resources[table_logical_id(model.Meta.base)] = table_resource(model, settings)
    resources.update(key_resources(stage))
    resources.update(queue_resources(stage))
    resources.update(secret_resources(stage))
    resources.update(log_resources(stage))
    resources.update(alarm_resources(stage, settings))
    resources.update(function_overrides(stage, settings))
    resources.update(gateway_responses())
    outputs = {
        "KeyArn": {"Value": {"Fn::GetAtt": [KEY_ID, "Arn"]}},
        "AlarmTopicArn": {"Value": {"Ref": TOPIC_ID}},
        "StreamFailureQueueUrl": {"Value": {"Ref": QUEUE_ID}},
    }
    for model in deployed_models(settings):
        table = table_logical_id(model.Meta.base)
        outputs[f"{table}Name"] = {"Value": {"Ref": table}}
    return {
        "Parameters": {
            "AlarmEmail": {
                "Type": "String",
                "Default": "",
                "Description": "Who receives the alarms by e-mail (empty: subscribe later)",
            },
            "SlaBreachThreshold": {
                "Type": "Number",
                "Default": 10,
                "Description": "SLA breaches in one hour that raise the alarm",
            },
            "SmsFailureThreshold": {
                "Type": "Number",
                "Default": 20,
                "Description": "Failed SMS sends in five minutes that raise the alarm",
            },
            "SmsSpendAlarmUsd": {
                "Type": "Number",
                "Default": 0.8,
                "Description": "SMS spend this month (USD) that raises the alarm; keep it "
                "below the account's SNS spend limit",
            },
        },
        "Conditions": {"HasAlarmEmail": {"Fn::Not": [{"Fn::Equals": [{"Ref": "AlarmEmail"}, ""]}]}},
        "Resources": resources,
        "Outputs": outputs,
    }


def write_merge_template(stage: str, region: str = DEFAULT_REGION) -> Path:
    BUILD.mkdir(exist_ok=True)
    path = BUILD / f"merge-{stage}.json"
    path.write_text(json.dumps(merge_template(stage, region), indent=2, ensure_ascii=False) + "\n")
    return path


def chalice_package(stage: str, merge: Path, region: str = DEFAULT_REGION) -> Path:
    out = BUILD / stage
    env = {**os.environ, "AWS_DEFAULT_REGION": region}
    cmd = [
        sys.executable,
        "-c",
        "import sys; from chalice.cli import main; sys.argv[0] = 'chalice'; sys.exit(main())",
        "package",
        "--stage",
        stage,
        "--merge-template",
        str(merge),
        str(out),
    ]
    subprocess.run(cmd, cwd=ROOT, env=env, check=True)
    return out / "sam.json"


def runtime_data_files() -> list[str]:
    """Every file under RUNTIME_DATA that git tracks (untracked scratch stays out), as zip
    paths; outside a git checkout, every file there."""
    result = subprocess.run(
        ["git", "ls-files", "-z", "--", *RUNTIME_DATA],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    if result.returncode == 0 and result.stdout:
        names = [n for n in result.stdout.split("\0") if n]
    else:
        names = [
            p.relative_to(ROOT).as_posix()
            for folder in RUNTIME_DATA
            for p in (ROOT / folder).rglob("*")
            if p.is_file() and "__pycache__" not in p.parts
        ]
    return sorted(n for n in names if (ROOT / n).is_file())


def add_runtime_data(deployment_zip: Path) -> list[str]:
    """Adds RUNTIME_DATA to Chalice's zip (beside app.py, where the code resolves it), then
    checks the zip holds every one of those files; returns the names added."""
    names = runtime_data_files()
    if not names:
        raise SystemExit(f"no files found under {', '.join(RUNTIME_DATA)}")
    with zipfile.ZipFile(deployment_zip, "a", compression=zipfile.ZIP_DEFLATED) as archive:
        present = set(archive.namelist())
        for name in names:
            if name not in present:
                # Chalice's fixed date and mode: the same tree gives the same zip.
                entry = zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0))
                entry.external_attr = 0o644 << 16
                entry.compress_type = zipfile.ZIP_DEFLATED
                archive.writestr(entry, (ROOT / name).read_bytes())
    check_zip(deployment_zip, names)
    return names


def check_zip(deployment_zip: Path, names: list[str]) -> None:
    with zipfile.ZipFile(deployment_zip) as archive:
        present = set(archive.namelist())
        corrupt = archive.testzip()
    if corrupt:
        raise SystemExit(f"{deployment_zip} is corrupt at {corrupt}")
    missing = [n for n in ["app.py", *names] if n not in present]
    if missing:
        more = f" (and {len(missing) - 1} more)" if len(missing) > 1 else ""
        raise SystemExit(f"{deployment_zip} lacks {missing[0]}, which the code reads{more}")


# Service principals (lambda.amazonaws.com) are the same in every partition.
SERVICE_PRINCIPAL = re.compile(r"[a-z0-9-]+\.amazonaws\.com")


def partition_problems(template: Any, where: str = "") -> list[str]:
    """Strings that tie the template to the aws partition or its DNS suffix."""
    if isinstance(template, dict):
        return [p for k, v in template.items() for p in partition_problems(v, f"{where}/{k}")]
    if isinstance(template, list):
        return [p for i, v in enumerate(template) for p in partition_problems(v, f"{where}/{i}")]
    tied = isinstance(template, str) and ("arn:aws:" in template or "amazonaws.com" in template)
    if tied and not SERVICE_PRINCIPAL.fullmatch(template):
        return [f"{where}: {template}"]
    return []


def cfn_lint(
    template: Path, regions: tuple[str, ...] = LINT_REGIONS
) -> subprocess.CompletedProcess:
    """cfn-lint with the SAM transform (it applies it itself); returns the finished process."""
    exe = Path(sys.executable).with_name("cfn-lint")
    cmd = [str(exe)] if exe.exists() else [sys.executable, "-m", "cfnlint"]
    return subprocess.run(
        [*cmd, "--regions", *regions, "--", str(template)],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )


def package(stage: str, region: str = DEFAULT_REGION, lint: bool = True) -> Path:
    started = time.perf_counter()
    merge = write_merge_template(stage, region)
    template = chalice_package(stage, merge, region)
    added = add_runtime_data(template.parent / "deployment.zip")
    print(f"packaged {stage}: {template.relative_to(ROOT)} (+{len(added)} data files)", flush=True)
    problems = partition_problems(json.loads(template.read_text()))
    if problems:
        raise SystemExit("the template is tied to the aws partition:\n  " + "\n  ".join(problems))
    if lint:
        result = cfn_lint(template)
        sys.stdout.write(result.stdout)
        sys.stderr.write(result.stderr)
        if result.returncode != 0:
            raise SystemExit(f"cfn-lint found problems in {template} (exit {result.returncode})")
        regions = ", ".join(LINT_REGIONS)
        print(f"cfn-lint {regions}: clean ({time.perf_counter() - started:.1f} s)", flush=True)
    return template


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--stage", choices=DEPLOYED_STAGES, action="append")
    parser.add_argument("--region", default=os.environ.get("AWS_DEFAULT_REGION", DEFAULT_REGION))
    parser.add_argument("--no-lint", action="store_true")
    parser.add_argument(
        "--merge-only", action="store_true", help="write build/merge-<stage>.json and stop"
    )
    args = parser.parse_args(argv)
    for stage in args.stage or ["prod"]:
        if args.merge_only:
            print(write_merge_template(stage, args.region))
        else:
            package(stage, args.region, lint=not args.no_lint)
    return 0


if __name__ == "__main__":
    sys.exit(main())
