"""Lazy boto3 clients: created on first use (never at import), one per service and region."""

from __future__ import annotations

import functools
from typing import Any


@functools.cache
def client(service: str, region: str) -> Any:
    import boto3  # imported here to keep cold start light for routes that never call AWS

    return boto3.session.Session().client(service, region_name=region)


def reset() -> None:
    client.cache_clear()
