"""The three people of docs/design.md §1 in a real browser: the person files a dispute and sees next
steps; the liaison responds in the console (after losing a race to a colleague); the person
confirms; the operator sees it on the dashboard and settles an escalation. Every page is
screenshotted at 375 px and 1280 px and checked with axe-core."""

from __future__ import annotations

import re

from playwright.sync_api import expect

from tests.e2e.conftest import Stack

CODE = re.compile(r"验证码(\d{6})")


def read_code(tab, phone: str) -> str:
    """The newest code SMS for `phone`, read from /dev/inbox like a person reads their phone."""
    tab.goto("/dev/inbox")
    newest = tab.page.locator("section.phone", has_text=phone).locator(".sms-body").first
    expect(newest).to_contain_text("验证码")
    match = CODE.search(newest.inner_text())
    assert match, newest.inner_text()
    return match.group(1)


def sign_in_person(person, inbox, stack: Stack) -> str:
    phone, id_last6 = stack.phone()
    page = person.page
    person.goto("/")
    expect(page.get_by_role("heading", name="第一步：验证您持有这个号码")).to_be_visible()
    person.check_accessibility("person: sign-in")
    person.shoot("person-1-signin")
    page.get_by_label("手机号码").fill(phone)
    page.get_by_role("button", name="获取短信验证码").click()
    expect(page.get_by_label("短信验证码（6 位数字）")).to_be_visible()
    code = read_code(inbox, phone)
    page.get_by_label("短信验证码（6 位数字）").fill(code)
    page.get_by_label("身份证号码后六位").fill(id_last6)
    person.check_accessibility("person: code and ID")
    page.get_by_role("button", name="验证并继续").click()
    expect(page.get_by_role("heading", name="我的申诉")).to_be_visible()
    token = page.evaluate("sessionStorage.getItem('recount.person.token')")
    assert token and token.startswith("v2."), token
    assert phone not in page.url and token not in page.url
    return token


def case_card(page, company_name: str):
    return page.locator("article.case", has=page.get_by_role("heading", name=company_name))


