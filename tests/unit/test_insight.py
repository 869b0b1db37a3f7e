"""Operator insight as pure rules (chalicelib.domain.insight): what each audit event changes,
medians from histograms, the spike rule, the scorecard threshold, regions and ISO weeks.
No AWS here."""

from __future__ import annotations

import random
from datetime import UTC, datetime

import pytest

from chalicelib.domain import insight
from chalicelib.domain.insight import AuditEvent, assess, effects

OPEN = ["submitted", "acknowledged", "awaiting_user", "responded", "escalated"]
SETTLED = ["resolved", "disputed_closed", "withdrawn", "expired", "rerouted"]
FILED = "2026-11-27T02:00:00Z"  # Friday 10:00 Shanghai
ACK_DUE = "2026-12-01T15:59:59Z"  # end of Tuesday: 2 working days
RESPOND_DUE = "2026-12-11T15:59:59Z"  # end of Friday week after: 10 working days


def ev(action, src, dst, at, due=ACK_DUE, version=2, company="jd", **extra) -> AuditEvent:
    return AuditEvent.from_item(
        {
            "case_id": "C000000001",
            "version": version,
            "action": action,
            "actor": "liaison",
            "from_state": src,
            "to_state": dst,
            "at": at,
            "company": company,
            "kind": "accounts",
            "lane": "standard",
            "region": "广东省深圳市",
            "case_created_at": FILED,
            "due_at": due,
            **extra,
        }
    )


def figures(change) -> dict[str, int]:
    return {figure: n for (scope, figure), n in change.counters.items() if scope == "company#jd"}


def walk(events):
    """Applies events in order the way the aggregator does, carrying the case's flags."""
    flags: set[str] = set()
    total: dict[str, int] = {}
    for e in events:
        change = effects(e, flags, OPEN)
        flags |= change.flags
        for k, v in figures(change).items():
            total[k] = total.get(k, 0) + v
    return {k: v for k, v in total.items() if v}, flags


# -- what one event changes --------------------------------------------------------------------
def test_a_filing_is_received_opens_a_case_and_lands_in_its_hotspot_cell():
    change = effects(ev("file", None, "submitted", FILED, version=1), set(), OPEN)
    assert figures(change) == {"received": 1, "open#submitted": 1}
    assert change.counters[("hot#2026-W48", "jd#广东省#深圳市")] == 1
    assert change.index == [("hotcases#2026-W48#jd#广东省#深圳市", "C000000001")]
    assert change.flags == {"indexed"}


def test_a_listed_case_that_settles_lists_itself_again_to_end_with_the_case():
    """Its hotspot entry is written again (with the settled case's end); a case that was
    never listed (rerouted in) is not listed at its end either."""
    withdraw = ev("withdraw", "submitted", "withdrawn", "2026-12-03T02:00:00Z")
    assert effects(withdraw, {"indexed"}, OPEN).index == [
        ("hotcases#2026-W48#jd#广东省#深圳市", "C000000001")
    ]
    assert effects(withdraw, set(), OPEN).index == []
    acknowledge = ev("acknowledge", "submitted", "acknowledged", "2026-12-03T02:00:00Z")
    assert effects(acknowledge, {"indexed"}, OPEN).index == []


def test_a_case_rerouted_in_is_received_but_is_not_a_filing():
    change = effects(ev("rerouted_in", None, "submitted", FILED, version=1), set(), OPEN)
    assert figures(change) == {"received": 1, "open#submitted": 1}
    assert change.index == []
    assert not any(scope.startswith("hot#") for scope, _ in change.counters)


def test_acknowledged_then_responded_on_time():
    totals, flags = walk(
        [
            ev("file", None, "submitted", FILED, version=1),
            ev("acknowledge", "submitted", "acknowledged", "2026-11-30T02:00:00Z"),
            ev("respond", "acknowledged", "responded", "2026-12-02T02:00:00Z", RESPOND_DUE, 3),
        ]
    )
    assert totals == {
        "received": 1,
        "open#responded": 1,
        "ack_total": 1,
        "ack_on_time": 1,
        "resp_total": 1,
        "resp_on_time": 1,
        "responded": 1,
        "respond_days#3": 1,  # Mon, Tue, Wed
    }
    assert flags == {"ack", "resp", "responded", "indexed"}


