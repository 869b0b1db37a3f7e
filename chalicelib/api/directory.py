"""GET /v1/directory: the companies and carriers a dispute may name (with their hotlines and
how sure we are of each), and the reasons it may give.

Public; the dispute form is built from it (docs/design.md §5).
"""

from __future__ import annotations

import json

from chalice import Blueprint, Response

from chalicelib.api import resources
from chalicelib.api.http import ApiRequest, route
from chalicelib.api.labels import page_labels
from chalicelib.domain.directory import KIND_TO_TYPE, load_directory

bp = Blueprint(__name__)


@route(
    bp,
    "/v1/directory",
    "GET",
    summary="Companies and carriers a dispute may name, and the reasons it may give",
    tag="directory",
    response=resources.DIRECTORY,
    aws=False,
)
def directory(req: ApiRequest):
    entries = load_directory().entries.values()
    kind_of = {entry_type: kind for kind, entry_type in KIND_TO_TYPE.items()}
    labels = page_labels()
    return Response(
        body=json.dumps(
            {
                "kinds": [{"kind": k, "label": v} for k, v in labels["kind"].items()],
                "reasons": [{"reason": k, "label": v} for k, v in labels["reason"].items()],
                "entries": [
                    {
                        "key": e.key,
                        "type": e.type,
                        "kind": kind_of[e.type],
                        "name_zh": e.name_zh,
                        "name_en": e.name_en,
                        "apps": [{"zh": zh, "en": en} for zh, en in e.apps],
                        # With how sure we are of it: a wrong number about fraud does harm.
                        "hotline": {
                            "number": e.hotline.number,
                            "confidence": e.hotline.fact.confidence,
                            "note": e.hotline.note,
                        },
                    }
                    for e in entries
                ],
            },
            ensure_ascii=False,
        ),
        status_code=200,
        headers={
            "Content-Type": "application/json; charset=utf-8",
            "Cache-Control": "public, max-age=300",
        },
    )
