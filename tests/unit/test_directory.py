"""Unit tests for the company/carrier directory: the real data file and the strict loader.

Pure domain tests: no AWS, no moto.
"""

from __future__ import annotations

import copy
import json
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml

from chalicelib.domain import advice
from chalicelib.domain.directory import (
    DEFAULT_PATH,
    MAX_STEP_CHARS,
    DirectoryError,
    Fact,
    load_directory,
)

COMPANIES = ["tencent", "alibaba", "alipay", "baidu", "kuaishou", "douyin", "jd", "meituan"]
CARRIERS = ["china_mobile", "china_unicom", "china_telecom", "china_broadnet"]
CHECKED = date(2026, 11, 27)  # the date the team checked the well-known facts
# A source_url must be an official page: the company's, the carrier's or MIIT's own domain.
OFFICIAL_DOMAINS = (
    "qq.com",
    "taobao.com",
    "alipay.com",
    "baidu.com",
    "kuaishou.com",
    "douyin.com",
    "jd.com",
    "meituan.com",
    "10086.cn",
    "10010.com",
    "189.cn",
    "10099.com.cn",
    "miit.gov.cn",
)

# --- the real file ----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def real():
    return load_directory()


def test_real_file_lists_every_company_and_carrier_in_file_order(real):
    assert real.companies() == COMPANIES
    assert real.carriers() == CARRIERS
    assert list(real.entries) == COMPANIES + CARRIERS


def test_real_file_names_and_apps(real):
    tencent = real.get("tencent")
    assert (tencent.type, tencent.name_zh, tencent.name_en) == ("company", "腾讯", "Tencent")
    assert tencent.apps == (("微信", "WeChat"), ("QQ", "QQ"))
    assert real.get("alibaba").apps == (("淘宝", "Taobao"),)
    assert real.get("china_mobile").type == "carrier"
    assert real.get("china_mobile").name_zh == "中国移动"


def test_every_carrier_has_the_renewal_route_and_no_company_does(real):
    for key in CARRIERS:
        renewal = real.get(key).number_renewal
        assert renewal is not None, key
        assert renewal.name == "二次号码焕新"
    for key in COMPANIES:
        assert real.get(key).number_renewal is None, key


def test_renewal_timing_matches_the_research(real):
    days = {k: real.get(k).number_renewal.typical_working_days for k in CARRIERS}
    assert days == {
        "china_mobile": 5,
        "china_unicom": 0,
        "china_telecom": 5,
        "china_broadnet": None,
    }
    # China Broadnet's route was never found in the research: it must not look confirmed.
    broadnet = real.get("china_broadnet").number_renewal
    assert broadnet.fact.confidence == "unverified"
    assert any("未核实" in step for step in broadnet.steps)


def _official(url: str) -> bool:
    host = url.removeprefix("https://").split("/", 1)[0].lower()
    return any(host == d or host.endswith("." + d) for d in OFFICIAL_DOMAINS)


def test_no_invented_urls_and_dates_only_on_checked_facts(real):
    for key, entry in real.entries.items():
        for name, fact in entry.facts().items():
            if fact.source_url is not None:
                assert fact.source_url.startswith("https://"), (key, name)
                assert _official(fact.source_url), (key, name, fact.source_url)
            if fact.confidence == "confirmed":
                # Only from an official page, read on the day it was recorded.
                assert fact.source_url is not None and fact.verified_at is not None, (key, name)
            elif fact.confidence == "well_known":
                assert fact.verified_at == CHECKED, (key, name)
            else:
                assert fact.verified_at is None, (key, name)


def test_no_confirmed_fact_without_an_official_page(real):
    # The 2026-12-01 check found no official page for any fact: nothing is confirmed, and the
    # carriers' facts the research called confirmed (several reports) are now well_known.
    confidences = {
        (key, name): fact.confidence
        for key, entry in real.entries.items()
        for name, fact in entry.facts().items()
    }
    assert "confirmed" not in confidences.values()
    for key in CARRIERS:
        for name in ("detail_query", "unbind", "identity_verification"):
            assert confidences[(key, name)] == "well_known", (key, name)
    for key in ("china_mobile", "china_unicom", "china_telecom"):
        assert confidences[(key, "number_renewal")] == "well_known", key


