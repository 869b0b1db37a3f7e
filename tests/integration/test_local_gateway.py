"""`make run`'s API answers what API Gateway answers itself as the deployed API does (issue 20):
a path no route has is 404 `route_not_found`, with the body of the packaged template's gateway
response (scripts/package.py GATEWAY_PROBLEMS), and a method no API Gateway route can have
(TRACE, PROPFIND, …) on a known path is 405 `method_not_allowed`, as the app answers a method
its route lacks: problem+json with the headers every answer carries, never chalice local's
plain 403 "Missing Authentication Token" or http.server's 501 HTML page.

Real HTTP on loopback against `chalice local` started as `make run` starts it
(scripts/local_run.py's api_command, through scripts/local_servers.py), with moto server as its
AWS (nothing here reaches it: API Gateway answers these before any function runs).
"""

from __future__ import annotations

import http.client
import json
import os
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import pytest

from chalicelib.api.http import PROBLEM_TYPE
from scripts.package import GATEWAY_PROBLEMS, gateway_problem_template
from tests.e2e.conftest import free_port, load_local_run
from tests.support import serialised_moto

STANDARD_HEADERS = {
    "x-content-type-options": "nosniff",
    "referrer-policy": "no-referrer",
    "cache-control": "no-store",
}
UNKNOWN_PATHS = ("/nothing", "/v1/nothing/here", "/v1/disputes/D1/cases/extra", "/v1healthz")
ODD_METHODS = ("TRACE", "PROPFIND", "MKCOL", "FROB", "get")


@dataclass
class Answer:
    status: int
    headers: dict[str, str]
    raw: bytes

    @property
    def body(self) -> Any:
        return json.loads(self.raw)


@dataclass
class LocalApi:
    host: str
    port: int

    def connection(self) -> http.client.HTTPConnection:
        return http.client.HTTPConnection(self.host, self.port, timeout=30)

    def send(
        self,
        method: str,
        path: str,
        body: bytes | None = None,
        headers: dict[str, str] | None = None,
        connection: http.client.HTTPConnection | None = None,
    ) -> Answer:
        conn = connection or self.connection()
        try:
            conn.request(method, path, body=body, headers=headers or {})
            reply = conn.getresponse()
            raw = reply.read()
            return Answer(reply.status, {k.lower(): v for k, v in reply.getheaders()}, raw)
        finally:
            if connection is None:
                conn.close()


@pytest.fixture(scope="module")
def local_api(tmp_path_factory) -> Iterator[LocalApi]:
    """`chalice local` as `make run` starts it, on a free port; its log in a scratch folder."""
    lr = load_local_run()
    logs = tmp_path_factory.mktemp("local-gateway")
    saved = dict(os.environ)
    api = None
    try:
        with serialised_moto() as endpoint:
            env = lr.configure_environment(urlsplit(endpoint).port)
            port = free_port()
            api = lr.start_child("chalice local", lr.api_command(port), env, logs / "chalice.log")
            try:
                lr.wait_until_answering(
                    f"http://{lr.HOST}:{port}/v1/healthz",
                    api,
                    lr.API_START_TIMEOUT_S,
                    ok=lambda status: status == 200,
                )
            except lr.StartupError as exc:
                pytest.fail(f"chalice local did not start: {exc}\n{_tail(logs / 'chalice.log')}")
            yield LocalApi(lr.HOST, port)
    finally:
        if api is not None:
            lr.stop_children([api])
        os.environ.clear()
        os.environ.update(saved)


def _tail(path) -> str:
    return "\n".join(path.read_text(errors="replace").splitlines()[-30:]) if path.exists() else ""


def packaged_body(kind: str, request_id: str) -> dict[str, Any]:
    """What the packaged template's gateway response of `kind` renders for this request."""
    template = gateway_problem_template(*GATEWAY_PROBLEMS[kind])
    return json.loads(template.replace("$context.requestId", request_id))


