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
    status: str  # pending | sending | sent | merged | dropped | dead
    created_at: str
    case_id: str | None = None
    # What queued it: the case's version and state right after its transition (the dispatcher
    # drops a message no longer true at send time; docs/design.md §7).
    case_version: int | None = None
    case_state: str | None = None
    send_after: str | None = None  # while sending: when the claim's lease ends
    pending_shard: str | None = None  # set while not yet sent: the backstop's index
    attempts: int = 0
    claim_token: str | None = None
    provider_message_id: str | None = None
    merged_into: str | None = None
    sent_at: str | None = None
    deferrals: int = 0  # times held back by the per-number daily cap
    last_error: str | None = None  # for a dropped message: why
    provider: str | None = None  # who sent it: sns | aliyun | tencent
    # What the carrier said (pulled from the provider): delivered | failed | unreported, its
    # code and time; `report_shard` is set while a report is awaited (a sparse index).
    delivery: str | None = None
    delivery_code: str | None = None
    delivered_at: str | None = None
    report_shard: str | None = None
    # A company webhook delivery (message id `wh:…`, docs/design.md §10): the company it goes
    # to, and its last attempt's HTTP status and time taken.
    company: str | None = None
    last_status: int | None = None
    latency_ms: int | None = None
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
    # Cases not yet settled: the transaction that settles the last one sets `expires_at`.
    open_cases: int = 0
    expires_at: datetime | None = None


@dataclass(frozen=True)
class CaseRecord:
    """One company's part of a dispute, at one version of its workflow state."""

    case_id: str
    dispute_id: str
    company: str
    kind: str
    lane: str  # standard | fraud
    reason: str
    reported_count: int
    expected_count: int
    state: str
    action_on: str
    version: int
    phone_key: str
    phone_cipher: str  # KMS ciphertext: follow-up SMS need no extra read
    phone_masked: str
    created_at: str
    updated_at: str
    phone_region: str = ""
    note: str | None = None
    due_at: str | None = None
    # timer name → ISO due time, or "paused:<working days>" (domain/timers.py)
    timers: dict[str, str] = field(default_factory=dict)
    next_due_at: str | None = None
    timer_shard: str | None = None
    routed_from: str | None = None
    reopened_from: str | None = None  # the resolved case a fraud-lane refiling takes up again
    # When the company's deadline in force comes near (a webhook's case.deadline_near); None
    # once told, or with no deadline in force.
    near_at: str | None = None
    # The number's carrier (a recycled number's renewal route), and the person's view of the
    # case's history, carried with the case so a dispute reads in two requests.
    carrier: str = ""
    trail: tuple[dict[str, Any], ...] = ()
    # Which request wrote this version (random): a request that meets a version its own lost
    # attempt wrote knows it by this, and a rival's identical change stays a rival's.
    write_id: str | None = None
    response: dict[str, Any] | None = None
    # The idempotency records whose stored answers show this case (erasure removes them).
    answered_in: tuple[str, ...] = ()
    expires_at: datetime | None = None


@dataclass(frozen=True)
class EventRecord:
    """One audit event: the transition that produced a case version, with the case's context
    (company, lane, region, deadline in force) so statistics need nothing else."""

    case_id: str
    version: int
    action: str
    actor: str
    to_state: str
    at: str
    from_state: str | None = None
    code: str | None = None
    message: str | None = None
    statement: str | None = None
    internal_note: str | None = None
    new_count: int | None = None
    company: str | None = None
    kind: str | None = None
    lane: str | None = None
    region: str | None = None
    case_created_at: str | None = None
    due_at: str | None = None
    expires_at: datetime | None = None


@dataclass(frozen=True)
class GuardRecord:
    """A small record that guards a flow (a code, a counter, a lock, an idempotency record,
    the verified holder), each with its own expiry."""

    pk: str
    ref: str | None = None
    digest: str | None = None
    count: int | None = None
    at: str | None = None
    until: str | None = None
    data: dict[str, Any] | None = None
    expires_at: datetime | None = None
