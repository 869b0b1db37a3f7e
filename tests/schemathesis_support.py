"""Running schemathesis inside this suite: a WSGI face on Chalice's test client, and Hypothesis
left as every other test knows it.

Schemathesis drives WSGI apps in process. `ChaliceWSGI` hands each request, on the raw URI it
came with, to a Chalice test client, so it goes through the same local gateway as every other
integration test.

Importing schemathesis patches Hypothesis for the whole process (a bigger buffer, and a printer
that prints nothing, so every other property test would report `x=,` for its falsifying
example). Its pytest plugin is therefore off (`-p no:schemathesis` in pyproject.toml), and
`schemathesis_loaded` imports it for the fuzz tests only, restoring Hypothesis afterwards.
"""

from __future__ import annotations

import importlib
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from http import HTTPStatus
from typing import Any
from urllib.parse import quote

# (module, attribute) that schemathesis.generation.hypothesis.setup() replaces.
HYPOTHESIS_PATCHED = (
    ("hypothesis.core", "RepresentationPrinter"),
    ("hypothesis.core", "BUFFER_SIZE"),
    ("hypothesis.internal.conjecture.engine", "BUFFER_SIZE"),
    ("hypothesis.strategies._internal.collections", "BUFFER_SIZE"),
    ("hypothesis.strategies._internal.core", "is_first_param_referenced_in_function"),
    ("hypothesis.internal.entropy", "register_random"),
)
_ABSENT = object()


@contextmanager
def schemathesis_loaded() -> Iterator[Any]:
    """The schemathesis module, with Hypothesis as it was before, once the block ends."""
    saved = []
    for module_name, name in HYPOTHESIS_PATCHED:
        module = importlib.import_module(module_name)
        saved.append((module, name, getattr(module, name, _ABSENT)))
    import schemathesis

    try:
        yield schemathesis
    finally:
        for module, name, value in saved:
            if value is not _ABSENT:
                setattr(module, name, value)


class ChaliceWSGI:
    """A WSGI app answering through a Chalice test client; counts its answers by status class."""

    def __init__(self, client) -> None:
        self.client = client
        self.answers: Counter[str] = Counter()

    def __call__(self, environ: dict[str, Any], start_response) -> list[bytes]:
        path = environ.get("RAW_URI") or quote(environ.get("PATH_INFO", "/"))
        if "?" not in path and environ.get("QUERY_STRING"):
            path += "?" + environ["QUERY_STRING"]
        headers = {
            key[5:].replace("_", "-").title(): value
            for key, value in environ.items()
            if key.startswith("HTTP_")
        }
        for key, name in (("CONTENT_TYPE", "Content-Type"), ("CONTENT_LENGTH", "Content-Length")):
            if environ.get(key):
                headers[name] = environ[key]
        length = int(environ.get("CONTENT_LENGTH") or 0)
        body = environ["wsgi.input"].read(length) if length else b""
        method = environ["REQUEST_METHOD"]
        try:
            response = self.client.http.request(method, path, headers=headers, body=body)
            status, answered, content = response.status_code, response.headers, response.body
        except AttributeError:
            # Chalice's local gateway answers OPTIONS itself, without a body, which its test
            # client cannot read (its local server, under make run, sends it as it is).
            if method != "OPTIONS":
                raise
            raw = self.client.http._local_gateway.handle_request(
                method=method, path=path, headers=headers, body=body
            )
            status, content = raw["statusCode"], b""
            answered = {**raw["headers"], **raw["multiValueHeaders"]}
        pairs = [
            (name, str(item))
            for name, value in answered.items()
            for item in (value if isinstance(value, list) else [value])
        ]
        self.answers[f"{status // 100}xx"] += 1
        start_response(f"{status} {HTTPStatus(status).phrase}", pairs)
        return [content]
