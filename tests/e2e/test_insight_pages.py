"""Operator insight in a browser (docs/design.md §1, §6; issue 8): ten people of one city dispute
their Kuaishou counts and three of them their Douyin counts, through the HTTP API; the
companies answer, one person reopens and an operator settles it. Then the public scorecard
shows Kuaishou's figures (10 cases behind each) and withholds Douyin's (3), and the operator
dashboard shows the same statistics, the on-time chart, the week's hotspot in that city and
the masked cases behind it. Every figure checked is computed by hand from what was seeded.

The stack is the package's (tests/e2e/conftest.py): its pump thread runs in this process and
folds the audit stream into the statistics (`local_stream_pump.pump_audit_stream`), so the test
waits for the figures through GET /v1/admin/stats before it opens a page. The seeded people are
numbers of their own, enrolled in the stack's number registry (the emulated AWS this process
shares): the two demo numbers belong to tests/e2e/test_journeys.py, which expects them untouched
(no dispute, no code requested within the last minute). Kuaishou and Douyin are companies no
other browser test files against.
"""

from __future__ import annotations

import re
from typing import Any

from playwright.sync_api import expect

from tests.e2e.conftest import Stack, wait_until

CODE = re.compile(r"验证码(\d{6})")
# Ten China Mobile numbers of 江苏省常州市 (libphonenumber's region for 139 1234 …).
PHONES = [f"139123400{n:02d}" for n in range(1, 11)]
REGION = "江苏省常州市"
ID_LAST6 = "100200"
DOUYIN_FILERS = 3  # fewer than 10: every Douyin figure is withheld on the scorecard
WITHHELD = "不足10件，暂不公布"
FIGURES = ("received", "on_time_acknowledgement", "on_time_response")
FIGURES += ("median_working_days_to_respond", "reopen_rate")


def enrol(phones: list[str]) -> None:
    """The number registry stand-in answers for these numbers too (as `make run` seeds its
    demo numbers): the stack's moto server is this process's AWS as well."""
    from chalicelib import config
    from chalicelib.adapters.registry import registry

    numbers = registry(config.settings())
    for phone in phones:
        numbers.enrol("+86" + phone, ID_LAST6, "active", "China Mobile")


def ok(stack: Stack, expected: int, method: str, path: str, body: Any = None, **kw: Any) -> Any:
    status, data, _ = stack.call(method, path, body, **kw)
    assert status == expected, (method, path, status, data)
    return data


def sign_in(stack: Stack, phone: str) -> str:
    ok(stack, 202, "POST", "/v1/verification-codes", {"phone": phone})
    messages = ok(stack, 200, "GET", f"/dev/sms?phone={phone}")["messages"]
    codes = [m.group(1) for m in map(CODE.search, (x["body"] for x in messages)) if m]
    assert codes, messages
    session = {"phone": phone, "id_last6": ID_LAST6, "code": codes[-1]}
    return ok(stack, 201, "POST", "/v1/sessions", session)["token"]


def item(company: str) -> dict[str, Any]:
    return {"company": company, "reported_count": 3, "expected_count": 0, "reason": "not_mine"}


def respond(stack: Stack, company: str, case_ids: list[str]) -> None:
    answer = {
        "action": "respond",
        "response_code": "accounts_unbound",
        "accounts_affected": 3,
        "message": "已解绑 3 个非本人注册的账号。",
    }
    batch = {"items": [{"case_id": c, **answer} for c in case_ids]}
    token = stack.demo["liaison_keys"][company]
    results = ok(stack, 200, "POST", "/v1/liaison/cases:batch", batch, token=token)["results"]
    assert [r["status"] for r in results] == [200] * len(case_ids), results


