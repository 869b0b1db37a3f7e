"""One wrapper for every route: body limits and parsing, schema checks, authentication, and
RFC 9457 problem responses. Each route registers itself here, so /openapi.json is the real
list of routes."""

from __future__ import annotations

import functools
import json
import logging
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from http import HTTPStatus
from typing import Any, cast

from chalice import Blueprint, Response

from chalicelib.api import schema as body_schema
from chalicelib.api.auth import AUTHENTICATORS
from chalicelib.api.resources import BODY_PROBLEMS, IDEMPOTENCY_PROBLEMS, PROBLEMS, Resource
from chalicelib.domain.actors import Actor
from chalicelib.domain.errors import (
    FieldError,
    Problem,
    service_unavailable,
    validation_failed,
)
from chalicelib.services import aws_health

log = logging.getLogger("recount.api")

MAX_BODY_BYTES = 16 * 1024
PROBLEM_TYPE = "https://recount.example/problems/"
# Chalice answers unlisted content types itself (not as problem+json): accept every type
# here and refuse non-JSON bodies ourselves with a 415 problem.
ACCEPTED_CONTENT_TYPES = ["*/*"]
# On every HTTP response, whatever answered it (docs/design.md §6, §8): no content sniffing, no
# Referer leaving with a link. Pages add their own stricter set (api/rendering.py).
ALWAYS_HEADERS = {"X-Content-Type-Options": "nosniff", "Referrer-Policy": "no-referrer"}
# A response that does not choose its caching is never stored: a token, a case, a dispute or a
# masked number is personal. Only deliberately public answers (directory, scorecard) and the
# static assets set their own Cache-Control.
DEFAULT_CACHE_CONTROL = "no-store"


Schema = dict[str, Any]
# A schema, or how to build it on first use (its enums read the workflow or the directory).
SchemaSource = Schema | Callable[[], Schema]


def _resolve(source: SchemaSource | None) -> Schema | None:
    return source() if callable(source) else source


@dataclass(frozen=True)
class Param:
    """A query parameter: its schema (checked here, published in /openapi.json)."""

    schema: SchemaSource
    required: bool = False
    description: str = ""

    def resolved(self) -> Schema:
        schema = _resolve(self.schema)
        assert schema is not None
        return schema


@dataclass
class Endpoint:
    method: str
    path: str
    summary: str
    auth: str | None
    body: SchemaSource | None
    status: int
    problems: tuple[str, ...]  # every problem code it may answer (resources.PROBLEMS)
    tag: str
    query: dict[str, Param] = field(default_factory=dict)
    headers: tuple[str, ...] = ()  # request headers it reads
    response: Resource | None = None  # the success body
    response_headers: tuple[str, ...] = ()
    media: tuple[str, ...] = ("application/json",)
    also: tuple[int, ...] = ()  # other success statuses (a PUT that creates: 201)
    stage: str | None = None  # documented only in this stage's /openapi.json

    @property
    def errors(self) -> tuple[int, ...]:
        return tuple(sorted({PROBLEMS[code].status for code in self.problems}))

    @functools.cached_property
    def body_schema(self) -> Schema | None:
        return _resolve(self.body)


REGISTRY: list[Endpoint] = []


@dataclass
class ApiRequest:
    body: Any
    params: dict[str, str]
    query: dict[str, str]
    headers: dict[str, str]
    client_ip: str
    actor: Actor | None = None
    idempotency: Any = None  # services.idempotency.Claim, on routes that take Idempotency-Key

    @property
    def signed_in(self) -> Actor:
        """The actor, on a route that requires one (`auth`): `route` has authenticated it."""
        if self.actor is None:
            raise AssertionError("signed_in on a route without auth")
        return self.actor

    @property
    def answer_record(self) -> str | None:
        """The idempotency record this request's answer will be stored in, if any."""
        return self.idempotency.pk if self.idempotency is not None else None


def problem_body(problem: Problem) -> dict[str, Any]:
    # A detail or a field name may echo what was sent (an unknown field, a path): no number
    # leaves in an error (docs/design.md §8). Loaded here, off the cold start.
    from chalicelib.domain.redaction import mask_personal_numbers as masked

    body: dict[str, Any] = {
        "type": PROBLEM_TYPE + problem.code,
        "title": problem.title,
        "status": problem.status,
        "detail": masked(problem.detail or problem.title),
        "code": problem.code,
    }
    if problem.errors:
        body["errors"] = [
            {"field": masked(e.field), "message": masked(e.message)} for e in problem.errors
        ]
    body.update(problem.extra)
    return body


def problem_response(problem: Problem) -> Response:
    return Response(
        body=json.dumps(problem_body(problem), ensure_ascii=False),
        status_code=problem.status,
        headers={"Content-Type": "application/problem+json", **problem.headers},
    )