def assert_gateway_problem(answer: Answer, status: int, code: str) -> dict[str, Any]:
    assert answer.status == status, (answer.status, answer.raw[:300])
    assert answer.headers["content-type"] == "application/problem+json"
    for name, value in STANDARD_HEADERS.items():
        assert answer.headers.get(name) == value, (name, answer.headers)
    body = answer.body
    assert (body["type"], body["code"], body["status"]) == (PROBLEM_TYPE + code, code, status)
    assert body["request_id"] and answer.headers["x-amzn-requestid"] == body["request_id"]
    # The packaged gateway responses' fields, in their order.
    assert list(body) == list(packaged_body("MISSING_AUTHENTICATION_TOKEN", "-"))
    return body


@pytest.mark.parametrize("path", UNKNOWN_PATHS)
def test_a_path_no_route_has_is_404_route_not_found_as_deployed(local_api: LocalApi, path: str):
    json_headers = {"Content-Type": "application/json"}
    for method, body, headers in (
        ("GET", None, {}),
        ("POST", b'{"phone": "13800138000"}', json_headers),
        ("PUT", b"{}", json_headers),
        ("DELETE", None, {}),
        ("OPTIONS", None, {}),
        # chalice local answers a wrong path that carries a token with another 403.
        ("GET", None, {"Authorization": "Bearer not-a-real-token"}),
        ("TRACE", None, {}),  # the path first, as API Gateway finds the resource first
    ):
        answer = local_api.send(method, path, body, headers)
        problem = assert_gateway_problem(answer, 404, "route_not_found")
        assert problem == packaged_body("MISSING_AUTHENTICATION_TOKEN", problem["request_id"])
        assert b"Missing Authentication Token" not in answer.raw


def test_a_head_to_no_route_is_a_404_without_a_body(local_api: LocalApi):
    answer = local_api.send("HEAD", "/nothing")
    assert (answer.status, answer.raw) == (404, b"")
    assert answer.headers["content-type"] == "application/problem+json"
    assert all(answer.headers.get(k) == v for k, v in STANDARD_HEADERS.items()), answer.headers


@pytest.mark.parametrize("method", ODD_METHODS)
def test_a_method_api_gateway_has_not_is_405_on_a_known_path(local_api: LocalApi, method: str):
    for path, allowed in (
        ("/v1/healthz", {"GET"}),
        ("/v1/disputes", {"GET", "POST"}),
        ("/v1/disputes/D0000000000", {"GET", "DELETE"}),  # a route with a path parameter
    ):
        answer = local_api.send(method, path)
        problem = assert_gateway_problem(answer, 405, "method_not_allowed")
        assert (problem["title"], problem["detail"]) == (
            "Method Not Allowed",
            f"Unsupported method: {method}",
        )
        assert set(answer.headers["allow"].split(", ")) == allowed
        assert b"<html" not in answer.raw.lower()


def test_the_405_is_the_one_the_app_gives_for_a_method_its_route_lacks(local_api: LocalApi):
    """DELETE is a method API Gateway routes: the app answers it (chalicelib/api/http.py);
    TRACE never reaches the app, and its answer reads the same."""
    from_app = local_api.send("DELETE", "/v1/healthz")
    from_gateway = local_api.send("TRACE", "/v1/healthz")
    same = ("type", "title", "status", "code")
    assert from_app.status == from_gateway.status == 405
    assert {k: from_app.body[k] for k in same} == {k: from_gateway.body[k] for k in same}
    for name in ("content-type", "allow", *STANDARD_HEADERS):
        assert from_app.headers.get(name) == from_gateway.headers.get(name), name


def test_routes_still_reach_the_app_on_the_same_connection(local_api: LocalApi):
    """The shim reads the body of what it answers itself: the next request on the same
    connection is read from where it starts."""
    conn = local_api.connection()
    try:
        for method, path, body in (
            ("POST", "/nothing", b'{"phone": "13800138000", "pad": "' + b"x" * 4000 + b'"}'),
            ("PROPFIND", "/v1/healthz", b"<?xml version='1.0'?><propfind/>"),
        ):
            answer = local_api.send(
                method, path, body, {"Content-Type": "application/json"}, connection=conn
            )
            assert answer.status in (404, 405), answer.raw
            follow = local_api.send("GET", "/v1/healthz", connection=conn)
            assert (follow.status, follow.body) == (200, {"status": "ok"})
            assert all(follow.headers.get(k) == v for k, v in STANDARD_HEADERS.items())
    finally:
        conn.close()
