"""Delivery reports (docs/design.md §11): the scheduler asks the stage's provider what the
carriers said about the messages it sent in the last day, and records delivered or failed with
the carrier's code on each message, where staff see whether the person was reached.

SNS has no reports to pull: on SNS this costs nothing, not even a query. A message whose report
has not come within REPORT_WINDOW is recorded `unreported` and no longer asked about.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from chalicelib.adapters import kms, outbox_store
from chalicelib.adapters.sms import delivery_reports
from chalicelib.config import Settings
from chalicelib.domain import clock
from chalicelib.domain.ports import DeliveryReports

log = logging.getLogger("recount.delivery")

REPORT_WINDOW = timedelta(days=1)
PER_SHARD = 100  # messages asked about per shard and tick; the rest wait for the next tick


def pull(settings: Settings, reports: DeliveryReports | None = None) -> dict[str, int]:
    """One round: {"delivered": n, "failed": n, "unreported": n}."""
    counts = {"delivered": 0, "failed": 0, "unreported": 0}
    provider = reports or delivery_reports(settings)
    if provider is None:
        return counts
    cutoff = clock.iso(clock.now() - REPORT_WINDOW)
    fresh = []
    for shard in range(settings.timer_shards):
        for item in outbox_store.awaiting_reports(str(shard), limit=PER_SHARD):
            if (item.sent_at or "") < cutoff:
                if outbox_store.record_delivery(item, "unreported", "", None):
                    counts["unreported"] += 1
            elif item.provider == provider.provider and item.provider_message_id:
                fresh.append(item)
    if not fresh:
        return counts
    # One pull for every shard's messages: Tencent hands out each report once, whoever asks.
    by_id = {item.provider_message_id: item for item in fresh}
    pending = [
        (
            str(item.provider_message_id),
            kms.decrypt_number(settings, item.phone_cipher) if provider.needs_numbers else "",
            str(item.sent_at),
        )
        for item in fresh
    ]
    try:
        found = provider.pull(pending)
    except Exception:  # the provider's bad minute: ask again next tick
        log.warning("delivery_reports_unavailable", exc_info=True)
        return counts
    for report in found:
        reported = by_id.get(report.provider_message_id)
        if reported is None:
            continue  # a code message, or another deployment's: not ours to record
        status = "delivered" if report.delivered else "failed"
        if outbox_store.record_delivery(reported, status, report.code, report.at):
            counts[status] += 1
    return counts
