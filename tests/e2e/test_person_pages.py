"""The person's page in a real browser (issue 16): a wrong code is said in words with the
tries left and keeps the form; a refresh keeps the number and the code field; a double click
or a retry files once; the session warns before it ends and a half-filled form survives
signing in again; a cancelled number gets the directory's hotlines; a dispute shows how far
it got and whose move it is; a link to another person's (or no) dispute shows only 未找到; a
pasted result SMS fills in the counts and says what it read.

Each test enrols numbers of its own (the journeys' demo numbers stay untouched) and asks for
as few codes as it can: the stack allows 30 an hour per client address, one a minute per
number. Screenshots at 375 px (and 1280 px) go to .local/screenshots/ (conftest.SCREENSHOTS).
"""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
from playwright.sync_api import expect

from tests.e2e.conftest import Stack, answered

ID6 = "13579X"
CODE = re.compile(r"验证码(\d{6})")
CODE_FIELD = "短信验证码（6 位数字）"
CODE_INTERVAL_S = 61  # one code a minute per number, and a second to spare
# The resend button's countdown (person.js startResendCountdown) is below `before` seconds.
COUNTED_DOWN = """before => {
    const seconds = /(\\d+) 秒/.exec(document.getElementById("resend").textContent);
    return seconds !== null && Number(seconds[1]) < before;
}"""


def enrol(phone: str, status: str = "active") -> None:
    """A number of this test's own in the registry stand-in (moto is this process's AWS)."""
    from chalicelib import config
    from chalicelib.adapters.registry import registry

    registry(config.settings()).enrol("+86" + phone, ID6, status, "China Mobile")


def a_minute_passes_for(phone: str) -> None:
    """The number's once-a-minute rule as it is a minute later: its last code's record dated
    back by CODE_INTERVAL_S in the stack's DynamoDB (this process's AWS too; services/identity.py
    compares the record's `at` with the interval), where the test would otherwise sleep."""
    from chalicelib import config
    from chalicelib.domain import clock
    from chalicelib.domain.identity import phone_hmac

    settings = config.settings()
    key = {"pk": {"S": "code#" + phone_hmac(settings.hmac_key, "+86" + phone)}}
    earlier = clock.iso(datetime.now(UTC) - timedelta(seconds=CODE_INTERVAL_S))
    boto3.client("dynamodb", region_name=settings.region).update_item(
        TableName=settings.table_name("guards"),
        Key=key,
        UpdateExpression="SET #at = :earlier",
        ConditionExpression="attribute_exists(pk)",
        ExpressionAttributeNames={"#at": "at"},
        ExpressionAttributeValues={":earlier": {"S": earlier}},
    )


def last_code(stack: Stack, phone: str) -> str:
    status, body, _ = stack.call("GET", f"/dev/sms?phone={phone}")
    assert status == 200, body
    codes = [m.group(1) for m in map(CODE.search, (x["body"] for x in body["messages"])) if m]
    assert codes, body
    return codes[-1]


def api_session(stack: Stack, phone: str) -> dict[str, Any]:
    status, body, _ = stack.call("POST", "/v1/verification-codes", {"phone": phone})
    assert status == 202, body
    session = {"phone": phone, "id_last6": ID6, "code": last_code(stack, phone)}
    status, body, _ = stack.call("POST", "/v1/sessions", session)
    assert status == 201, body
    return body


def signed_in(tab, session: dict[str, Any], masked: str, path: str = "/") -> None:
    """The page as it is after signing in (the token and its expiry in this tab's storage)."""
    tab.goto("/")
    tab.page.evaluate(
        """([token, expires, masked]) => {
            sessionStorage.setItem('recount.person.token', token);
            sessionStorage.setItem('recount.person.expires', expires);
            sessionStorage.setItem('recount.person.masked', masked);
        }""",
        [session["token"], session["expires_at"], masked],
    )
    tab.goto(path)


def full_width(text: str) -> str:
    return "".join(chr(ord(c) + 0xFEE0) if c.isdigit() else c for c in text)


def stored(page) -> str:
    return page.evaluate("JSON.stringify(Object.assign({}, sessionStorage))")


