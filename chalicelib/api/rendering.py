"""How every HTML page is made: a Jinja2 template of templates/web/, answered with strict headers.

Templates are autoescaped and get the labels (api/labels.py) and the stage. The pages forbid
inline script, framing and referrers (SECURITY_HEADERS), so an injected string cannot run and
a page cannot be clickjacked.
"""

from __future__ import annotations

import functools
from pathlib import Path
from typing import TYPE_CHECKING, Any

from chalice import Response

from chalicelib import config
from chalicelib.api.labels import page_labels

if TYPE_CHECKING:
    import jinja2

TEMPLATE_DIR = Path(__file__).resolve().parents[2] / "templates" / "web"

CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",  # no inline script: every script is a file under /assets/
        "style-src 'self'",
        "img-src 'self' data:",
        "connect-src 'self'",
        "font-src 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
)
SECURITY_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    "X-Content-Type-Options": "nosniff",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=(), payment=()",
}


@functools.lru_cache(maxsize=1)
def _environment() -> jinja2.Environment:
    import jinja2  # here, not at import: only page routes pay for it (cold start)

    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(TEMPLATE_DIR)),
        autoescape=True,  # every value is escaped, whatever the template's file name
        undefined=jinja2.StrictUndefined,
    )
    # |tojson escapes <, >, & and ' for HTML; keep the labels in their declared order.
    env.policies["json.dumps_kwargs"] = {"sort_keys": False, "ensure_ascii": False}
    return env


def render(template: str, **context: Any) -> str:
    settings = config.settings()
    return (
        _environment()
        .get_template(template)
        .render(labels=page_labels(), stage=settings.stage, **context)
    )


def html_response(body: str, status: int = 200) -> Response:
    return Response(
        body=body,
        status_code=status,
        headers={
            "Content-Type": "text/html; charset=utf-8",
            "Cache-Control": "no-store",
            **SECURITY_HEADERS,
        },
    )
