"""templates/web/labels.yaml: the pages' zh-CN labels are data, checked when loaded."""

from __future__ import annotations

from pathlib import Path

import pytest

from chalicelib.api.labels import LabelsError, load_labels_file, page_labels


def test_the_real_file_loads_with_every_group_the_pages_use() -> None:
    labels = page_labels()
    assert {"error", "state", "reason"} <= set(labels)
    assert labels["error"]["new_code_needed"] and labels["error"]["request_in_flight"]


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("", "expected a mapping"),
        ("- a\n- b\n", "expected a mapping"),
        ("error: text\n", "expected a mapping of code"),
        ("error:\n  a: x\n  a: y\n", "duplicate key 'a'"),
        ("error:\n  a: ''\n", "non-empty label"),
        ("error:\n  a: [1]\n", "non-empty label"),
        ("error: [unclosed\n", "cannot load"),
    ],
)
def test_a_bad_file_fails_naming_its_path(tmp_path: Path, text: str, says: str) -> None:
    path = tmp_path / "labels.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(LabelsError, match=says) as failed:
        load_labels_file(path)
    assert str(path) in str(failed.value)


def test_a_missing_file_fails_naming_its_path(tmp_path: Path) -> None:
    with pytest.raises(LabelsError, match="cannot load"):
        load_labels_file(tmp_path / "nowhere.yaml")


def test_every_code_the_sign_in_and_retries_branch_on_has_words() -> None:
    """The person's page says these in words (issue 16), never a bare code or status."""
    errors = page_labels()["error"]
    for code in (
        "verification_failed",
        "new_code_needed",
        "code_too_soon",
        "daily_code_limit",
        "client_rate_limited",
        "number_cancelled",
        "unauthenticated",
        "request_in_flight",
        "network",
    ):
        assert errors[code].strip(), code
