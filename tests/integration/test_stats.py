"""Statistics kept from the audit stream (issue 8): a seeded history walked through the real
API, the real scheduler and moto's real DynamoDB stream on the events table, with every
figure checked against expectations computed by hand below.

The history (START is Friday 2026-11-27 10:00 Shanghai; no holiday falls in it, so the
acknowledgement deadline is the end of Tue 1 Dec and the response deadline the end of
Fri 11 Dec):

  jd  A  filed Fri · acknowledged Mon · responded Wed (3 wd) · person confirms → resolved
  jd  B  filed Fri · responded Mon straight from submitted (1 wd) · reopened → escalated ·
         responded again Thu · person re-queries, count still wrong → escalated ·
         operator resolves
  jd  C  filed Fri · nothing · the Wed sweep fires sla_breach → escalated ·
         responded Thu from escalated (4 wd; the response was already late)
  jd  D  filed Fri · acknowledged Wed (late) · asks the person to act (clock paused) ·
         responded Thu from awaiting_user (4 wd, on time: no deadline in force) ·
         person disagrees → disputed_closed
  jd  G  filed Fri · misrouted Mon to tencent (an on-time answer) → rerouted
  tc  E  filed Fri · acknowledged Mon
  tc  F  filed Fri · withdrawn Fri
  tc  G' rerouted in Mon → submitted

Hand-computed figures — jd: received 5; open: responded 1 (C), others 0; settled: resolved
2, disputed_closed 1, rerouted 1; acknowledgement on time A, B, G of A, B, C, D, G = 3/5 =
0.6; response on time A, B, D of A, B, C, D = 3/4 = 0.75; first-response working days
{1: B, 3: A, 4: C, D} → median of [1, 3, 4, 4] = 3.5; responses A, B×2, C, D = 5, reopened
B twice → 2/5 = 0.4; escalations 3 (reopen, sla_breach, confirm).
tencent: received 3 (E, F, G'); open submitted 1, acknowledged 1; settled withdrawn 1;
acknowledgement 1/1; no responses, so no response rate, median or reopen rate.
"""

from __future__ import annotations

import csv
import dataclasses
import io
import re
from collections.abc import Iterator
from datetime import date, datetime, timedelta
from typing import Any
from urllib.parse import urljoin

import pytest

from app import app
from chalicelib.adapters import stats_store
from chalicelib.domain import clock, insight
from chalicelib.domain.directory import load_directory
from chalicelib.domain.workdays import SHANGHAI
from chalicelib.services import (
    case_export,
    company_figures,
    directory_status,
    keys,
    local_stream_pump,
    scheduler,
    stats_aggregation,
)
from tests.conftest import DEMO, START
from tests.integration.helpers import assert_problem, header, item, media_type
from tests.support import Api, emulated_aws, local_stage_env

NUMBERS = {
    "A": DEMO["active"][:2],  # 北京市
    "B": DEMO["second"][:2],  # 上海市
    "C": DEMO["unicom"][:2],  # 北京市
    "D": ("13510000000", "20000X"),  # 广东省深圳市
    "G": ("13600000000", "300003"),  # 广东省广州市
}
RESPOND = {"action": "respond", "response_code": "accounts_unbound", "message": "已解绑2个账号"}


def shanghai(day: int, hour: int, month: int = 11) -> datetime:
    return datetime(2026, month, day, hour, tzinfo=SHANGHAI)


