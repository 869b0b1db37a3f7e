"""Case timers (docs/design.md §4): working-day deadlines, lanes, overrides, pause and resume.

Pure domain tests: no AWS, no moto.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from chalicelib.domain import timers
from chalicelib.domain.clock import iso, parse_iso
from chalicelib.domain.ids import new_case_id
from chalicelib.domain.workflow import Workflow, load_workflow

SHANGHAI = ZoneInfo("Asia/Shanghai")
# Friday 2026-11-27 10:00 in Shanghai; no holiday for the next month.
NOW = datetime(2026, 11, 27, 10, 0, tzinfo=SHANGHAI)


def end_of(day: str) -> str:
    """23:59:59 Shanghai on `day`, as the UTC ISO string the timers hold."""
    return iso(datetime.fromisoformat(f"{day}T23:59:59").replace(tzinfo=SHANGHAI))


@pytest.fixture(scope="module")
def wf() -> Workflow:
    return load_workflow()


def test_end_of_helper() -> None:
    assert end_of("2026-12-01") == "2026-12-01T15:59:59Z"


def test_arm_initial_standard_lane(wf: Workflow) -> None:
    armed = timers.arm(wf, wf.initial_arm, NOW, fraud_lane=False, deadlines={})
    # Fri → Mon 30 Nov (1), Tue 1 Dec (2); ten working days → Fri 11 Dec.
    assert armed == {"ack_due": end_of("2026-12-01"), "respond_due": end_of("2026-12-11")}


def test_arm_initial_fraud_lane(wf: Workflow) -> None:
    armed = timers.arm(wf, wf.initial_arm, NOW, fraud_lane=True, deadlines={})
    assert armed == {"ack_due": end_of("2026-11-30"), "respond_due": end_of("2026-12-04")}


def test_directory_override_changes_the_deadline(wf: Workflow) -> None:
    armed = timers.arm(
        wf, wf.initial_arm, NOW, fraud_lane=False, deadlines={"acknowledge_working_days": 3}
    )
    assert armed["ack_due"] == end_of("2026-12-02")
    assert armed["respond_due"] == end_of("2026-12-11")
    armed = timers.arm(
        wf, wf.initial_arm, NOW, fraud_lane=False, deadlines={"respond_working_days": 4}
    )
    assert armed == {"ack_due": end_of("2026-12-01"), "respond_due": end_of("2026-12-03")}


def test_fraud_lane_uses_fraud_overrides_only(wf: Workflow) -> None:
    # The standard override must not lengthen the fraud lane's shorter deadline...
    armed = timers.arm(
        wf, wf.initial_arm, NOW, fraud_lane=True, deadlines={"acknowledge_working_days": 3}
    )
    assert armed["ack_due"] == end_of("2026-11-30")
    # ...its own override does apply.
    armed = timers.arm(
        wf,
        wf.initial_arm,
        NOW,
        fraud_lane=True,
        deadlines={"fraud_acknowledge_working_days": 2, "fraud_respond_working_days": 3},
    )
    assert armed == {"ack_due": end_of("2026-12-01"), "respond_due": end_of("2026-12-02")}


def test_non_working_day_timers_are_wall_clock(wf: Workflow) -> None:
    names = ("user_remind_1", "user_remind_3", "user_expire", "requery_remind", "auto_resolve")
    armed = timers.arm(wf, names, NOW, fraud_lane=True, deadlines={"acknowledge_working_days": 9})
    assert armed == {
        "user_remind_1": iso(NOW + timedelta(days=1)),
        "user_remind_3": iso(NOW + timedelta(days=3)),
        "user_expire": iso(NOW + timedelta(days=7)),
        "requery_remind": iso(NOW + timedelta(hours=24)),
        "auto_resolve": iso(NOW + timedelta(days=15)),
    }


def test_operator_followup_is_three_working_days(wf: Workflow) -> None:
    armed = timers.arm(wf, ("operator_followup",), NOW, fraud_lane=False, deadlines={})
    assert armed == {"operator_followup": end_of("2026-12-02")}


def test_arm_accepts_any_timezone_for_the_same_instant(wf: Workflow) -> None:
    a = timers.arm(wf, wf.initial_arm, NOW, fraud_lane=False, deadlines={})
    b = timers.arm(wf, wf.initial_arm, NOW.astimezone(UTC), fraud_lane=False, deadlines={})
    assert a == b


def test_pause_and_resume_through_real_decisions(wf: Workflow) -> None:
    filed = timers.arm(wf, wf.initial_arm, NOW, fraud_lane=False, deadlines={})
    ask = wf.decide("submitted", "request_user_action", "liaison")
    waiting = timers.apply(wf, ask, filed, NOW, fraud_lane=False, deadlines={})
    # ack_due cleared; ten working days left on the company's clock; the person's timers run.
    assert "ack_due" not in waiting
    assert waiting["respond_due"] == "paused:10"
    assert waiting["user_remind_1"] == iso(NOW + timedelta(days=1))
    assert waiting["user_expire"] == iso(NOW + timedelta(days=7))
    assert timers.company_due(wf, waiting) is None
    assert timers.next_due(waiting) == iso(NOW + timedelta(days=1))

    # The person is done on Monday 7 Dec: ten working days from then → Mon 21 Dec.
    later = datetime(2026, 12, 7, 10, 0, tzinfo=SHANGHAI)
    done = wf.decide("awaiting_user", "user_done", "user")
    back = timers.apply(wf, done, waiting, later, fraud_lane=False, deadlines={})
    assert back == {"respond_due": end_of("2026-12-21")}
    assert timers.company_due(wf, back) == end_of("2026-12-21")


def test_pause_counts_only_the_working_days_left(wf: Workflow) -> None:
    ask = wf.decide("acknowledged", "request_user_action", "liaison")
    # Due Fri 11 Dec; paused on Wed 9 Dec → Thu, Fri left.
    held = timers.apply(
        wf,
        ask,
        {"respond_due": end_of("2026-12-11")},
        datetime(2026, 12, 9, 9, 0, tzinfo=SHANGHAI),
        fraud_lane=False,
        deadlines={},
    )
    assert held["respond_due"] == "paused:2"


def test_pause_on_the_due_day_keeps_at_least_one_day(wf: Workflow) -> None:
    ask = wf.decide("acknowledged", "request_user_action", "liaison")
    held = timers.apply(
        wf,
        ask,
        {"respond_due": end_of("2026-12-11")},
        datetime(2026, 12, 11, 9, 0, tzinfo=SHANGHAI),
        fraud_lane=False,
        deadlines={},
    )
    assert held["respond_due"] == "paused:1"


def test_pause_of_a_paused_timer_keeps_it(wf: Workflow) -> None:
    ask = wf.decide("acknowledged", "request_user_action", "liaison")
    held = timers.apply(wf, ask, {"respond_due": "paused:4"}, NOW, fraud_lane=False, deadlines={})
    assert held["respond_due"] == "paused:4"


def test_resume_without_a_paused_timer_changes_nothing(wf: Workflow) -> None:
    done = wf.decide("awaiting_user", "user_done", "user")
    due = end_of("2026-12-11")
    assert timers.apply(wf, done, {"respond_due": due}, NOW, fraud_lane=False, deadlines={}) == {
        "respond_due": due
    }


def test_fired_timer_is_consumed_and_others_stay(wf: Workflow) -> None:
    held = {
        "user_remind_1": iso(NOW),
        "user_remind_3": iso(NOW + timedelta(days=2)),
        "user_expire": iso(NOW + timedelta(days=6)),
        "respond_due": "paused:3",
    }
    remind = wf.decide("awaiting_user", "remind_user", "scheduler")
    after = timers.apply(
        wf, remind, held, NOW, fraud_lane=False, deadlines={}, fired="user_remind_1"
    )
    assert after == {k: v for k, v in held.items() if k != "user_remind_1"}


def test_operator_followup_rearms_itself(wf: Workflow) -> None:
    follow = wf.decide("escalated", "operator_followup", "scheduler")
    after = timers.apply(
        wf,
        follow,
        {"operator_followup": iso(NOW)},
        NOW,
        fraud_lane=False,
        deadlines={},
        fired="operator_followup",
    )
    assert after == {"operator_followup": end_of("2026-12-02")}


def test_clear_all_drops_paused_timers_too(wf: Workflow) -> None:
    withdraw = wf.decide("awaiting_user", "withdraw", "user")
    held = {"respond_due": "paused:3", "user_expire": iso(NOW)}
    assert timers.apply(wf, withdraw, held, NOW, fraud_lane=False, deadlines={}) == {}


def test_respond_swaps_company_timers_for_the_persons(wf: Workflow) -> None:
    respond = wf.decide("acknowledged", "respond", "liaison")
    after = timers.apply(
        wf,
        respond,
        {"respond_due": end_of("2026-12-11")},
        NOW,
        fraud_lane=False,
        deadlines={},
    )
    assert after == {
        "requery_remind": iso(NOW + timedelta(hours=24)),
        "auto_resolve": iso(NOW + timedelta(days=15)),
    }
    assert timers.company_due(wf, after) is None


# --- next_due / company_due -------------------------------------------------------------------


def test_next_due_is_the_earliest_armed_and_ignores_paused() -> None:
    assert timers.next_due({}) is None
    assert timers.next_due({"respond_due": "paused:2"}) is None
    held = {
        "respond_due": "paused:1",
        "user_expire": "2026-12-04T02:00:00Z",
        "user_remind_1": "2026-11-28T02:00:00Z",
        "user_remind_3": "2026-11-30T02:00:00Z",
    }
    assert timers.next_due(held) == "2026-11-28T02:00:00Z"


def test_company_due_counts_only_company_clock_timers(wf: Workflow) -> None:
    held = {
        "user_remind_1": "2026-11-28T02:00:00Z",
        "respond_due": "2026-12-11T15:59:59Z",
        "ack_due": "2026-12-01T15:59:59Z",
        "requery_remind": "2026-11-27T02:00:00Z",
    }
    assert timers.company_due(wf, held) == "2026-12-01T15:59:59Z"
    assert timers.company_due(wf, {"requery_remind": "2026-11-27T02:00:00Z"}) is None
    assert timers.company_due(wf, {"respond_due": "paused:3", "user_expire": "x"}) is None
    assert timers.company_due(wf, {}) is None


@settings(max_examples=50, deadline=None)
@given(
    st.lists(
        st.datetimes(
            min_value=datetime(2025, 1, 1), max_value=datetime(2030, 12, 31), timezones=st.just(UTC)
        ),
        min_size=1,
        max_size=8,
    )
)
def test_iso_strings_sort_like_instants(moments: list[datetime]) -> None:
    # next_due/company_due take min() of ISO strings: that is only right if they sort as times.
    held = {f"t{i}": iso(m) for i, m in enumerate(moments)}
    assert parse_iso(timers.next_due(held) or "") == min(m.replace(microsecond=0) for m in moments)


# --- shard_for --------------------------------------------------------------------------------


def test_shard_for_known_values() -> None:
    # Stable across processes and releases: a change would strand armed timers in old shards.
    assert timers.shard_for("C012345678", 16) == "7"
    assert timers.shard_for("C012345678", 4) == "3"
    assert timers.shard_for("C012345678", 1) == "0"
    assert timers.shard_for("C012345678", 0) == "0"


@given(
    st.text(alphabet="0123456789ABCDEFGHJKMNPQRSTVWXYZ", min_size=9, max_size=9),
    st.integers(min_value=1, max_value=64),
)
def test_shard_for_in_range_and_stable(suffix: str, shards: int) -> None:
    case_id = "C" + suffix
    shard = timers.shard_for(case_id, shards)
    assert shard == timers.shard_for(case_id, shards)
    assert shard.isdigit() and 0 <= int(shard) < shards


def test_shard_for_spreads_real_ids() -> None:
    used = {timers.shard_for(new_case_id(), 4) for _ in range(400)}
    assert used == {"0", "1", "2", "3"}
