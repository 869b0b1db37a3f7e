"""Tests against the real stack (`make run`'s): bursts of parallel HTTP requests, and the
pages driven by Debian's chromium through Playwright.

The stack is what `make run` starts, built with scripts/local_run.py's own functions (loaded
with importlib, not copied): moto server and `chalice local` as subprocesses on free loopback
ports, the tables, key and demo data provisioned the same way, and the scheduler/dispatcher
pump in a thread. Chromium and a CJK font come from Debian's packages and are installed here
when missing (CI runs as root); `playwright install` is never used.
"""

from __future__ import annotations

import importlib.util
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any, TypeVar

import pytest

ROOT = Path(__file__).resolve().parents[2]
SCREENSHOTS = ROOT / ".local" / "screenshots"  # git-ignored with .local/
CHROMIUM = Path("/usr/bin/chromium")
APT_PACKAGES = ("chromium", "fonts-wqy-microhei")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
WIDTHS = (375, 1280)
# True once the window is `width` wide and every chart has been drawn for its box's width.
CHARTS_AT_WIDTH = """width => window.innerWidth === width && Array.from(
    document.querySelectorAll(".chart > svg[width]"),
    svg => Number(svg.getAttribute("width")) ===
        Math.max(300, Math.min(760, svg.parentElement.clientWidth || 640)),
).every(Boolean)"""
SKIP_ENV = "RECOUNT_SKIP_E2E"
POLL_S = 0.25  # between two looks at a state a test waits for through the API
T = TypeVar("T")


# -- system packages -----------------------------------------------------------------------------
def _cjk_font_installed() -> bool:
    if shutil.which("fc-list"):
        out = subprocess.run(["fc-list", ":lang=zh"], capture_output=True, text=True, check=False)
        return bool(out.stdout.strip())
    fonts = Path("/usr/share/fonts")
    return any(fonts.glob("**/wqy-*.tt[cf]")) or any(fonts.glob("**/NotoSansCJK*"))


def ensure_browser() -> None:
    """Debian's chromium and a CJK font (without one every Chinese character is a box)."""
    if CHROMIUM.exists() and _cjk_font_installed():
        return
    if os.environ.get(SKIP_ENV) == "1":
        pytest.skip(f"{SKIP_ENV}=1 and chromium or a CJK font is missing")
    if os.geteuid() != 0 or not shutil.which("apt-get"):
        pytest.fail(
            "the browser tests need Debian's chromium and fonts-wqy-microhei: run "
            f"`sudo make browser-deps` (or set {SKIP_ENV}=1 to skip them)"
        )
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    for argv in (
        ["apt-get", "update", "-qq"],
        ["apt-get", "install", "-y", "-qq", *APT_PACKAGES],
    ):
        done = subprocess.run(argv, env=env, capture_output=True, text=True, check=False)
        if done.returncode != 0:
            pytest.fail(f"{' '.join(argv)} failed:\n{done.stdout[-2000:]}\n{done.stderr[-2000:]}")
    if not (CHROMIUM.exists() and _cjk_font_installed()):
        pytest.fail(f"installed {' '.join(APT_PACKAGES)} but chromium or the font is still missing")


# -- the stack ----------------------------------------------------------------------------------
def load_local_run() -> ModuleType:
    """scripts/local_run.py as a module (scripts/ is not a package)."""
    name = "recount_local_run"
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, ROOT / "scripts" / "local_run.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # dataclasses look their module up while the class is made
    spec.loader.exec_module(module)
    return module


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class Stack:
    base_url: str
    demo: dict[str, Any]
    logs: Path

    def call(
        self,
        method: str,
        path: str,
        body: Any = None,
        token: str | None = None,
        timeout: float = 10,
        **headers: str,
    ) -> tuple[int, Any, dict[str, str]]:
        """A JSON call straight to the API (what another liaison would do meanwhile)."""
        h = {"Content-Type": "application/json", **headers}
        if token:
            h["Authorization"] = f"Bearer {token}"
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(self.base_url + path, data=data, headers=h, method=method)
        opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
        try:
            with opener.open(request, timeout=timeout) as reply:
                raw, status, got = reply.read(), reply.status, dict(reply.headers)
        except urllib.error.HTTPError as exc:
            raw, status, got = exc.read(), exc.code, dict(exc.headers)
        return status, json.loads(raw) if raw else None, got

    def phone(self, status: str = "active") -> tuple[str, str]:
        s = next(s for s in self.demo["subscribers"] if s["status"] == status)
        return s["phone"], s["id_last6"]


