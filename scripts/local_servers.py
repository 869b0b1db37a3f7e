"""The two servers `make run` starts, each with the one fix the real service would not need.

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
"""

from __future__ import annotations

import sys
import threading
from collections.abc import Callable
from typing import Any

LISTEN_BACKLOG = 128
DYNAMODB_LOCK = threading.RLock()


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


def widen_api_backlog() -> None:
    from chalice.local import ThreadedHTTPServer

    ThreadedHTTPServer.request_queue_size = LISTEN_BACKLOG


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
    from chalice.cli import main as chalice_main

    widen_api_backlog()
    sys.argv = ["chalice", *rest]
    return chalice_main()


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
