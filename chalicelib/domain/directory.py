"""The company/carrier directory (docs/design.md §5), loaded from workflows/directory.yaml.

Domain layer: pure Python, no AWS. The file is validated strictly when loaded, because a typo
in a data file would otherwise surface as wrong advice in front of a person; every error names
the file and the key path so whoever edits the file can fix it at once.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from types import MappingProxyType
from typing import Any

from chalicelib.domain import advice

# chalicelib/domain/ → ../../workflows: the file ships with the Lambda package next to app.py.
DEFAULT_PATH = Path(__file__).resolve().parents[2] / "workflows" / "directory.yaml"

SCHEMA_VERSION = 1
ENTRY_TYPES = ("company", "carrier")
CONFIDENCES = ("confirmed", "well_known", "secondary", "unverified", "unknown")
# Only facts the team has checked itself may carry a verified_at date.
VERIFIABLE_CONFIDENCES = frozenset({"confirmed", "well_known"})
# `confirmed` means an official page (the company's, the carrier's or MIIT's) says it: such a
# fact must name that page (source_url) and the day we read it (verified_at).
SOURCED_CONFIDENCES = frozenset({"confirmed"})
METHODS = ("sms_code", "face", "id_card", "business_hall")
DEFAULT_KEYS = ("stale_after_days",)
# Per-company deadline overrides. Their defaults are the timers in case_workflow.yaml: the
# workflow is the one source of default deadlines, the directory only overrides them.
DEADLINE_KEYS = (
    "acknowledge_working_days",
    "respond_working_days",
    "fraud_acknowledge_working_days",
    "fraud_respond_working_days",
)
# A dispute's `kind` decides which entries it may name (docs/design.md §3).
KIND_TO_TYPE = {"accounts": "company", "sim_cards": "carrier"}
# Steps are shown on a phone screen and may be quoted in SMS; keep them short.
MAX_STEP_CHARS = 60

_ENTRY_KEY = re.compile(r"[a-z][a-z0-9]*(?:_[a-z0-9]+)*")
_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
# Service numbers: 95xxx, 1xxxx, 400-xxx-xxxx.
_HOTLINE = re.compile(r"\d+(?:-\d+)*")

_TOP_KEYS = ("schema_version", "defaults", "entries")
_ENTRY_REQUIRED = (
    "type",
    "names",
    "apps",
    "detail_query",
    "unbind",
    "hotline",
    "identity_verification",
)
_ENTRY_OPTIONAL = ("deadlines", "number_renewal", "escalation")
_FACT_KEYS = ("confidence", "source_url", "verified_at")
_TIMESTAMP_TAG = "tag:yaml.org,2002:timestamp"


class DirectoryError(ValueError):
    """The directory file is unreadable or invalid; the message names the file and key path."""

    def __init__(self, path: str | Path, key_path: str, message: str) -> None:
        self.path = str(path)
        self.key_path = key_path
        self.detail = message
        super().__init__(f"{self.path}: {key_path}: {message}")


@dataclass(frozen=True)
class Fact:
    """How sure we are of one fact, where it came from, and when we last checked it."""

    confidence: str
    source_url: str | None
    verified_at: date | None

    def is_stale(self, today: date, stale_after_days: int) -> bool:
        # Never checked by us counts as stale, so unverified facts keep showing up for review.
        if self.verified_at is None:
            return True
        return (today - self.verified_at).days > stale_after_days


@dataclass(frozen=True)
class Steps:
    steps: tuple[str, ...]
    fact: Fact


@dataclass(frozen=True)
class Hotline:
    number: str | None
    fact: Fact
    note: str | None


@dataclass(frozen=True)
class IdentityVerification:
    required: bool
    methods: tuple[str, ...]
    fact: Fact


@dataclass(frozen=True)
class NumberRenewal:
    name: str
    steps: tuple[str, ...]
    # 0 = real-time; None = not known (the route itself may be unverified).
    typical_working_days: int | None
    covers: str
    fact: Fact


@dataclass(frozen=True)
class Entry:
    key: str
    type: str
    name_zh: str
    name_en: str
    apps: tuple[tuple[str, str], ...]  # (zh, en)
    detail_query: Steps
    unbind: Steps
    hotline: Hotline
    identity_verification: IdentityVerification
    deadlines: Mapping[str, int]  # stale_after_days default merged with this entry's overrides
    number_renewal: NumberRenewal | None
    # Where to turn when the entry's own steps fail: names of advice texts in templates/advice/
    # (a complaint to a national service is advice, never one of the entry's unbind steps).
    escalation: tuple[str, ...] = ()

    def facts(self) -> dict[str, Fact]:
        facts = {
            "detail_query": self.detail_query.fact,
            "unbind": self.unbind.fact,
            "hotline": self.hotline.fact,
            "identity_verification": self.identity_verification.fact,
        }
        if self.number_renewal is not None:
            facts["number_renewal"] = self.number_renewal.fact
        return facts

    def stale_facts(self, today: date, stale_after_days: int | None = None) -> list[str]:
        # Default to this entry's own (possibly overridden) threshold.
        limit = self.deadlines["stale_after_days"] if stale_after_days is None else stale_after_days
        return [name for name, fact in self.facts().items() if fact.is_stale(today, limit)]


@dataclass(frozen=True)
class Directory:
    entries: Mapping[str, Entry]  # in file order
    defaults: Mapping[str, int]

    def get(self, key: str) -> Entry:
        try:
            return self.entries[key]
        except KeyError:
            raise KeyError(f"unknown directory entry: {key!r}") from None

    def companies(self) -> list[str]:
        return [k for k, e in self.entries.items() if e.type == "company"]

    def carriers(self) -> list[str]:
        return [k for k, e in self.entries.items() if e.type == "carrier"]

    def keys_for_kind(self, kind: str) -> list[str]:
        try:
            entry_type = KIND_TO_TYPE[kind]
        except KeyError:
            raise ValueError(
                f"unknown kind {kind!r}; expected one of {sorted(KIND_TO_TYPE)}"
            ) from None
        return [k for k, e in self.entries.items() if e.type == entry_type]

    def next_steps(self, key: str) -> dict[str, Any]:
        """JSON-ready next steps for one company or carrier; a fresh dict on every call."""
        e = self.get(key)
        result: dict[str, Any] = {
            "company": e.key,
            "name": e.name_zh,
            "detail_query": {
                "steps": list(e.detail_query.steps),
                "confidence": e.detail_query.fact.confidence,
            },
            "unbind": {"steps": list(e.unbind.steps), "confidence": e.unbind.fact.confidence},
            "hotline": {
                "number": e.hotline.number,
                "confidence": e.hotline.fact.confidence,
                "note": e.hotline.note,
            },
            "identity_verification": {
                "required": e.identity_verification.required,
                "methods": list(e.identity_verification.methods),
            },
        }
        if e.number_renewal is not None:
            nr = e.number_renewal
            result["number_renewal"] = {
                "name": nr.name,
                "steps": list(nr.steps),
                "typical_working_days": nr.typical_working_days,
                "covers": nr.covers,
                "confidence": nr.fact.confidence,
            }
        if e.escalation:
            result["escalation"] = [advice.item(name) for name in e.escalation]
        return result


# --- loading -------------------------------------------------------------------------------


@functools.cache
def _strict_loader() -> type:
    import yaml

    class _StrictLoader(yaml.SafeLoader):
        """safe_load semantics, plus: duplicate keys are errors and dates stay strings.

        PyYAML silently keeps the last of two duplicate keys (a second `tencent:` would replace
        the first unnoticed), and it turns an invalid unquoted date into a bare ValueError with no
        location; dates are parsed by the validator instead, which can name the key path.
        """

        def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
            seen: set[Any] = set()
            for key_node, _ in node.value:
                key = self.construct_object(key_node, deep=deep)
                try:
                    duplicate = key in seen
                except TypeError:  # unhashable key: let SafeLoader report it
                    continue
                if duplicate:
                    raise yaml.constructor.ConstructorError(
                        "while constructing a mapping",
                        node.start_mark,
                        f"found duplicate key {key!r}",
                        key_node.start_mark,
                    )
                seen.add(key)
            return super().construct_mapping(node, deep=deep)

    _StrictLoader.yaml_implicit_resolvers = {
        first: [(tag, regexp) for tag, regexp in resolvers if tag != _TIMESTAMP_TAG]
        for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
    }
    return _StrictLoader


def load_directory(path: str | Path | None = None) -> Directory:
    """Load and validate the directory; the default file is cached for the process."""
    if path is None:
        return _load_default()
    return _load(Path(path), display=str(path))


@functools.lru_cache(maxsize=1)
def _load_default() -> Directory:
    # Cached: the file is read-only at runtime and loaded on many requests per warm Lambda.
    return _load(DEFAULT_PATH, display=str(DEFAULT_PATH))


def _load(path: Path, display: str) -> Directory:
    import yaml

    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise DirectoryError(display, "(file)", f"cannot read: {exc}") from exc
    try:
        data = yaml.load(text, Loader=_strict_loader())  # SafeLoader subclass: as safe as safe_load
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}" if mark else "(document)"
        problem = getattr(exc, "problem", None) or str(exc)
        raise DirectoryError(display, where, f"invalid YAML: {problem}") from exc
    return _Validator(display).directory(data)


class _Validator:
    """Turns the parsed YAML into dataclasses, failing on the first problem with its key path."""

    def __init__(self, display: str) -> None:
        self.display = display

    def fail(self, where: str, message: str) -> DirectoryError:
        return DirectoryError(self.display, where, message)

    # -- primitives --

    def mapping(
        self,
        node: object,
        where: str,
        required: tuple[str, ...],
        optional: tuple[str, ...] = (),
    ) -> dict[str, Any]:
        if not isinstance(node, dict):
            raise self.fail(where, f"must be a mapping, got {_type_name(node)}")
        allowed = required + optional
        for key in node:
            if not isinstance(key, str):
                raise self.fail(where, f"keys must be strings, got {key!r}")
            if key not in allowed:
                raise self.fail(_join(where, key), f"unknown key (allowed: {', '.join(allowed)})")
        for key in required:
            if key not in node:
                raise self.fail(_join(where, key), "missing required key")
        return node

    def text(self, node: object, where: str, max_chars: int | None = None) -> str:
        if not isinstance(node, str) or not node.strip():
            raise self.fail(where, f"must be a non-empty string, got {_type_name(node)}")
        if max_chars is not None and len(node) > max_chars:
            raise self.fail(where, f"must be at most {max_chars} characters, got {len(node)}")
        return node

    def optional_text(self, node: object, where: str) -> str | None:
        return None if node is None else self.text(node, where)

    def integer(self, node: object, where: str, minimum: int) -> int:
        # bool is an int subclass in Python; `true` must not pass as 1.
        if isinstance(node, bool) or not isinstance(node, int):
            raise self.fail(where, f"must be an integer, got {_type_name(node)}")
        if node < minimum:
            raise self.fail(where, f"must be at least {minimum}, got {node}")
        return node

    def sequence(self, node: object, where: str) -> list[Any]:
        if not isinstance(node, list):
            raise self.fail(where, f"must be a list, got {_type_name(node)}")
        return node

    def step_list(self, node: object, where: str) -> tuple[str, ...]:
        items = self.sequence(node, where)
        if not items:
            raise self.fail(where, "must list at least one step")
        return tuple(
            self.text(item, f"{where}[{i}]", max_chars=MAX_STEP_CHARS)
            for i, item in enumerate(items)
        )

    # -- blocks --

    def fact(self, node: object, where: str) -> Fact:
        m = self.mapping(node, where, _FACT_KEYS)
        confidence = m["confidence"]
        if confidence not in CONFIDENCES:
            raise self.fail(
                _join(where, "confidence"),
                f"must be one of {', '.join(CONFIDENCES)}, got {confidence!r}",
            )
        source_url = m["source_url"]
        if source_url is not None and (
            not isinstance(source_url, str)
            or not source_url.startswith("https://")
            or len(source_url) <= len("https://")
            or any(c.isspace() for c in source_url)
        ):
            raise self.fail(
                _join(where, "source_url"), f"must be an https:// URL or null, got {source_url!r}"
            )
        verified_at = self.date_or_none(m["verified_at"], _join(where, "verified_at"))
        if confidence in SOURCED_CONFIDENCES:
            # Never confirmed without the official page that says it (and when we read it).
            if source_url is None:
                raise self.fail(
                    _join(where, "source_url"),
                    f"required when confidence is {confidence}: the https:// URL of the official"
                    " page that states this fact (else lower the confidence)",
                )
            if verified_at is None:
                raise self.fail(
                    _join(where, "verified_at"),
                    f"required when confidence is {confidence}: the date the source was checked",
                )
        if verified_at is not None and confidence not in VERIFIABLE_CONFIDENCES:
            # A date means "we checked it"; a checked fact must then be marked confirmed.
            raise self.fail(
                _join(where, "verified_at"),
                f"must be null unless confidence is confirmed or well_known (is {confidence})",
            )
        return Fact(confidence=confidence, source_url=source_url, verified_at=verified_at)

    def date_or_none(self, node: object, where: str) -> date | None:
        if node is None:
            return None
        if isinstance(node, date) and not isinstance(node, datetime):
            return node
        if isinstance(node, str) and _ISO_DATE.fullmatch(node):
            try:
                return date.fromisoformat(node)
            except ValueError:
                pass
        raise self.fail(where, f"must be an ISO date (YYYY-MM-DD) or null, got {node!r}")

    def steps(self, node: object, where: str) -> Steps:
        m = self.mapping(node, where, ("steps", "fact"))
        return Steps(
            steps=self.step_list(m["steps"], _join(where, "steps")),
            fact=self.fact(m["fact"], _join(where, "fact")),
        )

    def hotline(self, node: object, where: str) -> Hotline:
        m = self.mapping(node, where, ("number", "fact"), ("note",))
        number = m["number"]
        if number is not None and (not isinstance(number, str) or not _HOTLINE.fullmatch(number)):
            # Unquoted numbers would become ints and lose leading zeros; insist on strings.
            raise self.fail(
                _join(where, "number"),
                f"must be a quoted string of digits (and hyphens) or null, got {number!r}",
            )
        fact = self.fact(m["fact"], _join(where, "fact"))
        note = self.optional_text(m.get("note"), _join(where, "note"))
        if number is None:
            if fact.confidence != "unknown":
                raise self.fail(
                    _join(where, "fact.confidence"), "must be unknown when number is null"
                )
            if note is None:
                # Without a number the person needs to be told where to turn instead.
                raise self.fail(_join(where, "note"), "required when number is null")
        return Hotline(number=number, fact=fact, note=note)

    def identity(self, node: object, where: str) -> IdentityVerification:
        m = self.mapping(node, where, ("required", "methods", "fact"))
        required = m["required"]
        if not isinstance(required, bool):
            raise self.fail(_join(where, "required"), f"must be true or false, got {required!r}")
        methods_where = _join(where, "methods")
        methods = self.sequence(m["methods"], methods_where)
        for i, method in enumerate(methods):
            if method not in METHODS:
                raise self.fail(
                    f"{methods_where}[{i}]",
                    f"must be one of {', '.join(METHODS)}, got {method!r}",
                )
        if len(set(methods)) != len(methods):
            raise self.fail(methods_where, "must not repeat a method")
        if required and not methods:
            raise self.fail(methods_where, "must list at least one method when required")
        if not required and methods:
            raise self.fail(methods_where, "must be empty when required is false")
        return IdentityVerification(
            required=required,
            methods=tuple(methods),
            fact=self.fact(m["fact"], _join(where, "fact")),
        )

    def number_renewal(self, node: object, where: str) -> NumberRenewal:
        m = self.mapping(node, where, ("name", "steps", "typical_working_days", "covers", "fact"))
        days = m["typical_working_days"]
        days_where = _join(where, "typical_working_days")
        return NumberRenewal(
            name=self.text(m["name"], _join(where, "name")),
            steps=self.step_list(m["steps"], _join(where, "steps")),
            typical_working_days=None if days is None else self.integer(days, days_where, 0),
            covers=self.text(m["covers"], _join(where, "covers")),
            fact=self.fact(m["fact"], _join(where, "fact")),
        )

    def escalation(self, node: object, where: str) -> tuple[str, ...]:
        if node is None:
            return ()
        names = self.sequence(node, where)
        known = advice.names()
        for i, name in enumerate(names):
            item_where = f"{where}[{i}]"
            self.text(name, item_where)
            if name not in known:
                raise self.fail(
                    item_where,
                    f"no advice text templates/advice/{name}{advice.SUFFIX}"
                    f" (known: {', '.join(sorted(known))})",
                )
        if len(set(names)) != len(names):
            raise self.fail(where, "must not repeat an advice")
        return tuple(names)

    def defaults(self, node: object, where: str) -> dict[str, int]:
        m = self.mapping(node, where, DEFAULT_KEYS)
        return {k: self.integer(m[k], _join(where, k), 1) for k in DEFAULT_KEYS}

    def deadline_overrides(self, node: object, where: str) -> dict[str, int]:
        if node is None:
            return {}
        m = self.mapping(node, where, (), DEADLINE_KEYS + DEFAULT_KEYS)
        return {k: self.integer(v, _join(where, k), 1) for k, v in m.items()}

    def entry(self, key: object, node: object, defaults: Mapping[str, int]) -> Entry:
        if not isinstance(key, str) or not _ENTRY_KEY.fullmatch(key):
            raise self.fail(_join("entries", str(key)), "entry key must be snake_case")
        where = _join("entries", key)
        m = self.mapping(node, where, _ENTRY_REQUIRED, _ENTRY_OPTIONAL)

        entry_type = m["type"]
        if entry_type not in ENTRY_TYPES:
            raise self.fail(
                _join(where, "type"),
                f"must be one of {', '.join(ENTRY_TYPES)}, got {entry_type!r}",
            )

        names = self.mapping(m["names"], _join(where, "names"), ("zh", "en"))
        apps_where = _join(where, "apps")
        apps_raw = self.sequence(m["apps"], apps_where)
        if not apps_raw:
            raise self.fail(apps_where, "must list at least one app")
        apps = []
        for i, app in enumerate(apps_raw):
            app_where = f"{apps_where}[{i}]"
            a = self.mapping(app, app_where, ("zh", "en"))
            apps.append(
                (
                    self.text(a["zh"], _join(app_where, "zh")),
                    self.text(a["en"], _join(app_where, "en")),
                )
            )

        # The 二次号码焕新 route belongs to carriers only (docs/design.md §5).
        renewal_where = _join(where, "number_renewal")
        renewal_node = m.get("number_renewal")
        if entry_type == "carrier" and renewal_node is None:
            raise self.fail(renewal_where, "required for carriers")
        if entry_type == "company" and "number_renewal" in m:
            raise self.fail(renewal_where, "not allowed for companies")

        overrides = self.deadline_overrides(m.get("deadlines"), _join(where, "deadlines"))
        return Entry(
            key=key,
            type=entry_type,
            name_zh=self.text(names["zh"], _join(where, "names.zh")),
            name_en=self.text(names["en"], _join(where, "names.en")),
            apps=tuple(apps),
            detail_query=self.steps(m["detail_query"], _join(where, "detail_query")),
            unbind=self.steps(m["unbind"], _join(where, "unbind")),
            hotline=self.hotline(m["hotline"], _join(where, "hotline")),
            identity_verification=self.identity(
                m["identity_verification"], _join(where, "identity_verification")
            ),
            deadlines=MappingProxyType({**defaults, **overrides}),
            number_renewal=(
                None if renewal_node is None else self.number_renewal(renewal_node, renewal_where)
            ),
            escalation=self.escalation(m.get("escalation"), _join(where, "escalation")),
        )

    def directory(self, data: object) -> Directory:
        top = self.mapping(data, "(document)", _TOP_KEYS)
        version = top["schema_version"]
        if isinstance(version, bool) or version != SCHEMA_VERSION:
            raise self.fail("schema_version", f"must be {SCHEMA_VERSION}, got {version!r}")
        defaults = MappingProxyType(self.defaults(top["defaults"], "defaults"))
        raw_entries = top["entries"]
        if not isinstance(raw_entries, dict):
            raise self.fail("entries", f"must be a mapping, got {_type_name(raw_entries)}")
        if not raw_entries:
            raise self.fail("entries", "must list at least one entry")
        entries = {key: self.entry(key, node, defaults) for key, node in raw_entries.items()}
        return Directory(entries=MappingProxyType(entries), defaults=defaults)


def _join(where: str, key: str) -> str:
    return key if where == "(document)" else f"{where}.{key}"


def _type_name(node: object) -> str:
    return "null" if node is None else type(node).__name__
