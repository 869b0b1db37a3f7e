"""SMS templates (docs/design.md §7): each renders under StrictUndefined, carries the signature,
and has no links. The full one-segment linter is a separate test.

Pure domain tests: no AWS, no moto.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import jinja2
import jinja2.meta
import pytest

from chalicelib.domain import sms_text
from chalicelib.domain.workflow import load_workflow

ROOT = Path(__file__).resolve().parents[2]
TEMPLATE_DIR = ROOT / "templates" / "sms"
NAMES = sorted(p.name.removesuffix(".txt.j2") for p in TEMPLATE_DIR.glob("*.txt.j2"))
SIGNATURE = "【recount】"

# Plausible values for every variable a template may use; hotline is optional.
VARIABLES: dict[str, Any] = {
    "case_id": "C0123456789"[:10],
    "dispute_id": "D0123456789"[:10],
    "company": "中国广电",
    "case_count": 12,
    "count": 4,
    "code": "012345",
    "hotline": "95017",
}
OPTIONAL = {"hotline"}


def source(name: str) -> str:
    return (TEMPLATE_DIR / f"{name}.txt.j2").read_text(encoding="utf-8")


def used_variables(name: str) -> set[str]:
    env = jinja2.Environment()
    return jinja2.meta.find_undeclared_variables(env.parse(source(name)))


def stage_signatures() -> list[str]:
    config = json.loads((ROOT / ".chalice" / "config.json").read_text(encoding="utf-8"))
    return [
        stage["environment_variables"]["RECOUNT_SMS_SIGNATURE"]
        for stage in config["stages"].values()
    ]


def test_there_are_templates_and_the_module_sees_them_all() -> None:
    assert NAMES
    assert sms_text.template_names() == NAMES
    assert Path(sms_text.TEMPLATE_DIR) == TEMPLATE_DIR


def test_every_template_the_workflow_names_and_the_code_message_exist() -> None:
    assert load_workflow().all_templates() | {"verification_code"} <= set(NAMES)


@pytest.mark.parametrize("name", NAMES)
def test_every_variable_is_known(name: str) -> None:
    assert used_variables(name) <= set(VARIABLES), used_variables(name) - set(VARIABLES)


@pytest.mark.parametrize("name", NAMES)
def test_renders_with_plausible_variables(name: str) -> None:
    variables = {k: VARIABLES[k] for k in used_variables(name)}
    text = sms_text.render(name, variables, SIGNATURE)
    assert text.startswith(SIGNATURE)
    body = text.removeprefix(SIGNATURE)
    assert body and body == body.strip()
    assert "{{" not in text and "{%" not in text and "}}" not in text
    for key, value in variables.items():
        if value is not None and key != "hotline":
            assert str(value) in body, (name, key)


@pytest.mark.parametrize("name", [n for n in NAMES if "hotline" in used_variables(n)])
def test_optional_hotline(name: str) -> None:
    variables = {k: VARIABLES[k] for k in used_variables(name)}
    with_hotline = sms_text.render(name, variables, SIGNATURE)
    without = sms_text.render(name, {**variables, "hotline": None}, SIGNATURE)
    assert "95017" in with_hotline
    assert "95017" not in without
    assert "None" not in without
    assert without.startswith(SIGNATURE)


@pytest.mark.parametrize("name", NAMES)
def test_a_missing_variable_raises(name: str) -> None:
    used = used_variables(name)
    assert used, f"{name} uses no variables at all"
    for missing in sorted(used):
        variables = {k: VARIABLES[k] for k in used if k != missing}
        with pytest.raises(jinja2.UndefinedError):
            sms_text.render(name, variables, SIGNATURE)


def test_the_environment_is_strict_and_plain_text() -> None:
    # StrictUndefined: even a `{{ company.x }}`-style slip cannot render as blank text.
    env = sms_text._environment()
    assert env.undefined is jinja2.StrictUndefined
    assert env.autoescape is False  # plain text: "&" must not become "&amp;"


@pytest.mark.parametrize("signature", stage_signatures())
@pytest.mark.parametrize("name", NAMES)
def test_every_stage_signature_leads(name: str, signature: str) -> None:
    assert signature.startswith("【") and signature.endswith("】")
    variables = {k: VARIABLES[k] for k in used_variables(name)}
    text = sms_text.render(name, variables, signature)
    assert text.startswith(signature)
    assert text.count("【") == 1


@pytest.mark.parametrize("name", NAMES)
def test_no_links(name: str) -> None:
    text = source(name).lower()
    for bad in ("http", "www", "://", ".com", ".cn"):
        assert bad not in text, (name, bad)


@pytest.mark.parametrize("name", [n for n in NAMES if "company" in used_variables(n)])
def test_text_in_a_variable_is_data_not_template(name: str) -> None:
    variables = {k: VARIABLES[k] for k in used_variables(name)}
    text = sms_text.render(name, {**variables, "company": "{{ code }}&<b>"}, SIGNATURE)
    assert "{{ code }}&<b>" in text


def test_follow_ups_carry_the_case_number() -> None:
    workflow = load_workflow()
    follow_ups = set()
    for action in workflow.actions.values():
        for effect in action.effects.values():
            follow_ups.update(effect.sms)
    assert follow_ups
    for name in sorted(follow_ups):
        assert "case_id" in used_variables(name), name


def test_the_code_message_warns_that_no_one_may_ask_for_it() -> None:
    text = sms_text.render("verification_code", {"code": "012345"}, SIGNATURE)
    assert "012345" in text
    assert "工作人员" in text and "诈骗" in text
