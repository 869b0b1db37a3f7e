"""The case workflow engine: loads workflows/case_workflow.yaml, validates it, decides transitions.

The rules live in the data file; this module only enforces them. No AWS here.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from chalicelib.domain import advice, sms_text
from chalicelib.domain.data_file import DataFileReader, load_yaml
from chalicelib.domain.errors import Problem

ACTORS = ("user", "liaison", "operator", "scheduler")
ACTION_ON = ("user", "company", "operator", "none")
NOTIFY = ("self", "follow_up")
DURATION_UNITS = ("working_days", "days", "hours")
EFFECTS = ("open_case_at_target",)
# When a queued SMS is still true at send time (docs/design.md §7): the dispatcher drops it,
# counted, otherwise. `version`: the case has not changed since; `state`: it is still in the
# state its transition left it in; `always`: a settled outcome, or news of the whole dispute.
TRUE_WHILE = ("version", "state", "always")
# How long a follow-up may wait to merge into a digest: the digest window; the next 08:00
# digest (never past its `due`); or never (a request to act goes at once, in its own words).
WAIT = ("window", "morning", "never")
# What a digest tells the person to do next, most urgent first.
STEPS = ("requery", "look")
LANES = ("standard", "fraud")
OUTCOME_FACTS = ("count_matches", "count_differs")
# Request fields an action may require or accept; chalicelib/domain/actions.py checks them.
PARAMS = (
    "message",
    "statement",
    "note",
    "internal_note",
    "response_code",
    "accounts_affected",
    "new_count",
    "target_company",
)
DEFAULT_PATH = Path(__file__).resolve().parents[2] / "workflows" / "case_workflow.yaml"


class WorkflowError(ValueError):
    """A fault in the workflow file; the message names the file and the key."""


@dataclass(frozen=True)
class State:
    name: str
    action_on: str
    terminal: bool
    settled: bool


@dataclass(frozen=True)
class Duration:
    unit: str
    amount: int


@dataclass(frozen=True)
class Timer:
    name: str
    fires: str
    after: Duration
    fraud_lane: Duration | None
    override: str | None
    company_clock: bool

    def duration(self, *, fraud_lane: bool, deadlines: Mapping[str, int]) -> Duration:
        """The duration for one case: the directory override, else the lane's default."""
        key = self.override and (f"fraud_{self.override}" if fraud_lane else self.override)
        if key and key in deadlines:
            return Duration(self.after.unit, int(deadlines[key]))
        if fraud_lane and self.fraud_lane:
            return self.fraud_lane
        return self.after


@dataclass(frozen=True)
class SmsSpec:
    """What one SMS template needs at send time (the `sms` section of the workflow file)."""

    name: str
    true_while: str = "state"
    due: str | None = None  # the timer whose due time the text shows as {{ due }}
    wait: str = "window"
    step: str = "look"  # what a digest carrying this message asks the person to do next


@dataclass(frozen=True)
class Refiling:
    """A filing on `lane` against a company whose case for the same number settled in
    `after` less than `within` ago: the new case links that case (`reopened_from`) and opens
    in `opens_in` with `arm` armed, not in the initial state (SPEC §4 keeps the settled case
    terminal)."""

    lane: str
    after: str
    within: Duration
    opens_in: str
    arm: tuple[str, ...]


@dataclass(frozen=True)
class Effect:
    """What one transition does besides changing state."""

    to: str
    arm: tuple[str, ...] = ()
    clear: tuple[str, ...] = ()
    pause: tuple[str, ...] = ()
    resume: tuple[str, ...] = ()
    sms: tuple[str, ...] = ()
    notify: str = "follow_up"
    effect: str | None = None


@dataclass(frozen=True)
class Action:
    name: str
    actor: str
    sources: frozenset[str]
    requires: tuple[str, ...]
    optional: tuple[str, ...]
    effects: Mapping[str, Effect]  # outcome name → effect; "" when the action has one outcome


@dataclass(frozen=True)
class Decision:
    action: str
    actor: str
    from_state: str
    to_state: str
    action_on: str
    terminal: bool
    arm: tuple[str, ...]
    clear: tuple[str, ...]
    pause: tuple[str, ...]
    resume: tuple[str, ...]
    sms: tuple[str, ...]
    notify: str
    effect: str | None