@dataclasses.dataclass
class History:
    api: Api
    settings: Any
    clock: clock.FrozenClock
    operator: str
    liaisons: dict[str, str]
    tokens: dict[str, str]
    cases: dict[str, str] = dataclasses.field(default_factory=dict)
    counted: list[int] = dataclasses.field(default_factory=list)
    monday: dict[str, Any] = dataclasses.field(default_factory=dict)
    signed_in: dict[str, datetime] = dataclasses.field(default_factory=dict)

    def at(self, when: datetime) -> None:
        self.clock.set(when)

    def pump(self) -> int:
        n = local_stream_pump.pump_audit_stream(self.settings)
        self.counted.append(n)
        return n

    def file(self, name: str, person: str, company: str) -> str:
        r = self.api.call(
            "POST", "/v1/disputes", {"items": [item(company)]}, token=self.tokens[person]
        )
        assert r.status_code == 201, r.body
        self.cases[name] = r.data["cases"][0]["case_id"]
        return self.cases[name]

    def liaison(self, name: str, company: str, body: dict) -> dict:
        r = self.api.call(
            "POST",
            f"/v1/liaison/cases/{self.cases[name]}/transitions",
            body,
            token=self.liaisons[company],
        )
        assert r.status_code == 200, r.body
        return r.data

    def person(self, name: str, who: str, body: dict) -> dict:
        if self.clock.now() - self.signed_in.get(who, START) > timedelta(minutes=20):
            self.tokens[who] = self.api.sign_in(*NUMBERS[who])  # sessions last 30 minutes
            self.signed_in[who] = self.clock.now()
        r = self.api.call(
            "POST", f"/v1/cases/{self.cases[name]}/actions", body, token=self.tokens[who]
        )
        assert r.status_code == 200, r.body
        return r.data

    def stats(self) -> dict[str, Any]:
        r = self.api.call("GET", "/v1/admin/stats", token=self.operator)
        assert r.status_code == 200, r.body
        return {c["company"]: c for c in r.data["companies"]} | {"_all": r.data}


@pytest.fixture(scope="module")
def history() -> Iterator[History]:
    from chalice.test import Client

    subscribers = [(phone, id6, "active", "China Mobile") for phone, id6 in NUMBERS.values()]
    with pytest.MonkeyPatch.context() as mp:
        for name, value in local_stage_env().items():
            mp.setenv(name, value)
        frozen = clock.FrozenClock(START)
        previous = clock.use(frozen)
        try:
            with emulated_aws(subscribers) as settings, Client(app, stage_name="local") as client:
                api = Api(client, frozen)
                h = History(
                    api=api,
                    settings=settings,
                    clock=frozen,
                    operator=keys.issue("operator", None, "stats")["key"],
                    liaisons={
                        c: keys.issue("liaison", c, "stats")["key"] for c in ("jd", "tencent")
                    },
                    tokens={p: api.sign_in(*NUMBERS[p]) for p in NUMBERS},
                )
                seed(h)
                yield h
        finally:
            clock.use(previous)


def seed(h: History) -> None:
    # Friday 27 Nov: the filings (and F withdrawn at once).
    h.at(shanghai(27, 10))
    for name, person, company in (
        ("A", "A", "jd"),
        ("B", "B", "jd"),
        ("C", "C", "jd"),
        ("D", "D", "jd"),
        ("G", "G", "jd"),
        ("E", "A", "tencent"),
        ("F", "B", "tencent"),
    ):
        h.file(name, person, company)
    h.person("F", "B", {"action": "withdraw"})
    assert h.pump() == 8  # 7 filings and one withdrawal

    # Monday 30 Nov.
    h.at(shanghai(30, 10))
    h.liaison("A", "jd", {"action": "acknowledge"})
    h.liaison("B", "jd", RESPOND)
    h.liaison("E", "tencent", {"action": "acknowledge"})
    h.liaison("G", "jd", {"action": "misrouted", "target_company": "tencent"})
    h.at(shanghai(30, 11))
    h.person("B", "B", {"action": "reopen"})
    h.pump()
    h.monday = h.stats()

    # Wednesday 2 Dec: D's acknowledgement comes a day late; the sweep escalates C.
    h.at(shanghai(2, 10, month=12))
    h.liaison("A", "jd", RESPOND)
    h.liaison("D", "jd", {"action": "acknowledge"})
    h.liaison("D", "jd", {"action": "request_user_action", "message": "请在京东App内完成核验"})
    h.at(shanghai(2, 10, month=12) + timedelta(minutes=5))
    fired = scheduler.fire_due_timers(h.settings)
    assert [(f.case_id, f.action, f.outcome) for f in fired] == [
        (h.cases["C"], "sla_breach", "fired")
    ]
    h.person("A", "A", {"action": "confirm", "new_count": 1})
    h.pump()

    # Thursday 3 Dec.
    h.at(shanghai(3, 10, month=12))
    h.liaison("C", "jd", RESPOND)
    h.liaison("D", "jd", RESPOND)
    h.liaison("B", "jd", RESPOND)
    h.person("D", "D", {"action": "disagree", "statement": "这些账号不是我注册的"})
    h.person("B", "B", {"action": "confirm", "new_count": 3})
    r = h.api.call(
        "POST",
        f"/v1/admin/cases/{h.cases['B']}/transitions",
        {"action": "resolve", "message": "已核实处理"},
        token=h.operator,
    )
    assert r.status_code == 200, r.body
    h.pump()


