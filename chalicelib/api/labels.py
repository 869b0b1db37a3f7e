"""What the pages show in Chinese: templates/web/labels.yaml, checked when first loaded.

The file maps each kind of code the API returns (state, reason, error, ...) to its labels,
code -> zh-CN text, in the order the pages list them. PyYAML is imported on first use, not at
import (cold start).
"""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Any

DEFAULT_PATH = Path(__file__).resolve().parents[2] / "templates" / "web" / "labels.yaml"

Labels = dict[str, dict[str, str]]


class LabelsError(ValueError):
    """labels.yaml cannot be read or is not a mapping of groups of strings."""


@functools.cache
def page_labels() -> Labels:
    """The labels of DEFAULT_PATH; cached, the file is read-only at runtime."""
    return load_labels_file(DEFAULT_PATH)


def load_labels_file(path: Path) -> Labels:
    import yaml

    try:
        text = path.read_text(encoding="utf-8")
        duplicate = _duplicate_key(yaml.compose(text, Loader=yaml.SafeLoader))
        data = yaml.safe_load(text)
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        raise LabelsError(f"{path}: cannot load: {exc}") from exc
    if duplicate:  # PyYAML would silently keep the last of the two
        raise LabelsError(f"{path}: {duplicate}")
    return _validate(data, path)


def _duplicate_key(node: Any) -> str | None:
    import yaml

    if not isinstance(node, yaml.MappingNode):
        return None
    seen: set[Any] = set()
    for key, value in node.value:
        if key.value in seen:
            return f"line {key.start_mark.line + 1}: duplicate key {key.value!r}"
        seen.add(key.value)
        nested = _duplicate_key(value)
        if nested:
            return nested
    return None


def _validate(data: Any, path: Path) -> Labels:
    if not isinstance(data, dict) or not data:
        raise LabelsError(f"{path}: expected a mapping of label groups")
    for group, labels in data.items():
        if not isinstance(group, str) or not isinstance(labels, dict) or not labels:
            raise LabelsError(f"{path}: {group!r}: expected a mapping of code -> label")
        for code, text in labels.items():
            if not isinstance(code, str) or not isinstance(text, str) or not text.strip():
                raise LabelsError(
                    f"{path}: {group}.{code!r}: expected a string code and a non-empty label"
                )
    return data
