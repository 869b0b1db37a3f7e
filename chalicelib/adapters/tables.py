"""PynamoDB models: one table per kind of record. Only adapters import this module.

Table names carry the stage prefix. The module is imported with the first service a request
uses, and binds the models to the tables the environment names then; the middleware's `bind`
keeps them current on every later invocation.
Numbers appear only as HMAC (`phone_key`), KMS ciphertext (`phone_cipher`) and masked form.
"""

from __future__ import annotations

from typing import Any, Protocol

from pynamodb.attributes import (
    JSONAttribute,
    ListAttribute,
    MapAttribute,
    NumberAttribute,
    TTLAttribute,
    UnicodeAttribute,
    UnicodeSetAttribute,
)
from pynamodb.connection import Connection, TableConnection
from pynamodb.indexes import (
    AllProjection,
    GlobalSecondaryIndex,
    IncludeProjection,
    KeysOnlyProjection,
)
from pynamodb.models import MetaProtocol, Model

from chalicelib import config
from chalicelib.adapters import aws
from chalicelib.config import Settings


class _Meta:
    table_name = "unbound"
    region = None
    host = None
    # The limits of every AWS client (adapters/aws.py). PynamoDB 6 turns max_retry_attempts
    # into botocore's standard retries with 1 + max_retry_attempts attempts in all.
    connect_timeout_seconds = aws.CONNECT_TIMEOUT_S
    read_timeout_seconds = aws.READ_TIMEOUT_S
    max_retry_attempts = aws.MAX_ATTEMPTS - 1


class _StageMeta(MetaProtocol, Protocol):
    base: str  # the table's name within a stage (config.table_name)


class _Model(Model):
    """Every model's client is held to the request budget (adapters/aws.py) before use."""

    Meta: _StageMeta

    @classmethod
    def _get_connection(cls) -> TableConnection:
        def made() -> TableConnection:
            connection = super(_Model, cls)._get_connection()
            aws.watch(connection.connection.client)
            return connection

        return aws.made_once(made)


class DisputesByPhone(GlobalSecondaryIndex):
    class Meta:
        index_name = "by_phone"
        projection = AllProjection()

    phone_key = UnicodeAttribute(hash_key=True)
    created_at = UnicodeAttribute(range_key=True)


class Dispute(_Model):
    class Meta(_Meta):
        base = "disputes"

    dispute_id = UnicodeAttribute(hash_key=True)
    phone_key = UnicodeAttribute()
    phone_cipher = UnicodeAttribute()
    phone_masked = UnicodeAttribute()
    phone_region = UnicodeAttribute(default="")
    kind = UnicodeAttribute()
    created_at = UnicodeAttribute()
    # PynamoDB types `of` as the element's Python type, not its attribute class.
    case_ids: ListAttribute[str] = ListAttribute(of=UnicodeAttribute)  # type: ignore[arg-type]
    open_cases = NumberAttribute(null=True)  # set when the last one settles: expires_at
    expires_at = TTLAttribute(null=True)
    by_phone = DisputesByPhone()


class NearDeadlines(GlobalSecondaryIndex):
    """Sparse: cases whose company deadline comes near, by timer shard (webhooks' notice)."""

    class Meta:
        index_name = "near_deadlines"
        projection = KeysOnlyProjection()

    timer_shard = UnicodeAttribute(hash_key=True)
    near_at = UnicodeAttribute(range_key=True)


class CompanyQueue(GlobalSecondaryIndex):
    """A liaison's queue, newest first: write-sharded `<company>#<n>` (case_store.LIST_SHARDS)
    so that one company's peak spreads over several partitions (docs/scale.md)."""

    class Meta:
        index_name = "company_queue"
        projection = AllProjection()

    queue_key = UnicodeAttribute(hash_key=True)
    created_at = UnicodeAttribute(range_key=True)


class CasesByState(GlobalSecondaryIndex):
    """Operators' view across companies (escalated work first of all), sharded
    `<state>#<n>` like the queue."""

    class Meta:
        index_name = "by_state"
        projection = AllProjection()

    state_key = UnicodeAttribute(hash_key=True)
    updated_at = UnicodeAttribute(range_key=True)


