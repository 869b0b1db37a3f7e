"""Renders the zh-CN SMS templates of templates/sms/. User text only ever enters as a variable."""

from __future__ import annotations

import functools
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import jinja2

TEMPLATE_DIR = Path(__file__).resolve().parents[2] / "templates" / "sms"
SUFFIX = ".txt.j2"


@functools.lru_cache(maxsize=1)
def _environment() -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(TEMPLATE_DIR)),
        undefined=jinja2.StrictUndefined,
        autoescape=False,  # plain text, not HTML
        keep_trailing_newline=False,
    )


def template_names() -> list[str]:
    return sorted(p.name.removesuffix(SUFFIX) for p in TEMPLATE_DIR.glob(f"*{SUFFIX}"))


def render(name: str, variables: Mapping[str, Any], signature: str) -> str:
    body = _environment().get_template(name + SUFFIX).render(**variables).strip()
    return f"{signature}{body}"