class Workflow:
    def __init__(
        self,
        states: Mapping[str, State],
        timers: Mapping[str, Timer],
        actions: Mapping[str, Action],
        initial_state: str,
        initial_arm: tuple[str, ...],
        dispute_sms: tuple[str, ...],
        outside_steps: Mapping[str, str] | None = None,
        sms: Mapping[str, SmsSpec] | None = None,
        refiling: Refiling | None = None,
    ) -> None:
        self.states = states
        self.timers = timers
        self.actions = actions
        self.initial_state = initial_state
        self.initial_arm = initial_arm
        self.dispute_sms = dispute_sms
        self.outside_steps = dict(outside_steps or {})
        self.sms = dict(sms or {})
        self.refiling = refiling

    # -- questions the services ask -------------------------------------------------------
    def state(self, name: str) -> State:
        return self.states[name]

    def open_states(self) -> list[str]:
        return [s.name for s in self.states.values() if not s.terminal]

    def is_open(self, state: str) -> bool:
        return not self.states[state].terminal

    def actions_for(self, actor: str, state: str) -> list[str]:
        return [a.name for a in self.actions.values() if a.actor == actor and state in a.sources]

    def outside_step(self, kind: str, lane: str) -> str | None:
        """The advice naming where the person can turn next, outside recount."""
        if lane == "fraud" and "fraud_lane" in self.outside_steps:
            return self.outside_steps["fraud_lane"]
        return self.outside_steps.get(kind)

    def sms_spec(self, template: str) -> SmsSpec:
        """How a template behaves at send time; a template the file does not list (the
        digest, the code message) is never stale and waits the digest window."""
        return self.sms.get(template) or SmsSpec(template, true_while="always")

    def all_templates(self) -> set[str]:
        names = set(self.dispute_sms)
        for action in self.actions.values():
            for effect in action.effects.values():
                names.update(effect.sms)
        return names

    def decide(
        self, state: str, action: str, actor: str, *, outcome: str | None = None
    ) -> Decision:
        """May `actor` take `action` in `state`? Returns what follows, or raises a 409/422."""
        spec = self.actions.get(action)
        if spec is None or spec.actor != actor:
            allowed = ", ".join(self.actions_for(actor, state)) or "none"
            raise Problem(
                422,
                "unknown_action",
                "Unknown action",
                f"'{action}' is not an action you can take; allowed now: {allowed}",
            )
        if state not in spec.sources:
            raise Problem(
                409,
                "invalid_transition",
                "Action not allowed in this state",
                f"'{action}' is not allowed while the case is '{state}'",
                extra={"state": state},
            )
        if len(spec.effects) > 1:
            if outcome is None or outcome not in spec.effects:
                raise ValueError(f"action {action} needs one of outcomes {sorted(spec.effects)}")
            effect = spec.effects[outcome]
        else:
            effect = spec.effects[""]
        target = self.states[effect.to]
        clear = effect.clear
        if "all" in clear:
            clear = tuple(self.timers)
        return Decision(
            action=action,
            actor=actor,
            from_state=state,
            to_state=effect.to,
            action_on=target.action_on,
            terminal=target.terminal,
            arm=effect.arm,
            clear=clear,
            pause=effect.pause,
            resume=effect.resume,
            sms=effect.sms,
            notify=effect.notify,
            effect=effect.effect,
        )


# -- loading and validation ---------------------------------------------------------------
class _Reader(DataFileReader):
    """The workflow file's shapes: names, lists of names, choices, durations."""

    def __init__(self, path: Path) -> None:
        super().__init__(path, WorkflowError)

    def name(self, value: Any, key: str) -> str:
        if not isinstance(value, str):
            raise self.fail(key, "must be a name")
        return value

    def names(self, value: Any, key: str, known: set[str] | None = None) -> tuple[str, ...]:
        if value is None:
            return ()
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise self.fail(key, "must be a list of names")
        if known is not None:
            for i, name in enumerate(value):
                if name not in known:
                    raise self.fail(f"{key}[{i}]", f"unknown name '{name}'")
        return tuple(value)

    def choice(self, value: Any, key: str, options: tuple[str, ...]) -> str:
        if not isinstance(value, str) or value not in options:
            raise self.fail(key, f"must be one of {', '.join(options)}")
        return value

    def duration(self, value: Any, key: str) -> Duration:
        value = self.mapping(value, key, set(DURATION_UNITS), set())
        if len(value) != 1:
            raise self.fail(key, "must have exactly one unit")
        ((unit, amount),) = value.items()
        if not isinstance(amount, int) or isinstance(amount, bool) or amount <= 0:
            raise self.fail(f"{key}.{unit}", "must be a positive integer")
        return Duration(unit, amount)


