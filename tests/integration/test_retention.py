"""Every record has an end, and erasure is total (docs/design.md §8, issue 15).

A dispute's records end `retention` (180 days by default) after its last case settles: the
dispute, its cases, their events and the statistics markers. Every read treats an item past
its `expires_at` as absent, since moto never deletes it. Erasure removes the dispute, its cases,
SMS, the stored answers that show them (idempotency records) and the statistics items that
name them; the counters stay, and the audit trail keeps only who did what and when.
"""

from __future__ import annotations

import dataclasses
import json
from datetime import datetime, timedelta

import pytest

from chalicelib.adapters import case_store
from chalicelib.domain import clock
from chalicelib.domain.actors import Actor
from chalicelib.services import cases, local_stream_pump, scheduler
from tests.integration.helpers import all_tables, scan
from tests.integration.test_case_actions import Desk, item, problem

RETENTION = timedelta(days=180)


@pytest.fixture
def desk(client, frozen_clock, world) -> Desk:
    return Desk(client, frozen_clock, world)


def stored(desk: Desk, table: str, key: str, value: str) -> dict:
    [found] = [i for i in scan(desk.settings, table) if i[key]["S"] == value]
    return found


def ttl(item: dict) -> datetime | None:
    raw = item.get("expires_at", {}).get("N")
    return datetime.fromtimestamp(int(raw), clock.now().tzinfo) if raw else None


def withdraw(desk: Desk, case_id: str, headers: dict | None = None) -> dict:
    return desk.ok(desk.act(case_id, {"action": "withdraw"}, headers=headers), "withdrawn")


# -- every record has an end ---------------------------------------------------------------------
def test_a_dispute_ends_with_the_last_of_its_cases_to_settle(desk: Desk):
    dispute_id, ids = desk.file("tencent", "jd")
    assert ttl(stored(desk, "disputes", "dispute_id", dispute_id)) is None

    withdraw(desk, ids["tencent"])
    dispute = stored(desk, "disputes", "dispute_id", dispute_id)
    assert ttl(dispute) is None and dispute["open_cases"]["N"] == "1"

    desk.clock.advance(days=3)
    desk.persons.clear()  # the session has lapsed: sign in again
    withdraw(desk, ids["jd"])
    settled_at = clock.now().replace(microsecond=0)
    dispute = stored(desk, "disputes", "dispute_id", dispute_id)
    assert ttl(dispute) == settled_at + RETENTION and dispute["open_cases"]["N"] == "0"
    for case_id in ids.values():
        assert ttl(stored(desk, "cases", "case_id", case_id)) is not None
    events = [e for e in scan(desk.settings, "events") if e["case_id"]["S"] in ids.values()]
    assert events and all(ttl(e) is not None for e in events)


def test_a_rerouted_case_keeps_its_dispute_open_until_the_new_case_settles(desk: Desk):
    dispute_id, ids = desk.file("tencent")
    r = desk.transition("tencent", ids["tencent"], {"action": "misrouted", "target_company": "jd"})
    desk.ok(r, "rerouted")
    dispute = stored(desk, "disputes", "dispute_id", dispute_id)
    assert ttl(dispute) is None and dispute["open_cases"]["N"] == "1"
    [new_case] = [c for c in dispute["case_ids"]["L"] if c["S"] != ids["tencent"]]

    withdraw(desk, new_case["S"])
    assert ttl(stored(desk, "disputes", "dispute_id", dispute_id)) is not None


def test_of_two_cases_settling_at_once_exactly_one_is_last(desk: Desk, monkeypatch):
    """The count of open cases is DynamoDB's: case A guesses "not last" while case B settles
    in between; A's guess then fails its condition, and A tries again as the last."""
    dispute_id, ids = desk.file("tencent", "jd")
    phone_key = stored(desk, "cases", "case_id", ids["tencent"])["phone_key"]["S"]
    person = Actor("user", phone_key=phone_key)
    original = case_store._count_off
    guesses: list[tuple[str, bool]] = []

    def count_off(tx, dispute, expires, *, last):
        guesses.append((current[-1], last))
        if current[-1] == "A" and not last and not current.count("B"):
            current.append("B")  # B settles while A's transaction is being built
            cases.take_action(desk.settings, person, ids["jd"], {"action": "withdraw"})
            current.append("A")
        original(tx, dispute, expires, last=last)

    current = ["A"]
    monkeypatch.setattr(case_store, "_count_off", count_off)
    cases.take_action(desk.settings, person, ids["tencent"], {"action": "withdraw"})
    assert guesses == [("A", True), ("A", False), ("B", True), ("B", False), ("A", True)]
    dispute = stored(desk, "disputes", "dispute_id", dispute_id)
    assert ttl(dispute) is not None and dispute["open_cases"]["N"] == "0"


def test_the_retention_is_a_setting(desk: Desk):
    _, ids = desk.file("tencent")
    settings = dataclasses.replace(desk.settings, retention_days=30)
    phone_key = stored(desk, "cases", "case_id", ids["tencent"])["phone_key"]["S"]
    person = Actor("user", phone_key=phone_key)
    cases.take_action(settings, person, ids["tencent"], {"action": "withdraw"})
    assert ttl(stored(desk, "cases", "case_id", ids["tencent"])) == clock.now().replace(
        microsecond=0
    ) + timedelta(days=30)


