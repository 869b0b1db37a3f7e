"""recount: wires routes and handlers to the services. Nothing else lives here."""

from chalice import Chalice, Rate

from chalicelib.adapters import library_logs
from chalicelib.api import (
    admin,
    assets,
    cases,
    dev,
    directory,
    insight,
    meta,
    pages,
    person,
    webhooks,
    workers,
)
from chalicelib.api.middleware import bind_tables, http_responses, observe

library_logs.configure()
# Logs are JSON lines from Powertools (set up on the first invocation), not Chalice's text.
app = Chalice(app_name="recount", configure_logs=False)
app.register_middleware(observe, "all")  # outermost: sees every response and failure
app.register_middleware(http_responses, "http")
app.register_middleware(bind_tables, "all")
for module in (meta, person, cases, webhooks, admin, insight, dev, directory, pages, assets):
    app.register_blueprint(module.bp)


@app.schedule(Rate(1, unit=Rate.MINUTES), name="scheduler_tick")
def scheduler_tick(event):
    return workers.on_tick(event)


@app.on_dynamodb_record(
    stream_arn=workers.OUTBOX_STREAM_ARN,
    batch_size=25,
    starting_position="LATEST",
    name="outbox_dispatcher",
)
def outbox_dispatcher(event):
    return workers.on_outbox_records(event)


@app.on_dynamodb_record(
    stream_arn=workers.EVENTS_STREAM_ARN,
    batch_size=100,
    starting_position="TRIM_HORIZON",
    name="statistics_aggregator",
)
def statistics_aggregator(event):
    return workers.on_audit_records(event)