OPEN_ZERO = {s: 0 for s in ("submitted", "acknowledged", "awaiting_user", "responded", "escalated")}
SETTLED_ZERO = {s: 0 for s in ("resolved", "disputed_closed", "withdrawn", "expired", "rerouted")}


def test_every_event_was_counted_once_as_it_streamed(history: History):
    # 8 on Friday; Monday 5 (ack A, respond B, ack E, misrouted G + G' rerouted in) + reopen;
    # Wednesday 5 (respond A, ack D, request D, sla_breach C, confirm A);
    # Thursday 6 (respond C, D, B; disagree D; confirm B; resolve B).
    assert history.counted == [8, 6, 5, 6]
    assert history.pump() == 0


def test_open_by_state_moves_with_each_transition(history: History):
    jd, tencent = history.monday["jd"], history.monday["tencent"]
    # Monday evening: A acknowledged; B escalated; C, D submitted; G rerouted.
    assert jd["open"] == OPEN_ZERO | {"submitted": 2, "acknowledged": 1, "escalated": 1}
    assert jd["settled"] == SETTLED_ZERO | {"rerouted": 1}
    assert tencent["open"] == OPEN_ZERO | {"submitted": 1, "acknowledged": 1}


def test_jd_figures_match_the_hand_computed_ones(history: History):
    jd = history.stats()["jd"]
    assert jd["received"] == 5
    assert jd["open"] == OPEN_ZERO | {"responded": 1}
    assert jd["open_total"] == 1
    assert jd["settled"] == SETTLED_ZERO | {"resolved": 2, "disputed_closed": 1, "rerouted": 1}
    assert jd["acknowledgement"] == {"on_time": 3, "total": 5, "on_time_rate": 0.6}
    assert jd["response"] == {"on_time": 3, "total": 4, "on_time_rate": 0.75}
    assert jd["days_to_respond"] == {
        "median_working_days": 3.5,
        "cases": 4,
        "histogram": {"1": 1, "3": 1, "4": 2},
    }
    assert jd["reopen"] == {"reopened": 2, "responses": 5, "rate": 0.4}
    assert jd["escalations"] == {
        "total": 3,
        "by_cause": {"confirm": 1, "reopen": 1, "sla_breach": 1},
    }


def test_tencent_figures_and_the_totals(history: History):
    figures = history.stats()
    tencent = figures["tencent"]
    assert tencent["received"] == 3
    assert tencent["open"] == OPEN_ZERO | {"submitted": 1, "acknowledged": 1}
    assert tencent["settled"] == SETTLED_ZERO | {"withdrawn": 1}
    assert tencent["acknowledgement"] == {"on_time": 1, "total": 1, "on_time_rate": 1.0}
    assert tencent["response"] == {"on_time": 0, "total": 0, "on_time_rate": None}
    assert tencent["days_to_respond"]["median_working_days"] is None
    assert tencent["reopen"]["rate"] is None
    assert tencent["escalations"] == {"total": 0, "by_cause": {}}
    assert figures["baidu"]["received"] == 0  # every directory entry is listed
    totals = figures["_all"]["totals"]
    assert totals["received"] == 8
    assert totals["open_total"] == 3
    assert totals["acknowledgement"] == {"on_time": 4, "total": 6, "on_time_rate": 0.6667}
    assert totals["days_to_respond"]["median_working_days"] == 3.5


