"""The provider template mapping (SPEC §11): templates/sms/providers.yaml against our Jinja
templates, its loader, and the providers' limits (tests/sms_provider_lint.py).

The central check is `params == placeholder_order(...)`: a broken mapping written to tmp_path
(a reordered pair, a missing and an extra variable) shows that it names template and variant.
Pure domain tests: no AWS, no moto, no provider SDK.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from chalicelib.domain import sms_providers, sms_text
from chalicelib.domain.sms_providers import (
    PROVIDERS,
    ProviderTemplate,
    ProviderTemplateError,
    ProviderTemplates,
    load_provider_templates,
    load_provider_templates_file,
    placeholder_order,
    provider_source,
)
from tests import sms_lint, sms_provider_lint

ROOT = Path(__file__).resolve().parents[2]
MAPPING = load_provider_templates()
LONGEST = sms_lint.longest_variables()
NAMES = sms_text.template_names()
VARIANTS = [(name, i) for name in MAPPING.names() for i in range(len(MAPPING.variants(name)))]


def raw() -> dict[str, Any]:
    """The real file, parsed: the base every broken mapping below is made from."""
    data = yaml.safe_load(sms_providers.DEFAULT_PATH.read_text(encoding="utf-8"))
    assert isinstance(data, dict)
    return data


def write(tmp_path: Path, data: dict[str, Any]) -> Path:
    path = tmp_path / "providers.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return path


def load(tmp_path: Path, data: dict[str, Any]) -> ProviderTemplates:
    return load_provider_templates_file(write(tmp_path, data))


# -- the real mapping ------------------------------------------------------------------------
def test_every_template_is_mapped_and_nothing_else() -> None:
    assert MAPPING.names() == NAMES
    assert sms_provider_lint.lint_coverage(MAPPING) == []


@pytest.mark.parametrize(("name", "index"), VARIANTS)
def test_params_are_the_order_the_text_shows(name: str, index: int) -> None:
    variant = MAPPING.variants(name)[index]
    assert list(variant.params) == placeholder_order(name, variant.when)


def test_the_whole_provider_lint_passes() -> None:
    assert sms_provider_lint.lint_providers() == []


@pytest.mark.parametrize("name", NAMES)
def test_every_combination_picks_one_variant_rendering_as_jinja(name: str) -> None:
    # The linter's alternatives (hotline absent, each step) and None for a bare-tested `due`,
    # with the longest legal values: each provider's text, filled in, is what SNS would send.
    combos = sms_provider_lint.combinations(name, LONGEST)
    for combo in combos:
        matching = [v for v in MAPPING.variants(name) if v.matches(combo)]
        assert len(matching) == 1, (name, combo)
        variant = MAPPING.pick(name, combo)
        assert variant is matching[0]
        for signature in sms_lint.stage_signatures().values():
            rendered = sms_text.render(name, combo, signature)
            for provider in PROVIDERS:
                filled = sms_provider_lint.fill(variant, provider, combo)
                assert signature + filled == rendered, (name, provider, combo)


def test_the_branchy_templates_cover_their_branches() -> None:
    digest = {
        (c["step"], c["due"] is None)
        for c in sms_provider_lint.combinations("dispute_digest", LONGEST)
    }
    assert digest == {("requery", False), ("requery", True), ("look", False), ("look", True)}
    escalated = {c["hotline"] for c in sms_provider_lint.combinations("case_escalated", LONGEST)}
    assert escalated == {LONGEST["hotline"], None}
    picked = {
        MAPPING.pick("dispute_digest", {**LONGEST, "step": s, "due": d}).ids["tencent"]
        for s in ("requery", "look")
        for d in (LONGEST["due"], None)
    }
    assert len(picked) == 3  # re-query at a time, re-query now, look (due or not)


def test_provider_texts_use_each_providers_placeholders() -> None:
    variant = MAPPING.pick("case_escalated", LONGEST)
    assert variant.params == ("case_id", "company", "hotline")
    assert provider_source(variant, "aliyun") == (
        "案件${case_id}：${company}逾期未答复，已转人工跟进，您无需操作，进展见号码绑定申诉。"
        "客服电话${hotline}"
    )
    assert provider_source(variant, "tencent") == (
        "案件{1}：{2}逾期未答复，已转人工跟进，您无需操作，进展见号码绑定申诉。客服电话{3}"
    )
    for name, index in VARIANTS:
        for provider in PROVIDERS:
            text = provider_source(MAPPING.variants(name)[index], provider)
            assert "【" not in text and "】" not in text  # the provider adds the signature
    with pytest.raises(ProviderTemplateError, match="unknown provider"):
        provider_source(variant, "sns")


def test_provider_ids_are_unique_per_provider() -> None:
    for provider in PROVIDERS:
        ids = [MAPPING.variants(n)[i].ids[provider] for n, i in VARIANTS]
        assert len(ids) == len(set(ids)), provider


def test_params_are_stringified() -> None:
    variant = MAPPING.pick("dispute_receipt", {})
    values = {"dispute_id": "D123", "case_count": 3}
    assert variant.named_params(values) == {"dispute_id": "D123", "case_count": "3"}
    assert variant.positional_params(values) == ["D123", "3"]
    code = MAPPING.pick("verification_code", {})
    assert code.positional_params({"code": 123456}) == ["123456"]
    with pytest.raises(ProviderTemplateError, match="'case_count' has no value"):
        variant.named_params({"dispute_id": "D123", "case_count": None})


def test_matches_follows_jinja_truth() -> None:
    variant = ProviderTemplate("t", {"hotline": True, "step": "look"}, (), {})
    assert variant.matches({"hotline": "95105", "step": "look"})
    assert not variant.matches({"hotline": "", "step": "look"})
    assert not variant.matches({"step": "look"})
    assert not variant.matches({"hotline": "95105", "step": "requery"})
    absent = ProviderTemplate("t", {"hotline": False}, (), {})
    assert absent.matches({}) and absent.matches({"hotline": None})
    assert not absent.matches({"hotline": "95105"})


def test_pick_and_limit_errors() -> None:
    broken = ProviderTemplates(
        Path("p.yaml"), {}, {}, {"t": [ProviderTemplate("t", {"step": "x"}, (), {})]}
    )
    with pytest.raises(ProviderTemplateError, match=r"p\.yaml: templates\.t: no variant"):
        broken.pick("t", {"step": "y"})
    with pytest.raises(ProviderTemplateError, match=r"templates\.nope: not mapped"):
        MAPPING.variants("nope")
    with pytest.raises(ProviderTemplateError, match="unknown provider"):
        MAPPING.limit("sns", "case_id")
    assert MAPPING.limit("aliyun", "code") == 6
    assert MAPPING.limit("tencent", "code") == 6


def test_placeholder_order_follows_the_branch() -> None:
    assert placeholder_order("case_escalated", {"hotline": True}) == [
        "case_id",
        "company",
        "hotline",
    ]
    assert placeholder_order("case_escalated", {"hotline": False}) == ["case_id", "company"]
    assert placeholder_order("dispute_digest", {"step": "look"}) == [
        "dispute_id",
        "count",
        "case_id",
    ]
    assert placeholder_order("dispute_digest", {"step": "requery", "due": False}) == [
        "dispute_id",
        "count",
    ]


# -- the check catches a broken mapping -------------------------------------------------------
def _variant(data: dict[str, Any], name: str, index: int) -> dict[str, Any]:
    variant = data["templates"][name][index]
    assert isinstance(variant, dict)
    return variant


def test_a_reordered_pair_is_reported(tmp_path: Path) -> None:
    data = raw()
    _variant(data, "case_rerouted", 0)["params"] = ["case_id", "new_case_id", "company"]
    problems = sms_provider_lint.lint_order(load(tmp_path, data))
    assert problems == [
        "case_rerouted[0] (always): params ['case_id', 'new_case_id', 'company'] but the text "
        "shows ['case_id', 'company', 'new_case_id'] (out of order)"
    ]


def test_a_missing_variable_is_reported(tmp_path: Path) -> None:
    data = raw()
    _variant(data, "case_escalated", 0)["params"] = ["case_id", "company"]
    problems = sms_provider_lint.lint_order(load(tmp_path, data))
    assert len(problems) == 1
    assert problems[0].startswith("case_escalated[0] (hotline=true):")
    assert "missing ['hotline']" in problems[0]


def test_an_extra_variable_is_reported(tmp_path: Path) -> None:
    data = raw()
    # The `look` branch never shows the time.
    _variant(data, "dispute_digest", 2)["params"] = ["dispute_id", "count", "case_id", "due"]
    problems = sms_provider_lint.lint_order(load(tmp_path, data))
    assert len(problems) == 1
    assert problems[0].startswith("dispute_digest[2] (step=look):")
    assert "extra ['due']" in problems[0]


def test_a_when_the_text_does_not_use_is_reported(tmp_path: Path) -> None:
    data = raw()
    _variant(data, "case_closed", 0)["when"] = {"hotline": True}
    problems = sms_provider_lint.lint_order(load(tmp_path, data))
    assert problems == ["case_closed[0] (hotline=true): when names 'hotline', unused by the text"]


def test_a_missing_template_is_reported(tmp_path: Path) -> None:
    data = raw()
    del data["templates"]["dispute_digest"]
    problems = sms_provider_lint.lint_coverage(load(tmp_path, data))
    assert len(problems) == 1 and "templates.dispute_digest: missing" in problems[0]


def test_a_missing_branch_is_reported(tmp_path: Path) -> None:
    data = raw()
    del data["templates"]["case_escalated"][1]  # no variant without a hotline
    mapping = load(tmp_path, data)
    problems = sms_provider_lint.lint_rendering(mapping, LONGEST)
    assert problems == ["case_escalated: 0 variants match {'hotline': None} (must be 1)"]


def test_overlapping_variants_are_reported(tmp_path: Path) -> None:
    data = raw()
    del _variant(data, "dispute_digest", 2)["when"]  # `look` now matches every message
    problems = sms_provider_lint.lint_rendering(load(tmp_path, data), LONGEST)
    assert problems and all("2 variants match" in p for p in problems), problems


# -- the providers' limits --------------------------------------------------------------------
def test_longest_values_fit_every_providers_limits() -> None:
    assert sms_provider_lint.lint_limits(MAPPING, LONGEST) == []


def test_a_value_over_its_limit_is_reported(tmp_path: Path) -> None:
    data = raw()
    data["types"]["text"]["tencent"] = 3  # shorter than any company name
    problems = sms_provider_lint.lint_limits(load(tmp_path, data), LONGEST)
    assert problems and all("tencent: 'company'" in p for p in problems)
    assert "allows 3" in problems[0]


def test_no_links_in_texts_or_values() -> None:
    assert sms_provider_lint.lint_links(MAPPING, LONGEST) == []
    linked = {**LONGEST, "company": "example.com"}
    problems = sms_provider_lint.lint_links(MAPPING, linked)
    assert any("'company' value 'example.com' is a link" in p for p in problems)


def test_no_adjacent_placeholders() -> None:
    assert sms_provider_lint.lint_adjacent(MAPPING) == []
    assert sms_provider_lint._ADJACENT["tencent"].search("案件{1}{2}")
    assert sms_provider_lint._ADJACENT["aliyun"].search("案件${a} ${b}")
    assert not sms_provider_lint._ADJACENT["tencent"].search("案件{1}：{2}")


def test_every_stage_sign_name_is_2_to_12_characters() -> None:
    assert sms_provider_lint.lint_sign_names() == []
    assert sms_provider_lint.sign_name("【recount】") == "recount"
    problems = sms_provider_lint.lint_sign_names({"x": "【r】", "y": "【" + "名" * 13 + "】"})
    assert len(problems) == 2 and "stage x" in problems[0] and "stage y" in problems[1]


# -- the loader: every fault names the file and the key ------------------------------------------
def _set(data: dict[str, Any], keys: tuple[Any, ...], value: Any) -> None:
    target: Any = data
    for key in keys[:-1]:
        target = target[key]
    target[keys[-1]] = value


@pytest.mark.parametrize(
    ("keys", "value", "key", "message"),
    [
        (("templates", "no_such"), [{"params": []}], "templates.no_such", "unknown template"),
        (
            ("templates", "case_closed", 0, "sns"),
            "x",
            "templates.case_closed[0].sns",
            "unknown key",
        ),
        (("templates", "case_closed", 0, "when"), {"hotline": 1}, "when.hotline", "true, false"),
        (("templates", "case_closed", 0, "when"), ["hotline"], "case_closed[0].when", "mapping"),
        (("templates", "case_closed", 0, "params"), "case_id", "[0].params", "must be a list"),
        (("templates", "case_closed", 0, "params"), ["case_id", "nope"], "params[1]", "unknown"),
        (("templates", "case_closed", 0, "params"), ["case_id", "case_id"], "params[1]", "twice"),
        (("templates", "case_closed", 0, "tencent"), 1000002, "[0].tencent", "quoted string"),
        (("templates", "case_closed", 0, "aliyun"), "SMS_000000001", "[0].aliyun", "already"),
        (("templates", "case_closed"), [], "templates.case_closed", "list of variants"),
        (("templates", "case_closed"), {"params": []}, "templates.case_closed", "list of variants"),
        (("types", "code", "tencent"), 0, "types.code.tencent", "positive whole number"),
        (("types", "code", "sns"), 6, "types.code.sns", "unknown key"),
        (("variables", "code"), "digits", "variables.code", "unknown type"),
        (("schema_version",), 2, "schema_version", "must be 1"),
        (("extra",), 1, "(top).extra", "unknown key"),
    ],
)
def test_loader_errors_name_file_and_key(
    tmp_path: Path, keys: tuple[Any, ...], value: Any, key: str, message: str
) -> None:
    data = raw()
    _set(data, keys, value)
    path = write(tmp_path, data)
    with pytest.raises(ProviderTemplateError) as caught:
        load_provider_templates_file(path)
    text = str(caught.value)
    assert text.startswith(f"{path}: "), text
    assert key in text and message in text, text


def test_loader_errors_for_missing_keys_and_bad_yaml(tmp_path: Path) -> None:
    data = raw()
    del _variant(data, "case_closed", 0)["aliyun"]
    with pytest.raises(ProviderTemplateError, match=r"templates\.case_closed\[0\]\.aliyun: is"):
        load(tmp_path, data)
    data = raw()
    _variant(data, "case_escalated", 1)["params"] = ["case_id", "company", "hotline"]
    with pytest.raises(ProviderTemplateError, match="when says false"):
        load(tmp_path, data)
    bad = tmp_path / "bad.yaml"
    bad.write_text("templates: [", encoding="utf-8")
    with pytest.raises(ProviderTemplateError, match=r"bad\.yaml: \(file\)"):
        load_provider_templates_file(bad)
    with pytest.raises(ProviderTemplateError, match=r"nothing\.yaml: \(file\)"):
        load_provider_templates_file(tmp_path / "nothing.yaml")


def test_load_is_cached() -> None:
    assert load_provider_templates() is load_provider_templates()


# -- scripts/sms_templates.py ---------------------------------------------------------------
def _script(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "sms_templates.py"), *args],
        capture_output=True,
        text=True,
        check=False,
        cwd=ROOT,
    )


@pytest.mark.parametrize(
    ("provider", "placeholder"), [("aliyun", "${case_id}"), ("tencent", "{1}")]
)
def test_the_script_prints_every_variant(provider: str, placeholder: str) -> None:
    result = _script("--provider", provider)
    assert result.returncode == 0, result.stderr
    assert placeholder in result.stdout
    for name, index in VARIANTS:
        variant = MAPPING.variants(name)[index]
        assert f"{name}[{index}]  when: {variant.describe()}" in result.stdout
        assert variant.ids[provider] in result.stdout
        assert provider_source(variant, provider) in result.stdout
    assert "type code, at most 6 characters" in result.stdout


def test_the_script_refuses_an_unknown_provider() -> None:
    result = _script("--provider", "sns")
    assert result.returncode != 0
    assert "unknown provider 'sns'" in result.stderr
