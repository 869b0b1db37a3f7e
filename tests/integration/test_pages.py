"""The HTML pages and their assets through Chalice's test client (no browser): zh-CN, strict
security headers, no inline or foreign script, /dev/inbox only in stage local, and the
directory route the dispute form is built from (docs/design.md §1, §6 pages, §9)."""

from __future__ import annotations

import json
import re
from html.parser import HTMLParser

import pytest

from chalicelib import config
from chalicelib.adapters.tables import DevSms
from chalicelib.api.dev import DEMO_FILE_ENV
from chalicelib.api.labels import page_labels
from chalicelib.domain.actions import RESPONSE_CODES
from chalicelib.domain.directory import CONFIDENCES, METHODS, load_directory
from chalicelib.domain.identity import phone_hmac
from chalicelib.domain.insight import MIN_PUBLIC_CASES
from chalicelib.domain.intake import KINDS, REASONS
from chalicelib.domain.workflow import ACTION_ON, ACTORS, load_workflow
from tests.integration.helpers import ACTIVE_PHONE, assert_problem, header, request_code
from tests.support import Api

PAGES = ["/", "/scorecard", "/console", "/dashboard", "/dev/inbox"]
ASSETS = {
    "app.css": "text/css",
    "common.js": "text/javascript",
    "person.js": "text/javascript",
    "console.js": "text/javascript",
    "dashboard.js": "text/javascript",
    "inbox.js": "text/javascript",
    "scorecard.js": "text/javascript",
}


class Markup(HTMLParser):
    """What a page loads and how it is labelled."""

    def __init__(self) -> None:
        super().__init__()
        self.html_lang: str | None = None
        self.scripts: list[dict[str, str | None]] = []
        self.links: list[dict[str, str | None]] = []
        self.inputs: list[dict[str, str | None]] = []
        self.label_for: set[str] = set()
        self.headings: list[int] = []
        self.inline_handlers: list[str] = []
        self.style_attributes = 0

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        self.inline_handlers += [name for name in a if name.startswith("on")]
        self.style_attributes += "style" in a
        if tag == "html":
            self.html_lang = a.get("lang")
        elif tag == "script":
            self.scripts.append(a)
        elif tag == "link":
            self.links.append(a)
        elif tag in ("input", "select", "textarea"):
            self.inputs.append(a)
        elif tag == "label" and a.get("for"):
            self.label_for.add(a["for"])
        elif re.fullmatch(r"h[1-6]", tag):
            self.headings.append(int(tag[1]))


def parse(body: str) -> Markup:
    markup = Markup()
    markup.feed(body)
    return markup


def demo_file(tmp_path, monkeypatch, subscribers) -> None:
    path = tmp_path / "demo.json"
    path.write_text(json.dumps({"subscribers": subscribers}), encoding="utf-8")
    monkeypatch.setenv(DEMO_FILE_ENV, str(path))


@pytest.mark.parametrize("path", PAGES)
def test_each_page_is_zh_cn_html_with_strict_security_headers(client, path, tmp_path, monkeypatch):
    demo_file(tmp_path, monkeypatch, [])
    r = client.http.get(path)
    assert r.status_code == 200, r.body
    assert header(r, "Content-Type") == "text/html; charset=utf-8"
    csp = header(r, "Content-Security-Policy") or ""
    directives = dict(d.strip().split(" ", 1) for d in csp.split(";"))
    assert directives["default-src"] == "'self'"
    assert directives["script-src"] == "'self'"
    assert directives["frame-ancestors"] == "'none'"
    assert directives["object-src"] == "'none'"
    assert "unsafe-inline" not in csp and "unsafe-eval" not in csp
    assert header(r, "X-Frame-Options") == "DENY"
    assert header(r, "Referrer-Policy") == "no-referrer"
    assert header(r, "X-Content-Type-Options") == "nosniff"
    assert header(r, "Cache-Control") == "no-store"
    assert header(r, "Set-Cookie") is None  # credentials travel in a header, never a cookie

    body = r.body.decode() if isinstance(r.body, bytes) else r.body
    markup = parse(body)
    assert markup.html_lang == "zh-CN"
    assert "<!doctype html>" in body.lower()
    # Every script is a same-origin file, except the labels, which are data (not executed).
    for script in markup.scripts:
        if script.get("type") == "application/json":
            continue
        assert script.get("src", "").startswith("/assets/"), script
    for link in markup.links:
        href = link.get("href") or ""
        assert href.startswith("/assets/") or href == "data:,", link
    assert not re.search(r"(src|href)=\"(https?:)?//", body), "nothing from another origin"
    assert not markup.inline_handlers and markup.style_attributes == 0
    # A label for every control; headings start at h1 and never skip a level.
    for control in markup.inputs:
        assert control.get("id") in markup.label_for, control
    assert markup.headings and markup.headings[0] == 1
    for before, after in zip(markup.headings, markup.headings[1:], strict=False):
        assert after <= before + 1, markup.headings


