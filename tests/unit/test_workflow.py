"""The case workflow (docs/design.md §4): walk the graph of the real file and check the engine.

Pure domain tests: no AWS, no moto.
"""

from __future__ import annotations

import copy
from collections import deque
from pathlib import Path
from typing import Any

import pytest
import yaml

from chalicelib.domain.directory import DEADLINE_KEYS
from chalicelib.domain.errors import Problem
from chalicelib.domain.sms_text import TEMPLATE_DIR
from chalicelib.domain.workflow import (
    DEFAULT_PATH,
    Duration,
    Workflow,
    WorkflowError,
    load_workflow,
    load_workflow_file,
)

STATES = {
    "submitted",
    "acknowledged",
    "awaiting_user",
    "responded",
    "escalated",
    "resolved",
    "disputed_closed",
    "withdrawn",
    "expired",
    "rerouted",
}
TERMINAL = {"resolved", "disputed_closed", "withdrawn", "expired", "rerouted"}
OPEN = STATES - TERMINAL
ACTORS = ("user", "liaison", "operator", "scheduler")
ACTION_ON = {
    "submitted": "company",
    "acknowledged": "company",
    "awaiting_user": "user",
    "responded": "user",
    "escalated": "operator",
    **{s: "none" for s in TERMINAL},
}

# docs/design.md §4, row by row: action → (actor, from-set, to). `confirm` has two outcomes.
SPEC_TABLE: dict[str, tuple[str, set[str], str | dict[str, str]]] = {
    "acknowledge": ("liaison", {"submitted"}, "acknowledged"),
    "request_user_action": ("liaison", {"submitted", "acknowledged"}, "awaiting_user"),
    "user_done": ("user", {"awaiting_user"}, "acknowledged"),
    "respond": (
        "liaison",
        {"submitted", "acknowledged", "awaiting_user", "escalated"},
        "responded",
    ),
    "misrouted": ("liaison", {"submitted", "acknowledged"}, "rerouted"),
    "confirm": (
        "user",
        {"responded"},
        {"count_matches": "resolved", "count_differs": "escalated"},
    ),
    "reopen": ("user", {"responded"}, "escalated"),
    "disagree": ("user", {"responded"}, "disputed_closed"),
    "withdraw": ("user", set(OPEN), "withdrawn"),
    "sla_breach": ("scheduler", {"submitted", "acknowledged"}, "escalated"),
    "remind_user": ("scheduler", {"awaiting_user"}, "awaiting_user"),
    "expire": ("scheduler", {"awaiting_user"}, "expired"),
    "requery_reminder": ("scheduler", {"responded"}, "responded"),
    "auto_resolve": ("scheduler", {"responded"}, "resolved"),
    "resolve": ("operator", {"escalated"}, "resolved"),
    "close": ("operator", {"escalated"}, "disputed_closed"),
}
# Not a row of the table, but implied by "escalated: operator follow-up after 3 working days".
EXTRA_ACTIONS = {"operator_followup"}


@pytest.fixture(scope="module")
def wf() -> Workflow:
    return load_workflow()


def successors(wf: Workflow, state: str) -> set[str]:
    """Every state one action (any actor, any outcome) leads to from `state`."""
    return {
        effect.to
        for action in wf.actions.values()
        if state in action.sources
        for effect in action.effects.values()
    }


def reachable(wf: Workflow, start: str) -> set[str]:
    seen = {start}
    todo = deque([start])
    while todo:
        for nxt in successors(wf, todo.popleft()):
            if nxt not in seen:
                seen.add(nxt)
                todo.append(nxt)
    return seen


# --- the graph --------------------------------------------------------------------------------


def test_states_and_terminals_are_those_of_the_spec(wf: Workflow) -> None:
    assert set(wf.states) == STATES
    assert {s for s, st in wf.states.items() if st.terminal} == TERMINAL
    assert set(wf.open_states()) == OPEN
    assert wf.initial_state == "submitted"


def test_every_state_is_reachable_from_the_initial_state(wf: Workflow) -> None:
    assert reachable(wf, wf.initial_state) == set(wf.states)


def test_both_outcomes_of_confirm_are_followed(wf: Workflow) -> None:
    confirm = wf.actions["confirm"]
    assert {o: e.to for o, e in confirm.effects.items()} == {
        "count_matches": "resolved",
        "count_differs": "escalated",
    }


