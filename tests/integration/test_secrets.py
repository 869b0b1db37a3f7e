"""Deployed stages read their keys from Secrets Manager at run time, cached (issue 12 §4)."""

from __future__ import annotations

import json

import botocore.client
import moto
import pytest

from chalicelib import config
from chalicelib.adapters import aws, secrets

HMAC_KEY = "hmac-key-for-the-secrets-test-0123456789"
OLD, NEW = "old-token-key-0123456789abcdef0123456789", "new-token-key-0123456789abcdef0123456789"


@pytest.fixture
def deployed(monkeypatch):
    """Stage dev's variables and its two secrets in an emulated AWS."""
    for name in config.KEY_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("RECOUNT_STAGE", "dev")
    with moto.mock_aws():
        aws.reset()
        secrets.reset()
        client = aws.client("secretsmanager", "ap-east-1")
        hmac_arn = client.create_secret(Name="recount/dev/hmac-key", SecretString=HMAC_KEY)["ARN"]
        token_arn = client.create_secret(
            Name="recount/dev/token-keys", SecretString=json.dumps({"current": "k1", "k1": OLD})
        )["ARN"]
        monkeypatch.setenv("RECOUNT_HMAC_SECRET", hmac_arn)
        monkeypatch.setenv("RECOUNT_TOKEN_SECRET", token_arn)
        yield client, token_arn
        secrets.reset()
        aws.reset()


@pytest.fixture
def reads(monkeypatch) -> list[str]:
    """The secret ids every GetSecretValue call asked for."""
    asked: list[str] = []
    original = botocore.client.BaseClient._make_api_call

    def make_api_call(self, operation_name, api_params):
        if operation_name == "GetSecretValue":
            asked.append(api_params["SecretId"])
        return original(self, operation_name, api_params)

    monkeypatch.setattr(botocore.client.BaseClient, "_make_api_call", make_api_call)
    return asked


def test_keys_come_from_secrets_manager_once_per_cache_period(deployed, reads):
    settings = config.settings()
    assert settings.hmac_key == HMAC_KEY.encode()
    keys = settings.token_keys
    assert keys.current == "k1" and keys.signing_key == OLD.encode()
    for _ in range(5):  # every request reads settings: the cache answers
        assert config.settings().hmac_key == HMAC_KEY.encode()
        assert config.settings().token_key == OLD.encode()
    assert len(reads) == 2 and len(set(reads)) == 2


def test_a_rotation_is_seen_once_the_cache_lapses(deployed):
    client, token_arn = deployed
    assert config.settings().token_keys.current == "k1"
    client.put_secret_value(
        SecretId=token_arn, SecretString=json.dumps({"current": "k2", "k1": OLD, "k2": NEW})
    )
    assert config.settings().token_keys.current == "k1"  # cached
    secrets.reset()  # what MAX_AGE_SECONDS does in a running container
    keys = config.settings().token_keys
    assert keys.current == "k2" and set(keys.keys) == {"k1", "k2"}


def test_a_deployed_stage_refuses_keys_in_its_environment(deployed, monkeypatch):
    monkeypatch.setenv("RECOUNT_HMAC_KEY", "a-key-in-plain-sight")
    settings = config.settings()
    for key in ("hmac_key", "token_keys"):
        with pytest.raises(RuntimeError, match="never from the environment"):
            getattr(settings, key)


def test_a_deployed_stage_without_its_secret_ids_fails_loudly(deployed, monkeypatch):
    monkeypatch.delenv("RECOUNT_TOKEN_SECRET")
    settings = config.settings()  # packaging and pages need no key
    with pytest.raises(RuntimeError, match="RECOUNT_TOKEN_SECRET"):
        _ = settings.token_keys


@pytest.mark.parametrize(
    "text",
    [
        "not json",
        "[]",
        json.dumps({"k1": OLD}),  # no current
        json.dumps({"current": "k2", "k1": OLD}),  # current not listed
        json.dumps({"current": "k1", "k1": "short"}),
        json.dumps({"current": "k 1", "k 1": OLD}),
    ],
)
def test_a_malformed_token_secret_fails_loudly(text):
    with pytest.raises(RuntimeError, match="must be"):
        secrets.parse_token_keys(text, "recount/dev/token-keys")