def wait_until(probe: Callable[[], T | None], what: str, timeout: float = 120) -> T:
    """Asks `probe` until it returns something (not None): the state a test waits for. The
    timeout only bounds a failure; nothing is measured."""
    deadline = time.monotonic() + timeout
    last: Any = None
    while True:
        try:
            found = probe()
        except AssertionError as exc:  # a probe may say why it is not there yet
            found, last = None, exc
        if found is not None:
            return found
        if time.monotonic() > deadline:
            raise AssertionError(f"{what}: not reached within {timeout:.0f} s ({last})")
        time.sleep(POLL_S)


def answered(page: Any, sent: list[Any], path_part: str, method: str = "POST") -> list[Any]:
    """The requests in `sent` (the page's, as Playwright saw them) to a URL containing
    `path_part`, once the page is done with them: no button is busy any more (common.js `busy`
    holds one while its request runs) and each has its answer. A second click's request leaves
    with the click, before the first answer is shown: waiting for answers, not for time."""
    from playwright.sync_api import expect

    expect(page.locator("button[aria-busy='true']")).to_have_count(0)
    requests = [r for r in sent if r.method == method and path_part in r.url]
    for request in requests:
        request.response()  # waits for the answer (None if the request failed)
    return requests


@contextmanager
def running_stack(logs: Path) -> Iterator[Stack]:
    """`make run`'s stack on free ports, its logs in `logs`; this process pointed at it."""
    lr = load_local_run()
    from chalicelib import config
    from chalicelib.adapters import aws as aws_clients
    from chalicelib.adapters import tables
    from chalicelib.api.dev import DEMO_FILE_ENV
    from chalicelib.services import local_stream_pump

    moto_port, api_port = free_port(), free_port()
    base_url = f"http://{lr.HOST}:{api_port}"
    saved = dict(os.environ)
    children: list[Any] = []
    stop = threading.Event()
    pump: threading.Thread | None = None
    try:
        env = lr.configure_environment(moto_port)  # this process too: provisioning, the pump
        demo_file = logs / "demo.json"
        env[DEMO_FILE_ENV] = str(demo_file)
        # The scorecard as fresh as the minute's summary (the pump writes it every 2 s), not
        # a process's 60 s copy: the journeys check what they just did.
        env["RECOUNT_SCORECARD_CACHE_SECONDS"] = "0"
        moto = lr.start_child("moto server", lr.moto_command(moto_port), env, logs / "moto.log")
        children.append(moto)
        lr.wait_until_answering(
            f"http://{lr.HOST}:{moto_port}/moto-api/", moto, lr.MOTO_START_TIMEOUT_S
        )
        aws_clients.reset()
        tables.reset()
        local_stream_pump.reset_pump()  # stream positions of an earlier stack mean nothing here
        settings = config.settings()
        demo = lr.provision(settings, base_url)
        demo_file.write_text(json.dumps(demo), encoding="utf-8")
        api = lr.start_child("chalice local", lr.api_command(api_port), env, logs / "chalice.log")
        children.append(api)
        lr.wait_until_answering(
            f"{base_url}/v1/healthz", api, lr.API_START_TIMEOUT_S, ok=lambda status: status == 200
        )
        pump = threading.Thread(
            target=lr.pump_forever, args=(settings, stop), name="e2e-pump", daemon=True
        )
        pump.start()
        yield Stack(base_url, demo, logs)
    except lr.StartupError as exc:
        tails = "\n".join(
            f"--- {p.name} (last lines)\n"
            + "\n".join(p.read_text(errors="replace").splitlines()[-30:])
            for p in (logs / "chalice.log", logs / "moto.log")
            if p.exists()
        )
        pytest.fail(f"the stack did not start: {exc}\n{tails}")
    finally:
        stop.set()
        if pump is not None:
            pump.join(timeout=10)
        lr.stop_children(children)
        os.environ.clear()
        os.environ.update(saved)
        aws_clients.reset()
        tables.reset()
        local_stream_pump.reset_pump()


@pytest.fixture(scope="package")
def stack(tmp_path_factory) -> Iterator[Stack]:
    with running_stack(tmp_path_factory.mktemp("stack")) as running:
        yield running


