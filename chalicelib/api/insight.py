"""Operator insight and company accountability: statistics, hotspots, the case export, the
public scorecard and directory staleness. Thin: the services do the work, one module each
(operator_stats, hotspots, case_export, public_scorecard, directory_status)."""

from __future__ import annotations

from urllib.parse import urlencode

from chalice import Blueprint, Response

from chalicelib import config
from chalicelib.api import resources
from chalicelib.api.http import ApiRequest, Param, json_response, route

bp = Blueprint(__name__)

CSV_QUERY = ("state", "company", "overdue", "limit")
CSV_PARAMS = {
    "state": Param(resources.states, description="escalated when left out"),
    "company": Param(resources.companies),
    "overdue": Param(resources.FLAG_QUERY),
    "limit": Param(resources.limit_schema),
    "cursor": Param(resources.CURSOR_QUERY),
}


@route(
    bp,
    "/v1/admin/stats",
    "GET",
    summary="Per-company statistics, kept from the audit stream",
    tag="operator",
    auth="operator",
    response=resources.STATS,
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
    query={
        "week": Param(resources.WEEK_QUERY, description="This week when left out"),
        "company": Param(resources.companies),
        "spikes_only": Param(resources.FLAG_QUERY),
    },
    response=resources.HOTSPOTS,
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
    problems=("invalid_cursor",),
    query={
        "week": Param(resources.WEEK_QUERY, required=True),
        "region": Param(resources.REGION_QUERY, required=True),
        "company": Param(resources.companies, required=True),
        "limit": Param(resources.limit_schema),
        "cursor": Param(resources.CURSOR_QUERY),
    },
    response=resources.HOTSPOT_CASE_PAGE,
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
    problems=("invalid_cursor",),
    query=CSV_PARAMS,
    media=("text/csv",),
    response_headers=("Content-Disposition", "X-Next-Cursor", "Link"),
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
    response=resources.SCORECARD,
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
    response=resources.DIRECTORY_STATUS,
)
def liaison_directory_status(req: ApiRequest):
    from chalicelib.services import directory_status

    company = req.signed_in.company
    if company is None:
        raise AssertionError("a liaison key is bound to a directory entry")
    return directory_status.directory_status(company)