def test_no_action_leaves_a_terminal_state(wf: Workflow) -> None:
    for state in TERMINAL:
        leaving = [a.name for a in wf.actions.values() if state in a.sources]
        assert leaving == [], f"{state} is terminal but {leaving} start from it"
        for actor in ACTORS:
            assert wf.actions_for(actor, state) == []


def test_every_open_state_can_reach_a_terminal_state(wf: Workflow) -> None:
    for state in OPEN:
        assert reachable(wf, state) & TERMINAL, f"{state} can never be settled"


def test_every_open_state_has_some_action(wf: Workflow) -> None:
    for state in OPEN:
        assert any(wf.actions_for(actor, state) for actor in ACTORS), state


def test_action_on_matches_the_spec(wf: Workflow) -> None:
    assert {name: st.action_on for name, st in wf.states.items()} == ACTION_ON


def test_every_named_template_exists(wf: Workflow) -> None:
    named = set(wf.dispute_sms)
    for action in wf.actions.values():
        for effect in action.effects.values():
            named.update(effect.sms)
    assert named == wf.all_templates()
    assert named, "the workflow names no templates at all"
    for name in sorted(named):
        assert (TEMPLATE_DIR / f"{name}.txt.j2").is_file(), f"templates/sms/{name}.txt.j2"


def test_template_dir_is_the_repo_templates_sms() -> None:
    assert Path(__file__).resolve().parents[2] / "templates" / "sms" == TEMPLATE_DIR
    assert Path(__file__).resolve().parents[2] / "workflows" / "case_workflow.yaml" == DEFAULT_PATH


# --- timers on the graph ----------------------------------------------------------------------


def test_every_timer_fires_a_scheduler_action(wf: Workflow) -> None:
    for name, timer in wf.timers.items():
        assert wf.actions[timer.fires].actor == "scheduler", name


def _arming_sites(wf: Workflow) -> list[tuple[str, str, str]]:
    """(what arms it, timer, state it is armed into)."""
    sites = [("initial", t, wf.initial_state) for t in wf.initial_arm]
    for action in wf.actions.values():
        for outcome, effect in action.effects.items():
            label = f"{action.name}{'.' + outcome if outcome else ''}"
            sites += [(label, t, effect.to) for t in effect.arm]
            sites += [(f"{label} (resume)", t, effect.to) for t in effect.resume]
    return sites


def test_a_timer_armed_into_a_state_fires_an_action_allowed_there(wf: Workflow) -> None:
    for site, timer, state in _arming_sites(wf):
        fires = wf.timers[timer].fires
        assert state in wf.actions[fires].sources, (
            f"{site} arms {timer} into {state}, but {fires} is not allowed from {state}"
        )


def _timer_configurations(wf: Workflow) -> set[tuple[str, frozenset[str], frozenset[str]]]:
    """Every (state, armed timers, paused timers) a case can be in, following the engine:
    people act whenever their action is allowed; scheduler actions happen only when an armed
    timer fires (and that timer is consumed first, as timers.apply does)."""
    start = (wf.initial_state, frozenset(wf.initial_arm), frozenset())
    seen = {start}
    todo = deque([start])

    def step(armed: frozenset[str], paused: frozenset[str], decision: Any, fired: str | None):
        a, p = set(armed), set(paused)
        a.discard(fired)
        a -= set(decision.clear)
        p -= set(decision.clear)
        for name in decision.pause:
            if name in a:
                a.discard(name)
                p.add(name)
        for name in decision.resume:
            if name in p:
                p.discard(name)
                a.add(name)
        a |= set(decision.arm)
        p -= set(decision.arm)
        return frozenset(a), frozenset(p)

    while todo:
        state, armed, paused = todo.popleft()
        moves: list[tuple[str, str, str | None]] = []
        for action in wf.actions.values():
            if state in action.sources and action.actor != "scheduler":
                moves.append((action.name, action.actor, None))
        for timer in armed:
            moves.append((wf.timers[timer].fires, "scheduler", timer))
        for name, actor, fired in moves:
            for outcome in wf.actions[name].effects:
                decision = wf.decide(state, name, actor, outcome=outcome or None)
                a, p = step(armed, paused, decision, fired)
                nxt = (decision.to_state, a, p)
                if nxt not in seen:
                    seen.add(nxt)
                    todo.append(nxt)
    return seen