def posts(tab, path_part: str) -> list[Any]:
    """Every POST the page sent whose URL contains `path_part`, as Playwright requests."""
    return [r for r in tab.sent if r.method == "POST" and path_part in r.url]


def track(tab) -> None:
    tab.sent = []
    tab.page.on("request", lambda request: tab.sent.append(request))


def item(company: str, reason: str = "not_mine") -> dict[str, Any]:
    return {"company": company, "reported_count": 3, "expected_count": 1, "reason": reason}


def card(page, company_name: str):
    return page.locator("article.case", has=page.get_by_role("heading", name=company_name))


# -- 1. signing in ----------------------------------------------------------------------------
def test_a_wrong_code_says_so_and_a_refresh_keeps_the_number_and_the_code_field(stack: Stack, tabs):
    phone = "13900139001"
    enrol(phone)
    person = tabs(375)
    page = person.page
    person.goto("/")
    page.get_by_label("手机号码").fill(full_width(phone))  # full-width digits, as some IMEs type
    page.get_by_role("button", name="获取短信验证码").click()
    expect(page.locator("#code-sent")).to_contain_text("139****9001")
    resend = page.locator("#resend")
    expect(resend).to_be_disabled()
    expect(resend).to_have_text(re.compile(r"重新获取验证码（\d+ 秒）"))
    before = int(re.findall(r"\d+", resend.inner_text())[0])
    page.wait_for_function(COUNTED_DOWN, arg=before)  # the minute counts down
    after = int(re.findall(r"\d+", resend.inner_text())[0])
    assert 0 < after < before <= 60, (before, after)

    code = last_code(stack, phone)
    wrong = f"{(int(code) + 1) % 1_000_000:06d}"
    page.get_by_label(CODE_FIELD).fill(wrong)
    page.get_by_label("身份证号码后六位").fill(ID6)
    page.get_by_role("button", name="验证并继续").click()
    alert = page.get_by_role("alert")
    expect(alert).to_contain_text("验证码或身份证号码后六位不对")
    expect(alert).to_contain_text("还可以再试 2 次")
    expect(alert).not_to_contain_text("登录已失效")
    expect(page.get_by_label(CODE_FIELD)).to_be_visible()
    expect(page.get_by_label(CODE_FIELD)).to_have_attribute("aria-invalid", "true")
    expect(page.get_by_label("手机号码")).to_have_value(full_width(phone))
    person.check_accessibility("person: a wrong code")
    person.no_horizontal_scroll()
    person.shoot("person-signin-wrong-code")

    # F5: the number and the code field stay, the minute keeps counting; the code and the ID
    # digits were never stored.
    page.reload()
    expect(page.get_by_label("手机号码")).to_have_value(full_width(phone))
    expect(page.get_by_label(CODE_FIELD)).to_be_visible()
    expect(page.locator("#code-sent")).to_contain_text("139****9001")
    expect(resend).to_be_disabled()
    kept = stored(page)
    assert code not in kept and wrong not in kept and ID6 not in kept, kept
    person.shoot("person-signin-after-refresh")

    page.get_by_label(CODE_FIELD).fill(code)
    page.get_by_label("身份证号码后六位").fill(ID6)
    page.get_by_role("button", name="验证并继续").click()
    expect(page.get_by_role("heading", name="我的申诉")).to_be_visible()
    expect(page.locator("#who-phone")).to_have_text("139****9001")
    assert "recount.person.pending" not in stored(page)
    person.assert_clean()