def test_the_deadline_second_itself_is_on_time_and_the_next_is_late():
    on = effects(ev("acknowledge", "submitted", "acknowledged", ACK_DUE), set(), OPEN)
    late = effects(ev("acknowledge", "submitted", "acknowledged", "2026-12-01T16:00:00Z"), (), OPEN)
    assert figures(on)["ack_on_time"] == 1
    assert "ack_on_time" not in figures(late) and figures(late)["ack_total"] == 1


def test_a_paused_clock_counts_as_on_time():
    totals, _ = walk(
        [
            ev("acknowledge", "submitted", "acknowledged", "2026-11-30T02:00:00Z"),
            ev("request_user_action", "acknowledged", "awaiting_user", "2026-11-30T03:00:00Z"),
            # Weeks later, but the company clock is paused while the person acts: no due_at.
            ev("respond", "awaiting_user", "responded", "2026-12-30T02:00:00Z", due=None),
        ]
    )
    assert totals["resp_on_time"] == 1 and totals["resp_total"] == 1


def test_an_sla_breach_is_a_missed_acknowledgement_and_a_missed_response():
    totals, flags = walk(
        [
            ev("sla_breach", "submitted", "escalated", ACK_DUE),  # at == due, still late
            ev("respond", "escalated", "responded", "2026-12-03T02:00:00Z", due=None),
        ]
    )
    assert totals == {
        "open#submitted": -1,  # (the filing is not in this walk)
        "open#responded": 1,
        "ack_total": 1,
        "resp_total": 1,
        "responded": 1,
        "respond_days#4": 1,  # its first response still counts for the median
        "escalations#sla_breach": 1,
    }
    assert flags == {"ack", "resp", "responded"}


def test_a_second_response_after_a_reopen_counts_only_as_a_response():
    totals, _ = walk(
        [
            ev("respond", "submitted", "responded", "2026-11-30T02:00:00Z"),
            ev("reopen", "responded", "escalated", "2026-11-30T03:00:00Z", due=None, version=3),
            ev("respond", "escalated", "responded", "2026-12-03T02:00:00Z", due=None, version=4),
            ev("confirm", "responded", "escalated", "2026-12-04T02:00:00Z", due=None, version=5),
        ]
    )
    assert totals["responded"] == 2
    assert totals["reopened"] == 2
    assert totals["resp_total"] == 1 and totals["resp_on_time"] == 1
    assert totals["ack_total"] == 1 and totals["ack_on_time"] == 1  # respond answered it
    assert totals["respond_days#1"] == 1 and "respond_days#4" not in totals
    assert totals["escalations#reopen"] == 1 and totals["escalations#confirm"] == 1


def test_confirm_that_matches_is_no_reopen_and_settles_the_case():
    change = effects(ev("confirm", "responded", "resolved", "2026-12-04T02:00:00Z"), set(), OPEN)
    assert figures(change) == {"open#responded": -1, "settled#resolved": 1}


def test_misrouting_answers_the_acknowledgement_and_withdrawal_does_not():
    change = effects(ev("misrouted", "submitted", "rerouted", "2026-11-30T02:00:00Z"), (), OPEN)
    assert figures(change) == {
        "open#submitted": -1,
        "settled#rerouted": 1,
        "ack_total": 1,
        "ack_on_time": 1,
    }
    change = effects(ev("withdraw", "submitted", "withdrawn", "2026-11-30T02:00:00Z"), (), OPEN)
    assert figures(change) == {"open#submitted": -1, "settled#withdrawn": 1}


def test_self_transitions_and_followups_change_nothing():
    for action, state in (
        ("remind_user", "awaiting_user"),
        ("requery_reminder", "responded"),
        ("operator_followup", "escalated"),
    ):
        change = effects(ev(action, state, state, "2026-12-04T02:00:00Z"), set(), OPEN)
        assert change.counters == {} and change.flags == set()


def test_once_per_case_outcomes_are_not_counted_again():
    e = ev("acknowledge", "submitted", "acknowledged", "2026-11-30T02:00:00Z")
    assert "ack_total" not in figures(effects(e, {"ack"}, OPEN))


def test_an_event_without_its_case_context_changes_nothing():
    change = effects(ev("file", None, "submitted", FILED, company=None), set(), OPEN)
    assert change.counters == {} and change.index == []


