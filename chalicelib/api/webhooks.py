"""Company webhook routes (docs/design.md §10, docs/webhooks.md): the liaison's endpoint, its
secret and delivery log; the operators' list. Each hands over to services.webhooks."""

from __future__ import annotations

from urllib.parse import unquote

from chalice import Blueprint, Response

from chalicelib import config
from chalicelib.api import resources
from chalicelib.api.http import ApiRequest, json_response, route

bp = Blueprint(__name__)


def endpoint_request() -> dict:
    """`events`: the types of workflows/webhooks.yaml (duplicates are merged); all when left
    out. services/webhooks.py MAX_EVENTS caps the list's length: importing it here would load
    the storage layer with /openapi.json, so the cap is only described."""
    return {
        "type": "object",
        "additionalProperties": False,
        "required": ["url"],
        "properties": {
            "url": {
                "type": "string",
                "minLength": 1,
                "maxLength": 2048,
                "pattern": "^\\s*https?://\\S[\\s\\S]*$",
                "description": "https (http on stage local only), a public address with a"
                " canonical host name, no user or fragment (else 422 webhook_url_refused with its"
                " reason); called with POST and a signed JSON body",
            },
            "events": {
                "type": "array",
                "items": resources.webhook_events(),
                "minItems": 1,
                "description": "The event types to send (all when left out); at most 20 entries",
            },
        },
    }


@route(
    bp,
    "/v1/liaison/webhook",
    "PUT",
    summary="Set the company's webhook endpoint (a new one's secret is shown once)",
    tag="liaison",
    auth="liaison",
    body=endpoint_request,
    problems=("webhook_url_refused",),
    also=(201,),
    response=resources.WEBHOOK_ENDPOINT,
)
def put_webhook(req: ApiRequest):
    from chalicelib.services import webhooks

    view, created = webhooks.put_endpoint(config.settings(), req.signed_in, req.body)
    return json_response(view, 201 if created else 200)


@route(
    bp,
    "/v1/liaison/webhook",
    "GET",
    summary="The company's webhook endpoint",
    tag="liaison",
    auth="liaison",
    problems=("not_found",),
    response=resources.WEBHOOK_ENDPOINT,
)
def get_webhook(req: ApiRequest):
    from chalicelib.services import webhooks

    return webhooks.get_endpoint(req.signed_in)


@route(
    bp,
    "/v1/liaison/webhook",
    "DELETE",
    summary="Remove the company's webhook endpoint",
    tag="liaison",
    auth="liaison",
    status=204,
    problems=("not_found",),
)
def delete_webhook(req: ApiRequest):
    from chalicelib.services import webhooks

    webhooks.delete_endpoint(req.signed_in)
    return Response(body="", status_code=204)


@route(
    bp,
    "/v1/liaison/webhook/rotate-secret",
    "POST",
    summary="A new signing secret (shown once); the old one signs beside it for 24 h",
    tag="liaison",
    auth="liaison",
    problems=("not_found",),
    response=resources.WEBHOOK_ENDPOINT,
)
def rotate_webhook_secret(req: ApiRequest):
    from chalicelib.services import webhooks

    return webhooks.rotate_secret(req.signed_in)


@route(
    bp,
    "/v1/liaison/webhook/test",
    "POST",
    summary="Send a signed ping to the endpoint now and answer what happened",
    tag="liaison",
    auth="liaison",
    problems=("not_found",),
    response=resources.WEBHOOK_DELIVERY,
)
def test_webhook(req: ApiRequest):
    from chalicelib.services import webhooks

    return webhooks.send_test(config.settings(), req.signed_in)


@route(
    bp,
    "/v1/liaison/webhook/deliveries",
    "GET",
    summary="The delivery log: the last 30 days, newest first",
    tag="liaison",
    auth="liaison",
    response=resources.WEBHOOK_DELIVERY_LOG,
)
def webhook_deliveries(req: ApiRequest):
    from chalicelib.services import webhooks

    return webhooks.deliveries(req.signed_in)


@route(
    bp,
    "/v1/liaison/webhook/deliveries/{delivery_id}/resend",
    "POST",
    summary="Send a delivery again now (the same webhook-id)",
    tag="liaison",
    auth="liaison",
    problems=("not_found", "delivery_in_progress"),
    response=resources.WEBHOOK_DELIVERY,
)
def resend_webhook_delivery(req: ApiRequest):
    from chalicelib.services import webhooks

    # A delivery id holds colons (wh:<case>:v3:case.opened): a client may send them encoded,
    # and not every front end decodes a path parameter.
    delivery_id = unquote(req.params["delivery_id"])
    return webhooks.resend(config.settings(), req.signed_in, delivery_id)


@route(
    bp,
    "/v1/admin/webhooks",
    "GET",
    summary="Every company's webhook endpoint, enabled or not",
    tag="operator",
    auth="operator",
    response=resources.WEBHOOK_ENDPOINT_LIST,
)
def admin_webhooks(req: ApiRequest):
    from chalicelib.services import webhooks

    return webhooks.admin_list()


@route(
    bp,
    "/v1/admin/webhooks/{company}/disable",
    "POST",
    summary="Disable a company's webhook endpoint (its liaison turns it on by saving it)",
    tag="operator",
    auth="operator",
    problems=("not_found",),
    response=resources.WEBHOOK_ENDPOINT,
)
def admin_disable_webhook(req: ApiRequest):
    from chalicelib.services import webhooks

    return webhooks.admin_disable(req.params["company"])