def seed(stack: Stack) -> dict[str, list[str]]:
    """10 Kuaishou cases and 3 Douyin cases filed from 常州; Kuaishou answers all 10 (on time,
    the same day), Douyin 2 of 3. Of Kuaishou's: one person reopens (escalated; an operator
    resolves it), two confirm the count (resolved), seven stay responded."""
    enrol(PHONES)
    tokens, cases = {}, {"kuaishou": [], "douyin": []}
    for n, phone in enumerate(PHONES):
        tokens[phone] = sign_in(stack, phone)
        items = [item("kuaishou")] + ([item("douyin")] if n < DOUYIN_FILERS else [])
        filed = ok(stack, 201, "POST", "/v1/disputes", {"items": items}, token=tokens[phone])
        for case in filed["cases"]:
            cases[case["company"]].append(case["case_id"])
    assert len(cases["kuaishou"]) == 10 and len(cases["douyin"]) == DOUYIN_FILERS

    respond(stack, "kuaishou", cases["kuaishou"])
    respond(stack, "douyin", cases["douyin"][:2])

    reopened = cases["kuaishou"][0]
    reopen = {"action": "reopen", "note": "账号仍然绑定在我的号码上。"}
    ok(stack, 200, "POST", f"/v1/cases/{reopened}/actions", reopen, token=tokens[PHONES[0]])
    resolve = {"action": "resolve", "message": "已督促快手解绑。"}
    operator = stack.demo["operator_key"]
    ok(stack, 200, "POST", f"/v1/admin/cases/{reopened}/transitions", resolve, token=operator)
    for n in (1, 2):
        confirm = {"action": "confirm", "new_count": 0}
        ok(stack, 200, "POST", f"/v1/cases/{cases['kuaishou'][n]}/actions", confirm,
           token=tokens[PHONES[n]])  # fmt: skip
    return cases


def nonzero(company: dict[str, Any]) -> dict[str, Any]:
    """A company's figures with the states nothing is in left out of `open` and `settled`."""
    out = dict(company)
    for group in ("open", "settled"):
        out[group] = {state: n for state, n in company[group].items() if n}
    return out