def test_an_expired_dispute_is_absent_from_every_read(desk: Desk):
    dispute_id, ids = desk.file("tencent")
    case_id = ids["tencent"]
    withdraw(desk, case_id)
    scheduler.tick(desk.settings)  # the SMS go out
    local_stream_pump.pump_audit_stream(desk.settings)  # markers, hotspot entry
    settled_at = clock.now()

    def visible() -> dict[str, bool]:
        token = desk.person()
        mine = desk.api.call("GET", "/v1/disputes", token=token)
        queue = desk.queue("tencent", "state=withdrawn")[1]
        admin = desk.api.call("GET", "/v1/admin/cases?state=withdrawn", token=desk.operator)
        return {
            "list": dispute_id in mine.body.decode(),
            "dispute": desk.api.call("GET", f"/v1/disputes/{dispute_id}", token=token).status_code
            == 200,
            "liaison case": desk.api.call(
                "GET", f"/v1/liaison/cases/{case_id}", token=desk.liaison("tencent")
            ).status_code
            == 200,
            "operator case": desk.api.call(
                "GET", f"/v1/admin/cases/{case_id}", token=desk.operator
            ).status_code
            == 200,
            "queue": any(c["case_id"] == case_id for c in queue["items"]),
            "operators' view": any(c["case_id"] == case_id for c in admin.data["items"]),
        }

    desk.clock.advance(days=179)
    desk.persons.clear()  # the session has long lapsed: sign in again
    assert all(visible().values()), visible()
    desk.clock.advance(days=2)
    desk.persons.clear()
    assert not any(visible().values()), visible()
    # DynamoDB has not deleted them yet (it takes up to 48 h; moto never does): reads hide them.
    # Every item that names the dispute or its case carries an end that has passed.
    assert clock.now() - settled_at > RETENTION
    naming = {
        name.removeprefix(desk.settings.table_prefix + "-"): [
            i for i in items if dispute_id in json.dumps(i) or case_id in json.dumps(i)
        ]
        for name, items in all_tables(desk.settings).items()
    }
    assert {n for n, items in naming.items() if items} >= {"disputes", "cases", "events", "stats"}
    for name, items in naming.items():
        for found in items:
            assert ttl(found) is not None and ttl(found) < clock.now(), (name, found)
    r = desk.api.call("DELETE", f"/v1/disputes/{dispute_id}", token=desk.person())
    problem(r, 404, "not_found")


def test_a_settled_case_marker_ends_with_the_case(desk: Desk):
    _, ids = desk.file("tencent")
    local_stream_pump.pump_audit_stream(desk.settings)
    open_marker = stored(desk, "stats", "pk", f"case#{ids['tencent']}")
    assert ttl(open_marker) > clock.now() + RETENTION  # may still move: kept longer
    withdraw(desk, ids["tencent"])
    local_stream_pump.pump_audit_stream(desk.settings)
    marker = stored(desk, "stats", "pk", f"case#{ids['tencent']}")
    assert ttl(marker) == clock.now().replace(microsecond=0) + RETENTION


# -- erasure is total ------------------------------------------------------------------------------
def counters(desk: Desk) -> dict[tuple[str, str], str]:
    """The statistics' counts (not the markers or index entries that name cases)."""
    return {
        (i["pk"]["S"], i["sk"]["S"]): i["value"]["N"]
        for i in scan(desk.settings, "stats")
        if not i["pk"]["S"].startswith(("case#", "hotcases#"))
    }


def test_erasure_removes_stored_answers_statistics_links_and_regions(desk: Desk):
    token = desk.person()
    filing = {"items": [item("tencent")]}
    r = desk.api.call(
        "POST", "/v1/disputes", filing, token=token, headers={"Idempotency-Key": "file-1"}
    )
    assert r.status_code == 201, r.body
    dispute_id, case_id = r.data["dispute_id"], r.data["cases"][0]["case_id"]
    withdraw(desk, case_id, headers={"Idempotency-Key": "withdraw-1"})
    local_stream_pump.pump_audit_stream(desk.settings)
    counts = counters(desk)
    assert any(i["sk"]["S"] == case_id for i in scan(desk.settings, "stats")), "indexed"

    r = desk.api.call("DELETE", f"/v1/disputes/{dispute_id}", token=token)
    assert r.status_code == 204, r.body
    local_stream_pump.pump_audit_stream(desk.settings)  # the erasure's own records count nothing

    # Nothing but the bare audit trail names the dispute or its case, and nothing names the
    # number's region; the counts are as they were.
    for name, items in all_tables(desk.settings).items():
        text = json.dumps(items, ensure_ascii=False)
        if name.endswith("-events"):
            trail = [i for i in items if i["case_id"]["S"] == case_id]
            assert trail and not any("region" in i for i in trail), trail
            continue
        assert dispute_id not in text and case_id not in text, name
    assert counters(desk) == counts

    # A replay never shows the erased dispute: the filing runs afresh, the withdrawal finds
    # no case.
    again = desk.api.call(
        "POST", "/v1/disputes", filing, token=token, headers={"Idempotency-Key": "file-1"}
    )
    assert again.status_code == 201 and again.headers.get("Idempotent-Replayed") is None
    assert again.data["dispute_id"] != dispute_id
    r = desk.act(case_id, {"action": "withdraw"}, headers={"Idempotency-Key": "withdraw-1"})
    problem(r, 404, "not_found")
