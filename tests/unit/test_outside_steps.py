"""The escalation ladder's last rung: where the person can turn outside recount."""

from pathlib import Path

import pytest
import yaml

from chalicelib.domain import advice
from chalicelib.domain.workflow import (
    DEFAULT_PATH,
    WorkflowError,
    load_workflow,
    load_workflow_file,
)


@pytest.mark.parametrize(
    ("kind", "lane", "step", "mentions"),
    [
        ("accounts", "fraud", "report_fraud", "96110"),
        ("sim_cards", "fraud", "report_fraud", "96110"),
        ("sim_cards", "standard", "complain_12300", "12300"),
        ("accounts", "standard", "complain_national", "投诉一证通查"),
    ],
)
def test_each_kind_and_lane_names_its_outside_step(kind, lane, step, mentions):
    name = load_workflow().outside_step(kind, lane)
    assert name == step
    assert mentions in advice.text(name)


def test_every_advice_text_is_plain_zh_without_links():
    for name in advice.names():
        text = advice.text(name)
        assert text and "http" not in text and "www" not in text


def test_an_outside_step_without_its_advice_text_fails_loudly(tmp_path: Path):
    data = yaml.safe_load(DEFAULT_PATH.read_text(encoding="utf-8"))
    data["outside_steps"]["sim_cards"] = "call_a_friend"
    path = tmp_path / "case_workflow.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    with pytest.raises(WorkflowError) as err:
        load_workflow_file(path)
    assert str(path) in str(err.value) and "outside_steps.sim_cards" in str(err.value)