def wait_for_figures(stack: Stack, want: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """GET /v1/admin/stats until the pump has counted every seeded event (it runs every 2 s,
    and may count events of different cases out of order: every figure must be as expected,
    not just one)."""

    def caught_up() -> dict[str, Any] | None:
        stats = ok(stack, 200, "GET", "/v1/admin/stats", token=stack.demo["operator_key"])
        got = {c["company"]: nonzero(c) for c in stats["companies"]}
        seen = {k: {f: got[k][f] for f in figures} for k, figures in want.items()}
        assert seen == want, f"statistics not caught up: {seen} != {want}"
        return stats

    return wait_until(caught_up, "the statistics of what was seeded")


def wait_for_scorecard(stack: Stack, received: int) -> dict[str, Any]:
    """GET /v1/scorecard until it shows Kuaishou's `received` cases: it reads the statistics
    summary the scheduler's minute writes (here the pump's 2 s), one tick after the stats."""

    def published() -> dict[str, Any] | None:
        card = ok(stack, 200, "GET", "/v1/scorecard")
        public = {c["company"]: c["figures"] for c in card["companies"]}
        got = public["kuaishou"]["received"]["value"]
        assert got == received, f"the scorecard shows {got} Kuaishou cases"
        return public

    return wait_until(published, "the scorecard of what was seeded")


def test_scorecard_and_dashboard_show_statistics_and_hotspots(stack: Stack, tabs):
    cases = seed(stack)

    # -- the figures, computed by hand from what was seeded ------------------------------------
    rate = lambda part, total: {"on_time": part, "total": total, "on_time_rate": part / total}  # noqa: E731
    want = {
        "kuaishou": {
            "received": 10,
            # 10 responded; 1 reopened (escalated), then resolved; 2 confirmed (resolved).
            "open": {"responded": 7},
            "open_total": 7,
            "settled": {"resolved": 3},
            "acknowledgement": rate(10, 10),  # the answer is the acknowledgement too
            "response": rate(10, 10),
            # Filed and answered within the same minute: 0 working days for every response.
            "days_to_respond": {"median_working_days": 0, "cases": 10, "histogram": {"0": 10}},
            "reopen": {"reopened": 1, "responses": 10, "rate": 0.1},
            "escalations": {"total": 1, "by_cause": {"reopen": 1}},
        },
        "douyin": {
            "received": 3,
            "open": {"submitted": 1, "responded": 2},
            "open_total": 3,
            "settled": {},
            "acknowledgement": rate(2, 2),
            "response": rate(2, 2),
            "reopen": {"reopened": 0, "responses": 2, "rate": 0.0},
        },
    }
    stats = wait_for_figures(stack, want)
    by_company = {c["company"]: c for c in stats["companies"]}

    # The public route withholds every Douyin figure and every carrier's (no carrier cases).
    public = wait_for_scorecard(stack, received=10)
    assert public["kuaishou"] == {
        "received": {"value": 10, "cases": 10},
        "on_time_acknowledgement": {"value": 1.0, "cases": 10},
        "on_time_response": {"value": 1.0, "cases": 10},
        "median_working_days_to_respond": {"value": 0.0, "cases": 10},
        "reopen_rate": {"value": 0.1, "cases": 10},
    }
    for company in ("douyin", "china_mobile"):
        assert all(public[company][f]["value"] is None for f in FIGURES), public[company]

    # The hotspot: 10 Kuaishou filings from 常州 this week against an empty history.
    hot = ok(stack, 200, "GET", "/v1/admin/hotspots", token=stack.demo["operator_key"])
    cells = {(c["company"], c["region"]): c for c in hot["cells"]}
    spike, calm = cells[("kuaishou", REGION)], cells[("douyin", REGION)]
    assert (spike["count"], spike["baseline_mean"], spike["threshold"]) == (10, 0, 5)
    assert spike["spike"] and not calm["spike"] and calm["count"] == DOUYIN_FILERS
    assert hot["cells"][0]["spike"]  # flagged cells first

    # -- the public scorecard, on a phone -----------------------------------------------------
    visitor = tabs(375)
    page = visitor.page
    visitor.goto("/scorecard")
    expect(page.get_by_role("heading", name="企业处理申诉成绩单")).to_be_visible()
    expect(page.get_by_role("link", name="企业成绩单")).to_have_attribute("aria-current", "page")
    kuaishou = page.locator("#companies article[data-company='kuaishou']")
    shown = {
        "received": "10 件",
        "on_time_acknowledgement": "100%",
        "on_time_response": "100%",
        "median_working_days_to_respond": "0 个工作日",
        "reopen_rate": "10%",
    }
    for figure, text in shown.items():
        cell = kuaishou.locator(f"[data-figure='{figure}']")
        expect(cell).to_have_attribute("data-published", "true")
        expect(cell.locator("dd")).to_contain_text(text)
    expect(kuaishou.locator("[data-figure='reopen_rate'] dd")).to_contain_text("依据 10 件")
    douyin = page.locator("#companies article[data-company='douyin']")
    for figure in FIGURES:
        expect(douyin.locator(f"[data-figure='{figure}'] dd")).to_have_text(WITHHELD)
    expect(douyin).not_to_contain_text("3 件")  # nor the size of a withheld group
    expect(page.locator("#carriers article[data-company='china_mobile']")).to_contain_text(WITHHELD)
    expect(page.locator("#companies article[data-company='china_mobile']")).to_have_count(0)
    expect(page.locator("#companies article")).to_have_count(8)
    expect(page.locator("#carriers article")).to_have_count(4)
    visitor.check_accessibility("scorecard")
    visitor.no_horizontal_scroll()
    visitor.shoot("scorecard")
    visitor.assert_clean()

    # -- the operator dashboard: statistics, chart, hotspots, drill-down ------------------------
    operator = tabs(1280)
    board = operator.page
    operator.goto("/dashboard")
    board.get_by_label("运营密钥").fill(stack.demo["operator_key"])
    board.get_by_role("button", name="登录").click()
    expect(board.get_by_role("heading", name="各企业统计")).to_be_visible()
    row = board.locator("#stats tr[data-company='kuaishou']")
    for figure, text in {
        "received": "10",
        "open": "7",
        "settled": "3",
        "acknowledgement": "100% 10/10",
        "response": "100% 10/10",
        "days_to_respond": "0 个工作日 10 件",
        "reopen": "10% 1/10",
        "escalations": "1",
    }.items():
        expect(row.locator(f"[data-figure='{figure}']")).to_contain_text(text)
    expect(row.locator("[data-figure='escalations']")).to_contain_text("重新申诉 1")
    expect(row.locator("[data-figure='open']")).to_contain_text("企业已答复 7")
    douyin_row = board.locator("#stats tr[data-company='douyin']")
    expect(douyin_row.locator("[data-figure='received']")).to_have_text("3")
    expect(douyin_row.locator("[data-figure='reopen']")).to_contain_text("0% 0/2")
    # Stale directory facts are flagged, as the API reports them.
    for company in ("kuaishou", "china_mobile"):
        stale = by_company[company]["directory"]["stale"]
        cell = board.locator(f"#stats tr[data-company='{company}'] [data-figure='directory']")
        expect(cell).to_contain_text("待核实" if stale else "已核实")
    from chalicelib.api.labels import page_labels  # imported once the stack has set the environment

    LABELS = page_labels()

    if stats["stale_directory"]:
        board.locator("#stale summary").click()
    for entry in stats["stale_directory"]:
        facts = "、".join(LABELS["fact"][f] for f in entry["stale_facts"])
        item = board.locator(f"#stale li[data-company='{entry['company']}']")
        expect(item).to_contain_text(facts)

    chart = board.locator("#ontime svg[role='img']")
    expect(chart).to_be_visible()
    expect(chart.locator("g[data-company='kuaishou']")).to_contain_text("100%（10/10）")
    expect(chart.locator("desc")).to_contain_text(
        "快手：按时受理 100%（10/10），按时答复 100%（10/10）"
    )
    expect(chart.locator("g[data-company='meituan']")).to_have_count(0)  # nothing to rate yet

    hotspots = board.locator("#hotspots tbody tr")
    first = hotspots.first
    expect(first).to_have_attribute("data-spike", "true")
    expect(first).to_have_attribute("data-company", "kuaishou")
    expect(first).to_have_attribute("data-region", REGION)
    expect(first.locator("[data-figure='count']")).to_have_text("10")
    expect(first.locator("[data-figure='threshold']")).to_have_text("5")
    expect(first).to_contain_text("异常聚集")
    calm_row = board.locator(f"#hotspots tr[data-company='douyin'][data-region='{REGION}']")
    expect(calm_row).to_have_attribute("data-spike", "false")
    expect(board.locator("#hotspots-rule")).to_contain_text("≥ 5")

    first.get_by_role("button", name=re.compile("查看案件")).click()
    drill = board.locator("#hotspot-cases")
    expect(drill.get_by_role("heading", name=re.compile(f"{REGION} · 快手"))).to_be_focused()
    rows = drill.locator("tbody tr")
    expect(rows).to_have_count(10)
    assert set(rows.evaluate_all("rs => rs.map(r => r.dataset.case)")) == set(cases["kuaishou"])
    expect(drill).to_contain_text("139****0001")
    text = drill.inner_text()
    assert not any(p in text for p in PHONES), "a whole number on the dashboard"
    operator.check_accessibility("dashboard: statistics, hotspots and the cases behind one")
    operator.shoot("dashboard-3-insight")
    operator.resize(375)
    operator.no_horizontal_scroll()
    operator.assert_clean()
    assert not any(p in url for url in operator.requests for p in PHONES)