def parse_workflow(data: Any, path: Path) -> Workflow:
    r = _Reader(path)
    top = r.mapping(
        data,
        "(top)",
        {
            "schema_version",
            "initial",
            "dispute_sms",
            "outside_steps",
            "sms",
            "refiling",
            "states",
            "timers",
            "actions",
        },
        {"schema_version", "initial", "states", "timers", "actions"},
    )
    if top["schema_version"] != 1:
        raise r.fail("schema_version", "must be 1")

    states: dict[str, State] = {}
    for name, spec in r.mapping(top["states"], "states", set(top["states"] or {}), set()).items():
        spec = r.mapping(
            spec, f"states.{name}", {"action_on", "terminal", "settled"}, {"action_on"}
        )
        states[name] = State(
            name,
            r.choice(spec["action_on"], f"states.{name}.action_on", ACTION_ON),
            bool(spec.get("terminal", False)),
            bool(spec.get("settled", False)),
        )
        if states[name].terminal != (states[name].action_on == "none"):
            raise r.fail(f"states.{name}.action_on", "is 'none' exactly when the state is terminal")
    state_names = set(states)

    raw_actions = r.mapping(top["actions"], "actions", set(top["actions"] or {}), set())
    timers: dict[str, Timer] = {}
    raw_timers = r.mapping(top["timers"], "timers", set(top["timers"] or {}), set())
    for name, spec in raw_timers.items():
        key = f"timers.{name}"
        spec = r.mapping(
            spec,
            key,
            {"fires", "after", "fraud_lane", "override", "company_clock"},
            {"fires", "after"},
        )
        if r.name(spec["fires"], f"{key}.fires") not in raw_actions:
            raise r.fail(f"{key}.fires", f"unknown action '{spec['fires']}'")
        timers[name] = Timer(
            name=name,
            fires=spec["fires"],
            after=r.duration(spec["after"], f"{key}.after"),
            fraud_lane=r.duration(spec["fraud_lane"], f"{key}.fraud_lane")
            if "fraud_lane" in spec
            else None,
            override=spec.get("override"),
            company_clock=bool(spec.get("company_clock", False)),
        )
    timer_names = set(timers)
    templates = set(sms_text.template_names())

    def effect(spec: dict[str, Any], key: str) -> Effect:
        to = r.name(spec["to"], f"{key}.to")
        if to not in state_names:
            raise r.fail(f"{key}.to", f"unknown state '{to}'")
        clear = r.names(spec.get("clear"), f"{key}.clear", timer_names | {"all"})
        sms = r.names(spec.get("sms"), f"{key}.sms")
        for i, name in enumerate(sms):
            if name not in templates:
                raise r.fail(f"{key}.sms[{i}]", f"no template templates/sms/{name}.txt.j2")
        return Effect(
            to=to,
            arm=r.names(spec.get("arm"), f"{key}.arm", timer_names),
            clear=clear,
            pause=r.names(spec.get("pause"), f"{key}.pause", timer_names),
            resume=r.names(spec.get("resume"), f"{key}.resume", timer_names),
            sms=sms,
            notify=r.choice(spec.get("notify", "follow_up"), f"{key}.notify", NOTIFY),
            effect=r.choice(spec["effect"], f"{key}.effect", EFFECTS) if "effect" in spec else None,
        )

    effect_keys = {"to", "arm", "clear", "pause", "resume", "sms", "notify", "effect"}
    actions: dict[str, Action] = {}
    for name, spec in raw_actions.items():
        key = f"actions.{name}"
        spec = r.mapping(
            spec,
            key,
            effect_keys | {"actor", "from", "requires", "optional", "outcomes"},
            {"actor", "from"},
        )
        sources = r.names(spec["from"], f"{key}.from", state_names | {"open"})
        source_set = frozenset(
            s
            for src in sources
            for s in (
                [src] if src != "open" else [n for n, st in states.items() if not st.terminal]
            )
        )
        for state in sorted(source_set):
            if states[state].terminal:
                raise r.fail(f"{key}.from", f"'{state}' is terminal: no action leaves it")
        if "outcomes" in spec:
            if "to" in spec:
                raise r.fail(f"{key}.to", "give either 'to' or 'outcomes'")
            outcomes = r.mapping(
                spec["outcomes"], f"{key}.outcomes", set(OUTCOME_FACTS), set(OUTCOME_FACTS)
            )
            effects = {
                o: effect(
                    r.mapping(v, f"{key}.outcomes.{o}", effect_keys, {"to"}), f"{key}.outcomes.{o}"
                )
                for o, v in outcomes.items()
            }
        else:
            if "to" not in spec:
                raise r.fail(f"{key}.to", "is required (or 'outcomes')")
            effects = {"": effect({k: v for k, v in spec.items() if k in effect_keys}, key)}
        actions[name] = Action(
            name=name,
            actor=r.choice(spec["actor"], f"{key}.actor", ACTORS),
            sources=source_set,
            requires=r.names(spec.get("requires"), f"{key}.requires", set(PARAMS)),
            optional=r.names(spec.get("optional"), f"{key}.optional", set(PARAMS)),
            effects=effects,
        )
    for name, timer in timers.items():
        if actions[timer.fires].actor != "scheduler":
            raise r.fail(f"timers.{name}.fires", "must name a scheduler action")

    initial = r.mapping(top["initial"], "initial", {"state", "arm"}, {"state"})
    if r.name(initial["state"], "initial.state") not in state_names:
        raise r.fail("initial.state", f"unknown state '{initial['state']}'")
    dispute_sms = r.names(top.get("dispute_sms"), "dispute_sms")
    for i, name in enumerate(dispute_sms):
        if name not in templates:
            raise r.fail(f"dispute_sms[{i}]", f"no template templates/sms/{name}.txt.j2")
    outside = r.mapping(
        top.get("outside_steps") or {},
        "outside_steps",
        {"fraud_lane", "accounts", "sim_cards"},
        set(),
    )
    for key, name in outside.items():
        if r.name(name, f"outside_steps.{key}") not in advice.names():
            raise r.fail(f"outside_steps.{key}", f"no advice templates/advice/{name}.txt.j2")
    sms_specs: dict[str, SmsSpec] = {}
    raw_sms = r.mapping(top.get("sms") or {}, "sms", set(top.get("sms") or {}), set())
    for name, spec in raw_sms.items():
        key = f"sms.{name}"
        if name not in templates:
            raise r.fail(key, f"no template templates/sms/{name}.txt.j2")
        spec = r.mapping(spec, key, {"true_while", "due", "wait", "step"}, {"true_while"})
        due = spec.get("due")
        if due is not None and r.name(due, f"{key}.due") not in timer_names:
            raise r.fail(f"{key}.due", f"unknown timer '{due}'")
        sms_specs[name] = SmsSpec(
            name,
            true_while=r.choice(spec["true_while"], f"{key}.true_while", TRUE_WHILE),
            due=due,
            wait=r.choice(spec.get("wait", "window"), f"{key}.wait", WAIT),
            step=r.choice(spec.get("step", "look"), f"{key}.step", STEPS),
        )
    queued = set(dispute_sms) | {
        t for a in actions.values() for e in a.effects.values() for t in e.sms
    }
    for name in sorted(queued - set(sms_specs)):
        raise r.fail(f"sms.{name}", "is required: say when a queued message is still true")
    return Workflow(
        states,
        timers,
        actions,
        initial["state"],
        r.names(initial.get("arm"), "initial.arm", timer_names),
        dispute_sms,
        outside,
        sms_specs,
        _refiling(r, top.get("refiling"), states, timer_names),
    )


