"""HTML pages (zh-CN) for the person, the public, liaisons and operators; they call the JSON API.

Every page is a Jinja2 template of templates/web/ (api/rendering.py) plus plain JavaScript
served from /assets/ (api/assets.py): no build step, nothing fetched from another origin. Each
page talks to the same JSON API as any other client, with fetch().

Cross-site requests: the API authenticates by the `Authorization: Bearer` header only. The
pages keep the person's token or the staff key in sessionStorage and add the header in
JavaScript; recount sets no cookie at all. A cross-site form post, link or image therefore
reaches recount without any credential and cannot act as anyone (no CSRF token is needed),
and without CORS headers another site's script cannot read an answer either. Tokens and keys
never appear in a URL.
"""

from __future__ import annotations

from typing import Any

from chalice import Blueprint

from chalicelib.api.http import ApiRequest, route
from chalicelib.api.rendering import html_response, render
from chalicelib.domain.insight import MIN_PUBLIC_CASES

bp = Blueprint(__name__)

HTML = ("text/html",)


def directory_hotlines() -> list[dict[str, Any]]:
    """Every company's and carrier's hotline as the directory has it, with its confidence:
    what a person whose number is cancelled (no code can reach it) can still call."""
    from chalicelib.domain.directory import load_directory

    return [
        {
            "key": e.key,
            "type": e.type,
            "name": e.name_zh,
            "number": e.hotline.number,
            "note": e.hotline.note,
            "confidence": e.hotline.fact.confidence,
        }
        for e in load_directory().entries.values()
    ]


@route(
    bp,
    "/",
    "GET",
    summary="Page: the person files and follows a dispute",
    tag="pages",
    media=HTML,
    aws=False,
)
def person_page(req: ApiRequest):
    return html_response(render("person.html", page="person", hotlines=directory_hotlines()))


@route(
    bp,
    "/console",
    "GET",
    summary="Page: the company liaison console",
    tag="pages",
    media=HTML,
    aws=False,
)
def console_page(req: ApiRequest):
    return html_response(render("console.html", page="console"))


@route(
    bp,
    "/dashboard",
    "GET",
    summary="Page: the operator dashboard",
    tag="pages",
    media=HTML,
    aws=False,
)
def dashboard_page(req: ApiRequest):
    return html_response(render("dashboard.html", page="dashboard"))


@route(
    bp,
    "/scorecard",
    "GET",
    summary="Page: the public company scorecard",
    tag="pages",
    media=HTML,
    aws=False,
)
def scorecard_page(req: ApiRequest):
    return html_response(render("scorecard.html", page="scorecard", min_cases=MIN_PUBLIC_CASES))
