"""Counting the audit-event stream into the statistics, each event exactly once.

Idempotency against stream redelivery: each event is counted in ONE TransactWriteItems that
also records its (case_id, version) in the case's marker item, conditioned on the marker
being as it was read (chalicelib.adapters.stats_store). A redelivered record finds its
version there and is skipped. The marker also holds the case's once-per-case flags (first
acknowledgement, response outcome, first response), which per-event counters alone could
not know. An unreadable record is logged and skipped so that it never blocks the shard.
"""

from __future__ import annotations

import logging
import random
import time
from datetime import timedelta
from typing import Any

from chalicelib.adapters import stats_store
from chalicelib.config import Settings
from chalicelib.domain import clock, insight
from chalicelib.domain.workflow import load_workflow

log = logging.getLogger("recount.stats")

MAX_ATTEMPTS = 8
# While its case can still move, a marker outlives the case's latest event by far more than a
# stream keeps records (24 h): flags such as "first response seen" must hold. Once the case
# settles, it ends with the case's other records (settings.retention after settling).
OPEN_MARKER_RETENTION = timedelta(days=400)
INDEX_RETENTION = timedelta(days=400)


def aggregate_records(settings: Settings, records: list[dict[str, Any]]) -> int:
    """Folds audit-event stream records into the counters; returns how many were counted
    (a redelivered record counts 0). Unreadable records are logged and skipped so that one
    never blocks the shard; a store failure raises, and the batch is delivered again."""
    open_states = load_workflow().open_states()
    counted = 0
    for record in records:
        if record.get("eventName") != "INSERT":
            continue  # MODIFY (TTL set, erasure) and REMOVE (expiry) change no figure
        image = (record.get("dynamodb") or {}).get("NewImage")
        try:
            event = insight.AuditEvent.from_item(stats_store.plain(image or {}))
        except (KeyError, ValueError, TypeError, ArithmeticError):
            log.warning("audit_record_unreadable", extra={"event_id": record.get("eventID")})
            continue
        if count_event(settings, event, open_states):
            counted += 1
    return counted


def count_event(settings: Settings, event: insight.AuditEvent, open_states: list[str]) -> bool:
    """Counts one event once: True if it was counted now, False if it had been already (or
    changes no figure)."""
    for attempt in range(MAX_ATTEMPTS):
        marker = stats_store.read_marker(settings, event.case_id)
        if event.version in marker.versions:
            return False
        change = insight.effects(event, marker.flags, open_states)
        if not (change.counters or change.index or change.flags):
            return False  # reminders and follow-ups change no figure: nothing to write
        now = clock.now()
        if event.to_state in open_states:
            marker_expires, index_expires = now + OPEN_MARKER_RETENTION, now + INDEX_RETENTION
        else:  # settled: what names the case ends with its other records
            marker_expires = index_expires = clock.parse_iso(event.at) + settings.retention
        outcome = stats_store.apply(
            settings,
            event.case_id,
            event.version,
            marker,
            flags=change.flags,
            counters=change.counters,
            index=change.index,
            marker_expires=marker_expires,
            index_expires=index_expires,
        )
        if outcome == stats_store.APPLIED:
            return True
        if outcome == stats_store.CONFLICT:
            time.sleep(min(1.0, 0.02 * 2**attempt) * random.random())
    raise RuntimeError(f"could not count event {event.case_id} v{event.version}")
