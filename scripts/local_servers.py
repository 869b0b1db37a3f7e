"""The two servers `make run` starts, each with the fixes the real service would not need.

    python scripts/local_servers.py moto -H 127.0.0.1 -p 5001
    python scripts/local_servers.py api local --stage local --host 127.0.0.1 --port 8000

moto: DynamoDB answers one request at a time. Real DynamoDB applies each request, a whole
transaction included, atomically. moto 5.2.5 does not under concurrent requests: its
`transact_write_items` copies the tables, checks and writes item by item, and when the
transaction is cancelled restores the copy over whatever other threads wrote meanwhile — and
moto server is threaded. So 24 parallel conditional filings could all "win" and cancelled ones
could erase others' items. One lock around every DynamoDB and DynamoDB Streams request gives
back the per-request atomicity the app relies on (tests/integration/test_embedded_engine.py).

api: `chalice local` listens with a backlog of 5 connections; a burst of more gets resets
before the app sees it. API Gateway queues far more, so the local listener takes LISTEN_BACKLOG.
And what API Gateway answers itself, before any function runs, the deployed API answers as
problem+json (scripts/package.py GATEWAY_PROBLEMS), where `chalice local` imitates API
Gateway's defaults: a plain 403 "Missing Authentication Token" for a path no route has, and
http.server's 501 HTML page for a method it has no handler for. GatewayRequestHandler answers
a path no route has 404 `route_not_found`, as the deployed API does, and a method no API Gateway
route can have (TRACE, PROPFIND, …) on a known path 405 `method_not_allowed`, as the app answers
a method its route lacks: both with the request id API Gateway adds, and the headers every
answer carries (tests/integration/test_local_gateway.py).
"""

from __future__ import annotations

import json
import sys
import threading
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

from chalice.local import ChaliceRequestHandler, LocalDevServer, RouteMatcher

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # chalicelib, scripts.package: run as a script, scripts/ is first
    sys.path.insert(0, str(ROOT))

from chalicelib.api.http import (  # noqa: E402
    ALWAYS_HEADERS,
    DEFAULT_CACHE_CONTROL,
    PROBLEM_TYPE,
)
from scripts.package import GATEWAY_PROBLEMS  # noqa: E402

LISTEN_BACKLOG = 128
DYNAMODB_LOCK = threading.RLock()
# The deployed API's answer to a path (or method) no route has: (status, code, title, detail);
# a status of None there would keep API Gateway's own, 403.
_status, _code, _title, _detail = GATEWAY_PROBLEMS["MISSING_AUTHENTICATION_TOKEN"]
ROUTE_NOT_FOUND = (_status or 403, _code, _title, _detail)
METHOD_NOT_ALLOWED = (405, "method_not_allowed", "Method Not Allowed")  # chalicelib/api/http.py


def serialise_dynamodb() -> None:
    """Makes every DynamoDB (and Streams) request of this process's moto one atomic step."""
    from moto.dynamodb.responses import DynamoHandler
    from moto.dynamodbstreams.responses import DynamoDBStreamsHandler

    for handler in (DynamoHandler, DynamoDBStreamsHandler):
        original: Callable[[Any], Any] = handler.call_action
        if getattr(original, "serialised", False):
            continue

        def call_action(self: Any, _original: Callable[[Any], Any] = original) -> Any:
            with DYNAMODB_LOCK:
                return _original(self)

        call_action.serialised = True  # type: ignore[attr-defined]
        handler.call_action = call_action  # type: ignore[method-assign]


def gateway_problem(status: int, code: str, title: str, detail: str, request_id: str) -> bytes:
    """The body of an answer API Gateway gives itself: scripts/package.py's template's fields."""
    body = {
        "type": PROBLEM_TYPE + code,
        "title": title,
        "status": status,
        "detail": detail,
        "code": code,
        "request_id": request_id,
    }
    return json.dumps(body, ensure_ascii=False).encode("utf-8")