class DueTimers(GlobalSecondaryIndex):
    """Sparse: only cases with an armed timer carry `timer_shard`; sharded against hot keys."""

    class Meta:
        index_name = "due_timers"
        projection = IncludeProjection(["version", "state"])

    timer_shard = UnicodeAttribute(hash_key=True)
    next_due_at = UnicodeAttribute(range_key=True)


class Case(_Model):
    class Meta(_Meta):
        base = "cases"

    case_id = UnicodeAttribute(hash_key=True)
    dispute_id = UnicodeAttribute()
    company = UnicodeAttribute()
    kind = UnicodeAttribute()
    lane = UnicodeAttribute()  # standard | fraud
    reason = UnicodeAttribute()
    reported_count = NumberAttribute()
    expected_count = NumberAttribute()
    note = UnicodeAttribute(null=True)
    state = UnicodeAttribute()
    action_on = UnicodeAttribute()
    version = NumberAttribute()
    phone_key = UnicodeAttribute()
    phone_cipher = UnicodeAttribute()  # KMS ciphertext: follow-up SMS need no extra read
    phone_masked = UnicodeAttribute()
    phone_region = UnicodeAttribute(default="")
    created_at = UnicodeAttribute()
    updated_at = UnicodeAttribute()
    due_at = UnicodeAttribute(null=True)
    # name → ISO due time or "paused:<working days>"; Any: on the class, timers[name] is a path
    timers: MapAttribute[str, Any] = MapAttribute(default=dict)
    next_due_at = UnicodeAttribute(null=True)
    timer_shard = UnicodeAttribute(null=True)
    routed_from = UnicodeAttribute(null=True)
    reopened_from = UnicodeAttribute(null=True)
    near_at = UnicodeAttribute(null=True)  # the company's deadline comes near (webhooks)
    carrier = UnicodeAttribute(null=True)
    trail = JSONAttribute(null=True)  # the person's view of the history (records.CaseRecord)
    write_id = UnicodeAttribute(null=True)  # which request wrote this version
    response = JSONAttribute(null=True)
    answered_in = UnicodeSetAttribute(null=True)  # idempotency records showing this case
    expires_at = TTLAttribute(null=True)
    # The list indexes' write-sharded keys, `<company>#<n>` and `<state>#<n>` (case_store)
    queue_key = UnicodeAttribute()
    state_key = UnicodeAttribute()
    company_queue = CompanyQueue()
    near_deadlines = NearDeadlines()
    by_state = CasesByState()
    due_timers = DueTimers()


class Event(_Model):
    """Immutable audit trail: one item per transition, keyed by the case version it produced."""

    class Meta(_Meta):
        base = "events"
        stream_view_type = "NEW_IMAGE"  # statistics are aggregated from the audit stream

    case_id = UnicodeAttribute(hash_key=True)
    version = NumberAttribute(range_key=True)
    action = UnicodeAttribute()
    actor = UnicodeAttribute()
    from_state = UnicodeAttribute(null=True)
    to_state = UnicodeAttribute()
    at = UnicodeAttribute()
    code = UnicodeAttribute(null=True)
    message = UnicodeAttribute(null=True)
    statement = UnicodeAttribute(null=True)
    internal_note = UnicodeAttribute(null=True)
    new_count = NumberAttribute(null=True)
    # Context copied from the case, so statistics can be kept from the event stream alone.
    company = UnicodeAttribute(null=True)
    kind = UnicodeAttribute(null=True)
    lane = UnicodeAttribute(null=True)
    region = UnicodeAttribute(null=True)  # the number's province/city, never the number
    case_created_at = UnicodeAttribute(null=True)
    due_at = UnicodeAttribute(null=True)  # the company deadline in force before this event
    expires_at = TTLAttribute(null=True)


class PendingOutbox(GlobalSecondaryIndex):
    class Meta:
        index_name = "pending"
        projection = IncludeProjection(["status", "attempts"])

    pending_shard = UnicodeAttribute(hash_key=True)
    send_after = UnicodeAttribute(range_key=True)


