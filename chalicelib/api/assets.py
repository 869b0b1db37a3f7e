"""GET /assets/{name}: the pages' stylesheet and scripts, from a fixed list of files."""

from __future__ import annotations

import functools
from pathlib import Path

from chalice import Blueprint, Response

from chalicelib.api.http import ApiRequest, route
from chalicelib.api.rendering import TEMPLATE_DIR
from chalicelib.domain.errors import not_found

bp = Blueprint(__name__)

ASSET_DIR = TEMPLATE_DIR / "assets"
ASSET_TYPES = {
    ".css": "text/css; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
}


@functools.lru_cache(maxsize=16)
def _asset(name: str) -> tuple[str, str] | None:
    suffix = Path(name).suffix
    allowed = {p.name for p in ASSET_DIR.iterdir() if p.suffix in ASSET_TYPES}
    if name not in allowed:  # a fixed list: no path ever reaches the file system unchecked
        return None
    return (ASSET_DIR / name).read_text(encoding="utf-8"), ASSET_TYPES[suffix]


@route(
    bp,
    "/assets/{name}",
    "GET",
    summary="The pages' stylesheet and scripts",
    tag="pages",
    problems=("not_found",),
    media=tuple(dict.fromkeys(t.split(";")[0] for t in ASSET_TYPES.values())),
    aws=False,
)
def asset(req: ApiRequest):
    found = _asset(req.params["name"])
    if found is None:
        raise not_found("asset")
    body, content_type = found
    return Response(
        body=body,
        status_code=200,
        headers={
            "Content-Type": content_type,
            "Cache-Control": "no-cache",
            "X-Content-Type-Options": "nosniff",
        },
    )