def test_redelivered_stream_records_do_not_count_twice(history: History):
    before = history.stats()
    # Lambda may deliver a batch again, whole or in part, in any order: read the stream
    # from its start with a fresh reader and feed every record twice.
    records = stats_store.StreamReader(history.settings).read()
    assert sum(r["eventName"] == "INSERT" for r in records) == 25  # MODIFY: TTLs on settling
    assert stats_aggregation.aggregate_records(history.settings, records + records[::-1]) == 0
    after = history.stats()
    for company in ("jd", "tencent"):
        assert after[company] == before[company]


def test_a_racing_worker_loses_to_the_marker(history: History):
    """Two workers read one case's marker before either commits: only one may count."""
    s = history.settings
    event = insight.AuditEvent.from_item(
        {
            "case_id": "CRACE00001",
            "version": 1,
            "action": "file",
            "to_state": "submitted",
            "at": "2026-12-03T02:00:00Z",
            "company": "meituan",
            "region": "北京市",
            "case_created_at": "2026-12-03T02:00:00Z",
        }
    )
    stale = stats_store.read_marker(s, event.case_id)
    assert stats_aggregation.count_event(s, event, ["submitted"]) is True
    change = insight.effects(event, stale.flags, ["submitted"])
    outcome = stats_store.apply(
        s,
        event.case_id,
        event.version,
        stale,
        flags=change.flags,
        counters=change.counters,
        index=change.index,
        marker_expires=START,
        index_expires=START,
    )
    assert outcome == stats_store.STALE
    assert stats_aggregation.count_event(s, event, ["submitted"]) is False
    assert stats_store.figures(s, "company#meituan") == {"received": 1, "open#submitted": 1}


def test_records_that_change_nothing_are_skipped(history: History):
    s = history.settings
    junk = [
        {"eventName": "MODIFY", "dynamodb": {"NewImage": {"case_id": {"S": "CX"}}}},
        {"eventName": "REMOVE", "dynamodb": {"Keys": {"case_id": {"S": "CX"}}}},
        {"eventName": "INSERT", "dynamodb": {"NewImage": {"case_id": {"S": "CX"}}}},
        {"eventName": "INSERT", "dynamodb": {}},
        {"eventName": "INSERT"},
    ]
    assert stats_aggregation.aggregate_records(s, junk) == 0


def test_the_sweep_filing_lands_in_its_hotspot_cell(history: History):
    r = history.api.call("GET", "/v1/admin/hotspots?week=2026-W48", token=history.operator)
    assert r.status_code == 200, r.body
    cells = {(c["company"], c["region"]): c["count"] for c in r.data["cells"]}
    # Filings only (G' was rerouted, not filed): by the region of each person's number.
    assert cells == {
        ("jd", "北京市"): 2,
        ("jd", "上海市"): 1,
        ("jd", "广东省深圳市"): 1,
        ("jd", "广东省广州市"): 1,
        ("tencent", "北京市"): 1,
        ("tencent", "上海市"): 1,
    }
    assert r.data["spike_count"] == 0


# -- directory staleness ------------------------------------------------------------------
def _directory_with_jd_checked_on(day: date):
    """The real directory, with jd's facts verified on `day` except its hotline (never)."""
    directory = load_directory()
    jd = directory.get("jd")

    def checked(fact):
        return dataclasses.replace(fact, verified_at=day)

    jd = dataclasses.replace(
        jd,
        detail_query=dataclasses.replace(jd.detail_query, fact=checked(jd.detail_query.fact)),
        unbind=dataclasses.replace(jd.unbind, fact=checked(jd.unbind.fact)),
        identity_verification=dataclasses.replace(
            jd.identity_verification, fact=checked(jd.identity_verification.fact)
        ),
        hotline=dataclasses.replace(
            jd.hotline, fact=dataclasses.replace(jd.hotline.fact, verified_at=None)
        ),
    )
    return dataclasses.replace(directory, entries={**directory.entries, "jd": jd})