class AwaitingReport(GlobalSecondaryIndex):
    """Sparse: messages sent through a provider with pull delivery reports, until the report
    comes (or the day to wait for it ends)."""

    class Meta:
        index_name = "awaiting_report"
        projection = IncludeProjection(
            ["provider_message_id", "phone_cipher", "provider", "template"]
        )

    report_shard = UnicodeAttribute(hash_key=True)
    sent_at = UnicodeAttribute(range_key=True)


class WebhookLog(GlobalSecondaryIndex):
    """Sparse: a company's webhook deliveries, newest first (its delivery log)."""

    class Meta:
        index_name = "webhook_log"
        projection = AllProjection()

    company = UnicodeAttribute(hash_key=True)
    created_at = UnicodeAttribute(range_key=True)


class OutboxByDispute(GlobalSecondaryIndex):
    """Finds a dispute's other pending follow-ups to merge into one digest SMS."""

    class Meta:
        index_name = "by_dispute"
        projection = AllProjection()

    dispute_id = UnicodeAttribute(hash_key=True)
    created_at = UnicodeAttribute(range_key=True)


class OutboxMessage(_Model):
    """An SMS to send; its id derives from (case or dispute, transition, template)."""

    class Meta(_Meta):
        base = "outbox"
        stream_view_type = "NEW_IMAGE"  # the dispatcher reads the outbox stream

    message_id = UnicodeAttribute(hash_key=True)
    template = UnicodeAttribute()
    variables = JSONAttribute()
    phone_key = UnicodeAttribute()
    phone_cipher = UnicodeAttribute()
    dispute_id = UnicodeAttribute()
    case_id = UnicodeAttribute(null=True)
    case_version = NumberAttribute(null=True)  # what queued it: the case's version and state
    case_state = UnicodeAttribute(null=True)
    notify = UnicodeAttribute()  # self | follow_up
    status = UnicodeAttribute()  # pending | sending | sent | merged | dropped | dead
    created_at = UnicodeAttribute()
    send_after = UnicodeAttribute(null=True)  # while sending: when the claim's lease ends
    pending_shard = UnicodeAttribute(null=True)  # set while not yet sent: the backstop's index
    attempts = NumberAttribute(default=0)
    claim_token = UnicodeAttribute(null=True)
    provider_message_id = UnicodeAttribute(null=True)
    merged_into = UnicodeAttribute(null=True)
    sent_at = UnicodeAttribute(null=True)
    deferrals = NumberAttribute(default=0)  # times held back by the per-number daily cap
    last_error = UnicodeAttribute(null=True)
    provider = UnicodeAttribute(null=True)  # sns | aliyun | tencent
    delivery = UnicodeAttribute(null=True)  # delivered | failed | unreported
    delivery_code = UnicodeAttribute(null=True)  # the carrier's or provider's status code
    delivered_at = UnicodeAttribute(null=True)
    report_shard = UnicodeAttribute(null=True)  # set while a delivery report is awaited
    company = UnicodeAttribute(null=True)  # a webhook delivery's company (its log's key)
    last_status = NumberAttribute(null=True)  # a webhook attempt's HTTP status
    latency_ms = NumberAttribute(null=True)
    expires_at = TTLAttribute(null=True)
    pending = PendingOutbox()
    by_dispute = OutboxByDispute()
    awaiting_report = AwaitingReport()
    webhook_log = WebhookLog()


class Guard(_Model):
    """Small records that guard the flows, each with its own expiry.

    pk prefixes: `code#` verification code (with its tries), `rate#` counters,
    `open#` the one open case per number × company, `idem#` idempotency records,
    `holder#` the verified holder's encrypted number, `resolved#` the case last resolved per
    number × company while a refiling would reopen it (workflow `refiling`).
    """

    class Meta(_Meta):
        base = "guards"

    pk = UnicodeAttribute(hash_key=True)
    ref = UnicodeAttribute(null=True)
    digest = UnicodeAttribute(null=True)
    # Shadows Model.count (a table scan), which nothing calls on Guard.
    count = NumberAttribute(null=True)  # type: ignore[assignment]
    at = UnicodeAttribute(null=True)
    until = UnicodeAttribute(null=True)
    data = JSONAttribute(null=True)
    expires_at = TTLAttribute(null=True)