def test_a_person_with_a_code_enters_it_and_a_spent_code_asks_for_a_new_one(stack: Stack, tabs):
    """The code was asked for elsewhere (another tab, before clearing the browser): 我已收到
    验证码 opens the field. A right code with wrong ID digits spends it; the page says to get
    a new one, and asking within the minute counts down what the API says is left."""
    phone = "13900139002"
    enrol(phone)
    status, body, _ = stack.call("POST", "/v1/verification-codes", {"phone": phone})
    assert status == 202, body
    code = last_code(stack, phone)

    person = tabs(375)
    page = person.page
    person.goto("/")
    page.get_by_label("手机号码").fill(phone)
    page.get_by_role("button", name="我已收到验证码").click()
    expect(page.get_by_label(CODE_FIELD)).to_be_visible()
    page.get_by_label(CODE_FIELD).fill(code)
    page.get_by_label("身份证号码后六位").fill("000000")
    page.get_by_role("button", name="验证并继续").click()
    expect(page.get_by_role("alert")).to_contain_text("这个验证码已失效")
    expect(page.get_by_label(CODE_FIELD)).to_be_visible()

    page.get_by_role("button", name="重新获取验证码").click()  # within the minute: refused
    expect(page.get_by_role("alert")).to_contain_text("验证码每分钟只能获取一次")
    expect(page.locator("#resend")).to_have_text(re.compile(r"重新获取验证码（\d+ 秒）"))
    expect(page.locator("#resend")).to_be_disabled()

    page.get_by_label(CODE_FIELD).fill(code)  # the spent code again
    page.get_by_label("身份证号码后六位").fill(ID6)
    page.get_by_role("button", name="验证并继续").click()
    expect(page.get_by_role("alert")).to_contain_text("验证码已失效")
    expect(page.get_by_role("alert")).to_contain_text("请重新获取验证码")
    expect(page.get_by_label("手机号码")).to_have_value(phone)
    person.check_accessibility("person: a spent code")
    person.shoot("person-signin-new-code-needed")
    person.assert_clean()


# -- 6. a cancelled number ----------------------------------------------------------------------
def test_a_cancelled_number_lists_the_directory_s_hotlines(stack: Stack, tabs):
    phone, _ = stack.phone("cancelled")
    person = tabs(375)
    page = person.page
    person.goto("/")
    page.get_by_label("手机号码").fill(phone)
    page.get_by_role("button", name="获取短信验证码").click()
    expect(page.get_by_role("alert")).to_contain_text("该号码已销号")
    section = page.locator("#hotlines")
    expect(page.get_by_role("heading", name="该号码已销号：请直接拨打企业客服电话")).to_be_visible()
    expect(page.get_by_label(CODE_FIELD)).to_be_hidden()
    jd = section.locator("li[data-company='jd']")
    expect(jd).to_contain_text("京东")
    expect(jd.get_by_role("link", name="950618")).to_have_attribute("href", "tel:950618")
    confidence = re.compile(r"（(已核实|公开常识|单一来源，未经官方核实|未经核实|暂无可靠信息)）")
    rows = section.locator("li")
    assert rows.count() >= 10
    for n in range(rows.count()):
        expect(rows.nth(n)).to_contain_text(confidence)
    assert section.locator("a[href^='tel:']").count() >= 5
    person.check_accessibility("person: a cancelled number")
    person.no_horizontal_scroll()
    person.shoot("person-cancelled-number")
    person.assert_clean()


