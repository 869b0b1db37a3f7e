"""Renders the zh-CN SMS templates of templates/sms/. User text only ever enters as a variable."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import jinja2

import functools
from collections.abc import Mapping
from datetime import datetime
from pathlib import Path
from typing import Any

from chalicelib.domain import clock
from chalicelib.domain.ports import SmsMessage
from chalicelib.domain.workdays import SHANGHAI

TEMPLATE_DIR = Path(__file__).resolve().parents[2] / "templates" / "sms"
SUFFIX = ".txt.j2"


@functools.lru_cache(maxsize=1)
def _environment() -> jinja2.Environment:
    import jinja2

    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(TEMPLATE_DIR)),
        undefined=jinja2.StrictUndefined,
        autoescape=False,  # plain text, not HTML
        keep_trailing_newline=False,
    )


def template_names() -> list[str]:
    return sorted(p.name.removesuffix(SUFFIX) for p in TEMPLATE_DIR.glob(f"*{SUFFIX}"))


def environment() -> jinja2.Environment:
    return _environment()


def _signed(template: jinja2.Template, variables: Mapping[str, Any], signature: str) -> str:
    return f"{signature}{template.render(**variables).strip()}"


def render(name: str, variables: Mapping[str, Any], signature: str) -> str:
    return _signed(_environment().get_template(name + SUFFIX), variables, signature)


def message(name: str, variables: Mapping[str, Any], signature: str) -> SmsMessage:
    """The SMS as a provider needs it: template, variables and the text they render to."""
    return SmsMessage(name, dict(variables), render(name, variables, signature))


def render_source(source: str, variables: Mapping[str, Any], signature: str) -> str:
    """Renders template text exactly as `render` renders a template file (the linter's use)."""
    return _signed(_environment().from_string(source), variables, signature)


def due_text(due: str | datetime) -> str:
    """A timer's due time as a text shows it: Shanghai wall clock, e.g. 11月29日15:00."""
    moment = clock.parse_iso(due) if isinstance(due, str) else due
    local = moment.astimezone(SHANGHAI)
    return f"{local.month}月{local.day}日{local:%H:%M}"