class GatewayRequestHandler(ChaliceRequestHandler):
    """`chalice local`'s handler, answering as the deployed API Gateway where a request never
    reaches a function: no route has its path, or API Gateway has no such method."""

    def __init__(self, request: Any, client_address: Any, server: Any, **kw: Any) -> None:
        app = kw["app_object"]
        # Set before the base class's __init__, which handles the request.
        self.route_methods: dict[str, dict[str, Any]] = app.routes
        self.route_matcher = RouteMatcher(list(app.routes))
        super().__init__(request, client_address, server, **kw)

    def allowed_methods(self) -> list[str] | None:
        """The methods of the route whose path this is; None when no route has the path."""
        try:
            match = self.route_matcher.match_route(self.path)
        except ValueError:
            return None
        return list(self.route_methods[match.route])

    def _generic_handle(self) -> None:
        if self.allowed_methods() is None:
            self.answer_problem(*ROUTE_NOT_FOUND)
            return
        super()._generic_handle()

    # The methods API Gateway routes (the base class binds its own _generic_handle to them).
    do_GET = do_PUT = do_POST = do_HEAD = do_DELETE = do_PATCH = do_OPTIONS = _generic_handle

    def __getattr__(self, name: str) -> Any:
        # http.server looks a request's method up as do_<METHOD> and answers 501 HTML when
        # there is none: any other method gets the gateway's answer instead.
        if name.startswith("do_"):
            return self.unsupported_method
        raise AttributeError(name)

    def unsupported_method(self) -> None:
        allowed = self.allowed_methods()
        if allowed is None:  # the path first, as API Gateway resolves the resource first
            self.answer_problem(*ROUTE_NOT_FOUND)
            return
        # Chalice's own 405 (chalicelib/api/http.py framework_error_as_problem): its detail
        # and its Allow header, the route's methods joined as Chalice joins them.
        detail = f"Unsupported method: {self.command}"
        self.answer_problem(*METHOD_NOT_ALLOWED, detail, {"Allow": ", ".join(allowed)})

    def answer_problem(
        self,
        status: int,
        code: str,
        title: str,
        detail: str | None,
        headers: dict[str, str] | None = None,
    ) -> None:
        self.drain_body()
        request_id = str(uuid.uuid4())
        body = gateway_problem(status, code, title, detail or title, request_id)
        self.send_response(status)
        self.send_header("Content-Type", "application/problem+json")
        self.send_header("Content-Length", str(len(body)))
        sent = {
            **ALWAYS_HEADERS,
            "Cache-Control": DEFAULT_CACHE_CONTROL,
            "x-amzn-RequestId": request_id,
            **(headers or {}),
        }
        for name, value in sent.items():
            self.send_header(name, value)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def drain_body(self) -> None:
        """Reads the request's body, which no one else will: the connection stays usable for
        the next request. A body without a length it can find the end of closes it."""
        if "chunked" in (self.headers.get("Transfer-Encoding") or "").lower():
            self.close_connection = True
            return
        try:
            length = int(self.headers.get("Content-Length") or 0)
        except ValueError:
            self.close_connection = True
            return
        if length > 0:
            self.rfile.read(length)


def answer_like_api_gateway() -> None:
    """`chalice local` serves with GatewayRequestHandler and a listen backlog of
    LISTEN_BACKLOG (the CLI builds its server through chalice.local.create_local_server)."""
    from chalice import local

    def create_local_server(app_obj: Any, config: Any, host: str, port: int) -> LocalDevServer:
        return LocalDevServer(app_obj, config, host, port, handler_cls=GatewayRequestHandler)

    local.ThreadedHTTPServer.request_queue_size = LISTEN_BACKLOG
    local.create_local_server = create_local_server


def main(argv: list[str]) -> int:
    if not argv or argv[0] not in ("moto", "api"):
        print(__doc__, file=sys.stderr)
        return 2
    server, rest = argv[0], argv[1:]
    if server == "moto":
        from moto.server import main as moto_main

        serialise_dynamodb()
        moto_main(rest)
        return 0
    from chalice.cli import cli

    answer_like_api_gateway()
    # chalice's reloader (--autoreload) starts its worker as `sys.argv`: this script again,
    # with the same fixes, not a bare `chalice`.
    sys.argv = [sys.executable, str(Path(__file__).resolve()), *argv]
    cli.main(args=rest, prog_name="chalice", obj={})  # exits with the command's status
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