# -- 2. one result per click ----------------------------------------------------------------------
def test_a_double_click_or_a_retry_files_once_and_shows_one_result(stack: Stack, tabs):
    phone = "13900139003"
    enrol(phone)
    session = api_session(stack, phone)
    person = tabs(375)
    page = person.page
    track(person)
    signed_in(person, session, "139****9003", "/#/new")
    expect(page.get_by_role("heading", name="第二步：选择要申诉的企业")).to_be_visible()
    page.locator("#pick-jd").check()
    page.locator("#reported-jd").fill("3")
    page.locator("#expected-jd").fill("1")
    page.locator("#reason-jd").select_option("not_mine")
    page.get_by_role("button", name="提交申诉").dblclick()
    expect(page.get_by_role("heading", name="申诉已登记")).to_be_visible()
    assert len(answered(page, person.sent, "/v1/disputes")) == 1
    expect(page.locator("#error")).to_be_hidden()
    person.shoot("person-double-click-filed-once")

    # A retry after a lost answer: the first request reached the API, its answer did not
    # reach the page. Sent again, the same Idempotency-Key gets the same dispute back.
    lost: list[Any] = []

    def lose_the_first_answer(route) -> None:
        if route.request.method == "POST" and not lost:
            lost.append(route.fetch())  # the API files it...
            route.abort("connectionreset")  # ...and the page never hears
        else:
            route.continue_()

    page.route("**/v1/disputes", lose_the_first_answer)
    page.get_by_role("link", name="我要申诉").click()
    page.get_by_role("button", name="发起新的申诉").click()
    page.locator("#pick-baidu").check()
    page.locator("#reported-baidu").fill("2")
    page.locator("#expected-baidu").fill("0")
    page.locator("#reason-baidu").select_option("not_mine")
    submit = page.get_by_role("button", name="提交申诉")
    submit.click()
    expect(page.get_by_role("alert")).to_contain_text("网络连接失败")
    expect(submit).to_be_enabled()
    submit.click()
    expect(page.get_by_role("heading", name="申诉已登记")).to_be_visible()
    expect(page.locator("#error")).to_be_hidden()
    first, second = posts(person, "/v1/disputes")[-2:]
    key = first.headers.get("idempotency-key")
    assert key and second.headers.get("idempotency-key") == key
    assert lost[0].status == 201
    filed = lost[0].json()
    assert second.response().headers.get("idempotent-replayed") == "true"
    expect(page.locator("#result-summary")).to_contain_text(filed["dispute_id"])
    page.unroute("**/v1/disputes")
    status, listing, _ = stack.call("GET", "/v1/disputes", token=session["token"])
    assert status == 200 and len(listing["items"]) == 2, listing

    # A double click on 确认复查结果: one request, one green 已解决, no red 已更新.
    jd_case = next(
        c["case_id"] for d in listing["items"] for c in d["cases"] if c["company"] == "jd"
    )
    status, body, _ = stack.call(
        "POST",
        f"/v1/liaison/cases/{jd_case}/transitions",
        {"action": "respond", "response_code": "accounts_unbound", "message": "已解绑。"},
        token=stack.demo["liaison_keys"]["jd"],
    )
    assert status == 200, body
    jd_dispute = next(d for d in listing["items"] if d["cases"][0]["case_id"] == jd_case)
    person.goto("/#/d/" + jd_dispute["dispute_id"])
    jd = card(page, "京东")
    jd.get_by_label("重新查询到的数量").fill("1")
    jd.get_by_role("button", name="确认复查结果").dblclick()
    expect(page.get_by_role("status").filter(has_text="已提交")).to_contain_text("已解决")
    assert len(answered(page, person.sent, f"/v1/cases/{jd_case}/actions")) == 1
    expect(page.locator("#error")).to_be_hidden()
    person.shoot("person-double-click-confirmed-once")
    person.assert_clean()


# -- 7. paste to pre-fill -----------------------------------------------------------------------
RESULT_SMS = (
    "【工信部反诈中心】您好！您的手机号码在以下企业注册了互联网账号：腾讯（微信、QQ）3个，"
    "京东1个，美团0个。"
)


def test_a_pasted_result_fills_in_the_counts_and_says_what_it_read(stack: Stack, tabs):
    phone = "13900139008"
    enrol(phone)
    session = api_session(stack, phone)
    person = tabs(375)
    page = person.page
    signed_in(person, session, "139****9008", "/#/new")
    page.get_by_text("粘贴查询结果短信，自动填写数量").click()
    page.get_by_label("一证通查的结果短信（只用来读出数量，不会保存）").fill("今天天气不错")
    page.get_by_role("button", name="读取短信").click()
    expect(page.locator("#paste-result")).to_contain_text("没能从这段文字读出数量")
    expect(page.locator("#error")).to_be_hidden()
    assert not page.locator("#pick-tencent").is_checked()

    page.get_by_label("一证通查的结果短信（只用来读出数量，不会保存）").fill(RESULT_SMS)
    page.get_by_role("button", name="读取短信").click()
    expect(page.locator("#paste-result")).to_contain_text("腾讯（微信、QQ）3个")
    assert page.locator("#pick-tencent").is_checked()
    expect(page.locator("#reported-tencent")).to_have_value("3")
    expect(page.locator("#reported-jd")).to_have_value("1")
    expect(page.locator("#reported-meituan")).to_have_value("0")
    assert not page.locator("#pick-baidu").is_checked()
    assert "工信部" not in stored(page)  # the pasted text is never kept in the browser
    person.shoot("person-paste-prefilled")
    person.assert_clean()