class ApiKey(_Model):
    class Meta(_Meta):
        base = "keys"

    key_id = UnicodeAttribute(hash_key=True)
    role = UnicodeAttribute()  # liaison | operator
    company = UnicodeAttribute(null=True)
    secret_digest = UnicodeAttribute()
    label = UnicodeAttribute(null=True)
    created_at = UnicodeAttribute()
    revoked_at = UnicodeAttribute(null=True)
    last_used_at = UnicodeAttribute(null=True)


class Subscriber(_Model):
    """The number registry stand-in: what a carrier's real-name system would answer."""

    class Meta(_Meta):
        base = "subscribers"

    phone_key = UnicodeAttribute(hash_key=True)
    holder_check = UnicodeAttribute()  # HMAC(number + ID last 6): the digits are never stored
    status = UnicodeAttribute()  # active | cancelled
    carrier = UnicodeAttribute(null=True)


class DevSms(_Model):
    """Stage `local` only: what the embedded AWS "sent", for /dev/sms and /dev/inbox."""

    class Meta(_Meta):
        base = "dev-sms"

    phone_key = UnicodeAttribute(hash_key=True)
    sent_at = UnicodeAttribute(range_key=True)
    body = UnicodeAttribute()
    message_id = UnicodeAttribute()
    phone_masked = UnicodeAttribute()
    expires_at = TTLAttribute(null=True)  # kept as long as the records it tells of


class Stat(_Model):
    """Counters kept from the audit stream: pk is the scope (e.g. `company#jd`, `hot#2026-W48`),
    sk the figure. Updated with ADD, never read-modify-write."""

    class Meta(_Meta):
        base = "stats"

    pk = UnicodeAttribute(hash_key=True)
    sk = UnicodeAttribute(range_key=True)
    value = NumberAttribute(default=0)
    expires_at = TTLAttribute(null=True)  # markers and drill-down entries; counters never


MODELS: tuple[type[_Model], ...] = (
    Dispute,
    Case,
    Event,
    OutboxMessage,
    Guard,
    ApiKey,
    Subscriber,
    DevSms,
    Stat,
)

_bound: tuple[str, str] | None = None
_connection: Connection | None = None


def bind(settings: Settings) -> None:
    """Point every model at this stage's tables; cheap when nothing changed."""
    _bind(settings.table_prefix, settings.region)


def _bind(table_prefix: str, region: str) -> None:
    global _bound, _connection
    if _bound == (table_prefix, region):
        return
    for model in MODELS:
        model.Meta.table_name = config.table_name(table_prefix, model.Meta.base)
        model.Meta.region = region
        model._connection = None
    _connection = None
    _bound = (table_prefix, region)


def connection() -> Connection:
    """The shared connection for transactions (a new one per transaction costs a client)."""
    return aws.made_once(_shared_connection)


def _shared_connection() -> Connection:
    global _connection
    if _connection is None:
        _connection = Connection(
            region=Case.Meta.region,
            connect_timeout_seconds=_Meta.connect_timeout_seconds,
            read_timeout_seconds=_Meta.read_timeout_seconds,
            max_retry_attempts=_Meta.max_retry_attempts,
        )
    aws.watch(_connection.client)
    return _connection


def reset() -> None:
    """Forget clients and bindings (tests start each moto world afresh)."""
    global _bound, _connection
    for model in MODELS:
        model._connection = None
    _bound = None
    _connection = None


def create_all(settings: Settings) -> None:
    """Create every table (local and tests; `make package` declares them for AWS)."""
    bind(settings)
    for model in MODELS:
        if model is DevSms and not settings.is_local:
            continue
        if not model.exists():
            model.create_table(billing_mode="PAY_PER_REQUEST", wait=True)


_bind(*config.table_location())
