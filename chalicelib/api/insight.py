"""Operator insight and company accountability: statistics, hotspots, the public scorecard."""

from __future__ import annotations

from chalice import Blueprint

bp = Blueprint(__name__)