# -- 6. the session's end ---------------------------------------------------------------------
def test_the_session_warns_before_it_ends_and_a_half_filled_form_survives_signing_in_again(
    stack: Stack, tabs
):
    phone = "13900139004"
    enrol(phone)
    session = api_session(stack, phone)
    person = tabs(375)
    page = person.page
    page.clock.install()  # the page's own clock, to skip ahead to the session's last minutes
    signed_in(person, session, "139****9004", "/#/new")
    page.locator("#pick-jd").check()
    page.locator("#reported-jd").fill("4")
    page.locator("#expected-jd").fill("1")
    page.locator("#reason-jd").select_option("family_use")
    page.locator("#note-jd").fill("家人用过我的号码 13900139004")  # a number: never stored
    page.locator("#pick-tencent").check()
    page.locator("#note-tencent").fill("还没想好数量")
    draft = page.evaluate("sessionStorage.getItem('recount.person.draft')")
    assert draft and phone not in draft and ID6 not in draft, draft
    assert "还没想好数量" in draft

    page.clock.fast_forward("26:00")  # 4 minutes left
    warning = page.locator("#session-warning")
    expect(warning).to_be_visible()
    expect(warning).to_contain_text(re.compile(r"登录将在约 [1-5] 分钟后"))
    person.check_accessibility("person: the session is about to end")
    person.shoot("person-session-expiring")

    page.clock.fast_forward("05:00")  # past its end: signing in again
    expect(page.get_by_role("heading", name="第一步：验证您持有这个号码")).to_be_visible()
    expect(page.get_by_role("alert")).to_contain_text("登录已失效")
    expect(page.get_by_role("alert")).to_contain_text("您填写的申诉内容已保留")
    assert page.evaluate("sessionStorage.getItem('recount.person.token')") is None
    person.shoot("person-session-expired")

    # The API's clock is the real one: back to it (a token it still honours would now look
    # expired to a page 31 minutes ahead).
    page.clock.set_system_time(datetime.now(UTC))
    a_minute_passes_for(phone)
    page.get_by_label("手机号码").fill(phone)
    page.get_by_role("button", name="获取短信验证码").click()
    expect(page.get_by_label(CODE_FIELD)).to_be_visible()  # the code is sent by now
    page.get_by_label(CODE_FIELD).fill(last_code(stack, phone))
    page.get_by_label("身份证号码后六位").fill(ID6)
    page.get_by_role("button", name="验证并继续").click()
    expect(page.get_by_role("heading", name="第二步：选择要申诉的企业")).to_be_visible()
    expect(page.get_by_role("status")).to_contain_text("已恢复您上次填写的内容")
    expect(page.locator("#pick-jd")).to_be_checked()
    expect(page.locator("#reported-jd")).to_have_value("4")
    expect(page.locator("#expected-jd")).to_have_value("1")
    expect(page.locator("#reason-jd")).to_have_value("family_use")
    expect(page.locator("#note-jd")).to_have_value("")  # it held a number: not kept
    expect(page.locator("#pick-tencent")).to_be_checked()
    expect(page.locator("#note-tencent")).to_have_value("还没想好数量")
    person.shoot("person-form-restored")
    page.locator("#pick-tencent").uncheck()
    page.get_by_role("button", name="提交申诉").click()
    expect(page.get_by_role("heading", name="申诉已登记")).to_be_visible()
    assert page.evaluate("sessionStorage.getItem('recount.person.draft')") is None

    # The API says the session is over (a token it no longer honours): the same way back.
    page.get_by_role("link", name="我要申诉").click()
    page.get_by_role("button", name="发起新的申诉").click()
    page.locator("#pick-baidu").check()
    page.locator("#reported-baidu").fill("2")
    page.evaluate("sessionStorage.setItem('recount.person.token', 'v2.k.expired.x')")
    page.locator("#expected-baidu").fill("0")
    page.locator("#reason-baidu").select_option("not_mine")
    page.get_by_role("button", name="提交申诉").click()
    expect(page.get_by_role("alert")).to_contain_text("登录已失效")
    expect(page.get_by_role("alert")).to_contain_text("您填写的申诉内容已保留")
    kept = json.loads(page.evaluate("sessionStorage.getItem('recount.person.draft')"))
    assert kept["items"]["baidu"]["expected"] == "0"
    person.assert_clean()


