"""Advice shown to the person (zh-CN), from templates/advice/: where to turn outside recount."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import jinja2

import functools
from pathlib import Path

ADVICE_DIR = Path(__file__).resolve().parents[2] / "templates" / "advice"
SUFFIX = ".txt.j2"


@functools.lru_cache(maxsize=1)
def _environment() -> jinja2.Environment:
    import jinja2

    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(ADVICE_DIR)),
        undefined=jinja2.StrictUndefined,
        autoescape=False,
    )


def names() -> set[str]:
    return {p.name.removesuffix(SUFFIX) for p in ADVICE_DIR.glob(f"*{SUFFIX}")}


@functools.lru_cache(maxsize=32)
def text(name: str) -> str:
    return _environment().get_template(name + SUFFIX).render().strip()


def item(name: str) -> dict[str, str]:
    return {"code": name, "text": text(name)}