def test_the_labels_are_json_data_that_cannot_close_the_script(client):
    body = client.http.get("/").body.decode()
    match = re.search(
        r'<script type="application/json" id="recount-labels">(.*?)</script>', body, re.S
    )
    assert match
    assert "<" not in match.group(1)  # |tojson escapes <, > and & inside the block
    assert json.loads(match.group(1)) == page_labels()


def test_every_code_the_pages_show_has_a_chinese_label():
    workflow = load_workflow()
    labels = page_labels()
    assert set(labels["state"]) == set(workflow.states)
    assert set(workflow.actions) | {"file", "rerouted_in"} == set(labels["action"])
    assert set(labels["reason"]) == set(REASONS)
    assert set(labels["response_code"]) == set(RESPONSE_CODES)
    assert set(labels["action_on"]) == set(ACTION_ON)
    assert set(labels["actor"]) == set(ACTORS)
    assert set(labels["confidence"]) == set(CONFIDENCES)
    assert set(labels["method"]) == set(METHODS)
    assert set(labels["kind"]) == set(KINDS)
    facts = {name for entry in load_directory().entries.values() for name in entry.facts()}
    assert set(labels["fact"]) == facts
    for group in labels.values():
        for text in group.values():
            assert re.search(r"[\u4e00-\u9fff]", text), text


def test_dev_inbox_is_absent_outside_the_local_stage(world):
    from chalice.test import Client

    from app import app

    for stage in ("dev", "prod"):
        with Client(app, stage_name=stage) as other:
            r = Api(other).call("GET", "/dev/inbox")
        assert_problem(r, 404, "not_found")


def test_dev_inbox_shows_what_each_demo_number_received(
    client, frozen_clock, tmp_path, monkeypatch
):
    demo_file(
        tmp_path,
        monkeypatch,
        [
            {"phone": ACTIVE_PHONE, "id_last6": "12345X", "status": "active"},
            {"phone": "13700137000", "id_last6": "111111", "status": "cancelled"},
            {"phone": "not a number"},
        ],
    )
    api = Api(client, frozen_clock)
    code = request_code(api, ACTIVE_PHONE)
    # Whatever a message says is text on the page, never markup.
    key = phone_hmac(config.settings().hmac_key, "+86" + ACTIVE_PHONE)
    DevSms(key, "2026-11-27T03:00:00Z#x", body="<script>alert(1)</script>", message_id="m",
           phone_masked="138****8000").save()  # fmt: skip

    r = client.http.get("/dev/inbox")
    assert r.status_code == 200
    body = r.body.decode()
    assert code in body and "验证码" in body
    assert ACTIVE_PHONE in body and "13700137000" in body and "已销号" in body
    assert "<script>alert(1)</script>" not in body
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in body
    # Newest first, in Shanghai time.
    assert body.index("alert(1)") < body.index(code)
    assert "11月27日 11:00:00" in body


def test_dev_inbox_without_a_demo_file_says_how_to_get_one(client, tmp_path, monkeypatch):
    monkeypatch.setenv(DEMO_FILE_ENV, str(tmp_path / "missing.json"))
    r = client.http.get("/dev/inbox")
    assert r.status_code == 200
    assert "make run" in r.body.decode()


@pytest.mark.parametrize(("name", "media"), ASSETS.items())
def test_assets_are_served_with_their_types(client, name, media):
    r = client.http.get(f"/assets/{name}")
    assert r.status_code == 200
    assert header(r, "Content-Type") == f"{media}; charset=utf-8"
    assert header(r, "X-Content-Type-Options") == "nosniff"
    text = r.body.decode().replace('"http://www.w3.org/2000/svg"', "SVG_NAMESPACE")
    assert "http://" not in text and "https://" not in text and "//" + "cdn" not in text


@pytest.mark.parametrize(
    "name", ["nope.js", "..%2Fpages.py", "%2E%2E%2Fbase.html", "base.html", "app.css%00"]
)
def test_only_the_listed_assets_exist(client, name):
    assert_problem(Api(client).call("GET", f"/assets/{name}"), 404, "not_found")


def test_scripts_keep_credentials_out_of_urls(client):
    """Tokens and keys live in sessionStorage and go in the Authorization header only."""
    for name in ("common.js", "person.js", "console.js", "dashboard.js", "scorecard.js"):
        text = client.http.get(f"/assets/{name}").body.decode()
        assert "localStorage" not in text and "document.cookie" not in text
        assert ".innerHTML" not in text
        assert not re.search(r"[?&](token|key|phone)=", text), name
    common = client.http.get("/assets/common.js").body.decode()
    assert 'headers.Authorization = "Bearer " + token' in common
    assert 'credentials: "omit"' in common


