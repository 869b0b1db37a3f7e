"""HTML pages (zh-CN) for the person, liaisons and operators; they call the JSON API."""

from __future__ import annotations

from chalice import Blueprint

bp = Blueprint(__name__)
