"""Company webhooks as rules (docs/design.md §10): which case changes make which events, the
retry schedule, and the Standard Webhooks body and headers. workflows/webhooks.yaml holds the
rules; this module loads them strictly and answers. Pure: no AWS, no network.
"""

from __future__ import annotations

import base64
import functools
import json
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from chalicelib.domain.data_file import DataFileReader, load_yaml

DEFAULT_PATH = Path(__file__).resolve().parents[2] / "workflows" / "webhooks.yaml"
SECRET_PREFIX = "whsec_"
PING = "ping"  # the test event a liaison sends themselves; never subscribed to
CAUSES = ("actions", "enters", "opened_by", "before_deadline")
OPENERS = ("file", "rerouted_in")
UNITS = {"seconds", "minutes", "hours", "days"}


class WebhookRulesError(ValueError):
    """A fault in workflows/webhooks.yaml; the message names the file and the key."""


@dataclass(frozen=True)
class WebhookRules:
    causes: Mapping[str, Mapping[str, Any]]  # event type → its cause (one key of CAUSES)
    retry_after: tuple[timedelta, ...]
    disable_after: timedelta
    rotation_overlap: timedelta
    log_days: int
    timeout_seconds: float

    @property
    def event_types(self) -> list[str]:
        return list(self.causes)

    def for_transition(self, action: str, from_state: str, to_state: str) -> list[str]:
        """The events one transition makes, in the file's order."""
        entered = to_state if from_state != to_state else None
        return [
            event
            for event, cause in self.causes.items()
            if action in cause.get("actions", ()) or cause.get("enters") == entered
        ]

    def for_opening(self, opened_by: str) -> list[str]:
        return [e for e, c in self.causes.items() if c.get("opened_by") == opened_by]

    @property
    def deadline_notice(self) -> tuple[str, int] | None:
        """(event, working days before) of the deadline notice, if the file has one."""
        for event, cause in self.causes.items():
            if "before_deadline" in cause:
                return event, int(cause["before_deadline"])
        return None

    def retry_delay(self, attempts: int) -> timedelta | None:
        """The wait after the `attempts`-th failed attempt, or None: the delivery is dead."""
        if 1 <= attempts <= len(self.retry_after):
            return self.retry_after[attempts - 1]
        return None


def new_secret() -> str:
    """A signing secret as Standard Webhooks writes it: whsec_ + base64 of 32 random bytes."""
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(32)).decode()


def body(event: str, delivery_id: str, at: str, data: Mapping[str, Any]) -> str:
    """The JSON a receiver gets: {type, id, timestamp, data} (what the signature covers)."""
    return json.dumps(
        {"type": event, "id": delivery_id, "timestamp": at, "data": data},
        ensure_ascii=False,
        separators=(",", ":"),
        sort_keys=True,
    )


def signature_header(
    secrets_in_force: list[str], delivery_id: str, sent: datetime, text: str
) -> str:
    """`webhook-signature`: one `v1,<base64>` per secret in force (during a rotation the old
    one and the new one), space-separated, as Standard Webhooks allows."""
    from standardwebhooks.webhooks import Webhook

    return " ".join(Webhook(s).sign(delivery_id, sent, text) for s in secrets_in_force)


# -- loading -----------------------------------------------------------------------------------
class _Reader(DataFileReader):
    def __init__(self, path: Path) -> None:
        super().__init__(path, WebhookRulesError)

    def duration(self, value: Any, key: str) -> timedelta:
        spec = self.mapping(value, key, UNITS, set())
        if len(spec) != 1:
            raise self.fail(key, "must have exactly one unit")
        ((unit, amount),) = spec.items()
        if isinstance(amount, bool) or not isinstance(amount, int) or amount < 1:
            raise self.fail(f"{key}.{unit}", "must be a positive whole number")
        return timedelta(**{unit: amount})


def parse_rules(data: Any, path: Path, actions: set[str], states: set[str]) -> WebhookRules:
    r = _Reader(path)
    top = r.mapping(
        data,
        "(top)",
        {
            "schema_version",
            "events",
            "retry_after",
            "disable_after",
            "rotation_overlap",
            "log_days",
            "timeout_seconds",
        },
        {"schema_version", "events", "retry_after", "disable_after", "rotation_overlap"},
    )
    if top["schema_version"] != 1:
        raise r.fail("schema_version", "must be 1")
    causes: dict[str, dict[str, Any]] = {}
    for event, raw in r.mapping(top["events"], "events", None, set()).items():
        key = f"events.{event}"
        if not event.startswith("case.") or event == PING:
            raise r.fail(key, "an event type is case.<what happened>")
        cause = r.mapping(raw, key, set(CAUSES), set())
        if len(cause) != 1:
            raise r.fail(key, f"must have exactly one cause: {', '.join(CAUSES)}")
        ((kind, value),) = cause.items()
        if kind == "actions":
            if not isinstance(value, list) or not value:
                raise r.fail(f"{key}.actions", "must be a list of workflow actions")
            for i, action in enumerate(value):
                if action not in actions:
                    raise r.fail(f"{key}.actions[{i}]", f"unknown action '{action}'")
            causes[event] = {"actions": tuple(value)}
        elif kind == "enters":
            if value not in states:
                raise r.fail(f"{key}.enters", f"unknown state '{value}'")
            causes[event] = {"enters": value}
        elif kind == "opened_by":
            if value not in OPENERS:
                raise r.fail(f"{key}.opened_by", f"must be one of {', '.join(OPENERS)}")
            causes[event] = {"opened_by": value}
        else:
            days = r.mapping(value, f"{key}.before_deadline", {"working_days"}, {"working_days"})
            n = days["working_days"]
            if isinstance(n, bool) or not isinstance(n, int) or n < 1:
                raise r.fail(f"{key}.before_deadline.working_days", "must be a positive number")
            causes[event] = {"before_deadline": n}
    retries = top["retry_after"]
    if not isinstance(retries, list) or not retries:
        raise r.fail("retry_after", "must be a list of durations")
    retry_after = tuple(r.duration(v, f"retry_after[{i}]") for i, v in enumerate(retries))
    disable_after = r.duration(top["disable_after"], "disable_after")
    if sum(retry_after, timedelta()) < disable_after:
        # Otherwise a failing endpoint's deliveries would all be dead before it is disabled.
        raise r.fail("retry_after", "must add up to at least disable_after")
    return WebhookRules(
        causes=causes,
        retry_after=retry_after,
        disable_after=disable_after,
        rotation_overlap=r.duration(top["rotation_overlap"], "rotation_overlap"),
        log_days=int(top.get("log_days", 30)),
        timeout_seconds=float(top.get("timeout_seconds", 5)),
    )


def load_rules_file(path: Path) -> WebhookRules:
    from chalicelib.domain.workflow import load_workflow

    workflow = load_workflow()
    return parse_rules(
        load_yaml(path, WebhookRulesError), path, set(workflow.actions), set(workflow.states)
    )


@functools.lru_cache(maxsize=1)
def load_rules() -> WebhookRules:
    return load_rules_file(DEFAULT_PATH)
