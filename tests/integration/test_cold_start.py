"""Cold start (issue 7), counted rather than timed: which libraries a fresh interpreter loads.

`make bench` times `import app`; these tests hold the property that makes it fast. Each case
runs in its own interpreter, because this one has long since imported everything.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

from tests.conftest import ROOT

# What `import app` must not load: each is imported where it is first used.
HEAVY = ("boto3", "botocore", "pynamodb", "jinja2", "yaml", "phonenumbers", "aws_lambda_powertools")


def loaded_after(script: str, env: dict[str, str]) -> dict:
    """Runs `script` in a fresh interpreter at the project root; it prints a JSON object."""
    out = subprocess.run(
        [sys.executable, "-c", script],
        cwd=ROOT,
        env={k: v for k, v in env.items() if not k.startswith("PYTHON")},
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def test_importing_the_app_loads_no_heavy_library(stage_env) -> None:
    script = f"""
import json, sys
import app
print(json.dumps([m for m in {HEAVY!r} if m in sys.modules]))
"""
    assert loaded_after(script, dict(os.environ)) == []


def test_routes_without_tables_never_load_pynamodb_and_table_routes_bind_on_first_use(
    stage_env,
) -> None:
    # The process starts pointed at other tables: a request's first table use must bind the
    # models to the tables of the stage the request runs in (.chalice/config.json, local).
    env = {**os.environ, "RECOUNT_TABLE_PREFIX": "somewhere-else"}
    script = """
import json, sys
from chalice.test import Client
from moto import mock_aws
import app

seen = {}
with mock_aws(), Client(app.app, stage_name="local") as client:
    statuses = [client.http.get(path).status_code for path in ("/v1/healthz", "/openapi.json")]
    seen["pynamodb_after_meta"] = "pynamodb" in sys.modules
    statuses.append(client.http.get("/console").status_code)
    seen["pynamodb_after_page"] = "pynamodb" in sys.modules
    # A table route (no table exists in this empty emulation: only the binding is of interest).
    client.http.post(
        "/v1/verification-codes",
        headers={"Content-Type": "application/json"},
        body=json.dumps({"phone": "13800138000"}),
    )
    from chalicelib.adapters import tables

    seen["statuses"] = statuses
    seen["table"] = tables.Case.Meta.table_name
print(json.dumps(seen))
"""
    seen = loaded_after(script, env)
    assert seen["statuses"] == [200, 200, 200]
    assert seen["pynamodb_after_meta"] is False
    assert seen["pynamodb_after_page"] is False
    assert seen["table"] == f"{stage_env['RECOUNT_TABLE_PREFIX']}-cases"


def test_the_models_bind_to_the_environment_they_are_imported_in(stage_env) -> None:
    env = {
        **os.environ,
        "RECOUNT_TABLE_PREFIX": "recount-elsewhere",
        "AWS_DEFAULT_REGION": "cn-north-1",
    }
    script = """
import json
from chalicelib.adapters import tables
print(json.dumps([tables.OutboxMessage.Meta.table_name, tables.OutboxMessage.Meta.region]))
"""
    assert loaded_after(script, env) == ["recount-elsewhere-outbox", "cn-north-1"]
