"""Operator insight and company accountability: statistics, hotspots, the case export, the
public scorecard and directory staleness. Thin: the services do the work, one module each
(operator_stats, hotspots, case_export, public_scorecard, directory_status)."""

from __future__ import annotations

from urllib.parse import urlencode

from chalice import Blueprint, Response

from chalicelib import config
from chalicelib.api.http import ApiRequest, json_response, route

bp = Blueprint(__name__)

CSV_QUERY = ("state", "company", "overdue", "limit")


@route(
    bp,
    "/v1/admin/stats",
    "GET",
    summary="Per-company statistics, kept from the audit stream",
    tag="operator",
    auth="operator",
    errors=(401, 403),
)
def admin_stats(req: ApiRequest):
    from chalicelib.services import operator_stats

    return operator_stats.admin_stats(config.settings())


@route(
    bp,
    "/v1/admin/hotspots",
    "GET",
    summary="Filings by region × company in an ISO week against the 8 weeks before",
    tag="operator",
    auth="operator",
    errors=(400, 401, 403, 422),
    query=("week", "company", "spikes_only"),
)
def admin_hotspots(req: ApiRequest):
    from chalicelib.services import hotspots

    return hotspots.hotspots(config.settings(), req.query)


@route(
    bp,
    "/v1/admin/hotspots/cases",
    "GET",
    summary="The masked cases behind one hotspot cell",
    tag="operator",
    auth="operator",
    errors=(400, 401, 403, 422),
    query=("week", "region", "company", "limit", "cursor"),
)
def admin_hotspot_cases(req: ApiRequest):
    from chalicelib.services import hotspots

    return hotspots.hotspot_cases(config.settings(), req.query)


@route(
    bp,
    "/v1/admin/cases.csv",
    "GET",
    summary="Cases as CSV (masked numbers), one page per request; next page in X-Next-Cursor",
    tag="operator",
    auth="operator",
    errors=(400, 401, 403, 422),
    query=(*CSV_QUERY, "cursor"),
)
def admin_cases_csv(req: ApiRequest):
    from chalicelib.services import case_export

    body, cursor = case_export.cases_csv(config.settings(), req.query)
    headers: dict[str, str | list[str]] = {
        "Content-Type": "text/csv; charset=utf-8",
        "Content-Disposition": 'attachment; filename="recount-cases.csv"',
        "Cache-Control": "no-store",
    }
    if cursor:
        kept = {k: req.query[k] for k in CSV_QUERY if req.query.get(k)}
        headers["X-Next-Cursor"] = cursor
        headers["Link"] = (
            f'</v1/admin/cases.csv?{urlencode({**kept, "cursor": cursor})}>; rel="next"'
        )
    return Response(body=body, status_code=200, headers=headers)


@route(
    bp,
    "/v1/scorecard",
    "GET",
    summary="Public scorecard: each figure only where at least 10 cases stand behind it",
    tag="public",
)
def scorecard(req: ApiRequest):
    from chalicelib.services import public_scorecard

    card = public_scorecard.scorecard(config.settings())
    return json_response(card, headers={"Cache-Control": "public, max-age=300"})


@route(
    bp,
    "/v1/liaison/directory-status",
    "GET",
    summary="The company's directory facts and which are stale (unverified for 90 days)",
    tag="liaison",
    auth="liaison",
    errors=(401, 403),
)
def liaison_directory_status(req: ApiRequest):
    from chalicelib.services import directory_status

    company = req.signed_in.company
    if company is None:
        raise AssertionError("a liaison key is bound to a directory entry")
    return directory_status.directory_status(company)