def test_no_armed_timer_can_fire_into_a_state_that_refuses_its_action(wf: Workflow) -> None:
    # A timer left armed across a transition must still be able to fire where the case is;
    # otherwise the scheduler would meet a 409 for a timer the engine itself armed.
    configs = _timer_configurations(wf)
    assert {c[0] for c in configs} == set(wf.states)
    for state, armed, _paused in configs:
        for timer in armed:
            fires = wf.timers[timer].fires
            assert state in wf.actions[fires].sources, (
                f"{timer} can be armed in {state}, where {fires} is not allowed"
            )


def test_settled_cases_hold_no_timers(wf: Workflow) -> None:
    for state, armed, paused in _timer_configurations(wf):
        if wf.states[state].terminal:
            assert not armed and not paused, (state, armed, paused)


def test_every_open_state_that_waits_on_the_company_has_a_running_deadline(wf: Workflow) -> None:
    for state, armed, _paused in _timer_configurations(wf):
        if wf.states[state].action_on == "company":
            assert any(wf.timers[t].company_clock for t in armed), (state, armed)


def test_waiting_for_the_person_pauses_the_company_clock(wf: Workflow) -> None:
    ask = wf.decide("acknowledged", "request_user_action", "liaison")
    company = {n for n, t in wf.timers.items() if t.company_clock}
    assert company <= set(ask.pause) | set(ask.clear)
    assert not company & set(ask.arm)
    assert set(ask.pause) <= company
    done = wf.decide("awaiting_user", "user_done", "user")
    assert set(done.resume) == set(ask.pause)


def test_timer_defaults_match_the_spec(wf: Workflow) -> None:
    t = wf.timers
    assert (t["ack_due"].after, t["ack_due"].fraud_lane) == (
        Duration("working_days", 2),
        Duration("working_days", 1),
    )
    assert (t["respond_due"].after, t["respond_due"].fraud_lane) == (
        Duration("working_days", 10),
        Duration("working_days", 5),
    )
    assert t["user_remind_1"].after == Duration("days", 1)
    assert t["user_remind_3"].after == Duration("days", 3)
    assert t["user_expire"].after == Duration("days", 7)
    assert t["requery_remind"].after == Duration("hours", 24)
    assert t["auto_resolve"].after == Duration("days", 15)
    assert t["operator_followup"].after == Duration("working_days", 3)
    assert {n for n, x in t.items() if x.company_clock} == {"ack_due", "respond_due"}
    assert set(wf.initial_arm) == {"ack_due", "respond_due"}


def test_timer_overrides_name_directory_deadline_keys(wf: Workflow) -> None:
    for name, timer in wf.timers.items():
        if timer.override is not None:
            assert timer.override in DEADLINE_KEYS, name
            if timer.fraud_lane is not None:
                assert f"fraud_{timer.override}" in DEADLINE_KEYS, name


# --- the engine against the §4 table of docs/design.md ----------------------------------------


def test_the_workflow_has_exactly_the_spec_actions(wf: Workflow) -> None:
    assert set(wf.actions) == set(SPEC_TABLE) | EXTRA_ACTIONS
    assert wf.actions["operator_followup"].actor == "scheduler"
    assert wf.actions["operator_followup"].sources == {"escalated"}


@pytest.mark.parametrize("action", sorted(SPEC_TABLE))
def test_spec_table_row(wf: Workflow, action: str) -> None:
    actor, sources, to = SPEC_TABLE[action]
    assert wf.actions[action].actor == actor
    assert set(wf.actions[action].sources) == sources
    for state in sorted(STATES):
        if state in sources:
            if isinstance(to, dict):
                for outcome, target in to.items():
                    d = wf.decide(state, action, actor, outcome=outcome)
                    assert (d.from_state, d.to_state) == (state, target)
                    assert d.action_on == ACTION_ON[target]
                    assert d.terminal == (target in TERMINAL)
            else:
                d = wf.decide(state, action, actor)
                assert (d.action, d.actor, d.from_state, d.to_state) == (action, actor, state, to)
                assert d.action_on == ACTION_ON[to]
                assert d.terminal == (to in TERMINAL)
        else:
            with pytest.raises(Problem) as exc:
                wf.decide(state, action, actor, outcome="count_matches")
            assert (exc.value.status, exc.value.code) == (409, "invalid_transition")
            assert exc.value.extra.get("state") == state
        for other in ACTORS:
            if other == actor:
                continue
            with pytest.raises(Problem) as exc:
                wf.decide(state, action, other, outcome="count_matches")
            assert (exc.value.status, exc.value.code) == (422, "unknown_action")