def test_directory_lists_every_company_and_carrier_with_reasons(client):
    r = Api(client).call("GET", "/v1/directory")
    assert r.status_code == 200
    assert header(r, "Content-Type") == "application/json; charset=utf-8"
    data = r.data
    assert set(data) == {"kinds", "reasons", "entries"}
    assert [k["kind"] for k in data["kinds"]] == list(KINDS)
    assert [x["reason"] for x in data["reasons"]] == list(REASONS)
    assert all(re.search(r"[\u4e00-\u9fff]", x["label"]) for x in data["reasons"])
    directory = load_directory()
    assert [e["key"] for e in data["entries"]] == list(directory.entries)
    for entry in data["entries"]:
        assert set(entry) == {"key", "type", "kind", "name_zh", "name_en", "apps", "hotline"}
        hotline = directory.get(entry["key"]).hotline
        assert entry["hotline"] == {
            "number": hotline.number,
            "confidence": hotline.fact.confidence,
            "note": hotline.note,
        }
        assert entry["kind"] == ("accounts" if entry["type"] == "company" else "sim_cards")
        assert entry["name_zh"] == directory.get(entry["key"]).name_zh
        assert entry["apps"] and all(set(a) == {"zh", "en"} for a in entry["apps"])
    kinds = {e["key"]: e["kind"] for e in data["entries"]}
    assert kinds["tencent"] == "accounts" and kinds["china_mobile"] == "sim_cards"


def test_pages_and_the_directory_are_in_the_openapi_document(client):
    paths = Api(client).call("GET", "/openapi.json").data["paths"]
    for path in (
        "/",
        "/scorecard",
        "/console",
        "/dashboard",
        "/dev/inbox",
        "/assets/{name}",
        "/v1/directory",
        "/v1/scorecard",
    ):
        assert "get" in paths[path], path
    for public in ("/v1/directory", "/scorecard", "/v1/scorecard"):
        assert "security" not in paths[public]["get"], public


def test_every_page_links_to_the_public_scorecard(client, tmp_path, monkeypatch):
    demo_file(tmp_path, monkeypatch, [])
    for path in PAGES:
        body = client.http.get(path).body.decode()
        links = re.findall(r'<a href="/scorecard"( aria-current="page")?>企业成绩单</a>', body)
        assert len(links) == 1, path
        assert (links[0] == ' aria-current="page"') == (path == "/scorecard"), path


def test_the_scorecard_page_explains_each_figure_and_the_10_case_rule(client):
    r = client.http.get("/scorecard")
    assert r.status_code == 200
    body = r.body.decode()
    assert "<title>企业成绩单 · recount 号码绑定申诉</title>" in body
    assert '<script src="/assets/scorecard.js" defer></script>' in body
    # Companies and carriers in sections of their own, filled from GET /v1/scorecard.
    assert 'id="companies"' in body and 'id="carriers"' in body
    assert "互联网企业" in body and "电信运营商" in body
    # What each figure means, and the publication rule with the threshold the API applies.
    for figure in ("受理案件", "按时受理率", "按时答复率", "答复用时中位数", "重新申诉率"):
        assert f"<dt>{figure}</dt>" in body, figure
    assert MIN_PUBLIC_CASES == 10
    assert f"至少有 {MIN_PUBLIC_CASES} 件案件支撑才公布" in body
    assert f"不足{MIN_PUBLIC_CASES}件，暂不公布" in body
    # No inline script: the only <script> without src is the labels' JSON data block.
    markup = parse(body)
    inline = [s for s in markup.scripts if not s.get("src")]
    assert inline == [{"type": "application/json", "id": "recount-labels"}]
    # The script says the same placeholder and never prints a withheld figure's count.
    script = client.http.get("/assets/scorecard.js").body.decode()
    assert '"不足" + minCases + "件，暂不公布"' in script
    assert "fetch(" not in script and 'R.api("GET", "/v1/scorecard")' in script


def test_the_dashboard_reads_the_statistics_and_hotspots(client):
    body = client.http.get("/dashboard").body.decode()
    for section in ("stats", "ontime", "hotspots", "hotspot-cases", "by-state", "overdue"):
        assert f'id="{section}"' in body, section
    assert "各企业统计" in body and "本周热点" in body
    script = client.http.get("/assets/dashboard.js").body.decode()
    for path in ("/v1/admin/stats", "/v1/admin/hotspots", "/v1/admin/hotspots/cases?"):
        assert f'"{path}' in script, path
    assert 'role: "img"' in script and '"title"' in script and '"desc"' in script