@pytest.mark.parametrize(
    "item",
    [
        {},
        {"case_id": "C1", "version": 1, "action": "file", "to_state": "submitted"},  # no at
        {"case_id": "C1", "version": 0, "action": "file", "to_state": "s", "at": FILED},
        {"case_id": "C1", "version": 1.5, "action": "file", "to_state": "s", "at": FILED},
        {"case_id": "C1", "version": 1, "action": "file", "to_state": "s", "at": "yesterday"},
        {"case_id": "C1", "version": 1, "action": "f", "to_state": "s", "at": FILED, "due_at": 3},
    ],
)
def test_unusable_event_items_are_refused(item):
    with pytest.raises((KeyError, ValueError, TypeError)):
        AuditEvent.from_item(item)


# -- figures -----------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("hist", "median"),
    [
        ({}, None),
        ({0: 0}, None),
        ({3: 1}, 3),
        ({1: 1, 3: 1, 4: 2}, 3.5),  # [1, 3, 4, 4]
        ({0: 1, 2: 3, 9: 1}, 2),  # [0, 2, 2, 2, 9]
        ({1: 2, 4: 2}, 2.5),  # [1, 1, 4, 4]
        ({1: 8, 3: 2}, 1),
        ({5: 1, 1: 1}, 3),  # order of the keys does not matter
    ],
)
def test_median_from_histogram(hist, median):
    assert insight.median_from_histogram(hist) == median