def test_stale_directory_entries_are_flagged_to_liaison_and_operators(history, monkeypatch):
    for module in (directory_status, company_figures):
        monkeypatch.setattr(
            module, "load_directory", lambda: _directory_with_jd_checked_on(date(2026, 9, 1))
        )
    # 2026-09-01 → 2026-11-30 is 90 days: still fresh; the hotline was never checked.
    history.at(shanghai(30, 12))
    r = history.api.call("GET", "/v1/liaison/directory-status", token=history.liaisons["jd"])
    assert r.status_code == 200, r.body
    assert r.data["company"] == "jd" and r.data["stale_after_days"] == 90
    assert r.data["stale_facts"] == ["hotline"]
    assert r.data["facts"]["unbind"]["days_since_verified"] == 90
    assert r.data["facts"]["unbind"]["stale"] is False
    assert r.data["facts"]["hotline"]["verified_at"] is None
    # 1 December: 91 days, every fact is stale.
    history.at(shanghai(1, 12, month=12))
    r = history.api.call("GET", "/v1/liaison/directory-status", token=history.liaisons["jd"])
    assert r.data["stale_facts"] == ["detail_query", "unbind", "hotline", "identity_verification"]
    figures = history.stats()
    assert figures["jd"]["directory"] == {"stale": True, "stale_facts": r.data["stale_facts"]}
    listed = {e["company"]: e["stale_facts"] for e in figures["_all"]["stale_directory"]}
    assert listed["jd"] == r.data["stale_facts"]
    # A liaison sees only their own company's entry.
    r = history.api.call("GET", "/v1/liaison/directory-status", token=history.liaisons["tencent"])
    assert r.data["company"] == "tencent"


# -- the operators' CSV export ------------------------------------------------------------
WHOLE_NUMBER = re.compile(r"1[3-9]\d{9}")


def test_csv_export_pages_through_masked_cases(history: History):
    api, token = history.api, history.operator
    r = api.call("GET", "/v1/admin/cases.csv?state=resolved&limit=1", token=token)
    assert r.status_code == 200, r.body
    assert media_type(r) == "text/csv"
    assert header(r, "Cache-Control") == "no-store"
    pages = [r.body]
    seen = 0
    while header(r, "X-Next-Cursor"):
        link = header(r, "Link")
        assert link and link.endswith('>; rel="next"'), link
        url = urljoin("/v1/admin/cases.csv", link[1 : link.index(">")])
        assert "state=resolved" in url and "limit=1" in url
        r = api.call("GET", url, token=token)
        assert r.status_code == 200, r.body
        pages.append(r.body)
        seen += 1
        assert seen < 5
    rows = []
    for body in pages:
        text = body.decode() if isinstance(body, bytes) else body
        assert not WHOLE_NUMBER.search(text), text
        parsed = list(csv.DictReader(io.StringIO(text)))
        rows.extend(parsed)
    assert sorted(r["case_id"] for r in rows) == sorted([history.cases["A"], history.cases["B"]])
    by_id = {r["case_id"]: r for r in rows}
    assert by_id[history.cases["A"]]["phone_masked"] == "138****8000"
    assert by_id[history.cases["B"]]["phone_masked"] == "139****9000"
    assert by_id[history.cases["A"]]["company"] == "jd"
    assert by_id[history.cases["A"]]["phone_region"] == "北京市"
    assert "note" not in rows[0] and "response" not in rows[0]


def test_csv_export_refuses_what_the_case_list_refuses(history: History):
    api, token = history.api, history.operator
    assert_problem(
        api.call("GET", "/v1/admin/cases.csv?state=nonsense", token=token), 422, "validation_failed"
    )
    assert_problem(api.call("GET", "/v1/admin/cases.csv?cursor=abc.def", token=token), 400)
    r = api.call("GET", "/v1/admin/cases.csv", token=history.liaisons["jd"])
    assert_problem(r, 403, "forbidden")


def test_csv_cells_cannot_become_spreadsheet_formulas():
    assert case_export._cell("=HYPERLINK(1)") == "'=HYPERLINK(1)"
    assert case_export._cell("-1") == "'-1"
    assert (
        case_export._cell(None) == ""
        and case_export._cell(True) == "true"
        and case_export._cell(3) == "3"
    )