@pytest.mark.parametrize("actor", ACTORS)
def test_unknown_action_is_422(wf: Workflow, actor: str) -> None:
    for name in ("fly", "", "ACKNOWLEDGE", "acknowledge ", "all", "open"):
        with pytest.raises(Problem) as exc:
            wf.decide("submitted", name, actor)
        assert (exc.value.status, exc.value.code) == (422, "unknown_action")


def test_unknown_action_lists_what_the_actor_may_do_now(wf: Workflow) -> None:
    with pytest.raises(Problem) as exc:
        wf.decide("submitted", "confirm", "liaison")
    for allowed in ("acknowledge", "request_user_action", "respond", "misrouted"):
        assert allowed in exc.value.detail
    assert "withdraw" not in exc.value.detail


def test_confirm_needs_an_outcome(wf: Workflow) -> None:
    with pytest.raises(ValueError):
        wf.decide("responded", "confirm", "user")
    with pytest.raises(ValueError):
        wf.decide("responded", "confirm", "user", outcome="maybe")


def test_withdraw_is_allowed_from_every_open_state_and_clears_everything(wf: Workflow) -> None:
    for state in sorted(OPEN):
        d = wf.decide(state, "withdraw", "user")
        assert d.to_state == "withdrawn" and d.terminal and d.action_on == "none"
        assert set(d.clear) == set(wf.timers)
    for state in sorted(TERMINAL):
        with pytest.raises(Problem) as exc:
            wf.decide(state, "withdraw", "user")
        assert exc.value.status == 409


def test_clear_all_expands_to_every_timer(wf: Workflow) -> None:
    clear_all = [
        (name, outcome)
        for name, action in wf.actions.items()
        for outcome, effect in action.effects.items()
        if "all" in effect.clear
    ]
    assert ("withdraw", "") in clear_all and ("resolve", "") in clear_all
    for name, outcome in clear_all:
        action = wf.actions[name]
        state = sorted(action.sources)[0]
        d = wf.decide(state, name, action.actor, outcome=outcome or None)
        assert sorted(d.clear) == sorted(wf.timers)
        assert "all" not in d.clear


def test_misrouted_opens_a_case_at_the_target(wf: Workflow) -> None:
    d = wf.decide("submitted", "misrouted", "liaison")
    assert d.effect == "open_case_at_target"
    assert "target_company" in wf.actions["misrouted"].requires


def test_respond_requires_code_and_message(wf: Workflow) -> None:
    assert set(wf.actions["respond"].requires) >= {"response_code", "message"}
    assert "new_count" in wf.actions["confirm"].requires
    assert "statement" in wf.actions["disagree"].requires


def test_follow_ups_are_sent_as_follow_ups(wf: Workflow) -> None:
    # Anything the person did not trigger must wait out quiet hours (docs/design.md §7).
    for action in wf.actions.values():
        for effect in action.effects.values():
            if effect.sms and action.actor != "user":
                assert effect.notify == "follow_up", action.name


def test_load_workflow_is_cached_and_equals_the_default_file(wf: Workflow) -> None:
    assert load_workflow() is wf
    fresh = load_workflow_file(DEFAULT_PATH)
    assert set(fresh.actions) == set(wf.actions)
    assert fresh.initial_arm == wf.initial_arm


# --- broken files -----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def raw() -> dict[str, Any]:
    return yaml.safe_load(DEFAULT_PATH.read_text(encoding="utf-8"))


def _write(tmp_path: Path, data: Any) -> Path:
    path = tmp_path / "case_workflow.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return path


def test_an_unchanged_copy_loads(tmp_path: Path, raw: dict[str, Any]) -> None:
    wf = load_workflow_file(_write(tmp_path, raw))
    assert set(wf.states) == STATES


def _break(raw: dict[str, Any], dotted: str, value: Any) -> dict[str, Any]:
    data = copy.deepcopy(raw)
    *parents, last = dotted.split(".")
    node = data
    for key in parents:
        node = node[key]
    node[last] = value
    return data


