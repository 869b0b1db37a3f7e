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
from chalicelib.domain.workflow import STEPS, load_workflow

ROOT = Path(__file__).resolve().parents[2]
TEMPLATE_DIR = ROOT / "templates" / "sms"
NAMES = sorted(p.name.removesuffix(".txt.j2") for p in TEMPLATE_DIR.glob("*.txt.j2"))
SIGNATURE = "【recount】"

# Plausible values for every variable a template may use; hotline is optional.
VARIABLES: dict[str, Any] = {
    "case_id": "C0123456789"[:10],
    "new_case_id": "C9876543210"[:10],
    "dispute_id": "D0123456789"[:10],
    "company": "中国广电",
    "case_count": 12,
    "count": 4,
    "code": "012345",
    "hotline": "95017",
    "due": "11月29日15:00",
    "step": "requery",
}
OPTIONAL = {"hotline"}
# Variables that choose a branch rather than appear in the text.
CHOOSERS = {"step"}


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


def branches(name: str) -> list[dict[str, Any]]:
    """The plausible variables, once per value of a variable that chooses a branch."""
    variables = {k: VARIABLES[k] for k in used_variables(name)}
    if "step" not in variables:
        return [variables]
    return [{**variables, "step": step} for step in STEPS]


@pytest.mark.parametrize("name", NAMES)
def test_renders_with_plausible_variables(name: str) -> None:
    bodies = []
    for variables in branches(name):
        text = sms_text.render(name, variables, SIGNATURE)
        assert text.startswith(SIGNATURE)
        body = text.removeprefix(SIGNATURE)
        assert body and body == body.strip()
        assert "{{" not in text and "{%" not in text and "}}" not in text
        bodies.append(body)
    for key, value in branches(name)[0].items():
        if value is not None and key != "hotline" and key not in CHOOSERS:
            assert any(str(value) in body for body in bodies), (name, key)


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
        raised = 0
        for variables in branches(name):
            variables.pop(missing)
            try:
                sms_text.render(name, variables, SIGNATURE)
            except jinja2.UndefinedError:
                raised += 1
        assert raised, (name, missing)  # in every branch that uses it


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


# -- issue 16: the wording reviewed as a whole ------------------------------------------------
SERVICE = (
    "号码绑定申诉"  # the service's name as the pages' title shows it (templates/web/base.html)
)


def render_all(signature: str = SIGNATURE) -> dict[str, str]:
    return {
        name: sms_text.render(name, {k: VARIABLES[k] for k in used_variables(name)}, signature)
        for name in NAMES
    }


def test_the_new_texts_render() -> None:
    texts = render_all()
    assert texts["user_action_requested"] == (
        "【recount】案件C012345678：您对中国广电的申诉需您处理一步，"
        "请在11月29日15:00前到号码绑定申诉查看说明。"
    )
    assert texts["case_rerouted"] == (
        "【recount】案件C012345678已转给中国广电处理，新案件编号C987654321，"
        "期限重新计算，进展见号码绑定申诉。"
    )
    assert texts["case_auto_resolved"].startswith("【recount】案件C012345678：您未在期限内确认")
    assert "已按已解决结案" in texts["case_auto_resolved"]


def test_one_term_for_the_dispute_and_the_service_named_everywhere() -> None:
    for name, text in render_all().items():
        assert "争议" not in text and "本服务" not in text, name
        if name != "verification_code":
            assert SERVICE in text, name  # where to look, without a link


def test_no_deadline_is_typed_into_a_template() -> None:
    # A deadline or a time comes from the timer that sets it ({{ due }}), never the text.
    # (The code's own 5-minute validity is the code's, not a case deadline.)
    import re

    for name in NAMES:
        if name == "verification_code":
            continue
        assert not re.search(r"\d+\s*(天|日|小时|个?工作日|分钟)", source(name)), name


def test_requests_to_act_give_the_deadline_and_the_next_step() -> None:
    texts = render_all()
    for name in ("user_action_requested", "user_action_reminder"):
        assert "11月29日15:00前" in texts[name] and f"到{SERVICE}查看" in texts[name], name
    # Not a regulator's notice: no 督办, no official bodies; the person is told she need not act.
    assert "督办" not in texts["case_escalated"] and "无需操作" in texts["case_escalated"]


def test_the_digest_keeps_the_most_urgent_step() -> None:
    base = {"dispute_id": "D012345678", "count": 3, "case_id": "C012345678"}
    requery = sms_text.render(
        "dispute_digest", {**base, "step": "requery", "due": "11月29日15:00"}, SIGNATURE
    )
    assert "3项新进展" in requery and "请于11月29日15:00后重新查询一证通查" in requery
    now = sms_text.render("dispute_digest", {**base, "step": "requery", "due": None}, SIGNATURE)
    assert "请重新查询一证通查" in now and "None" not in now
    look = sms_text.render("dispute_digest", {**base, "step": "look", "due": None}, SIGNATURE)
    assert "C012345678" in look and f"详情见{SERVICE}" in look


def test_due_text_is_shanghai_wall_clock() -> None:
    from datetime import UTC, datetime

    assert sms_text.due_text("2026-11-29T07:00:00Z") == "11月29日15:00"
    assert sms_text.due_text(datetime(2026, 12, 31, 15, 59, tzinfo=UTC)) == "12月31日23:59"