def test_carriers_send_the_national_complaint_to_escalation_not_unbind(real):
    for key in CARRIERS:
        entry = real.get(key)
        steps = entry.detail_query.steps + entry.unbind.steps + entry.number_renewal.steps
        assert not any("投诉" in s or "工信微报" in s for s in steps), key
        assert entry.escalation == ("complain_national",), key
        escalation = real.next_steps(key)["escalation"]
        assert [a["code"] for a in escalation] == ["complain_national"], key
        assert "投诉一证通查" in escalation[0]["text"]
        assert escalation[0] == advice.item("complain_national")
    for key in COMPANIES:
        assert real.get(key).escalation == (), key
        assert "escalation" not in real.next_steps(key), key


def test_hotlines_keep_the_research_confidence(real):
    hotlines = {k: (e.hotline.number, e.hotline.fact.confidence) for k, e in real.entries.items()}
    assert hotlines == {
        "tencent": ("95017", "unverified"),
        "alibaba": (None, "unknown"),
        "alipay": ("95188", "secondary"),
        "baidu": (None, "unknown"),
        "kuaishou": (None, "unknown"),
        "douyin": (None, "unknown"),
        "jd": ("950618", "unverified"),
        "meituan": ("10107888", "secondary"),
        "china_mobile": ("10086", "well_known"),
        "china_unicom": ("10010", "well_known"),
        "china_telecom": ("10000", "well_known"),
        "china_broadnet": ("10099", "well_known"),
    }


def test_douyin_note_lists_the_conflicting_numbers(real):
    note = real.get("douyin").hotline.note
    for number in ("95152", "400-626-8888", "950201"):
        assert number in note
    assert "App内客服" in note


def test_specific_paths_from_the_research(real):
    assert any("身份证注册" in s for s in real.get("tencent").detail_query.steps)
    assert any("永久注销账号" in s for s in real.get("alipay").unbind.steps)
    assert any(
        "快手客服申请释放" in s and "个工作日" in s for s in real.get("kuaishou").unbind.steps
    )
    assert any("异地销号绿色通道" in s for s in real.get("china_unicom").unbind.steps)


def test_every_step_is_short(real):
    for key, entry in real.entries.items():
        steps = entry.detail_query.steps + entry.unbind.steps
        if entry.number_renewal:
            steps += entry.number_renewal.steps
        assert steps, key
        assert all(0 < len(s) <= MAX_STEP_CHARS for s in steps), key


def test_default_load_is_cached_and_explicit_path_is_not(real):
    assert load_directory() is real
    fresh = load_directory(DEFAULT_PATH)
    assert fresh is not real
    assert fresh == real


# --- behaviour ------------------------------------------------------------------------------


def _fact(verified_at: date | None) -> Fact:
    return Fact(confidence="confirmed", source_url=None, verified_at=verified_at)


def test_is_stale():
    today = date(2027, 3, 1)
    assert _fact(None).is_stale(today, 90)
    assert not _fact(today - timedelta(days=90)).is_stale(today, 90)
    assert _fact(today - timedelta(days=91)).is_stale(today, 90)
    assert not _fact(today).is_stale(today, 90)
    assert _fact(today - timedelta(days=2)).is_stale(today, 1)


def test_stale_facts(real):
    tencent = real.get("tencent")
    # Never checked by the team: every fact is stale, even on the day of the research.
    assert tencent.stale_facts(CHECKED, 90) == [
        "detail_query",
        "unbind",
        "hotline",
        "identity_verification",
    ]
    mobile = real.get("china_mobile")
    assert mobile.stale_facts(CHECKED + timedelta(days=90), 90) == []
    assert mobile.stale_facts(CHECKED + timedelta(days=91), 90) == list(mobile.facts())
    # Without a threshold the entry's own stale_after_days (90 by default) applies.
    assert mobile.stale_facts(CHECKED + timedelta(days=91)) == list(mobile.facts())
    assert real.get("china_broadnet").stale_facts(CHECKED, 90) == ["number_renewal"]