def framework_error_as_problem(response: Response) -> Response:
    """Chalice answers a method a route lacks (405) itself, as {"Code", "Message"}: the same
    answer as problem+json (Chalice's Allow header kept). Anything else is returned as is."""
    body = response.body  # ours are serialised already; Chalice's own are a dict
    if response.status_code < 400 or not isinstance(body, dict) or "Code" not in body:
        return response
    # MethodNotAllowedError → method_not_allowed
    code = re.sub(r"(?<!^)(?=[A-Z])", "_", str(body["Code"]).removesuffix("Error")).lower()
    headers = {
        k: v
        for k, v in (response.headers or {}).items()
        if k.lower() == "allow" and isinstance(v, str)  # Chalice's Allow is one joined string
    }
    title = HTTPStatus(response.status_code).phrase  # Chalice's errors all have standard codes
    detail = str(body.get("Message") or title)
    return problem_response(Problem(response.status_code, code, title, detail, headers=headers))


def with_standard_headers(response: Response) -> Response:
    """Every HTTP response on its way out (middleware `http_responses`): ALWAYS_HEADERS, and
    `Cache-Control: no-store` unless the route chose its own. Problems are always no-store."""
    headers = response.headers if response.headers is not None else {}
    present = {k.lower(): k for k in headers}
    for name, value in ALWAYS_HEADERS.items():
        if name.lower() not in present:
            headers[name] = value
    cache_key = present.get("cache-control")
    if cache_key is None:
        headers["Cache-Control"] = DEFAULT_CACHE_CONTROL
    elif response.status_code >= 400:
        headers[cache_key] = DEFAULT_CACHE_CONTROL  # an error is never cached, public route or not
    response.headers = headers
    return response


