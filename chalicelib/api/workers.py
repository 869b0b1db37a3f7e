"""Non-HTTP entry points: the scheduler tick and the outbox stream. Thin: services do the work."""

from __future__ import annotations

from typing import Any

from chalicelib import config, services

# Chalice needs the stream ARN when the app is imported; `make package` replaces this with
# the outbox table's real StreamArn in the merged CloudFormation template.
OUTBOX_STREAM_ARN = (
    "arn:aws:dynamodb:ap-east-1:000000000000:table/recount-outbox/stream/set-by-package"
)
EVENTS_STREAM_ARN = (
    "arn:aws:dynamodb:ap-east-1:000000000000:table/recount-events/stream/set-by-package"
)


def on_tick(event: Any) -> dict[str, int]:
    return services.scheduler.tick(config.settings())


def on_outbox_records(event: Any) -> dict[str, Any]:
    records = list(event.to_dict().get("Records", []))
    outcomes = services.dispatcher.dispatch_stream_records(config.settings(), records)
    # Failures live on the outbox items (retried by the scheduler): none is reported back,
    # so a bad message never blocks the shard.
    return {"batchItemFailures": [], "dispatched": len(outcomes)}


def on_audit_records(event: Any) -> dict[str, Any]:
    records = list(event.to_dict().get("Records", []))
    counted = services.stats.aggregate_records(config.settings(), records)
    return {"batchItemFailures": [], "counted": counted}
