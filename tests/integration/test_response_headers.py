"""Headers on every HTTP response (docs/design.md §6, §8): personal answers are never cached or
sniffed. Every route of `app.routes` is walked as the caller who may use it: every response sends
`X-Content-Type-Options: nosniff` and `Referrer-Policy: no-referrer`; everything but the
deliberately public answers (directory, scorecard) and the static assets is `no-store`, problems
included; the pages keep their strict Content-Security-Policy."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from chalice import Response

from app import app
from chalicelib.api.http import REGISTRY, with_standard_headers
from chalicelib.api.rendering import CONTENT_SECURITY_POLICY
from chalicelib.services import keys
from tests.integration.helpers import (
    ACTIVE_ID,
    ACTIVE_PHONE,
    assert_problem,
    header,
    item,
    request_code,
)
from tests.support import Api

PUBLIC_CACHE = "public, max-age=300"
# The only routes that choose their own caching; every other answer is `no-store`.
CACHING = {
    ("GET", "/v1/directory"): PUBLIC_CACHE,
    ("GET", "/v1/scorecard"): PUBLIC_CACHE,
    ("GET", "/assets/{name}"): "no-cache",  # revalidated; no personal content
}
PAGES = {("GET", p) for p in ("/", "/console", "/dashboard", "/scorecard", "/dev/inbox")}
# What the brief names as personal, at the least: each must be walked and answer no-store.
PERSONAL = {
    ("POST", "/v1/sessions"),
    ("POST", "/v1/disputes"),
    ("GET", "/v1/disputes"),
    ("GET", "/v1/disputes/{dispute_id}"),
    ("POST", "/v1/cases/{case_id}/actions"),
    ("GET", "/v1/liaison/cases"),
    ("GET", "/v1/liaison/cases/{case_id}"),
    ("GET", "/v1/liaison/cases/{case_id}/messages"),
    ("POST", "/v1/liaison/cases/{case_id}/transitions"),
    ("POST", "/v1/liaison/cases:batch"),
    ("GET", "/v1/admin/cases"),
    ("GET", "/v1/admin/cases/{case_id}"),
    ("GET", "/v1/admin/cases/{case_id}/messages"),
    ("GET", "/v1/admin/cases.csv"),
    ("POST", "/v1/admin/cases/{case_id}/transitions"),
    ("POST", "/v1/admin/liaison-keys"),
    ("PUT", "/v1/liaison/webhook"),  # a signing secret, shown once
    ("POST", "/v1/liaison/webhook/rotate-secret"),
    ("GET", "/dev/sms"),
}
# Shapes of personal content in a body: a token or key, a case or dispute id, a masked number.
PERSONAL_SHAPES = (
    re.compile(r'"token"\s*:'),
    re.compile(r"\brk_K[0-9A-Z]{9}_"),
    re.compile(r"\bwhsec_[A-Za-z0-9+/=]{20,}"),  # a webhook signing secret
    re.compile(r"\bC[0-9A-HJKMNP-TV-Z]{9}\b"),
    re.compile(r"\bD[0-9A-HJKMNP-TV-Z]{9}\b"),
    re.compile(r"\b1[3-9]\d\*{4}\d{4}\b"),
)


def all_routes() -> set[tuple[str, str]]:
    return {(method, path) for path, entry in app.routes.items() for method in entry}


@dataclass
class Walk:
    """Calls, each recorded under the route (method, route path) it exercised."""

    api: Api
    seen: dict[tuple[str, str], list[Any]] = field(default_factory=dict)

    def call(
        self,
        route: tuple[str, str],
        path: str,
        body: Any = None,
        *,
        token: str | None = None,
        status: int | None = None,
        headers: dict[str, str] | None = None,
    ) -> Any:
        method = route[0]
        r = self.api.call(method, path, body, token=token, headers=headers)
        if status is not None:
            assert r.status_code == status, (route, r.status_code, r.body)
        self.seen.setdefault(route, []).append(r)
        return r

    def responses(self) -> Iterator[tuple[tuple[str, str], Any]]:
        for route, responses in self.seen.items():
            for r in responses:
                yield route, r


def walk_every_route(api: Api) -> Walk:
    """Each route once or more, as the caller it is meant for, each call succeeding."""
    w = Walk(api)
    get, post, delete = "GET", "POST", "DELETE"
    # Public and meta.
    w.call((get, "/v1/healthz"), "/v1/healthz", status=200)
    w.call((get, "/openapi.json"), "/openapi.json", status=200)
    w.call((get, "/v1/directory"), "/v1/directory", status=200)
    w.call((get, "/v1/scorecard"), "/v1/scorecard", status=200)
    for _, page in sorted(PAGES):
        w.call((get, page), page, status=200)
    w.call((get, "/assets/{name}"), "/assets/app.css", status=200)
    w.call((get, "/assets/{name}"), "/assets/common.js", status=200)
    # The person signs in.
    w.call(
        (post, "/v1/verification-codes"),
        "/v1/verification-codes",
        {"phone": ACTIVE_PHONE},
        status=202,
    )
    w.call((get, "/dev/sms"), f"/dev/sms?phone={ACTIVE_PHONE}", status=200)
    api.clock.advance(seconds=61)
    code = request_code(api, ACTIVE_PHONE)
    r = w.call(
        (post, "/v1/sessions"),
        "/v1/sessions",
        {"phone": ACTIVE_PHONE, "id_last6": ACTIVE_ID, "code": code},
        status=201,
    )
    token = r.data["token"]
    # The person files (and a retry replays the answer) and reads.
    filing = {"items": [item("tencent")]}
    once = {"Idempotency-Key": "headers-walk-1"}
    r = w.call((post, "/v1/disputes"), "/v1/disputes", filing, token=token, headers=once)
    assert r.status_code == 201, r.body
    replay = w.call((post, "/v1/disputes"), "/v1/disputes", filing, token=token, headers=once)
    assert replay.status_code == 201 and header(replay, "Idempotent-Replayed") == "true"
    dispute_id, case_id = r.data["dispute_id"], r.data["cases"][0]["case_id"]
    w.call((get, "/v1/disputes"), "/v1/disputes", token=token, status=200)
    pasted = {"text": "京东1个"}
    w.call((post, "/v1/check-results"), "/v1/check-results", pasted, token=token, status=200)
    w.call(
        (get, "/v1/disputes/{dispute_id}"), f"/v1/disputes/{dispute_id}", token=token, status=200
    )
    # The liaison reads and answers.
    liaison = keys.issue("liaison", "tencent", "headers")["key"]
    r = w.call((get, "/v1/liaison/cases"), "/v1/liaison/cases", token=liaison, status=200)
    assert any(re.fullmatch(r"1\d\d\*{4}\d{4}", c.get("phone_masked", "")) for c in r.data["items"])
    w.call(
        (get, "/v1/liaison/cases/{case_id}"),
        f"/v1/liaison/cases/{case_id}",
        token=liaison,
        status=200,
    )
    w.call(
        (get, "/v1/liaison/cases/{case_id}/messages"),
        f"/v1/liaison/cases/{case_id}/messages",
        token=liaison,
        status=200,
    )
    w.call(
        (post, "/v1/liaison/cases/{case_id}/transitions"),
        f"/v1/liaison/cases/{case_id}/transitions",
        {"action": "acknowledge"},
        token=liaison,
        status=200,
    )
    respond = {"action": "respond", "response_code": "accounts_unbound", "message": "已解绑"}
    r = w.call(
        (post, "/v1/liaison/cases:batch"),
        "/v1/liaison/cases:batch",
        {"items": [{"case_id": case_id, **respond}]},
        token=liaison,
        status=200,
    )
    assert r.data["results"][0]["status"] == 200, r.body
    w.call(
        (get, "/v1/liaison/directory-status"),
        "/v1/liaison/directory-status",
        token=liaison,
        status=200,
    )
    # The person disagrees; the operator settles it.
    w.call(
        (post, "/v1/cases/{case_id}/actions"),
        f"/v1/cases/{case_id}/actions",
        {"action": "reopen"},
        token=token,
        status=200,
    )
    operator = keys.issue("operator", None, "headers")["key"]
    for path in ("/v1/admin/cases", "/v1/admin/stats", "/v1/admin/hotspots", "/v1/admin/cases.csv"):
        w.call((get, path), path, token=operator, status=200)
    w.call(
        (get, "/v1/admin/hotspots/cases"),
        "/v1/admin/hotspots/cases?week=2026-W48&region=%E5%8C%97%E4%BA%AC%E5%B8%82&company=tencent",
        token=operator,
        status=200,
    )
    w.call(
        (get, "/v1/admin/cases/{case_id}"), f"/v1/admin/cases/{case_id}", token=operator, status=200
    )
    w.call(
        (get, "/v1/admin/cases/{case_id}/messages"),
        f"/v1/admin/cases/{case_id}/messages",
        token=operator,
        status=200,
    )
    w.call(
        (post, "/v1/admin/cases/{case_id}/transitions"),
        f"/v1/admin/cases/{case_id}/transitions",
        {"action": "resolve", "message": "已核实处理"},
        token=operator,
        status=200,
    )
    r = w.call(
        (post, "/v1/admin/liaison-keys"),
        "/v1/admin/liaison-keys",
        {"company": "jd", "label": "headers"},
        token=operator,
        status=201,
    )
    w.call(
        (delete, "/v1/admin/liaison-keys/{key_id}"),
        f"/v1/admin/liaison-keys/{r.data['key_id']}",
        token=operator,
        status=204,
    )
    webhooks_walk(w, operator)
    # Settled: the person erases it.
    w.call(
        (delete, "/v1/disputes/{dispute_id}"), f"/v1/disputes/{dispute_id}", token=token, status=204
    )
    return w


def webhooks_walk(w: Walk, operator: str) -> None:
    """A company's endpoint: set, read, rotated, tested, its log and a resend; the demo
    receiver takes a delivery signed with the company's secret; an operator lists and
    disables it; the liaison removes it."""
    from datetime import UTC, datetime

    from chalicelib.domain import webhooks as rules

    get, post, put, delete = "GET", "POST", "PUT", "DELETE"
    jd = keys.issue("liaison", "jd", "headers webhooks")["key"]
    nowhere = {"url": "http://127.0.0.1:9/hooks"}
    r = w.call((put, "/v1/liaison/webhook"), "/v1/liaison/webhook", nowhere, token=jd, status=201)
    secret = r.data["secret"]
    w.call((get, "/v1/liaison/webhook"), "/v1/liaison/webhook", token=jd, status=200)
    path = "/v1/liaison/webhook/rotate-secret"
    w.call((post, path), path, token=jd, status=200)
    r = w.call((post, "/v1/liaison/webhook/test"), "/v1/liaison/webhook/test", token=jd, status=200)
    delivery = r.data["id"]
    path = "/v1/liaison/webhook/deliveries"
    w.call((get, path), path, token=jd, status=200)
    w.call(
        (post, "/v1/liaison/webhook/deliveries/{delivery_id}/resend"),
        f"{path}/{delivery}/resend",
        token=jd,
        status=200,
    )
    text = rules.body("ping", "msg_headers", "2026-11-27T02:00:00Z", {"company": "jd"})
    sent = datetime.now(UTC)
    signed = {
        "webhook-id": "msg_headers",
        "webhook-timestamp": str(int(sent.timestamp())),
        "webhook-signature": rules.signature_header([secret], "msg_headers", sent, text),
    }
    r = w.api.call("POST", "/dev/webhooks/jd", raw=text, headers=signed)
    assert r.status_code == 200 and r.data["verified"], r.body
    w.seen.setdefault((post, "/dev/webhooks/{company}"), []).append(r)
    w.call((get, "/dev/webhooks/{company}"), "/dev/webhooks/jd", status=200)
    w.call((get, "/v1/admin/webhooks"), "/v1/admin/webhooks", token=operator, status=200)
    path = "/v1/admin/webhooks/{company}/disable"
    w.call((post, path), "/v1/admin/webhooks/jd/disable", token=operator, status=200)
    w.call((delete, "/v1/liaison/webhook"), "/v1/liaison/webhook", token=jd, status=204)


def assert_always_headers(route: tuple[str, str], r: Any) -> None:
    where = (route, r.status_code, r.headers)
    assert header(r, "X-Content-Type-Options") == "nosniff", where
    assert header(r, "Referrer-Policy") == "no-referrer", where


def assert_no_store(route: tuple[str, str], r: Any) -> None:
    assert header(r, "Cache-Control") == "no-store", (route, r.status_code, r.headers)


def carries_personal(r: Any) -> bool:
    text = r.body.decode("utf-8") if isinstance(r.body, bytes) else str(r.body or "")
    return any(shape.search(text) for shape in PERSONAL_SHAPES)


# -- tests ----------------------------------------------------------------------------------------
def test_every_route_is_walked(client, world, frozen_clock):
    w = walk_every_route(Api(client, frozen_clock))
    assert set(w.seen) == all_routes(), sorted(all_routes() ^ set(w.seen))
    assert set(w.seen) >= PERSONAL
    for route, r in w.responses():
        assert_always_headers(route, r)
        cache = header(r, "Cache-Control")
        if route in CACHING:
            assert cache == CACHING[route], (route, r.headers)
        else:
            assert cache == "no-store", (route, r.status_code, r.headers)
        if route in PERSONAL:
            assert carries_personal(r), (route, r.body)
        if carries_personal(r):
            assert_no_store(route, r)
        if route in PAGES:
            assert header(r, "Content-Security-Policy") == CONTENT_SECURITY_POLICY, route
            assert header(r, "X-Frame-Options") == "DENY", route


def test_the_pages_csp_stays_strict(client, world, frozen_clock):
    api = Api(client, frozen_clock)
    for _, page in sorted(PAGES):
        r = api.call("GET", page)
        assert r.status_code == 200, (page, r.body)
        directives = (header(r, "Content-Security-Policy") or "").split("; ")
        policy = dict(d.partition(" ")[::2] for d in directives)
        assert policy["default-src"] == "'self'", policy
        assert policy["script-src"] == "'self'", policy
        assert policy["object-src"] == "'none'", policy
        assert policy["frame-ancestors"] == "'none'", policy
        assert "unsafe-inline" not in json.dumps(policy) and "unsafe-eval" not in json.dumps(policy)
        assert header(r, "Cache-Control") == "no-store", page


PROTECTED = sorted(
    (ep.method, ep.path)
    for ep in REGISTRY
    if ep.auth is not None and (ep.method, ep.path) in all_routes()
)


def _concrete(path: str) -> str:
    return (
        path.replace("{case_id}", "C000000000")
        .replace("{dispute_id}", "D000000000")
        .replace("{key_id}", "K000000000")
    )


def test_problems_send_them_too(client, world, frozen_clock):
    """401, 404, 405, 400, 413, 415, 422: problem+json, no-store, nosniff, no-referrer."""
    api = Api(client, frozen_clock)
    token = api.sign_in(ACTIVE_PHONE, ACTIVE_ID)
    liaison = keys.issue("liaison", "tencent", "headers")["key"]
    assert PROTECTED
    answers: list[tuple[tuple[str, str], Any, int]] = [
        ((m, p), api.call(m, _concrete(p), {}), 401) for m, p in PROTECTED
    ]
    answers += [
        (
            ("GET", "/v1/disputes/{dispute_id}"),
            api.call("GET", "/v1/disputes/D000000000", token=token),
            404,
        ),
        (
            ("GET", "/v1/liaison/cases/{case_id}"),
            api.call("GET", "/v1/liaison/cases/C000000000", token=liaison),
            404,
        ),
        (("GET", "/assets/{name}"), api.call("GET", "/assets/nothing.js"), 404),
        (("PUT", "/v1/disputes"), api.call("PUT", "/v1/disputes", {}, token=token), 405),
        (("DELETE", "/v1/scorecard"), api.call("DELETE", "/v1/scorecard"), 405),
        (
            ("POST", "/v1/disputes"),
            api.call("POST", "/v1/disputes", raw="{not json", token=token),
            400,
        ),
        (
            ("POST", "/v1/disputes"),
            api.call("POST", "/v1/disputes", raw="x" * (17 * 1024), token=token),
            413,
        ),
        (
            ("POST", "/v1/disputes"),
            api.call(
                "POST",
                "/v1/disputes",
                raw="a=b",
                token=token,
                headers={"Content-Type": "text/plain"},
            ),
            415,
        ),
        (
            ("POST", "/v1/disputes"),
            api.call("POST", "/v1/disputes", {"unexpected": True}, token=token),
            422,
        ),
        (("POST", "/v1/sessions"), api.call("POST", "/v1/sessions", {"phone": ACTIVE_PHONE}), 422),
    ]
    for route, r, status in answers:
        assert_problem(r, status)
        assert_always_headers(route, r)
        assert_no_store(route, r)


# -- the one function every response passes ------------------------------------------------------
@pytest.mark.parametrize(
    ("given", "status", "expected"),
    [
        ({}, 200, "no-store"),
        ({"Cache-Control": PUBLIC_CACHE}, 200, PUBLIC_CACHE),
        ({"cache-control": "no-cache"}, 200, "no-cache"),
        ({"Cache-Control": PUBLIC_CACHE}, 503, "no-store"),
        ({}, 204, "no-store"),
    ],
)
def test_standard_headers_keep_a_chosen_cache_but_never_on_an_error(given, status, expected):
    response = with_standard_headers(Response(body="", status_code=status, headers=dict(given)))
    cache = [v for k, v in response.headers.items() if k.lower() == "cache-control"]
    assert cache == [expected]
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "no-referrer"


def test_standard_headers_do_not_duplicate_what_a_route_set():
    given = {"x-content-type-options": "nosniff", "Referrer-Policy": "no-referrer"}
    response = with_standard_headers(Response(body="", status_code=200, headers=dict(given)))
    names = [k.lower() for k in response.headers]
    assert sorted(names) == ["cache-control", "referrer-policy", "x-content-type-options"]