def test_facts_names_the_renewal_only_for_carriers(real):
    assert list(real.get("jd").facts()) == [
        "detail_query",
        "unbind",
        "hotline",
        "identity_verification",
    ]
    assert list(real.get("china_telecom").facts())[-1] == "number_renewal"


def test_keys_for_kind(real):
    assert real.keys_for_kind("accounts") == COMPANIES
    assert real.keys_for_kind("sim_cards") == CARRIERS
    with pytest.raises(ValueError, match="unknown kind"):
        real.keys_for_kind("cars")


def test_get_unknown_raises_key_error(real):
    with pytest.raises(KeyError, match="weibo"):
        real.get("weibo")


def test_next_steps_for_a_company(real):
    steps = real.next_steps("douyin")
    assert set(steps) == {
        "company",
        "name",
        "detail_query",
        "unbind",
        "hotline",
        "identity_verification",
    }
    assert steps["company"] == "douyin"
    assert steps["name"] == "抖音"
    assert steps["detail_query"]["confidence"] == "secondary"
    assert steps["unbind"]["steps"] == list(real.get("douyin").unbind.steps)
    assert steps["hotline"]["number"] is None
    assert steps["hotline"]["confidence"] == "unknown"
    assert "95152" in steps["hotline"]["note"]
    assert steps["identity_verification"] == {"required": True, "methods": ["sms_code", "face"]}
    # JSON-ready: survives a round-trip unchanged.
    assert json.loads(json.dumps(steps, ensure_ascii=False)) == steps


def test_next_steps_for_a_carrier_includes_the_renewal_route(real):
    steps = real.next_steps("china_unicom")
    assert steps["number_renewal"] == {
        "name": "二次号码焕新",
        "steps": list(real.get("china_unicom").number_renewal.steps),
        "typical_working_days": 0,
        "covers": real.get("china_unicom").number_renewal.covers,
        "confidence": "well_known",
    }
    assert [a["code"] for a in steps["escalation"]] == ["complain_national"]
    assert steps["hotline"] == {"number": "10010", "confidence": "well_known", "note": None}
    assert steps["identity_verification"] == {"required": True, "methods": ["business_hall"]}
    assert json.loads(json.dumps(steps, ensure_ascii=False)) == steps


def test_next_steps_returns_a_fresh_copy(real):
    first = real.next_steps("jd")
    first["unbind"]["steps"].append("tampered")
    first["hotline"]["number"] = "0"
    again = real.next_steps("jd")
    assert "tampered" not in again["unbind"]["steps"]
    assert again["hotline"]["number"] == "950618"


def test_real_entries_keep_the_workflow_deadlines(real):
    # Deadline defaults live in case_workflow.yaml; no entry overrides them today.
    assert dict(real.defaults) == {"stale_after_days": 90}
    for entry in real.entries.values():
        assert dict(entry.deadlines) == dict(real.defaults)


# --- broken and edited files -----------------------------------------------------------------


def _fact_doc(confidence: str = "secondary") -> dict[str, Any]:
    return {"confidence": confidence, "source_url": None, "verified_at": None}


def _steps_doc() -> dict[str, Any]:
    return {"steps": ["用本号码登录"], "fact": _fact_doc()}


def _company_doc() -> dict[str, Any]:
    return {
        "type": "company",
        "names": {"zh": "京东", "en": "JD"},
        "apps": [{"zh": "京东", "en": "JD"}],
        "detail_query": _steps_doc(),
        "unbind": _steps_doc(),
        "hotline": {"number": "950618", "fact": _fact_doc("unverified")},
        "identity_verification": {
            "required": True,
            "methods": ["sms_code"],
            "fact": _fact_doc(),
        },
    }


def _valid_doc() -> dict[str, Any]:
    carrier = _company_doc()
    carrier.update(
        type="carrier",
        names={"zh": "中国移动", "en": "China Mobile"},
        hotline={
            "number": "10086",
            "fact": {"confidence": "well_known", "source_url": None, "verified_at": "2026-11-27"},
        },
        number_renewal={
            "name": "二次号码焕新",
            "steps": ["打开App搜索“二次号码焕新”"],
            "typical_working_days": 5,
            "covers": "在您取得号码前注册的账号",
            "fact": {
                "confidence": "confirmed",
                "source_url": "https://example.gov.cn/renewal",
                "verified_at": "2026-11-27",
            },
        },
    )
    return {
        "schema_version": 1,
        "defaults": {"stale_after_days": 90},
        "entries": {"jd": _company_doc(), "china_mobile": carrier},
    }