# -- the browser ----------------------------------------------------------------------------------
@pytest.fixture(scope="package")
def browser(stack):
    ensure_browser()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        # launch() gives every run a fresh temporary --user-data-dir of its own.
        instance = p.chromium.launch(
            executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True
        )
        yield instance
        instance.close()


class Tab:
    """One role's browser tab, with what the page logged, and screenshot/a11y helpers."""

    def __init__(self, browser, stack: Stack, width: int) -> None:
        self.context = browser.new_context(
            viewport={"width": width, "height": 900}, locale="zh-CN", timezone_id="Asia/Shanghai"
        )
        self.context.set_default_timeout(10_000)
        self.page = self.context.new_page()
        self.stack = stack
        self.width = width
        self.problems: list[str] = []
        self.page.on("console", self._console)
        self.page.on("pageerror", lambda exc: self.problems.append(f"pageerror: {exc}"))
        self.requests: list[str] = []
        self.page.on("request", lambda r: self.requests.append(r.url))
        self.page.on("response", self._response)

    def _console(self, message) -> None:
        # Chromium logs every 4xx answer as an error; the pages expect some (a 412, a 422):
        # those are judged by the test itself, and a 5xx is caught by _response.
        if message.type == "error" and not message.text.startswith("Failed to load resource"):
            self.problems.append(f"console: {message.text}")

    def _response(self, response) -> None:
        if response.status >= 500:
            self.problems.append(f"{response.status} from {response.url}")

    def goto(self, path: str) -> None:
        self.page.goto(self.stack.base_url + path)

    def shoot(self, name: str) -> list[Path]:
        """Full-page screenshots at 375 px and 1280 px; the tab keeps its own width after."""
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        paths = []
        for width in WIDTHS:
            self.resize(width)
            path = SCREENSHOTS / f"{name}-{width}.png"
            self.page.screenshot(path=str(path), full_page=True)
            paths.append(path)
        self.resize(self.width)
        return paths

    def resize(self, width: int) -> None:
        """The viewport at `width`, once the page has laid itself out for it: the window has
        that width, and every chart is drawn at its box's width (the dashboard redraws its
        chart after a resize: dashboard.js renderOnTime, clamped to 300–760 px)."""
        self.page.set_viewport_size({"width": width, "height": 900})
        self.page.wait_for_function(CHARTS_AT_WIDTH, arg=width)

    def no_horizontal_scroll(self) -> None:
        """Usable at 375 px: the page itself never scrolls sideways (tables scroll inside)."""
        width = self.page.evaluate("document.documentElement.scrollWidth")
        assert width <= self.page.viewport_size["width"], (self.page.url, width)

    def check_accessibility(self, what: str) -> None:
        """axe-core's WCAG 2 A/AA rules (labels, contrast, headings, landmarks) on the page as
        it is now. Run through the DevTools protocol, so the page's CSP stays as strict."""
        from axe_playwright_python.sync_playwright import Axe

        results = Axe().run(
            self.page,
            options={
                "runOnly": {
                    "type": "tag",
                    "values": ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "best-practice"],
                },
                "resultTypes": ["violations"],
            },
        )
        violations = [
            f"{v['id']} ({v['impact']}): {v['help']} — "
            + "; ".join(n["target"][0] if n["target"] else "?" for n in v["nodes"][:5])
            for v in results.response["violations"]
        ]
        assert not violations, f"{what}: accessibility problems:\n" + "\n".join(violations)

    def assert_clean(self) -> None:
        """No script error, no CSP refusal, nothing fetched from another origin, and no token,
        key or number in any URL the page asked for."""
        assert not self.problems, self.problems
        secrets = [self.stack.demo["operator_key"], *self.stack.demo["liaison_keys"].values()]
        secrets += [s["phone"] for s in self.stack.demo["subscribers"]]
        for url in self.requests:
            assert url.startswith(self.stack.base_url), f"fetched from elsewhere: {url}"
            if "/dev/sms" in url:
                continue
            assert not any(s in url for s in secrets), f"a secret in a URL: {url}"
            assert not re.search(r"[?&#](token|key|phone)=", url), url

    def close(self) -> None:
        self.context.close()


@pytest.fixture
def tabs(browser, stack) -> Iterator[Any]:
    opened: list[Tab] = []

    def open_tab(width: int = 1280) -> Tab:
        tab = Tab(browser, stack, width)
        opened.append(tab)
        return tab

    yield open_tab
    for tab in opened:
        tab.close()
