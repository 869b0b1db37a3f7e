"""Strict reading of the YAML data files the engine reads (workflows/case_workflow.yaml,
templates/sms/providers.yaml): every fault names the file and the key path, as
'<file>: <key.path>: <problem>'."""

from __future__ import annotations

from pathlib import Path
from typing import Any


def load_yaml(path: Path, error: type[ValueError]) -> Any:
    """The parsed file; an unreadable or malformed one raises `error` naming it."""
    import yaml  # lazily: the loaders run once per process, never at import

    try:
        return yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise error(f"{path}: (file): {exc}") from exc


class DataFileReader:
    """Walks the parsed YAML of one file; subclasses add the shapes their file has."""

    def __init__(self, path: Path, error: type[ValueError]) -> None:
        self.path = path
        self._error = error

    def fail(self, key: str, message: str) -> ValueError:
        return self._error(f"{self.path}: {key}: {message}")

    def mapping(
        self, value: Any, key: str, allowed: set[str] | None, required: set[str]
    ) -> dict[str, Any]:
        """`value` as a mapping with names as keys, only `allowed` ones (None: any) and every
        `required` one."""
        if not isinstance(value, dict) or not all(isinstance(k, str) for k in value):
            raise self.fail(key, "must be a mapping with names as keys")
        if allowed is not None:
            unknown = set(value) - allowed
            if unknown:
                raise self.fail(f"{key}.{sorted(unknown)[0]}", "unknown key")
        missing = required - set(value)
        if missing:
            raise self.fail(f"{key}.{sorted(missing)[0]}", "is required")
        return value