def _write(tmp_path: Path, doc: dict[str, Any]) -> Path:
    path = tmp_path / "directory.yaml"
    path.write_text(yaml.safe_dump(doc, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return path


def test_minimal_valid_file_loads(tmp_path):
    # Guards the broken-file cases below: each breaks exactly one thing in this document.
    d = load_directory(_write(tmp_path, _valid_doc()))
    assert d.companies() == ["jd"]
    assert d.carriers() == ["china_mobile"]
    fact = d.get("china_mobile").hotline.fact
    assert fact.verified_at == date(2026, 11, 27)
    assert d.get("china_mobile").number_renewal.fact.source_url == "https://example.gov.cn/renewal"


def test_deadline_overrides_merge_over_defaults(tmp_path):
    doc = _valid_doc()
    doc["entries"]["jd"]["deadlines"] = {"respond_working_days": 7, "stale_after_days": 30}
    d = load_directory(_write(tmp_path, doc))
    jd = d.get("jd")
    assert jd.deadlines["respond_working_days"] == 7
    assert jd.deadlines["stale_after_days"] == 30
    assert "acknowledge_working_days" not in jd.deadlines  # the workflow default applies
    assert dict(d.get("china_mobile").deadlines) == dict(d.defaults)
    # The entry's own stale threshold drives stale_facts when none is given.
    doc["entries"]["china_mobile"]["deadlines"] = {"stale_after_days": 30}
    mobile = load_directory(_write(tmp_path, doc)).get("china_mobile")
    day_31 = date(2026, 11, 27) + timedelta(days=31)
    assert "hotline" in mobile.stale_facts(day_31)
    assert "hotline" not in mobile.stale_facts(day_31, 90)
    with pytest.raises(TypeError):
        jd.deadlines["respond_working_days"] = 1  # type: ignore[index]


def _set(doc: dict[str, Any], dotted: str, value: Any) -> None:
    *parents, last = dotted.split(".")
    node = doc
    for part in parents:
        node = node[part]
    node[last] = value


def _delete(doc: dict[str, Any], dotted: str) -> None:
    *parents, last = dotted.split(".")
    node = doc
    for part in parents:
        node = node[part]
    del node[last]


BROKEN = [
    # (id, mutate(doc), key path the message must name)
    ("unknown_key", lambda d: _set(d, "entries.jd.hotlines", {}), "entries.jd.hotlines"),
    ("unknown_top_key", lambda d: _set(d, "extra", 1), "extra"),
    (
        "unknown_fact_key",
        lambda d: _set(d, "entries.jd.unbind.fact.checked_by", "x"),
        "entries.jd.unbind.fact.checked_by",
    ),
    (
        "bad_confidence",
        lambda d: _set(d, "entries.jd.hotline.fact.confidence", "probably"),
        "entries.jd.hotline.fact.confidence",
    ),
    ("missing_hotline", lambda d: _delete(d, "entries.jd.hotline"), "entries.jd.hotline"),
    (
        "missing_fact_field",
        lambda d: _delete(d, "entries.jd.detail_query.fact.verified_at"),
        "entries.jd.detail_query.fact.verified_at",
    ),
    (
        "carrier_without_renewal",
        lambda d: _delete(d, "entries.china_mobile.number_renewal"),
        "entries.china_mobile.number_renewal",
    ),
    (
        "company_with_renewal",
        lambda d: _set(
            d, "entries.jd.number_renewal", d["entries"]["china_mobile"]["number_renewal"]
        ),
        "entries.jd.number_renewal",
    ),
    (
        "bad_date",
        lambda d: _set(d, "entries.china_mobile.hotline.fact.verified_at", "2026-02-30"),
        "entries.china_mobile.hotline.fact.verified_at",
    ),
    (
        "date_not_iso",
        lambda d: _set(d, "entries.china_mobile.hotline.fact.verified_at", "27/11/2026"),
        "entries.china_mobile.hotline.fact.verified_at",
    ),
    (
        "date_on_unverified_fact",
        lambda d: _set(d, "entries.jd.hotline.fact.verified_at", "2026-11-27"),
        "entries.jd.hotline.fact.verified_at",
    ),
    (
        "http_url",
        lambda d: _set(d, "entries.jd.unbind.fact.source_url", "http://example.com"),
        "entries.jd.unbind.fact.source_url",
    ),
    (
        "confirmed_without_source",
        lambda d: _set(d, "entries.china_mobile.number_renewal.fact.source_url", None),
        "entries.china_mobile.number_renewal.fact.source_url",
    ),
    (
        "confirmed_with_http_source",
        lambda d: _set(
            d, "entries.china_mobile.number_renewal.fact.source_url", "http://example.gov.cn/r"
        ),
        "entries.china_mobile.number_renewal.fact.source_url",
    ),
    (
        "confirmed_without_date",
        lambda d: _set(d, "entries.china_mobile.number_renewal.fact.verified_at", None),
        "entries.china_mobile.number_renewal.fact.verified_at",
    ),
    (
        "raised_to_confirmed_without_source",
        lambda d: _set(d, "entries.jd.hotline.fact.confidence", "confirmed"),
        "entries.jd.hotline.fact.source_url",
    ),
    (
        "unknown_escalation_advice",
        lambda d: _set(d, "entries.china_mobile.escalation", ["call_a_friend"]),
        "entries.china_mobile.escalation[0]",
    ),
    (
        "repeated_escalation_advice",
        lambda d: _set(
            d, "entries.china_mobile.escalation", ["complain_national", "complain_national"]
        ),
        "entries.china_mobile.escalation",
    ),
    (
        "escalation_not_a_list",
        lambda d: _set(d, "entries.china_mobile.escalation", "complain_national"),
        "entries.china_mobile.escalation",
    ),
    (
        "bad_method",
        lambda d: _set(d, "entries.jd.identity_verification.methods", ["sms_code", "retina"]),
        "entries.jd.identity_verification.methods[1]",
    ),
    (
        "required_not_bool",
        lambda d: _set(d, "entries.jd.identity_verification.required", "yes"),
        "entries.jd.identity_verification.required",
    ),
    ("bad_type", lambda d: _set(d, "entries.jd.type", "bank"), "entries.jd.type"),
    (
        "hotline_number_not_string",
        lambda d: _set(d, "entries.jd.hotline.number", 950618),
        "entries.jd.hotline.number",
    ),
    (
        "null_hotline_without_note",
        lambda d: _set(d, "entries.jd.hotline", {"number": None, "fact": _fact_doc("unknown")}),
        "entries.jd.hotline.note",
    ),
    (
        "step_too_long",
        lambda d: _set(d, "entries.jd.unbind.steps", ["步" * (MAX_STEP_CHARS + 1)]),
        "entries.jd.unbind.steps[0]",
    ),
    (
        "no_steps",
        lambda d: _set(d, "entries.jd.detail_query.steps", []),
        "entries.jd.detail_query.steps",
    ),
    (
        "unknown_deadline",
        lambda d: _set(d, "entries.jd.deadlines", {"reply_days": 3}),
        "entries.jd.deadlines.reply_days",
    ),
    (
        "non_positive_deadline",
        lambda d: _set(d, "entries.jd.deadlines", {"respond_working_days": 0}),
        "entries.jd.deadlines.respond_working_days",
    ),
    (
        "bool_deadline",
        lambda d: _set(d, "entries.jd.deadlines", {"respond_working_days": True}),
        "entries.jd.deadlines.respond_working_days",
    ),
    (
        "missing_default",
        lambda d: _delete(d, "defaults.stale_after_days"),
        "defaults.stale_after_days",
    ),
    (
        "entry_key_not_snake_case",
        lambda d: _set(d, "entries.ChinaMobile", d["entries"]["china_mobile"]),
        "entries.ChinaMobile",
    ),
    ("wrong_schema_version", lambda d: _set(d, "schema_version", 2), "schema_version"),
    (
        "negative_renewal_days",
        lambda d: _set(d, "entries.china_mobile.number_renewal.typical_working_days", -1),
        "entries.china_mobile.number_renewal.typical_working_days",
    ),
]


@pytest.mark.parametrize(
    ("mutate", "key_path"), [(m, k) for _, m, k in BROKEN], ids=[i for i, _, _ in BROKEN]
)
def test_broken_file_names_path_and_key(tmp_path, mutate, key_path):
    doc = copy.deepcopy(_valid_doc())
    mutate(doc)
    path = _write(tmp_path, doc)
    with pytest.raises(DirectoryError) as info:
        load_directory(path)
    message = str(info.value)
    assert str(path) in message
    assert f": {key_path}:" in message
    assert info.value.key_path == key_path


def test_confirmed_without_source_names_the_entry_and_fact(tmp_path):
    doc = _valid_doc()
    doc["entries"]["jd"]["unbind"]["fact"] = {
        "confidence": "confirmed",
        "source_url": None,
        "verified_at": "2026-12-01",
    }
    path = _write(tmp_path, doc)
    with pytest.raises(DirectoryError) as info:
        load_directory(path)
    assert info.value.key_path == "entries.jd.unbind.fact.source_url"
    assert "confirmed" in info.value.detail and "official" in info.value.detail
    # With its official page it loads.
    doc["entries"]["jd"]["unbind"]["fact"]["source_url"] = "https://help.jd.com/user/issue.html"
    fact = load_directory(_write(tmp_path, doc)).get("jd").unbind.fact
    assert fact.source_url == "https://help.jd.com/user/issue.html"
    assert fact.verified_at == date(2026, 12, 1)


def test_escalation_advice_is_optional_and_named_by_template(tmp_path):
    doc = _valid_doc()
    d = load_directory(_write(tmp_path, doc))
    assert d.get("china_mobile").escalation == ()
    assert "escalation" not in d.next_steps("china_mobile")
    doc["entries"]["china_mobile"]["escalation"] = ["complain_national", "complain_12300"]
    d = load_directory(_write(tmp_path, doc))
    assert d.get("china_mobile").escalation == ("complain_national", "complain_12300")
    assert d.next_steps("china_mobile")["escalation"] == [
        advice.item("complain_national"),
        advice.item("complain_12300"),
    ]


def test_yaml_syntax_error_names_path_and_line(tmp_path):
    path = tmp_path / "directory.yaml"
    path.write_text("schema_version: 1\nentries: [unclosed\n", encoding="utf-8")
    with pytest.raises(DirectoryError) as info:
        load_directory(path)
    message = str(info.value)
    assert str(path) in message
    assert "line " in info.value.key_path
    assert "invalid YAML" in message


def test_duplicate_entry_key_is_an_error(tmp_path):
    # A second `jd:` would otherwise silently replace the first.
    text = yaml.safe_dump(_valid_doc(), allow_unicode=True, sort_keys=False)
    text = text.replace("  china_mobile:\n", "  jd:\n", 1)
    path = tmp_path / "directory.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(DirectoryError, match="duplicate key 'jd'") as info:
        load_directory(path)
    assert str(path) in str(info.value)


def test_unquoted_invalid_date_is_reported_with_its_key_path(tmp_path):
    # PyYAML would raise a bare ValueError for this; the loader must name where it is.
    text = yaml.safe_dump(_valid_doc(), allow_unicode=True, sort_keys=False)
    text = text.replace("'2026-11-27'", "2026-13-01", 1)
    assert "2026-13-01" in text
    path = tmp_path / "directory.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(DirectoryError) as info:
        load_directory(path)
    assert str(path) in str(info.value)
    assert info.value.key_path == "entries.china_mobile.hotline.fact.verified_at"


def test_not_a_mapping_and_missing_file(tmp_path):
    path = tmp_path / "directory.yaml"
    path.write_text("- just\n- a list\n", encoding="utf-8")
    with pytest.raises(DirectoryError, match="must be a mapping") as info:
        load_directory(path)
    assert str(path) in str(info.value)

    missing = tmp_path / "nope.yaml"
    with pytest.raises(DirectoryError, match="cannot read") as info:
        load_directory(missing)
    assert str(missing) in str(info.value)
