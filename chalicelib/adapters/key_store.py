"""Liaison and operator API keys: stored as a digest, looked up by the id inside the key."""

from __future__ import annotations

from pynamodb.exceptions import UpdateError

from chalicelib.adapters import faults
from chalicelib.adapters.tables import ApiKey


def create(
    key_id: str, role: str, company: str | None, digest: str, label: str | None, created_at: str
) -> None:
    ApiKey(
        key_id,
        role=role,
        company=company,
        secret_digest=digest,
        label=label,
        created_at=created_at,
    ).save(condition=ApiKey.key_id.does_not_exist())


def get(key_id: str) -> ApiKey | None:
    try:
        return ApiKey.get(key_id, consistent_read=True)
    except ApiKey.DoesNotExist:
        return None


def revoke(key_id: str, at: str) -> bool:
    """Marks a key revoked; False when there is no such key."""
    try:
        ApiKey(key_id).update(actions=[ApiKey.revoked_at.set(at)], condition=ApiKey.key_id.exists())
        return True
    except UpdateError as exc:
        if faults.condition_failed(exc):
            return False
        raise


def touch(key_id: str, at: str) -> None:
    ApiKey(key_id).update(actions=[ApiKey.last_used_at.set(at)])
