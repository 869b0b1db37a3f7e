"""The stages of .chalice/config.json, read one way for every tool: `make run`, `make package`,
the tests and the SMS linter. A stage's variables are the top-level `environment_variables`
with the stage's own on top; its other settings stay in `stage_settings`."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

CONFIG_PATH = Path(__file__).resolve().parents[1] / ".chalice" / "config.json"


class UnknownStage(KeyError):
    """The stage is not in .chalice/config.json."""


def chalice_config(path: Path = CONFIG_PATH) -> dict[str, Any]:
    return json.loads(path.read_text(encoding="utf-8"))


def stage_names(path: Path = CONFIG_PATH) -> list[str]:
    return list(chalice_config(path)["stages"])


def stage_settings(stage: str, path: Path = CONFIG_PATH) -> dict[str, Any]:
    config = chalice_config(path)
    if stage not in config["stages"]:
        raise UnknownStage(
            f".chalice/config.json has no stage {stage!r}; it has {sorted(config['stages'])}"
        )
    return config["stages"][stage]


def stage_variables(stage: str, path: Path = CONFIG_PATH) -> dict[str, str]:
    merged = {
        **chalice_config(path).get("environment_variables", {}),
        **stage_settings(stage, path).get("environment_variables", {}),
    }
    return {name: str(value) for name, value in merged.items()}
