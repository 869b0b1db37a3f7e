"""Reading a pasted result SMS of the national check (domain/check_result.py): plausible
texts are read, and what it must refuse gives nothing."""

from __future__ import annotations

import pytest

from chalicelib.domain.check_result import MAX_TEXT, NOTHING, read_result
from chalicelib.domain.directory import Directory, load_directory


@pytest.fixture(scope="module")
def directory() -> Directory:
    return load_directory()


def counts(text: str, directory: Directory) -> tuple[str | None, dict[str, int]]:
    reading = read_result(text, directory)
    return reading.kind, {i.company: i.reported_count for i in reading.items}


READ = [
    (
        "【工信部反诈中心】您好！您的手机号码在以下企业注册了互联网账号：腾讯（微信、QQ）3个，"
        "阿里巴巴（淘宝）1个，支付宝1个，百度0个，快手0个，抖音2个，京东1个，美团0个。",
        {
            "tencent": 3,
            "alibaba": 1,
            "alipay": 1,
            "baidu": 0,
            "kuaishou": 0,
            "douyin": 2,
            "jd": 1,
            "meituan": 0,
        },
    ),
    ("微信：2个；QQ：1个；淘宝：0个", {"tencent": 3, "alibaba": 0}),
    ("京东两个，美团一个，百度十二个", {"jd": 2, "meituan": 1, "baidu": 12}),
    ("抖音　２个、快手账号数量：１", {"douyin": 2, "kuaishou": 1}),
    ("Tencent: 3, JD: 1, Meituan 0", {"tencent": 3, "jd": 1, "meituan": 0}),
    ("您的号码注册的账号：支付宝 已注册 4 个", {"alipay": 4}),
]


@pytest.mark.parametrize(("text", "expected"), READ)
def test_plausible_results_are_read(text: str, expected: dict[str, int], directory: Directory):
    assert counts(text, directory) == ("accounts", expected)


def test_what_it_read_is_shown_in_the_words_it_came_from(directory: Directory):
    reading = read_result(READ[0][0], directory)
    tencent = next(i for i in reading.items if i.company == "tencent")
    assert tencent.matched == "腾讯（微信、QQ）3个"
    reading = read_result(READ[1][0], directory)
    assert reading.items[0].matched == "微信：2个、QQ：1个"


def test_a_sim_card_result_is_read_as_sim_cards(directory: Directory):
    text = "您名下共有电话卡3张，其中中国移动2张、中国联通1张。"
    assert counts(text, directory) == ("sim_cards", {"china_mobile": 2, "china_unicom": 1})


REFUSED = [
    "【工信微报】您的验证码为482913，5分钟内有效。",  # no names
    "请登录微信和支付宝查看您的账号",  # names without counts
    "腾讯2个，中国移动1张",  # accounts and SIM cards at once
    "微信 13800138000",  # a phone number is no count
    "请在微信3天内完成认证",  # a time is no count
    "反电信网络诈骗，请拨打96110",  # 电信 here is not the carrier
    "jdk 8 and qqq 2",  # Latin names must stand alone
    "",
    "   ",
    "腾讯1个" + "。" * MAX_TEXT,  # too long to be an SMS
]


@pytest.mark.parametrize("text", REFUSED)
def test_what_it_cannot_read_gives_nothing(text: str, directory: Directory):
    assert read_result(text, directory) == NOTHING
