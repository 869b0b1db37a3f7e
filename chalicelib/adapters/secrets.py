"""The service's keys from Secrets Manager, through Powertools Parameters with a cache.

Two secrets, both created by `make package`'s stack with generated values:
- the look-up key (HMAC pepper of every number): the secret string is the key itself;
- the token keys: a JSON object `{"current": "<id>", "<id>": "<key>", …}`. The current key
  signs; every key listed verifies, so a rotation adds a key, then makes it current, then
  drops the old one once its tokens have expired (docs/operations.md: rotating keys).

A container re-reads a secret at most every MAX_AGE_SECONDS: a rotation step takes effect
everywhere within that time.
"""

from __future__ import annotations

import json
from typing import Any

from chalicelib.adapters import aws
from chalicelib.domain.identity import TokenKeys

MAX_AGE_SECONDS = 300
_providers: dict[str, Any] = {}


def _provider(region: str) -> Any:
    # One provider per region keeps one cache; it uses our client, with our timeouts.
    if region not in _providers:
        from aws_lambda_powertools.utilities.parameters import SecretsProvider

        _providers[region] = SecretsProvider(boto3_client=aws.client("secretsmanager", region))
    return _providers[region]


def _read(region: str, secret_id: str) -> str:
    value = _provider(region).get(secret_id, max_age=MAX_AGE_SECONDS)
    if isinstance(value, bytes):
        value = value.decode()
    if not value:
        raise RuntimeError(f"the secret {secret_id} is empty")
    return str(value)


def hmac_key(region: str, secret_id: str) -> bytes:
    return _read(region, secret_id).encode()


def token_keys(region: str, secret_id: str) -> TokenKeys:
    return parse_token_keys(_read(region, secret_id), secret_id)


def json_secret(region: str, secret_id: str) -> dict[str, str]:
    """A JSON object secret (an SMS provider's credentials); a malformed one fails loudly."""
    try:
        data = json.loads(_read(region, secret_id))
        if not isinstance(data, dict):
            raise ValueError("not a JSON object")
        return {str(k): str(v) for k, v in data.items()}
    except ValueError as exc:
        raise RuntimeError(f"{secret_id} must be a JSON object: {exc}") from None


def parse_token_keys(text: str, secret_id: str = "the token secret") -> TokenKeys:
    """`{"current": id, id: key, …}` → TokenKeys; a malformed secret fails loudly."""
    try:
        data = json.loads(text)
        current = data.pop("current")
        keys = {str(kid): str(key).encode() for kid, key in data.items()}
        if any(len(key) < 32 for key in keys.values()):
            raise ValueError("every token key needs at least 32 characters")
        return TokenKeys(str(current), keys)
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        raise RuntimeError(
            f'{secret_id} must be {{"current": "<id>", "<id>": "<key>", …}}: {exc}'
        ) from None


def reset() -> None:
    """Forget providers and their caches (tests start each emulated AWS afresh)."""
    _providers.clear()
