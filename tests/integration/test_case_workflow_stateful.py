"""The case workflow at random (docs/design.md §4): a Hypothesis state machine drives the person,
the liaisons and an operator through the HTTP API on a two-company dispute, allowed actions
and forbidden ones alike, and after every step compares the service with the workflow table:

- an action answers 200 exactly when workflows/case_workflow.yaml allows it from the case's
  state (409 `invalid_transition` otherwise; 409 `case_already_open` when a misrouting would
  open a second case with one company), and the case lands where the table says;
- each case's audit trail is exactly the transitions taken, in order, the filing first;
- `version` only grows and equals the number of events; `action_on` is the state's;
- a terminal state never changes; the person never sees internal notes.

Each example runs in its own emulated AWS (moto), built the way tests/conftest.py `world` is.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import moto
from hypothesis import HealthCheck, Phase, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    invariant,
    rule,
    run_state_machine_as_test,
)

from chalicelib.adapters import aws as aws_clients
from chalicelib.domain import clock
from chalicelib.domain.actions import RESPONSE_CODES
from chalicelib.domain.workflow import load_workflow
from chalicelib.services import keys
from tests.conftest import DEMO, START
from tests.support import Api, fresh_tables

COMPANIES = ("tencent", "jd")
TARGETS = ("tencent", "jd", "alipay", "baidu")
ACTIONS = {
    "user": ("user_done", "confirm", "reopen", "disagree", "withdraw"),
    "liaison": ("acknowledge", "request_user_action", "respond", "misrouted"),
    "operator": ("resolve", "close"),
}
ROLES = tuple(ACTIONS)
NOTE = "内部：核查中"


@dataclass
class Tracked:
    """What the service should hold for one case, per the workflow table."""

    case_id: str
    company: str
    expected_count: int
    state: str = "submitted"
    events: list[tuple[str, str, str | None, str]] = field(default_factory=list)

    @property
    def version(self) -> int:
        return len(self.events)


class CaseWorkflow(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.workflow = load_workflow()
        self._mock = moto.mock_aws()
        self._mock.start()
        self.clock = clock.FrozenClock(START)
        self._previous_clock = clock.use(self.clock)
        self._ready = False
        try:
            self._build_world()
        except BaseException:
            self.teardown()  # Hypothesis calls teardown only for a machine that was built
            raise
        self._ready = True

    # -- the world, as tests/conftest.py builds it ---------------------------------------------
    def _build_world(self) -> None:
        from chalice.test import Client

        from app import app
        from chalicelib import config
        from chalicelib.adapters.registry import registry

        # The clients outlive the emulated AWS they were made in (moto patches every client),
        # so each example reuses them: a new world costs its tables, not eight new clients.
        self.settings = config.settings()
        fresh_tables(self.settings)
        kms = aws_clients.client("kms", self.settings.region)
        key_id = kms.create_key(Description="recount stateful")["KeyMetadata"]["KeyId"]
        kms.create_alias(AliasName=self.settings.kms_key_id, TargetKeyId=key_id)
        phone, id6, carrier = DEMO["active"]
        registry(self.settings).enrol("+86" + phone, id6, "active", carrier)

        self.api = Api(Client(app, stage_name="local"), self.clock)
        self.person = self.api.sign_in(phone, id6)
        self.operator = keys.issue("operator", None, "stateful")["key"]
        self.liaison_keys: dict[str, str] = {}
        items = [
            {"company": c, "reported_count": 4, "expected_count": n, "reason": "not_mine"}
            for c, n in zip(COMPANIES, (1, 0), strict=True)
        ]
        r = self.api.call("POST", "/v1/disputes", {"items": items}, token=self.person)
        assert r.status_code == 201, r.body
        self.dispute_id = r.data["dispute_id"]
        self.cases = [
            Tracked(c["case_id"], c["company"], c["expected_count"], c["state"])
            for c in r.data["cases"]
        ]
        for case in self.cases:
            case.events.append(("file", "user", None, "submitted"))
        self.seen_versions = {c.case_id: 1 for c in self.cases}
        self.touched: list[Tracked] = list(self.cases)

    def teardown(self) -> None:
        clock.use(self._previous_clock)
        self._mock.stop()

    # -- acting -----------------------------------------------------------------------------
    def liaison_key(self, company: str) -> str:
        if company not in self.liaison_keys:
            self.liaison_keys[company] = keys.issue("liaison", company, "stateful")["key"]
        return self.liaison_keys[company]

    def open_companies(self) -> set[str]:
        return {c.company for c in self.cases if self.workflow.is_open(c.state)}

    def body(self, case: Tracked, action: str, draw) -> dict:
        body: dict = {"action": action}
        if action == "confirm":
            body["new_count"] = draw(
                st.sampled_from([case.expected_count, case.expected_count + 1, 4])
            )
        elif action == "disagree":
            body["statement"] = "答复与事实不符"
        elif action in ("reopen", "user_done", "withdraw"):
            if draw(st.booleans()):
                body["note"] = "已按提示操作"
        elif action == "respond":
            body["response_code"] = draw(st.sampled_from(RESPONSE_CODES))
            body["message"] = "已核查并处理"
            body["internal_note"] = NOTE
        elif action == "request_user_action":
            body["message"] = "请先用本号码登录该账号"
        elif action == "misrouted":
            body["target_company"] = draw(
                st.sampled_from([t for t in TARGETS if t != case.company])
            )
        elif action == "acknowledge":
            body["internal_note"] = NOTE
        elif action in ("resolve", "close"):
            body["message"] = "运营已核实"
            body["internal_note"] = NOTE
        return body

    def perform(self, case: Tracked, role: str, body: dict) -> None:
        action = body["action"]
        if role == "user":
            path, token = f"/v1/cases/{case.case_id}/actions", self.person
        elif role == "liaison":
            path = f"/v1/liaison/cases/{case.case_id}/transitions"
            token = self.liaison_key(case.company)
        else:
            path, token = f"/v1/admin/cases/{case.case_id}/transitions", self.operator
        r = self.api.call("POST", path, body, token=token)
        self.touched = [case]
        step = f"{role} {body} on {case.company} case in {case.state}"

        if case.state not in self.workflow.actions[action].sources:
            assert r.status_code == 409, (step, r.status_code, r.body)
            assert r.data["code"] == "invalid_transition", (step, r.data)
            assert r.data["state"] == case.state, (step, r.data)
            return
        target = body.get("target_company")
        if target is not None and target in self.open_companies():
            assert r.status_code == 409, (step, r.status_code, r.body)
            assert r.data["code"] == "case_already_open", (step, r.data)
            return
        assert r.status_code == 200, (step, r.status_code, r.body)
        outcome = None
        if len(self.workflow.actions[action].effects) > 1:
            matches = body.get("new_count") == case.expected_count
            outcome = "count_matches" if matches else "count_differs"
        decision = self.workflow.decide(case.state, action, role, outcome=outcome)
        case.events.append((action, role, case.state, decision.to_state))
        case.state = decision.to_state
        assert r.data["state"] == case.state, (step, r.data)
        assert r.data["action_on"] == decision.action_on, (step, r.data)
        assert r.data["version"] == case.version, (step, r.data)
        etag = next(v for k, v in r.headers.items() if k.lower() == "etag")
        assert etag == f'"{case.version}"', (step, r.headers)
        if decision.effect == "open_case_at_target":
            self.adopt_rerouted(case, target)

    def adopt_rerouted(self, origin: Tracked, target: str) -> None:
        r = self.api.call("GET", f"/v1/disputes/{self.dispute_id}", token=self.person)
        known = {c.case_id for c in self.cases}
        new = [c for c in r.data["cases"] if c["case_id"] not in known]
        assert [c["company"] for c in new] == [target], (target, r.data["cases"])
        tracked = Tracked(new[0]["case_id"], target, origin.expected_count)
        tracked.events.append(("rerouted_in", "liaison", None, "submitted"))
        self.cases.append(tracked)
        self.touched.append(tracked)
        self.seen_versions[tracked.case_id] = 1

    # -- rules ------------------------------------------------------------------------------
    @rule(
        index=st.integers(0, 7),
        role=st.sampled_from(ROLES),
        choice=st.integers(0, 4),
        data=st.data(),
    )
    def any_action(self, index: int, role: str, choice: int, data) -> None:
        """Any action of any role on any case, allowed now or not."""
        case = self.cases[index % len(self.cases)]
        action = ACTIONS[role][choice % len(ACTIONS[role])]
        self.perform(case, role, self.body(case, action, data.draw))

    @rule(index=st.integers(0, 7), data=st.data())
    def allowed_action(self, index: int, data) -> None:
        """An action the table allows now, so that the walk reaches deep states."""
        case = self.cases[index % len(self.cases)]
        choices = [
            (role, action)
            for role in ROLES
            for action in self.workflow.actions_for(role, case.state)
        ]
        if not choices:  # terminal: any action at all must be refused
            role = data.draw(st.sampled_from(ROLES))
            choices = [(role, a) for a in ACTIONS[role]]
        role, action = data.draw(st.sampled_from(choices))
        self.perform(case, role, self.body(case, action, data.draw))

    # -- checks after every step ------------------------------------------------------------
    @invariant()
    def the_person_sees_what_the_table_says(self) -> None:
        if not self._ready:
            return
        r = self.api.call("GET", f"/v1/disputes/{self.dispute_id}", token=self.person)
        assert r.status_code == 200, r.body
        assert "internal_note" not in r.body.decode() and NOTE not in r.body.decode()
        served = {c["case_id"]: c for c in r.data["cases"]}
        assert set(served) == {c.case_id for c in self.cases}
        for case in self.cases:
            view = served[case.case_id]
            state = self.workflow.state(view["state"])
            assert view["state"] == case.state, (case, view["state"])
            assert view["action_on"] == state.action_on, view
            assert view["version"] == case.version == len(view["history"]), view
            assert view["version"] >= self.seen_versions[case.case_id]
            self.seen_versions[case.case_id] = view["version"]
            assert view["allowed_actions"] == self.workflow.actions_for("user", case.state)
            trail = [(e["action"], e["actor"], e["from"], e["to"]) for e in view["history"]]
            assert trail == case.events, (case.case_id, trail, case.events)
            assert [e["version"] for e in view["history"]] == list(range(1, case.version + 1))

    @invariant()
    def staff_see_the_same_trail_with_notes(self) -> None:
        """The operator's view of the cases the last step acted on (the person's view above
        already covers every case)."""
        if not self._ready:
            return
        for case in self.touched:
            r = self.api.call("GET", f"/v1/admin/cases/{case.case_id}", token=self.operator)
            assert r.status_code == 200, r.body
            view = r.data
            assert (view["state"], view["version"]) == (case.state, case.version), view
            assert view["allowed_actions"] == self.workflow.actions_for("operator", case.state)
            trail = [(e["action"], e["actor"], e["from"], e["to"]) for e in view["history"]]
            assert trail == case.events
            for event in view["history"]:
                noted = event["action"] in ("acknowledge", "respond", "resolve", "close")
                assert (event.get("internal_note") == NOTE) == noted, event
            if not self.workflow.is_open(case.state):
                assert view["action_on"] == "none" and view["due_at"] is None, view


def test_case_workflow_follows_the_table(stage_env):
    run_state_machine_as_test(
        CaseWorkflow,
        settings=settings(
            max_examples=15,
            stateful_step_count=12,
            deadline=None,
            database=None,
            # No shrinking: each step is an HTTP round trip, and shrinking a failure takes
            # minutes. The failing sequence of steps is printed as it was found.
            phases=[Phase.explicit, Phase.generate],
            suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
        ),
    )