def test_the_median_of_a_histogram_is_the_median_of_its_values():
    rng = random.Random(8)
    for _ in range(200):
        values = [rng.randint(0, 15) for _ in range(rng.randint(1, 30))]
        hist: dict[int, int] = {}
        for v in values:
            hist[v] = hist.get(v, 0) + 1
        ordered = sorted(values)
        n = len(ordered)
        expected = (ordered[(n - 1) // 2] + ordered[n // 2]) / 2
        assert insight.median_from_histogram(hist) == expected


def test_company_figures_from_counters():
    raw = {
        "received": 5,
        "open#responded": 1,
        "settled#resolved": 2,
        "ack_total": 5,
        "ack_on_time": 3,
        "resp_total": 4,
        "resp_on_time": 3,
        "responded": 5,
        "respond_days#1": 1,
        "respond_days#3": 1,
        "respond_days#4": 2,
        "reopened": 2,
        "escalations#reopen": 2,
        "escalations#sla_breach": 1,
    }
    f = insight.company_figures(raw, OPEN, SETTLED)
    assert f["open"] == {s: (1 if s == "responded" else 0) for s in OPEN}
    assert f["acknowledgement"]["on_time_rate"] == 0.6
    assert f["response"]["on_time_rate"] == 0.75
    assert f["days_to_respond"] == {
        "median_working_days": 3.5,
        "cases": 4,
        "histogram": {"1": 1, "3": 1, "4": 2},
    }
    assert f["reopen"]["rate"] == 0.4
    assert f["escalations"] == {"total": 3, "by_cause": {"reopen": 2, "sla_breach": 1}}
    empty = insight.company_figures({}, OPEN, SETTLED)
    assert empty["response"]["on_time_rate"] is None and empty["reopen"]["rate"] is None


# -- the public threshold ----------------------------------------------------------------------
def test_a_public_figure_needs_ten_cases_behind_it():
    assert insight.publish(0.5, 9) == {
        "value": None,
        "cases": None,
        "reason": "fewer_than_10_cases",
    }
    assert insight.publish(0.5, 10) == {"value": 0.5, "cases": 10}
    assert insight.publish(0, 10) == {"value": 0, "cases": 10}  # zero is a figure
    assert insight.publish(None, 12)["value"] is None


# -- the spike rule ----------------------------------------------------------------------------
def test_a_cluster_in_one_city_company_and_week_is_flagged():
    # Seven filings this week where the same cell saw one in the past eight weeks.
    verdict = assess(7, [0, 0, 0, 0, 1, 0, 0, 0])
    assert verdict.spike
    assert verdict.baseline_mean == 0.125 and verdict.threshold == 5.0


@pytest.mark.parametrize(
    ("count", "baseline", "spike"),
    [
        (4, [0] * 8, False),  # below the floor of 5, whatever the history
        (5, [0] * 8, True),
        (5, [1] * 5 + [0] * 3, True),  # mean 0.625 → 3 × 1.625 = 4.875 → the floor, 5
        (5, [1] * 6 + [0] * 2, False),  # mean 0.75 → 5.25
        (6, [1] * 8, True),  # mean 1 → exactly 6
        (5, [1] * 8, False),
        (29, [9] * 8, False),  # mean 9 → 30
        (30, [9] * 8, True),
        (5, [], True),  # weeks without filings count as zero
        (5, [4], True),  # one week listed, the other seven are zero: mean 0.5, not 4
    ],
)
def test_spike_rule_boundaries(count, baseline, spike):
    assert assess(count, baseline).spike is spike


def test_a_uniform_background_is_never_flagged():
    """Every cell of a large grid draws each week's count from the same distribution: no
    week stands out, so nothing may be flagged — however busy the cell."""
    rng = random.Random(48)
    flagged = []
    for cell in range(400):
        level = rng.choice([0, 1, 2, 5, 10, 40])  # quiet villages to busy cities
        weeks = [max(0, level + rng.randint(-1, 1) * (level // 4)) for _ in range(9)]
        if assess(weeks[-1], weeks[:-1]).spike:
            flagged.append((cell, weeks))
    assert flagged == []


def test_the_same_grid_with_one_ring_flags_only_the_ring():
    rng = random.Random(7)
    grid = {(city, co): [rng.randint(0, 3) for _ in range(9)] for city in range(50) for co in "ab"}
    grid[(17, "a")][-1] += 8  # the ring: one city, one company, this week
    flagged = [key for key, weeks in grid.items() if assess(weeks[-1], weeks[:-1]).spike]
    assert flagged == [(17, "a")]


# -- regions and weeks -------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("region", "split"),
    [
        ("广东省深圳市", ("广东省", "深圳市")),
        ("辽宁省抚顺市", ("辽宁省", "抚顺市")),
        ("黑龙江省哈尔滨市", ("黑龙江省", "哈尔滨市")),
        ("北京市", ("北京市", "北京市")),
        ("重庆市", ("重庆市", "重庆市")),
        ("内蒙古呼和浩特市", ("内蒙古", "呼和浩特市")),
        ("内蒙古自治区呼和浩特市", ("内蒙古", "呼和浩特市")),
        ("新疆喀什地区", ("新疆", "喀什地区")),
        ("广西壮族自治区南宁市", ("广西", "南宁市")),
        ("宁夏银川市", ("宁夏", "银川市")),
        ("广东省", ("广东省", "")),
        ("中国", ("未知", "")),
        ("", ("未知", "")),
        (None, ("未知", "")),
        ("未知", ("未知", "")),
        ("某地", ("某地", "")),
    ],
)
def test_split_region(region, split):
    assert insight.split_region(region) == split
    assert insight.split_region(insight.region_label(*split)) == split


def test_weeks_are_iso_weeks_in_shanghai():
    # Sunday 22 Nov 16:30 UTC is Monday 23 Nov 00:30 in Shanghai: week 48, not 47.
    assert insight.iso_week(datetime(2026, 11, 22, 16, 30, tzinfo=UTC)) == "2026-W48"
    assert insight.iso_week(datetime(2026, 11, 22, 15, 30, tzinfo=UTC)) == "2026-W47"
    # 29 Dec 2025 is in 2026's first ISO week.
    assert insight.iso_week(datetime(2025, 12, 29, 4, tzinfo=UTC)) == "2026-W01"
    assert insight.previous_weeks("2026-W02", 3) == ["2025-W51", "2025-W52", "2026-W01"]
    assert insight.previous_weeks("2026-W48") == [f"2026-W{w}" for w in range(40, 48)]
    assert insight.parse_week("2026-W53").isoformat() == "2026-12-28"  # 2026 has 53 weeks


def test_weeks_at_the_ends_of_the_calendar_are_zero_padded_in_and_out():
    # The first week whose eight baseline weeks all exist, and the last whole week.
    assert insight.previous_weeks("0001-W09")[0] == "0001-W01"
    assert insight.previous_weeks("0002-W01")[0] == "0001-W45"
    assert insight.week_of(insight.parse_week("9999-W51")) == "9999-W51"
    assert insight.week_of(datetime(999, 6, 1).date()) == "0999-W22"


@pytest.mark.parametrize(
    "text",
    [
        "2025-W53",
        "2026-W00",
        "2026-W1",
        "2026W48",
        "2026-w48",
        "x",
        "２０２６-W48",
        "0000-W01",  # no year 0
        "0001-W01",  # its baseline weeks fall before year 1
        "0001-W08",
        "9999-W52",  # its Sunday would be in year 10000
        "9999-W53",
        "10000-W01",
    ],
)
def test_parse_week_refuses_what_is_not_an_iso_week(text):
    with pytest.raises(ValueError):
        insight.parse_week(text)
