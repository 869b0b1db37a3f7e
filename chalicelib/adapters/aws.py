"""Lazy boto3 clients: created on first use (never at import), one per service and region."""

from __future__ import annotations

import functools
from typing import Any


@functools.cache
def client(service: str, region: str) -> Any:
    import boto3  # imported here to keep cold start light for routes that never call AWS
    from botocore.config import Config

    # DynamoDB Streams under moto (botocore >= 1.44.4) need account-id endpoints off; AWS
    # itself serves streams either way.
    config = Config(account_id_endpoint_mode="disabled") if service == "dynamodbstreams" else None
    return boto3.session.Session().client(service, region_name=region, config=config)


def reset() -> None:
    client.cache_clear()