def _refiling(
    r: _Reader, raw: Any, states: Mapping[str, State], timer_names: set[str]
) -> Refiling | None:
    if raw is None:
        return None
    key = "refiling"
    spec = r.mapping(
        raw,
        key,
        {"lane", "after", "within", "opens_in", "arm"},
        {"lane", "after", "within", "opens_in"},
    )
    lane = r.choice(spec["lane"], f"{key}.lane", LANES)
    after = r.name(spec["after"], f"{key}.after")
    if after not in states or not states[after].terminal:
        raise r.fail(f"{key}.after", f"'{after}' is not a terminal state")
    opens_in = r.name(spec["opens_in"], f"{key}.opens_in")
    if opens_in not in states or states[opens_in].terminal:
        raise r.fail(f"{key}.opens_in", f"'{opens_in}' is not an open state")
    within = r.duration(spec["within"], f"{key}.within")
    if within.unit == "working_days":
        raise r.fail(f"{key}.within", "is wall-clock time (days or hours)")
    return Refiling(
        lane, after, within, opens_in, r.names(spec.get("arm"), f"{key}.arm", timer_names)
    )


def load_workflow_file(path: Path) -> Workflow:
    return parse_workflow(load_yaml(path, WorkflowError), path)


@functools.lru_cache(maxsize=1)
def load_workflow() -> Workflow:
    return load_workflow_file(DEFAULT_PATH)