def test_dispute_from_filing_to_dashboard(stack: Stack, tabs):
    demo = stack.demo
    person, inbox = tabs(375), tabs(375)
    page = person.page

    # -- the person proves the number and files against JD and Tencent --------------------
    token = sign_in_person(person, inbox, stack)
    expect(page.get_by_text("您还没有申诉。")).to_be_visible()
    page.get_by_role("button", name="发起新的申诉").click()
    expect(page.get_by_role("heading", name="第二步：选择要申诉的企业")).to_be_visible()
    page.locator("#pick-jd").check()
    page.locator("#reported-jd").fill("3")
    page.locator("#expected-jd").fill("1")
    page.locator("#reason-jd").select_option("not_mine")
    page.locator("#pick-tencent").check()
    page.locator("#reported-tencent").fill("2")
    page.locator("#expected-tencent").fill("2")
    page.locator("#reason-tencent").select_option("fraud_suspected")
    page.get_by_role("button", name="提交申诉").click()
    # Same counts: refused in the page, the field says why.
    expect(page.locator("#expected-tencent")).to_have_attribute("aria-invalid", "true")
    expect(page.get_by_text("期望数量不能与查询数量相同")).to_be_visible()
    page.locator("#expected-tencent").fill("0")
    page.locator("#note-tencent").fill("有人冒用我的号码注册 QQ <b>不是我</b>")
    person.check_accessibility("person: choose companies")
    person.shoot("person-2-choose")
    page.get_by_role("button", name="提交申诉").click()

    # -- next steps per company ------------------------------------------------------------
    expect(page.get_by_role("heading", name="申诉已登记")).to_be_visible()
    jd, tencent = case_card(page, "京东"), case_card(page, "腾讯")
    for card in (jd, tencent):
        expect(card.get_by_role("heading", name="查询名下账号")).to_be_visible()
        expect(card.get_by_role("heading", name="解绑或注销")).to_be_visible()
        expect(card.get_by_role("heading", name="客服电话")).to_be_visible()
        expect(card).to_contain_text("企业答复期限")
    expect(jd.get_by_role("link", name="950618")).to_have_attribute("href", "tel:950618")
    expect(jd).to_contain_text("未经核实")
    expect(tencent).to_contain_text("96110")  # the fraud lane's advice
    expect(tencent).to_contain_text("涉诈快速通道")
    jd_case = jd.get_attribute("data-case")
    tencent_case = tencent.get_attribute("data-case")
    assert jd_case and tencent_case
    person.check_accessibility("person: next steps")
    person.no_horizontal_scroll()
    person.shoot("person-3-next-steps")

    page.get_by_role("button", name="查看申诉进度").click()
    expect(page.get_by_role("heading", name=re.compile("申诉进度"))).to_be_visible()
    expect(case_card(page, "京东")).to_contain_text("已提交")
    # The note is shown as text, never as markup.
    expect(page.locator("b", has_text="不是我")).to_have_count(0)

    # -- the liaison: a colleague acknowledges first; the console says so and reloads -------
    liaison = tabs(1280)
    console = liaison.page
    liaison.goto("/console")
    expect(console.get_by_role("heading", name="登录")).to_be_visible()
    liaison.check_accessibility("console: sign-in")
    liaison.shoot("console-1-signin")
    console.get_by_label("企业联络人密钥").fill(demo["operator_key"])  # not a liaison's key
    console.get_by_role("button", name="登录").click()
    expect(console.get_by_role("alert")).to_contain_text("此密钥无权使用本页面")
    console.get_by_label("企业联络人密钥").fill("rk_K0000000000_not-a-key")
    console.get_by_role("button", name="登录").click()
    expect(console.get_by_role("alert")).to_contain_text("密钥无效或已被吊销")
    console.get_by_label("企业联络人密钥").fill(demo["liaison_keys"]["jd"])
    console.get_by_role("button", name="登录").click()
    expect(console.get_by_role("heading", name=re.compile("案件队列"))).to_be_visible()
    console.get_by_label("状态", exact=True).select_option("submitted")
    console.get_by_label("是否逾期").select_option("false")
    console.get_by_role("button", name="筛选").click()
    row = console.locator(f"tr[data-case='{jd_case}']")
    expect(row).to_contain_text("已提交")
    expect(row).to_contain_text("138****8000")
    expect(console.locator("table")).not_to_contain_text(demo["subscribers"][0]["phone"])
    liaison.check_accessibility("console: queue")
    liaison.shoot("console-2-queue")
    row.get_by_role("button", name=jd_case).click()
    expect(console.get_by_role("heading", name=f"案件 {jd_case}")).to_be_visible()
    liaison.check_accessibility("console: case")
    liaison.shoot("console-3-case")

    status, _, _ = stack.call(
        "POST",
        f"/v1/liaison/cases/{jd_case}/transitions",
        {"action": "acknowledge", "internal_note": "同事先受理"},
        token=demo["liaison_keys"]["jd"],
        **{"If-Match": '"1"'},
    )
    assert status == 200

    console.get_by_label("处理结果").select_option("accounts_unbound")
    console.get_by_label("涉及账号数（选填）").fill("2")
    console.get_by_label("告诉申诉人做了什么（必填，200 字以内）").fill(
        "已解绑 2 个非本人注册的账号。"
    )
    console.locator(f"#respond-internal-{jd_case}").fill("工单 JD-7781，风控已复核")
    console.get_by_role("button", name="提交答复").click()
    alert = console.get_by_role("alert")
    expect(alert).to_contain_text("其他人已经更新了此案件")
    expect(console.locator(f"article[data-case='{jd_case}']")).to_have_attribute(
        "data-version", "2"
    )
    expect(console.locator(f"article[data-case='{jd_case}']")).to_contain_text("企业已受理")
    expect(console.get_by_text("同事先受理")).to_be_visible()  # their internal note
    liaison.shoot("console-4-changed-first")

    console.get_by_label("处理结果").select_option("accounts_unbound")
    console.get_by_label("涉及账号数（选填）").fill("2")
    console.get_by_label("告诉申诉人做了什么（必填，200 字以内）").fill(
        "已解绑 2 个非本人注册的账号。"
    )
    console.locator(f"#respond-internal-{jd_case}").fill("工单 JD-7781，风控已复核")
    console.get_by_role("button", name="提交答复").click()
    expect(console.get_by_role("status")).to_contain_text("已完成：企业答复")
    expect(console.locator(f"article[data-case='{jd_case}']")).to_contain_text("企业已答复")
    console.get_by_role("button", name="← 返回队列").click()
    console.get_by_role("button", name="退出").click()
    expect(console.get_by_role("heading", name="登录")).to_be_visible()
    console.reload()  # the key is gone from this tab's storage too
    expect(console.get_by_role("heading", name="登录")).to_be_visible()
    liaison.assert_clean()

    # Tencent answers too (by API); the person will not accept that answer.
    status, _, _ = stack.call(
        "POST",
        f"/v1/liaison/cases/{tencent_case}/transitions",
        {"action": "respond", "response_code": "count_confirmed", "message": "账号为本人注册。"},
        token=demo["liaison_keys"]["tencent"],
    )
    assert status == 200

    # -- the person sees the answers, confirms JD and reopens Tencent ----------------------
    page.reload()
    jd = case_card(page, "京东")
    expect(jd).to_contain_text("企业已答复")
    expect(jd).to_contain_text("已解绑 2 个非本人注册的账号。")
    expect(page.get_by_text("工单 JD-7781")).to_have_count(0)  # internal notes stay internal
    expect(page.get_by_text("同事先受理")).to_have_count(0)
    person.check_accessibility("person: status with actions")
    person.shoot("person-4-status")
    jd.get_by_label("重新查询到的数量").fill("1")
    jd.get_by_role("button", name="确认复查结果").click()
    expect(page.get_by_role("status")).to_contain_text("已解决")
    expect(case_card(page, "京东").locator(".card-head")).to_contain_text("已解决")
    tencent = case_card(page, "腾讯")
    tencent.get_by_text("对答复有异议？重新申诉、不认可或撤回").click()
    tencent.get_by_label("说明（选填）").fill("这些 QQ 号不是我注册的")
    tencent.get_by_role("button", name="答复没有解决问题，重新申诉").click()
    expect(case_card(page, "腾讯").locator(".card-head")).to_contain_text("转人工跟进")
    person.shoot("person-5-settled")
    person.assert_clean()
    assert token not in " ".join(person.requests)

    # -- the operator: cases by company and state, the chart, the escalation -------------
    operator = tabs(1280)
    board = operator.page
    operator.goto("/dashboard")
    expect(board.get_by_role("heading", name="登录")).to_be_visible()
    operator.check_accessibility("dashboard: sign-in")
    operator.shoot("dashboard-1-signin")
    board.get_by_label("运营密钥").fill(demo["operator_key"])
    board.get_by_role("button", name="登录").click()
    expect(board.get_by_role("heading", name="各企业案件状态")).to_be_visible()
    expect(board.locator("#by-state tr[data-company='jd'] td[data-state='resolved']")).to_have_text(
        "1"
    )
    expect(
        board.locator("#by-state tr[data-company='tencent'] td[data-state='escalated']")
    ).to_have_text("1")
    chart = board.locator("#ontime svg[role='img']")
    expect(chart).to_be_visible()
    expect(chart.locator("g[data-company='jd']")).to_contain_text("100%")
    expect(board.locator("#ontime-note")).to_contain_text("已加载")
    escalation = board.locator(f"#escalated article[data-case='{tencent_case}']")
    expect(escalation).to_contain_text("申诉人对企业答复有异议")
    operator.check_accessibility("dashboard: board")
    operator.shoot("dashboard-2-board")
    escalation.get_by_role("button", name="查看处理记录").click()
    expect(escalation).to_contain_text("重新申诉")
    escalation.get_by_label("告诉申诉人结论（必填，200 字以内）").first.fill(
        "已核实为冒用注册，督促腾讯解绑。"
    )
    escalation.get_by_role("button", name="判定已解决").click()
    expect(board.get_by_role("status")).to_contain_text(f"案件 {tencent_case} 已判定解决")
    expect(
        board.locator("#by-state tr[data-company='tencent'] td[data-state='resolved']")
    ).to_have_text("1")
    expect(board.locator("#escalated")).to_contain_text("没有待督办的案件")
    operator.assert_clean()

    # -- the phone: the receipt arrived; the inbox page is accessible too ----------------
    inbox.goto("/dev/inbox")
    phone = stack.phone()[0]
    expect(inbox.page.locator("section.phone", has_text=phone)).to_contain_text(
        re.compile(r"已登记，编号D[0-9A-Z]+"), timeout=15_000
    )
    inbox.check_accessibility("dev inbox")
    inbox.no_horizontal_scroll()
    inbox.shoot("inbox")
    inbox.assert_clean()


