"""Issues 4 and 16 on one scripted lifecycle of a 3-company dispute (docs/design.md §7).

The scenario lives once, in scripts/bench_sms.py (`run_lifecycle`), which `make bench` prints;
this test runs it in the conftest moto world and asserts on what moto's SNS recorded: only
news the person needs — one receipt per dispute, one message per request for her action or
reminder, at most one per company result (fewer where a digest merges them), none for
acknowledgements or for what she did herself — every message one segment, and at most half
the segments of a naive design that sends one SMS per transition per case. Issue 16: no
message that was no longer true when sent, and at most 4 messages — by merging the results
that can wait into the morning digest, never by delaying a request to act.
"""

from __future__ import annotations

import importlib.util
import sys
from collections import Counter
from pathlib import Path
from types import ModuleType

from chalicelib.adapters import case_store

BENCH = Path(__file__).resolve().parents[2] / "scripts" / "bench_sms.py"


def load_bench() -> ModuleType:
    """scripts/ is not a package: load the bench from its file (once per process)."""
    if "bench_sms" not in sys.modules:
        spec = importlib.util.spec_from_file_location("bench_sms", BENCH)
        module = importlib.util.module_from_spec(spec)
        sys.modules["bench_sms"] = module  # dataclasses look their module up by name
        spec.loader.exec_module(module)
    return sys.modules["bench_sms"]


def test_one_dispute_lifecycle_meets_the_goals_of_issues_4_and_16(client, world, frozen_clock):
    # One run (a moto world and ~50 scheduler ticks), several views of it.
    result = load_bench().run_lifecycle(client, frozen_clock, world)
    only_the_news_the_person_needs(result)
    sent_at_the_right_moments(result)
    nothing_left_to_send_or_to_fire(result)
    the_bench_report(result)


def only_the_news_the_person_needs(result) -> None:
    actions = Counter(action for _, _, action, _ in result.transitions)
    # The script is the issue's: 14 transitions, so 14 naive messages.
    assert actions == {
        "file": 3,
        "acknowledge": 3,
        "request_user_action": 1,
        "remind_user": 1,
        "respond": 3,
        "confirm": 3,
    }
    assert result.naive_messages == result.naive_segments == 14

    # Every SMS the person got is accounted for: codes she asked for, or the dispute's outbox.
    assert result.unexplained == 0
    assert result.codes == 2  # she signed in twice

    carried = Counter(t for sms in result.sms for t in sms.templates)
    # One receipt per dispute.
    assert carried["dispute_receipt"] == 1
    assert result.sms[0].templates == ("dispute_receipt",)
    # One message per request for her action, and per reminder.
    assert carried["user_action_requested"] == actions["request_user_action"] == 1
    assert carried["user_action_reminder"] == actions["remind_user"] == 1
    # Every company result reaches her, at most one message each — here all in one digest,
    # which keeps the most urgent step: re-query at the earliest time one allows (tencent's).
    assert carried["company_responded"] == actions["respond"] == 3
    results = [s for s in result.sms if "company_responded" in s.templates]
    assert len(results) == 1
    (digest,) = results
    assert len(digest.templates) == 3
    assert result.dispute_id in digest.text and "3项新进展" in digest.text
    assert "请于11月29日15:00后重新查询一证通查" in digest.text, digest.text
    # Nothing else: no SMS for acknowledgements or for what she did herself.
    assert set(carried) == {
        "dispute_receipt",
        "user_action_requested",
        "user_action_reminder",
        "company_responded",
    }
    assert len(result.sms) == 4  # issue 16: at most 4 (issue 4's design sent 5)

    # Nothing that was no longer true when it went (read back from the audit trail).
    assert result.stale_sent == [] and result.dropped == 0

    # Every message one segment; at most half the naive design's segments.
    assert all(s.segments == 1 for s in result.sms), [(s.text, s.segments) for s in result.sms]
    assert result.segments == result.messages == 4
    assert result.segments * 2 <= result.naive_segments

    # Every follow-up names its case (or its dispute, for the receipt and the digest).
    for sms in result.sms:
        assert any(i in sms.text for i in (result.dispute_id, *result.case_ids.values()))


def sent_at_the_right_moments(result) -> None:
    when = {s.templates: f"{s.at:%a %H:%M}" for s in result.sms}
    assert when == {
        ("dispute_receipt",): "Fri 10:00",  # her own filing: at once
        ("user_action_requested",): "Fri 11:05",  # after the digest window
        ("user_action_reminder",): "Sat 11:05",  # a timer, a day later, never delayed
        # Answers at 15:00, 22:30 and 22:33 wait for the morning digest: one message.
        ("company_responded", "company_responded", "company_responded"): "Sun 08:00",
    }
    # The deadline in the request and its reminder is the user_expire timer's, 7 days on.
    for sms in result.sms:
        if sms.templates[0].startswith("user_action"):
            assert "请在12月4日11:00前" in sms.text, sms.text


def nothing_left_to_send_or_to_fire(result) -> None:
    statuses = Counter(item["status"] for item in result.outbox)
    assert statuses == {"sent": 4, "merged": 2}  # receipt, request, reminder, 3 results
    for case_id in result.case_ids.values():
        case = case_store.get_case(case_id)
        assert case.state == "resolved"
        assert case.next_due_at is None and not case.timers
    assert sum(t["sms_dead"] + t["sms_retry"] for t in result.ticks) == 0


def the_bench_report(result) -> None:
    text = load_bench().report(result)
    assert "recount" in text and "naive" in text
    assert "¥180,000" in text and "¥630,000" in text
    assert "0 dropped, 0 sent stale" in text