# -- 5. following a dispute -------------------------------------------------------------------
def test_following_a_dispute_says_how_far_it_got_and_whose_move_it_is(stack: Stack, tabs):
    phone = "13900139005"
    enrol(phone)
    session = api_session(stack, phone)
    keys = stack.demo["liaison_keys"]
    person = tabs(375)
    page = person.page
    signed_in(person, session, "139****9005", "/#/new")
    for key, reason in (("jd", "not_mine"), ("tencent", "fraud_suspected"), ("baidu", "other")):
        page.locator(f"#pick-{key}").check()
        page.locator(f"#reported-{key}").fill("3")
        page.locator(f"#expected-{key}").fill("1")
        page.locator(f"#reason-{key}").select_option(reason)
    page.get_by_role("button", name="提交申诉").click()
    expect(page.get_by_role("heading", name="申诉已登记")).to_be_visible()
    filed_steps = {
        name: card(page, name).locator("section.next-steps").inner_text()
        for name in ("京东", "腾讯", "百度")
    }
    cases = {name: card(page, name).get_attribute("data-case") for name in ("京东", "腾讯", "百度")}

    def act(company: str, case_id: str | None, body: dict[str, Any]) -> None:
        status, answer, _ = stack.call(
            "POST", f"/v1/liaison/cases/{case_id}/transitions", body, token=keys[company]
        )
        assert status == 200, answer

    act(
        "jd",
        cases["京东"],
        {"action": "respond", "response_code": "accounts_unbound"} | {"message": "已解绑。"},
    )
    act("tencent", cases["腾讯"], {"action": "request_user_action", "message": "请先人脸核验。"})
    act(
        "baidu",
        cases["百度"],
        {"action": "respond", "response_code": "count_confirmed"} | {"message": "账号为本人注册。"},
    )

    page.get_by_role("button", name="查看申诉进度").click()
    jd = card(page, "京东")
    jd.get_by_label("重新查询到的数量").fill("1")
    jd.get_by_role("button", name="确认复查结果").click()
    expect(card(page, "京东").locator(".card-head")).to_contain_text("已解决")
    baidu = card(page, "百度")
    baidu.get_by_text("对答复有异议？重新申诉、不认可或撤回").click()
    baidu.get_by_role("button", name="答复没有解决问题，重新申诉").click()
    expect(card(page, "百度").locator(".card-head")).to_contain_text("转人工跟进")

    page.reload()
    expect(page.locator("#dispute-progress")).to_have_text("3 家中 1 家已解决，1 家需要您操作。")
    tencent = card(page, "腾讯")
    expect(tencent.locator("dd[data-action-on='user']")).to_have_text("您")
    expect(tencent).to_contain_text("您的操作期限")
    baidu = card(page, "百度")
    expect(baidu.locator("dd[data-action-on='operator']")).to_have_text("反诈中心")
    expect(baidu).to_contain_text("督办期限")  # the API gives an escalation no due_at yet
    expect(baidu.locator(".outside-step")).to_be_visible()  # where to turn next
    person.check_accessibility("person: a dispute's progress")
    person.no_horizontal_scroll()
    person.shoot("person-dispute-progress")

    # The list says the same in one line.
    page.get_by_role("link", name="← 返回我的申诉").click()
    dispute_card = page.locator("article[data-dispute]").first
    expect(dispute_card.locator(".progress")).to_have_text("3 家中 1 家已解决，1 家需要您操作。")

    # The operator settles the escalation: its ruling heads the case when the API gives one.
    status, body, _ = stack.call(
        "POST",
        f"/v1/admin/cases/{cases['百度']}/transitions",
        {"action": "resolve", "message": "已督促百度解绑。"},
        token=stack.demo["operator_key"],
    )
    assert status == 200, body
    status, read, _ = stack.call(
        "GET", f"/v1/disputes/{body['dispute_id']}", token=session["token"]
    )
    assert status == 200, read
    page.get_by_role("link", name=re.compile("^申诉 D")).first.click()
    if any("ruling" in c for c in read["cases"]):
        ruling = card(page, "百度").locator(".ruling")
        expect(ruling).to_contain_text("反诈中心的决定")
        expect(ruling).to_contain_text("已督促百度解绑。")

    # Next steps and advice: the same on every read as in the filing answer.
    read_steps = {}
    for name in filed_steps:
        details = card(page, name).locator("details", has_text="查询与解绑办法")
        details.locator("summary").click()
        read_steps[name] = details.locator("section.next-steps").inner_text()
    # The fraud lane's advice (96110) and a recycled number's 二次号码焕新 included.
    assert read_steps == filed_steps
    assert "96110" in read_steps["腾讯"]
    person.assert_clean()