def test_staff_pages_are_not_in_the_public_navigation(client, tmp_path, monkeypatch):
    demo_file(tmp_path, monkeypatch, [])
    for path in PAGES:
        body = client.http.get(path).body.decode()
        nav = body.split('<nav aria-label="页面">', 1)[1].split("</nav>", 1)[0]
        staff = path in ("/console", "/dashboard")
        assert ('href="/console"' in nav) == staff, path
        assert ('href="/dashboard"' in nav) == staff, path


def test_the_person_page_holds_the_directory_s_hotlines_for_a_cancelled_number(client):
    """No code reaches a cancelled number: the page lists every hotline the directory has,
    each with its confidence, ready to show when the API answers 422 number_cancelled."""
    body = client.http.get("/").body.decode()
    section = body.split('<section id="hotlines"', 1)[1].split("</section>", 1)[0]
    assert " hidden>" in section.split("\n", 1)[0]
    labels = page_labels()["confidence"]
    for entry in load_directory().entries.values():
        row = section.split(f'<li data-company="{entry.key}">', 1)[1].split("</li>", 1)[0]
        assert entry.name_zh in row
        assert f"（{labels[entry.hotline.fact.confidence]}）" in row
        if entry.hotline.number:
            assert f'<a class="tel" href="tel:{entry.hotline.number}">' in row
        else:
            assert "暂无可靠的客服电话" in row


def test_the_scripts_never_evaluate_strings(client):
    """The CSP forbids eval; the scripts do not try (it would fail in the browser only)."""
    for name in ASSETS:
        if not name.endswith(".js"):
            continue
        text = client.http.get(f"/assets/{name}").body.decode()
        assert not re.search(r"\beval\(|new Function\(|setTimeout\(\s*[\"'`]", text), name
        assert not re.search(r"setInterval\(\s*[\"'`]|\.outerHTML\s*=|insertAdjacentHTML", text)


def test_the_person_script_never_stores_the_code_or_the_id_digits(client):
    """A refresh keeps the number and a half-filled form (sessionStorage); the code and the
    ID digits stay in the form fields only."""
    text = client.http.get("/assets/person.js").body.decode()
    stored = re.findall(r"R\.store\.set\(([A-Z_]+),", text)
    assert set(stored) == {"TOKEN", "EXPIRES", "MASKED", "PENDING", "DRAFT"}, stored
    pending = re.search(r"R\.store\.set\(PENDING, JSON\.stringify\(\{([^}]*)\}", text)
    assert pending and "code" not in pending.group(1) and "id_last6" not in pending.group(1)


def test_dev_inbox_shows_what_each_demo_company_s_receiver_took(
    client, frozen_clock, tmp_path, monkeypatch
):
    """make run points every demo company's webhook at its demo receiver; /dev/inbox shows
    what arrived and whether the signature held (a forged one is refused and shown so)."""
    from datetime import UTC, datetime

    from chalicelib import config
    from chalicelib.domain import webhooks as rules
    from chalicelib.domain.actors import Actor
    from chalicelib.services import webhooks

    path = tmp_path / "demo.json"
    view, _ = webhooks.put_endpoint(
        config.settings(), Actor("liaison", company="jd"), {"url": "http://127.0.0.1:9/x"}
    )
    path.write_text(
        json.dumps({"subscribers": [], "webhook_secrets": {"jd": view["secret"]}}),
        encoding="utf-8",
    )
    monkeypatch.setenv(DEMO_FILE_ENV, str(path))
    text = rules.body("case.opened", "wh:demo", "2026-11-27T02:00:00Z", {"case_id": "C1"})
    sent = datetime.now(UTC)
    for secret, expected in ((view["secret"], 200), (rules.new_secret(), 400)):
        headers = {
            "Content-Type": "application/json",
            "webhook-id": "wh:demo",
            "webhook-timestamp": str(int(sent.timestamp())),
            "webhook-signature": rules.signature_header([secret], "wh:demo", sent, text),
        }
        r = client.http.post("/dev/webhooks/jd", body=text, headers=headers)
        assert r.status_code == expected, r.body
        frozen_clock.advance(seconds=1)
    # Malformed signature headers are refused as forged ones, never a 500.
    for signature in ("v1,zzz", "nocomma", "v1,"):
        headers = {
            "webhook-id": "wh:bad",
            "webhook-timestamp": str(int(sent.timestamp())),
            "webhook-signature": signature,
        }
        r = client.http.post("/dev/webhooks/jd", body=text, headers=headers)
        assert (r.status_code, json.loads(r.body)["code"]) == (400, "signature_invalid"), r.body
        frozen_clock.advance(seconds=1)
    r = client.http.get("/dev/inbox")
    assert r.status_code == 200, r.body
    page = r.body.decode()
    hooks = page[page.index('id="hooks"') :]
    assert "case.opened · 签名有效" in hooks and "case.opened · 签名无效" in hooks, hooks[:600]