BROKEN = [
    pytest.param("actions.acknowledge.to", "nowhere", "actions.acknowledge.to", id="unknown-to"),
    pytest.param(
        "actions.respond.arm",
        ["requery_remind", "no_such_timer"],
        "actions.respond.arm[1]",
        id="unknown-timer-in-arm",
    ),
    pytest.param(
        "actions.respond.sms", ["no_such_template"], "actions.respond.sms[0]", id="no-template"
    ),
    pytest.param(
        "timers.ack_due.fires", "acknowledge", "timers.ack_due.fires", id="fires-liaison-action"
    ),
    pytest.param("timers.ack_due.fires", "no_such_action", "timers.ack_due.fires", id="fires-?"),
    pytest.param("actions.acknowledge.colour", "red", "actions.acknowledge.colour", id="key"),
    pytest.param("timers.ack_due.afterr", {"days": 1}, "timers.ack_due.afterr", id="timer-key"),
    pytest.param("states.submitted.terminal_", True, "states.submitted.terminal_", id="state-key"),
    pytest.param(
        "actions.confirm.outcomes.count_matches.to",
        "nowhere",
        "actions.confirm.outcomes.count_matches.to",
        id="outcome-to",
    ),
    pytest.param(
        "actions.acknowledge.from", ["submitted", "limbo"], "actions.acknowledge.from[1]", id="from"
    ),
    pytest.param("actions.acknowledge.actor", "robot", "actions.acknowledge.actor", id="actor"),
    pytest.param("initial.arm", ["ack_due", "nope"], "initial.arm[1]", id="initial-arm"),
    pytest.param("initial.state", "limbo", "initial.state", id="initial-state"),
    pytest.param("dispute_sms", ["no_such_template"], "dispute_sms[0]", id="dispute-sms"),
    pytest.param("timers.ack_due.after", {"working_days": 0}, "timers.ack_due.after", id="zero"),
    pytest.param("states.resolved.action_on", "user", "states.resolved.action_on", id="terminal"),
    pytest.param("actions.withdraw.clear", ["every"], "actions.withdraw.clear[0]", id="clear"),
    pytest.param("schema_version", 2, "schema_version", id="version"),
    # A list where a name belongs must still fail as a WorkflowError naming the key, not as a
    # bare TypeError from hashing the list.
    pytest.param("actions.acknowledge.to", ["acknowledged"], "actions.acknowledge.to", id="to[]"),
    pytest.param("timers.ack_due.fires", ["sla_breach"], "timers.ack_due.fires", id="fires[]"),
    pytest.param("refiling.lane", "slow", "refiling.lane", id="refiling-lane"),
    pytest.param("refiling.after", "escalated", "refiling.after", id="refiling-after-open"),
    pytest.param("refiling.opens_in", "resolved", "refiling.opens_in", id="refiling-terminal"),
    pytest.param("refiling.within", {"working_days": 5}, "refiling.within", id="refiling-within"),
    pytest.param("refiling.arm", ["soon"], "refiling.arm[0]", id="refiling-arm"),
    pytest.param(
        "sms.company_responded.true_while",
        "sometimes",
        "sms.company_responded.true_while",
        id="sms-true-while",
    ),
    pytest.param(
        "sms.company_responded.due", "no_timer", "sms.company_responded.due", id="sms-due"
    ),
    pytest.param("sms.company_responded.wait", "forever", "sms.company_responded.wait", id="wait"),
    pytest.param(
        "sms.no_such_template", {"true_while": "always"}, "sms.no_such_template", id="sms"
    ),
    pytest.param("sms.case_closed", None, "sms.case_closed", id="sms-spec-empty"),
]


@pytest.mark.parametrize(("dotted", "value", "key_path"), BROKEN)
def test_broken_file_names_path_and_key(
    tmp_path: Path, raw: dict[str, Any], dotted: str, value: Any, key_path: str
) -> None:
    path = _write(tmp_path, _break(raw, dotted, value))
    with pytest.raises(WorkflowError) as exc:
        load_workflow_file(path)
    message = str(exc.value)
    assert str(path) in message
    assert f": {key_path}" in message, message


def test_unknown_top_level_key(tmp_path: Path, raw: dict[str, Any]) -> None:
    path = _write(tmp_path, {**raw, "stattes": {}})
    with pytest.raises(WorkflowError) as exc:
        load_workflow_file(path)
    assert str(path) in str(exc.value) and "stattes" in str(exc.value)


def test_missing_required_top_level_key(tmp_path: Path, raw: dict[str, Any]) -> None:
    data = copy.deepcopy(raw)
    del data["timers"]
    path = _write(tmp_path, data)
    with pytest.raises(WorkflowError) as exc:
        load_workflow_file(path)
    assert str(path) in str(exc.value) and "timers" in str(exc.value)


