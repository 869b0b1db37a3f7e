"""The staff pages in a real browser (issue 16): the liaison console's case view has its own
address (a refresh keeps it), it shows the directory's stale facts, its queue fits 375 px with
the deadline in view, a double click acts once, and no staff page is in the public navigation.
Screenshots at 375 px (and 1280 px) go to .local/screenshots/ (conftest.SCREENSHOTS)."""

from __future__ import annotations

from typing import Any

from playwright.sync_api import expect

from tests.e2e.conftest import Stack, answered
from tests.e2e.test_person_pages import api_session, enrol, item


def test_the_console_case_has_its_own_address_and_the_queue_fits_a_phone(stack: Stack, tabs):
    phone = "13900139011"
    enrol(phone)
    session = api_session(stack, phone)
    status, filed, _ = stack.call("POST", "/v1/disputes", {"items": [item("jd")]}, session["token"])
    assert status == 201, filed
    case_id = filed["cases"][0]["case_id"]
    key = stack.demo["liaison_keys"]["jd"]
    status, facts, _ = stack.call("GET", "/v1/liaison/directory-status", token=key)
    assert status == 200, facts

    liaison = tabs(375)
    page = liaison.page
    sent: list[Any] = []
    page.on("request", lambda request: sent.append(request))
    liaison.goto("/console")
    page.get_by_label("企业联络人密钥").fill(key)
    page.get_by_role("button", name="登录").click()
    row = page.locator(f"tr[data-case='{case_id}']")
    expect(row).to_be_visible()

    # The directory's stale facts, each with its confidence and when it was last checked.
    flags = page.locator("#directory-status")
    if facts["stale"]:
        expect(flags).to_be_visible()
        expect(flags).to_contain_text("本企业的目录信息需要核实")
        for name in facts["stale_facts"]:
            expect(flags.locator(f"li[data-fact='{name}']")).to_be_visible()
    else:
        expect(flags).to_be_hidden()

    # 375 px: the page never scrolls sideways and the deadline is on screen, not hidden
    # behind a table's own scroll.
    liaison.no_horizontal_scroll()
    due = row.locator("td.due time")
    expect(due).to_be_visible()
    expect(due).to_have_attribute("datetime", filed["cases"][0]["due_at"])
    box = due.bounding_box()
    assert box and box["x"] >= 0 and box["x"] + box["width"] <= 375, box
    liaison.check_accessibility("console: the queue at 375 px")
    liaison.shoot("console-queue-phone")

    # The case's own address: a refresh keeps it; back leaves it.
    row.get_by_role("button", name=case_id).click()
    expect(page.get_by_role("heading", name=f"案件 {case_id}")).to_be_visible()
    assert page.url.endswith(f"/console#case={case_id}"), page.url
    page.reload()
    expect(page.get_by_role("heading", name=f"案件 {case_id}")).to_be_visible()
    if facts["stale"]:
        expect(page.locator("#case-directory-status")).to_contain_text("需要核实")
    # Whether the person was reached: the receipt of their filing, as the outbox has it.
    receipt = page.locator("#case-messages li[data-template='dispute_receipt']")
    expect(receipt).to_contain_text("申诉受理回执")
    liaison.check_accessibility("console: a case at 375 px")
    liaison.no_horizontal_scroll()
    liaison.shoot("console-case-own-address")

    # A double click on 受理案件: one request, one result, no false error.
    page.get_by_role("button", name="受理案件").dblclick()
    expect(page.get_by_role("status")).to_contain_text("已完成：企业受理")
    actions = answered(page, sent, "/transitions")
    assert len(actions) == 1, [r.url for r in actions]
    expect(page.locator("#error")).to_be_hidden()
    assert actions[0].headers.get("idempotency-key")

    page.get_by_role("button", name="← 返回队列").click()
    expect(page.get_by_role("heading", name="案件队列：京东")).to_be_visible()
    assert "#case=" not in page.url
    page.go_back()  # the browser's back: the case again
    expect(page.get_by_role("heading", name=f"案件 {case_id}")).to_be_visible()

    # Another company's case (or none) by address: 未找到, nothing else.
    liaison.goto("/console#case=CNOSUCHCASE")
    expect(page.get_by_role("heading", name="未找到")).to_be_visible()
    expect(page.locator("article[data-case]")).to_have_count(0)
    liaison.assert_clean()


def test_staff_pages_are_not_in_the_public_navigation(stack: Stack, tabs):
    visitor = tabs(375)
    page = visitor.page
    nav = page.get_by_role("navigation", name="页面")
    for path in ("/", "/scorecard"):
        visitor.goto(path)
        expect(nav.get_by_role("link", name="我要申诉")).to_be_visible()
        expect(nav.get_by_role("link", name="企业工作台")).to_have_count(0)
        expect(nav.get_by_role("link", name="运营看板")).to_have_count(0)
    visitor.shoot("person-public-navigation")
    visitor.goto("/console")
    expect(nav.get_by_role("link", name="企业工作台")).to_have_attribute("aria-current", "page")
    visitor.assert_clean()


def test_a_liaison_sets_a_webhook_sends_a_test_and_reads_the_log(stack: Stack, tabs):
    """The console's webhook page: set an endpoint (the demo receiver), see the secret once,
    send a test, read the log, resend; a refresh keeps the page."""
    key = stack.demo["liaison_keys"]["meituan"]
    liaison = tabs(375)
    page = liaison.page
    liaison.goto("/console")
    page.get_by_label("企业联络人密钥").fill(key)
    page.get_by_role("button", name="登录").click()
    page.get_by_role("button", name="Webhook 设置").click()
    expect(page.get_by_role("heading", name="Webhook：案件变化时通知贵企业的系统")).to_be_visible()
    assert page.url.endswith("/console#webhook"), page.url
    # make run registered every demo company's endpoint at its receiver: save it again.
    url = page.get_by_label("接收地址（https，公网可访问）")
    expect(url).to_have_value(stack.base_url + "/dev/webhooks/meituan")
    page.get_by_role("checkbox", name="期限将到（提前一个工作日）").uncheck()
    page.get_by_role("button", name="保存").click()
    expect(page.get_by_role("status")).to_contain_text("已保存")

    page.get_by_role("button", name="更换密钥").click()
    expect(page.locator("#webhook-secret")).to_contain_text("whsec_")
    page.get_by_role("button", name="发送测试").click()
    expect(page.get_by_role("status")).to_contain_text("测试已发送：已送达")
    row = page.locator("#deliveries tr[data-delivery]").first
    expect(row.locator(".delivery-status")).to_have_text("已送达")
    status, received, _ = stack.call("GET", "/dev/webhooks/meituan")
    assert status == 200 and received["items"][0]["event"] == "ping", received
    assert received["items"][0]["verified"] is True  # signed with the new secret too

    row.get_by_role("button", name="重发").click()
    expect(page.get_by_role("status")).to_contain_text("已重发：已送达")
    liaison.no_horizontal_scroll()
    liaison.check_accessibility("console: the webhook page at 375 px")
    liaison.shoot("console-webhook")
    page.reload()
    expect(page.get_by_role("heading", name="Webhook：案件变化时通知贵企业的系统")).to_be_visible()
    expect(page.locator("#webhook-secret")).to_have_count(0)  # shown once, never again
    liaison.assert_clean()