# -- 9. filing again on the fraud lane soon after a resolution ---------------------------------
def test_a_fraud_refiling_soon_after_a_resolution_says_it_goes_straight_to_the_centre(
    stack: Stack, tabs
):
    phone = "13900139009"
    enrol(phone)
    session = api_session(stack, phone)
    status, filed, _ = stack.call(
        "POST",
        "/v1/disputes",
        {"items": [item("kuaishou", "fraud_suspected")]},
        token=session["token"],
    )
    assert status == 201, filed
    old = filed["cases"][0]["case_id"]
    answer = {"action": "respond", "response_code": "accounts_unbound", "message": "已解绑。"}
    status, body, _ = stack.call(
        "POST",
        f"/v1/liaison/cases/{old}/transitions",
        answer,
        token=stack.demo["liaison_keys"]["kuaishou"],
    )
    assert status == 200, body
    status, body, _ = stack.call(
        "POST",
        f"/v1/cases/{old}/actions",
        {"action": "confirm", "new_count": 1},
        token=session["token"],
    )
    assert (status, body["state"]) == (200, "resolved"), body

    person = tabs(375)
    page = person.page
    signed_in(person, session, "139****9009", "/#/new")
    page.locator("#pick-kuaishou").check()
    page.locator("#reported-kuaishou").fill("2")
    page.locator("#expected-kuaishou").fill("0")
    page.locator("#reason-kuaishou").select_option("fraud_suspected")
    page.get_by_role("button", name="提交申诉").click()
    expect(page.get_by_role("heading", name="申诉已登记")).to_be_visible()
    case = card(page, "快手")
    expect(case.locator(".reopened")).to_contain_text(old)
    expect(case.locator(".reopened")).to_contain_text("直接由反诈中心督办")
    expect(case.locator("dd[data-action-on='operator']")).to_have_text("反诈中心")
    person.no_horizontal_scroll()
    person.shoot("person-fraud-refiling")
    person.assert_clean()


# -- 5. a link to no dispute, or someone else's --------------------------------------------------
def test_an_unknown_or_foreign_dispute_link_shows_only_not_found(stack: Stack, tabs):
    mine, theirs = "13900139006", "13900139007"
    enrol(mine)
    enrol(theirs)
    my_session, their_session = api_session(stack, mine), api_session(stack, theirs)
    ids = []
    for session in (my_session, their_session):
        status, body, _ = stack.call(
            "POST", "/v1/disputes", {"items": [item("jd")]}, session["token"]
        )
        assert status == 201, body
        ids.append(body["dispute_id"])
    my_dispute, their_dispute = ids

    person = tabs(375)
    page = person.page
    signed_in(person, my_session, "139****9006", "/#/d/" + my_dispute)
    expect(page.get_by_role("heading", name=f"申诉进度：{my_dispute}")).to_be_visible()
    expect(page.locator("article.case")).to_have_count(1)

    for other in (their_dispute, "D00000000NOPE", "%3Cb%3Ex%3C%2Fb%3E"):
        page.evaluate("(hash) => { location.hash = hash; }", "#/d/" + other)
        expect(page.get_by_role("heading", name="未找到")).to_be_visible()
        expect(page.locator("article.case")).to_have_count(0)
        expect(page.locator("#view-dispute")).not_to_contain_text(my_dispute)
        expect(page.locator("#view-dispute")).not_to_contain_text(their_dispute)
    person.check_accessibility("person: not found")
    person.no_horizontal_scroll()
    person.shoot("person-dispute-not-found")

    # And back to one's own: shown again, whole.
    page.evaluate("(hash) => { location.hash = hash; }", "#/d/" + my_dispute)
    expect(page.get_by_role("heading", name=f"申诉进度：{my_dispute}")).to_be_visible()
    expect(page.locator("article.case")).to_have_count(1)
    person.assert_clean()