def test_the_person_s_other_paths(stack: Stack, tabs):
    """A recycled number goes to the carrier first; a second case with the same company is
    refused with the open one named; done-in-the-company's-flow, disagree and withdraw."""
    demo = stack.demo
    person, inbox = tabs(375), tabs(1280)
    page = person.page
    unicom = next(s for s in demo["subscribers"] if s["phone"].startswith("186"))
    phone, id_last6 = unicom["phone"], unicom["id_last6"]

    person.goto("/")
    page.get_by_label("手机号码").fill(phone)
    page.get_by_role("button", name="获取短信验证码").click()
    page.get_by_label("短信验证码（6 位数字）").fill(read_code(inbox, phone))
    page.get_by_label("身份证号码后六位").fill(id_last6)
    page.get_by_role("button", name="验证并继续").click()
    expect(page.get_by_role("heading", name="我的申诉")).to_be_visible()

    # The 1.0 check's carriers are there too.
    page.get_by_role("button", name="发起新的申诉").click()
    page.get_by_label("电话卡（一证通查 1.0）").check()
    expect(page.get_by_label(re.compile("^中国联通"))).to_be_visible()
    expect(page.locator("#pick-tencent")).to_have_count(0)
    page.get_by_label("互联网账号（一证通查 2.0）").check()
    for key, reported, expected, reason in (
        ("alipay", "2", "0", "recycled_number"),
        ("baidu", "1", "0", "not_mine"),
    ):
        page.locator(f"#pick-{key}").check()
        page.locator(f"#reported-{key}").fill(reported)
        page.locator(f"#expected-{key}").fill(expected)
        page.locator(f"#reason-{key}").select_option(reason)
    page.get_by_role("button", name="提交申诉").click()
    alipay = case_card(page, "支付宝")
    expect(alipay.get_by_role("heading", name="先办理：运营商“二次号码焕新”")).to_be_visible()
    expect(alipay).to_contain_text("打开中国联通App")
    alipay_case = alipay.get_attribute("data-case")
    baidu_case = case_card(page, "百度").get_attribute("data-case")

    # Filing against Alipay again while its case is open: refused, the open case named.
    page.get_by_role("link", name="我要申诉").click()
    page.get_by_role("button", name="发起新的申诉").click()
    page.locator("#pick-alipay").check()
    page.locator("#reported-alipay").fill("2")
    page.locator("#expected-alipay").fill("1")
    page.locator("#reason-alipay").select_option("other")
    page.get_by_role("button", name="提交申诉").click()
    expect(page.get_by_role("alert")).to_contain_text("已有一个处理中的案件")
    expect(page.get_by_role("alert")).to_contain_text(alipay_case)
    person.shoot("person-6-already-open")

    # Alipay asks the person to act; Baidu answers.
    key = demo["liaison_keys"]
    status, _, _ = stack.call(
        "POST",
        f"/v1/liaison/cases/{alipay_case}/transitions",
        {"action": "request_user_action", "message": "请在支付宝App完成人脸核验后再解绑。"},
        token=key["alipay"],
    )
    assert status == 200
    status, _, _ = stack.call(
        "POST",
        f"/v1/liaison/cases/{baidu_case}/transitions",
        {"action": "respond", "response_code": "count_corrected", "message": "数量已更正。"},
        token=key["baidu"],
    )
    assert status == 200

    page.get_by_role("button", name="返回").click()
    page.get_by_role("link", name=re.compile("^申诉 D")).first.click()
    alipay = case_card(page, "支付宝")
    expect(alipay).to_contain_text("待申诉人操作")
    expect(alipay).to_contain_text("请在支付宝App完成人脸核验后再解绑。")
    person.check_accessibility("person: the company asks the person to act")
    person.shoot("person-7-asked-to-act")
    alipay.get_by_label("说明（选填）").fill("已完成人脸核验")
    alipay.get_by_role("button", name="我已在企业流程中完成").click()
    expect(case_card(page, "支付宝").locator(".card-head")).to_contain_text("企业已受理")

    baidu = case_card(page, "百度")
    baidu.get_by_text("对答复有异议？重新申诉、不认可或撤回").click()
    baidu.get_by_role("button", name="不认可并结案").click()  # no statement: the page asks
    expect(baidu.get_by_text("请填写此项")).to_be_visible()
    baidu.get_by_label("您的陈述（必填，200 字以内）").fill("百度账号仍然绑定着我的号码。")
    baidu.get_by_role("button", name="不认可并结案").click()
    expect(case_card(page, "百度").locator(".card-head")).to_contain_text("有异议结案")
    expect(case_card(page, "百度")).to_contain_text("百度账号仍然绑定着我的号码。")

    alipay = case_card(page, "支付宝")
    alipay.get_by_text("不再需要？撤回此案件").click()
    alipay.get_by_role("button", name="撤回此案件").click()
    expect(case_card(page, "支付宝").locator(".card-head")).to_contain_text("已撤回")
    expect(case_card(page, "支付宝").locator("form")).to_have_count(0)
    person.assert_clean()