def test_invalid_yaml_and_missing_file(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("states: [unclosed\n", encoding="utf-8")
    with pytest.raises(WorkflowError) as exc:
        load_workflow_file(bad)
    assert str(bad) in str(exc.value)
    missing = tmp_path / "missing.yaml"
    with pytest.raises(WorkflowError) as exc:
        load_workflow_file(missing)
    assert str(missing) in str(exc.value)


def test_not_a_mapping(tmp_path: Path) -> None:
    path = tmp_path / "list.yaml"
    path.write_text("- a\n- b\n", encoding="utf-8")
    with pytest.raises(WorkflowError) as exc:
        load_workflow_file(path)
    assert str(path) in str(exc.value)


# --- SMS at send time (issue 16) --------------------------------------------------------------
def _queued_templates(wf: Workflow) -> set[str]:
    return {t for a in wf.actions.values() for e in a.effects.values() for t in e.sms}


def test_every_queued_template_says_when_it_is_still_true(wf: Workflow) -> None:
    assert _queued_templates(wf) | set(wf.dispute_sms) <= set(wf.sms)
    # Settled outcomes and the dispute's receipt stay true; nothing else is "always".
    for name, spec in wf.sms.items():
        queued_into = {
            wf.states[e.to]
            for a in wf.actions.values()
            for e in a.effects.values()
            if name in e.sms
        }
        if spec.true_while == "always":
            assert name in wf.dispute_sms or all(s.settled for s in queued_into), name
        else:
            assert queued_into and not any(s.terminal for s in queued_into), name


def test_requests_to_act_are_never_merged_or_held_back(wf: Workflow) -> None:
    """A message that hands the person her turn goes after the digest window (a digest that
    carries it keeps its step), unless its step cannot be taken before a time it shows (a
    result: re-query 24 h on), which it may wait for — never past that time. The requests
    to act on a company's behalf go in their own words."""
    for action in wf.actions.values():
        for effect in action.effects.values():
            if wf.states[effect.to].action_on == "user" and effect.sms:
                for name in effect.sms:
                    spec = wf.sms_spec(name)
                    assert spec.wait != "morning" or spec.due, name
    assert wf.sms_spec("user_action_requested").wait == "never"
    assert wf.sms_spec("user_action_reminder").wait == "never"
    for spec in wf.sms.values():
        if spec.wait == "morning":
            assert spec.due is not None, spec.name


def test_a_case_resolved_by_silence_tells_the_person(wf: Workflow) -> None:
    assert wf.decide("responded", "auto_resolve", "scheduler").sms == ("case_auto_resolved",)


def test_every_due_a_text_shows_is_armed_whenever_it_is_queued(wf: Workflow) -> None:
    """A text's deadline comes from a timer: that timer is armed on the case every time a
    transition queues the text (walking every reachable state and timer configuration)."""
    for state, armed, _paused in _timer_configurations(wf):
        moves = [(a.name, a.actor, None) for a in wf.actions.values() if state in a.sources]
        moves = [m for m in moves if m[1] != "scheduler"]
        moves += [(wf.timers[t].fires, "scheduler", t) for t in armed]
        for name, actor, fired in moves:
            if state not in wf.actions[name].sources:
                continue
            for outcome in wf.actions[name].effects:
                decision = wf.decide(state, name, actor, outcome=outcome or None)
                after = (set(armed) - {fired} - set(decision.clear)) | set(decision.arm)
                after -= set(decision.pause)
                for template in decision.sms:
                    due = wf.sms_spec(template).due
                    assert due is None or due in after, (state, name, template, due)


def test_a_fraud_refiling_after_a_resolution_opens_as_a_reopened_case(wf: Workflow) -> None:
    """Issue 16 item 9: where `reopen` leads (escalated, the operators' follow-up armed); the
    resolved case itself stays terminal (test_no_action_leaves_a_terminal_state)."""
    refiling = wf.refiling
    assert refiling is not None
    assert (refiling.lane, refiling.after, refiling.within) == (
        "fraud",
        "resolved",
        Duration("days", 30),
    )
    reopen = wf.decide("responded", "reopen", "user")
    assert refiling.opens_in == reopen.to_state
    assert set(refiling.arm) == set(reopen.arm)
