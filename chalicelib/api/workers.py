"""Non-HTTP entry points: the scheduler tick and the two streams. Thin: services do the work.

When AWS fails (chalicelib/adapters/faults.py) each says so in the log and leaves the work to
be done again: the tick fails and runs again (every step is conditional), the outbox stream
leaves the message to the scheduler's backstop, the audit stream has the rest of its batch
delivered again.
"""

from __future__ import annotations

import logging
from typing import Any

from chalicelib import config
from chalicelib.services import aws_health

log = logging.getLogger("recount.workers")

# Chalice needs the stream ARN when the app is imported; `make package` replaces this with
# the outbox table's real StreamArn in the merged CloudFormation template.
OUTBOX_STREAM_ARN = (
    "arn:aws:dynamodb:ap-east-1:000000000000:table/recount-outbox/stream/set-by-package"
)
EVENTS_STREAM_ARN = (
    "arn:aws:dynamodb:ap-east-1:000000000000:table/recount-events/stream/set-by-package"
)


def on_tick(event: Any) -> dict[str, int]:
    from chalicelib.services import scheduler

    try:
        return scheduler.tick(config.settings())
    except Exception as exc:
        if aws_health.is_aws_fault(exc):
            # Still raised: the invocation counts as failed (alarms), Lambda tries it again
            # and the next tick comes within a minute; a repeated sweep does nothing twice.
            log.error("aws_unavailable", extra={"error": aws_health.describe(exc)})
        raise


def on_outbox_records(event: Any) -> dict[str, Any]:
    from chalicelib.services import dispatcher

    records = list(event.to_dict().get("Records", []))
    outcomes = dispatcher.dispatch_stream_records(config.settings(), records)
    # Failures live on the outbox items (retried by the scheduler): none is reported back,
    # so a bad message never blocks the shard.
    return {"batchItemFailures": [], "dispatched": len(outcomes)}


def on_audit_records(event: Any) -> dict[str, Any]:
    from chalicelib.services import stats_aggregation

    records = list(event.to_dict().get("Records", []))
    settings = config.settings()
    counted = 0
    for index, record in enumerate(records):
        try:
            counted += stats_aggregation.aggregate_records(settings, [record])
        except Exception as exc:
            if not aws_health.is_aws_fault(exc):
                raise  # a bug: Lambda splits the batch and parks the record that fails
            # Lambda delivers this record and every later one again, in order; an event
            # counted meanwhile is skipped by its marker.
            log.error(
                "aws_unavailable",
                extra={"error": aws_health.describe(exc), "records_left": len(records) - index},
            )
            return {"batchItemFailures": batch_item_failures(records[index:]), "counted": counted}
    return {"batchItemFailures": [], "counted": counted}


def batch_item_failures(records: list[dict[str, Any]]) -> list[dict[str, str]]:
    return [{"itemIdentifier": r["dynamodb"]["SequenceNumber"]} for r in records]
