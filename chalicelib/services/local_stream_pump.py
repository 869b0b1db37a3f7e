"""Stage local only (`make run`, the e2e stack): `chalice local` runs no stream handlers, so
the pump reads the audit-events table's stream itself and feeds the statistics aggregator.
Deployed, Lambda delivers the stream to chalicelib.api.workers.on_audit_records instead."""

from __future__ import annotations

from chalicelib.adapters import stats_store
from chalicelib.config import Settings
from chalicelib.services.stats_aggregation import aggregate_records

_readers: dict[tuple[str, str], stats_store.StreamReader] = {}


def pump_audit_stream(settings: Settings) -> int:
    """Stage local: `chalice local` runs no stream handlers, so make run's pump reads the
    events table's stream itself (iterators kept in memory) and feeds aggregate_records."""
    key = (settings.table_name("events"), settings.region)
    reader = _readers.get(key)
    if reader is None:
        reader = _readers[key] = stats_store.StreamReader(settings, "events")
    return aggregate_records(settings, reader.read())


def reset_pump() -> None:
    """Forget the stream readers (tests start each emulated AWS afresh)."""
    _readers.clear()
