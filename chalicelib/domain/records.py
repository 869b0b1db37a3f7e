"""What the services read and write, as plain immutable records. The stores in
chalicelib/adapters map them to and from their storage models (issue 14: storage models never
leave the adapters). Times are ISO strings as stored (domain/clock.py), except the TTLs.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any


@dataclass(frozen=True)
class OutboxItem:
    """An SMS to send; its id derives from (case or dispute, transition, template)."""

    message_id: str
    template: str
    variables: dict[str, Any]
    phone_key: str
    phone_cipher: str
    dispute_id: str
    notify: str  # self | follow_up
    status: str  # pending | sending | sent | merged | dead
    created_at: str
    case_id: str | None = None
    send_after: str | None = None  # while sending: when the claim's lease ends
    pending_shard: str | None = None  # set while not yet sent: the backstop's index
    attempts: int = 0
    claim_token: str | None = None
    provider_message_id: str | None = None
    merged_into: str | None = None
    sent_at: str | None = None
    deferrals: int = 0  # times held back by the per-number daily cap
    last_error: str | None = None
    expires_at: datetime | None = None


@dataclass(frozen=True)
class DisputeRecord:
    """One filing by one person: the cases it opened, and the number it is about (as HMAC,
    KMS ciphertext and masked form only)."""

    dispute_id: str
    phone_key: str
    phone_cipher: str
    phone_masked: str
    kind: str
    created_at: str
    case_ids: tuple[str, ...] = field(default=())
    phone_region: str = ""
    expires_at: datetime | None = None