def json_response(body: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    return Response(
        body=json.dumps(body, ensure_ascii=False),
        status_code=status,
        headers={"Content-Type": "application/json; charset=utf-8", **(headers or {})},
    )


def parse_json_body(raw: bytes | None, content_type: str) -> Any:
    raw = raw or b""
    if len(raw) > MAX_BODY_BYTES:
        raise Problem(
            413,
            "payload_too_large",
            "Body too large",
            f"The body is {len(raw)} bytes; the limit is {MAX_BODY_BYTES}",
        )
    media = content_type.split(";")[0].strip().lower()
    if media not in ("application/json", ""):
        raise Problem(
            415,
            "unsupported_media_type",
            "Unsupported media type",
            "Send the body as application/json",
        )
    if not raw.strip():
        raise Problem(400, "malformed_json", "Malformed JSON", "The body is empty")
    try:
        value = json.loads(raw.decode("utf-8"), parse_float=_json_number, parse_constant=_not_json)
        # Lone surrogates pass json.loads but cannot be stored or shown: reject them here.
        json.dumps(value, ensure_ascii=False).encode("utf-8")
    except (UnicodeError, ValueError, RecursionError) as exc:
        raise Problem(
            400,
            "malformed_json",
            "Malformed JSON",
            f"The body is not valid UTF-8 JSON ({type(exc).__name__})",
        ) from None
    if not isinstance(value, dict):
        raise Problem(
            422, "body_not_object", "Body must be a JSON object", "The body must be a JSON object"
        )
    return value


def _json_number(text: str) -> int | float:
    """JSON Schema's integers are numbers without a fraction, however written: 3.0 and 3e0 are
    the integer 3, as generated clients and fuzzers send them, so the services get 3."""
    value = float(text)
    if value in (float("inf"), float("-inf")):
        raise ValueError("a number out of range")
    if value.is_integer() and abs(value) <= 2**53:
        return int(value)
    return value


def _not_json(text: str) -> Any:
    raise ValueError(f"{text} is not JSON")  # NaN and Infinity: Python's, not JSON's


def route(
    bp: Blueprint,
    path: str,
    method: str,
    *,
    summary: str,
    tag: str,
    auth: str | None = None,
    body: SchemaSource | None = None,
    status: int = 200,
    problems: tuple[str, ...] = (),
    query: dict[str, Param] | None = None,
    headers: tuple[str, ...] = (),
    idempotent: bool = False,
    response: Resource | None = None,
    response_headers: tuple[str, ...] = (),
    media: tuple[str, ...] = ("application/json",),
    also: tuple[int, ...] = (),
    aws: bool = True,
    stage: str | None = None,
) -> Callable[[Callable[[ApiRequest], Any]], Callable[..., Response]]:
    """Registers a route and what /openapi.json says of it. `problems`: the codes the handler
    raises; those of this wrapper (body, query, authentication, Idempotency-Key, AWS) are added
    here. `idempotent`: the route takes an Idempotency-Key (services/idempotency.py). `aws`:
    the route calls AWS, so may answer 503. `stage`: documented only in that stage."""
    codes = list(problems)
    if body is not None:
        codes += BODY_PROBLEMS
    if query:
        codes.append("validation_failed")
    if auth is not None:
        codes.append("unauthenticated")
        if auth in ("liaison", "operator"):
            codes.append("forbidden")
    if idempotent:  # a retry may be 409 request_in_flight, a reused key 422
        headers = (*headers, "Idempotency-Key")
        codes += IDEMPOTENCY_PROBLEMS
        response_headers = (*response_headers, "Idempotent-Replayed")
    if aws:
        codes.append("service_unavailable")
    endpoint = Endpoint(
        method,
        path,
        summary,
        auth,
        body,
        status,
        tuple(dict.fromkeys(codes)),
        tag,
        dict(query or {}),
        headers,
        response,
        response_headers,
        media,
        also,
        stage,
    )

    def register(handler: Callable[[ApiRequest], Any]) -> Callable[..., Response]:
        REGISTRY.append(endpoint)

        def view(**params: str) -> Response:
            request = bp.current_request
            try:
                # Every AWS call this request makes, authentication's too, shares one budget.
                with aws_health.request_budget():
                    lower = {k.lower(): v for k, v in (request.headers or {}).items()}
                    # Who is asking comes first: a stranger learns nothing from our validation.
                    actor = AUTHENTICATORS[auth](lower) if auth is not None else None
                    parsed = None
                    if endpoint.body_schema is not None:
                        # Chalice types raw_body `str | bytes`; it always decodes to bytes.
                        raw = cast(bytes, request.raw_body)
                        parsed = parse_json_body(raw, lower.get("content-type", ""))
                        problems = body_schema.validate(parsed, endpoint.body_schema)
                        if problems:
                            raise body_problem(problems)
                    identity = (request.context or {}).get("identity") or {}
                    api_request = ApiRequest(
                        body=parsed,
                        params=params,
                        query=checked_query(endpoint.query, dict(request.query_params or {})),
                        headers=lower,
                        client_ip=identity.get("sourceIp", ""),
                        actor=actor,
                    )
                    if idempotent and "idempotency-key" in lower:
                        return _once(handler, api_request, method, path.format(**params), status)
                    return _respond(handler(api_request), status)
            except Problem as problem:
                return problem_response(problem)
            except Exception as exc:
                if aws_health.is_aws_fault(exc):
                    # Not a bug: AWS failed us. Each change of state is one transaction, so the
                    # caller may simply send the same request again.
                    log.error(
                        "aws_unavailable",
                        extra={"route": f"{method} {path}", "error": aws_health.describe(exc)},
                    )
                    return problem_response(service_unavailable())
                # A bug, never the caller's input: log without the request (it may hold a number).
                log.exception("unhandled_error", extra={"route": f"{method} {path}"})
                return problem_response(
                    Problem(
                        500, "internal_error", "Internal error", "Something went wrong on our side"
                    )
                )

        view.__name__ = handler.__name__
        view.__doc__ = handler.__doc__
        bp.route(path, methods=[method], content_types=ACCEPTED_CONTENT_TYPES)(view)
        return view

    return register


def body_problem(errors: list[FieldError]) -> Problem:
    """validation_failed; but an `action` outside the caller's role's enum is 422
    `unknown_action` (docs/design.md §6), the code clients branch on."""
    if [e.field for e in errors] == ["action"] and errors[0].message.startswith("must be one of"):
        allowed = errors[0].message.removeprefix("must be one of ")
        return Problem(
            422,
            "unknown_action",
            "Unknown action",
            f"Not an action you can take; your role's actions: {allowed}",
        )
    return validation_failed(errors)


def checked_query(params: dict[str, Param], query: dict[str, str]) -> dict[str, str]:
    """The query string checked against the route's parameters' schemas (the same ones
    /openapi.json shows): `limit=` is no integer, so it is refused as the document says. The
    handler gets the strings; the services parse them."""
    errors: list[FieldError] = []
    for name, param in params.items():
        if name not in query:
            if param.required:
                errors.append(FieldError(name, "is required"))
            continue
        schema = param.resolved()
        errors += body_schema.validate(_typed(query[name], schema), schema, name)
    if errors:
        raise validation_failed(errors)
    return query


def _typed(raw: str, schema: Schema) -> Any:
    """A query string's value as its schema's type reads it: 25 → 25, true → True."""
    kind = schema.get("type")
    if kind == "integer" and re.fullmatch(r"-?[0-9]{1,18}", raw):
        return int(raw)
    if kind == "boolean" and raw in ("true", "false"):
        return raw == "true"
    return raw


def _respond(result: Any, status: int) -> Response:
    return result if isinstance(result, Response) else json_response(result, status)


def _once(
    handler: Callable[[ApiRequest], Any], req: ApiRequest, method: str, path: str, status: int
) -> Response:
    """Runs the handler once per Idempotency-Key; retries get its answer again."""
    from chalicelib.domain import clock
    from chalicelib.services import idempotency

    key = idempotency.check_key(req.headers["idempotency-key"])
    begun = idempotency.begin(req.actor, key, method, path, req.body, clock.now())
    if isinstance(begun, idempotency.Answer):
        # Said so (as Stripe does): clients can tell, and metrics do not count it again.
        replayed = {**begun.headers, "Idempotent-Replayed": "true"}
        return json_response(begun.body, begun.status, replayed)
    req.idempotency = begun
    try:
        response = _respond(handler(req), status)
    except BaseException:
        idempotency.abandon(begun)
        raise
    kept = {
        k: v
        for k, v in (response.headers or {}).items()
        if k in idempotency.REPLAYED_HEADERS and isinstance(v, str)  # ours are single values
    }
    answer = idempotency.Answer(response.status_code, json.loads(response.body), kept)
    idempotency.finish(begun, answer, clock.now())
    return response
