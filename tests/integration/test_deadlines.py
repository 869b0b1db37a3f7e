"""Deadlines and timers end to end (docs/design.md §4, issue 5): cases filed over HTTP walk through
every timer on the frozen clock, swept by the real scheduler tick.

Every deadline below is worked out by hand in China working days (Asia/Shanghai): a
working-day deadline ends at 23:59:59 Shanghai, i.e. 15:59:59Z. Each is checked where the
liaison sees it (`due_at` and `overdue` on GET /v1/liaison/cases/{id}) and by walking the
clock to one second before it (nothing fires) and one second after it (overdue, then fired).
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

import holidays
import pytest

from chalicelib.adapters import case_store
from chalicelib.domain import directory as directory_module
from chalicelib.domain.workdays import SHANGHAI
from chalicelib.services import keys, scheduler
from tests.conftest import DEMO
from tests.support import Api, sent_sms

RESPOND = {"action": "respond", "response_code": "accounts_unbound", "message": "已解绑2个账号"}
ASK = {"action": "request_user_action", "message": "请用本号码登录后在设置中解绑"}
ACTIVE = DEMO["active"][0]


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def shanghai(text: str) -> str:
    """A Shanghai wall-clock time ('2026-09-30 10:00') as the UTC ISO string."""
    moment = datetime.fromisoformat(text).replace(tzinfo=SHANGHAI).astimezone(UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def end_of(day: str) -> str:
    """The deadline of a working day: 23:59:59 Shanghai on `day`, in UTC as the API shows."""
    return shanghai(f"{day} 23:59:59")


def before(deadline: str) -> str:
    return shanghai(f"{deadline[:10]} 23:59:58")


def after(deadline: str) -> str:
    """The first second past a working-day deadline: 00:00:00 Shanghai the next day."""
    return f"{deadline[:10]}T16:00:00Z"


class Desk:
    """The person, each company's liaison and the scheduler, on one frozen clock."""

    def __init__(self, client, frozen_clock, settings) -> None:
        self.api = Api(client, frozen_clock)
        self.clock = frozen_clock
        self.settings = settings
        self.keys: dict[str, str] = {}
        self.company_of: dict[str, str] = {}

    # -- time ------------------------------------------------------------------------------
    def at(self, when: str) -> None:
        moment = utc(when)
        assert moment >= self.clock.now(), f"time only moves forward: {when}"
        self.clock.set(moment)

    def tick(self, when: str | None = None) -> dict[str, int]:
        """The scheduler's minute: fire due timers, then send due SMS."""
        if when is not None:
            self.at(when)
        return scheduler.tick(self.settings)

    # -- the person ------------------------------------------------------------------------
    def sign_in(self, who: str = "active") -> str:
        return self.api.sign_in(*DEMO[who][:2])

    def file(self, token: str, *items: tuple[str, str], kind: str = "accounts") -> list[str]:
        """Files one dispute of (company, reason) items; the case ids, in order."""
        body = {
            "kind": kind,
            "items": [
                {"company": c, "reported_count": 3, "expected_count": 1, "reason": reason}
                for c, reason in items
            ],
        }
        r = self.api.call("POST", "/v1/disputes", body, token=token)
        assert r.status_code == 201, r.body
        ids = [case["case_id"] for case in r.data["cases"]]
        self.company_of.update(zip(ids, (company for company, _ in items), strict=True))
        return ids

    def person_act(self, token: str, case_id: str, body: dict) -> dict:
        r = self.api.call("POST", f"/v1/cases/{case_id}/actions", body, token=token)
        assert r.status_code == 200, r.body
        return r.data

    # -- the liaison -----------------------------------------------------------------------
    def liaison(self, company: str) -> str:
        if company not in self.keys:
            self.keys[company] = keys.issue("liaison", company, "deadlines")["key"]
        return self.keys[company]

    def view(self, case_id: str) -> dict:
        token = self.liaison(self.company_of[case_id])
        r = self.api.call("GET", f"/v1/liaison/cases/{case_id}", token=token)
        assert r.status_code == 200, r.body
        return r.data

    def act(self, case_id: str, body: dict) -> dict:
        token = self.liaison(self.company_of[case_id])
        path = f"/v1/liaison/cases/{case_id}/transitions"
        r = self.api.call("POST", path, body, token=token)
        assert r.status_code == 200, r.body
        return r.data

    # -- what the liaison sees, and what is stored -------------------------------------------
    def due(self, case_id: str) -> tuple[str, str | None, bool]:
        """(state, due_at, overdue) on the liaison's view, now."""
        v = self.view(case_id)
        return v["state"], v["due_at"], v["overdue"]

    def actions(self, case_id: str) -> list[str]:
        return [e["action"] for e in self.view(case_id)["history"]]

    def last(self, case_id: str) -> tuple[str, str, str | None, str]:
        e = self.view(case_id)["history"][-1]
        return e["action"], e["actor"], e["from"], e["to"]

    def timers(self, case_id: str) -> dict[str, str]:
        """The case's timers as stored (the API shows only the company's deadline)."""
        case = case_store.get_case(case_id)
        return case.timers


@pytest.fixture
def desk(client, frozen_clock, world) -> Desk:
    return Desk(client, frozen_clock, world)


def texts_to(phone: str) -> list[str]:
    """Every SMS but verification codes sent to a national number, oldest first."""
    return [t for n, t in sent_sms() if n == "+86" + phone and "验证码" not in t]


def fired(desk: Desk, when: str) -> int:
    return desk.tick(when)["timers_fired"]


# -- submitted: acknowledge-by → sla_breach → escalated → operator follow-ups ---------------
def test_silence_escalates_at_the_acknowledge_deadline_with_the_hotline(desk: Desk):
    """Filed Fri 27 Nov 10:00: acknowledge by Tue 1 Dec (2 working days), respond by Fri
    11 Dec (10). Silent, each case escalates the second after its deadline; the SMS waits
    out quiet hours and names the company's hotline when the directory holds one we are sure
    of (China Mobile's 10086 is well known; Tencent's 95017 is unverified; Douyin has none)."""
    person = desk.sign_in()
    (mobile,) = desk.file(person, ("china_mobile", "not_mine"), kind="sim_cards")
    (tencent,) = desk.file(person, ("tencent", "not_mine"))
    (douyin,) = desk.file(person, ("douyin", "not_mine"))
    ack = end_of("2026-12-01")
    assert ack == "2026-12-01T15:59:59Z"
    assert desk.timers(mobile) == {"ack_due": ack, "respond_due": end_of("2026-12-11")}
    assert desk.due(mobile) == ("submitted", ack, False)

    assert fired(desk, before(ack)) == 0
    assert desk.due(mobile) == ("submitted", ack, False)

    desk.at(after(ack))  # Wed 2 Dec 00:00 Shanghai
    assert desk.due(mobile) == ("submitted", ack, True)  # overdue until the sweep runs
    assert fired(desk, after(ack)) == 3
    # Escalated: the operator's turn, held to its first follow-up (Mon 7 Dec), not the company.
    assert desk.due(mobile) == ("escalated", end_of("2026-12-07"), False)
    assert desk.view(mobile)["action_on"] == "operator"
    for case in (mobile, tencent, douyin):
        assert desk.last(case) == ("sla_breach", "scheduler", "submitted", "escalated")
    # Operator follow-up in 3 working days: Thu 3, Fri 4, Mon 7 Dec.
    assert desk.timers(mobile) == {"operator_followup": end_of("2026-12-07")}

    # Midnight is quiet hours: the escalation SMS go at 08:00 Shanghai.
    assert not [t for t in texts_to(ACTIVE) if "升级" in t]
    assert desk.tick(shanghai("2026-12-02 07:59"))["sms_sent"] == 0
    assert desk.tick(shanghai("2026-12-02 08:00"))["sms_sent"] == 3
    escalated = [t for t in texts_to(ACTIVE) if "转人工跟进" in t]
    assert len(escalated) == 3, escalated
    (to_mobile,) = [t for t in escalated if mobile in t]
    (to_tencent,) = [t for t in escalated if tencent in t]
    (to_douyin,) = [t for t in escalated if douyin in t]
    assert "中国移动" in to_mobile and "客服电话10086" in to_mobile
    assert "腾讯" in to_tencent and "95017" not in to_tencent  # never an unverified number
    assert "抖音" in to_douyin and "客服电话" not in to_douyin


def test_operator_follow_up_rearms_every_three_working_days(desk: Desk):
    """Escalated Wed 2 Dec 00:00: follow-ups at the end of Mon 7 Dec, Fri 11 Dec, Wed 16 Dec
    (weekends skipped), each re-arming the next, until the operator settles the case."""
    person = desk.sign_in()
    (case,) = desk.file(person, ("tencent", "not_mine"))
    assert fired(desk, after(end_of("2026-12-01"))) == 1
    for due, following in (
        ("2026-12-07", "2026-12-11"),  # from Tue 8: Wed 9, Thu 10, Fri 11
        ("2026-12-11", "2026-12-16"),  # from Sat 12: Mon 14, Tue 15, Wed 16
    ):
        assert desk.timers(case) == {"operator_followup": end_of(due)}
        assert fired(desk, before(end_of(due))) == 0
        assert fired(desk, after(end_of(due))) == 1
        assert desk.last(case) == ("operator_followup", "scheduler", "escalated", "escalated")
        assert desk.timers(case) == {"operator_followup": end_of(following)}
        # The reminder does not move the operator's deadline: the case stays overdue.
        assert desk.due(case) == ("escalated", end_of("2026-12-07"), True)
    operators = keys.issue("operator", None, "deadlines")["key"]
    r = desk.api.call("GET", "/v1/admin/cases?overdue=true", token=operators)
    assert [c["case_id"] for c in r.data["items"]] == [case], r.body
    r = desk.api.call("GET", "/v1/admin/cases?overdue=false", token=operators)
    assert case not in r.body.decode()
    assert desk.actions(case) == [
        "file",
        "sla_breach",
        "operator_followup",
        "operator_followup",
    ]


# -- acknowledged: respond-by → sla_breach ---------------------------------------------------
def test_an_acknowledged_case_escalates_at_the_respond_deadline(desk: Desk):
    person = desk.sign_in()
    (case,) = desk.file(person, ("tencent", "not_mine"))
    respond = end_of("2026-12-11")  # Fri 27 Nov + 10 working days
    desk.act(case, {"action": "acknowledge"})
    assert desk.timers(case) == {"respond_due": respond}
    assert desk.due(case) == ("acknowledged", respond, False)

    assert fired(desk, after(end_of("2026-12-01"))) == 0  # the acknowledge-by is gone
    assert fired(desk, before(respond)) == 0
    desk.at(after(respond))
    assert desk.due(case) == ("acknowledged", respond, True)
    assert fired(desk, after(respond)) == 1
    assert desk.last(case) == ("sla_breach", "scheduler", "acknowledged", "escalated")
    assert desk.due(case) == ("escalated", end_of("2026-12-16"), False)
    assert desk.tick(shanghai("2026-12-12 08:00"))["sms_sent"] == 1
    assert any(case in t and "转人工跟进" in t for t in texts_to(ACTIVE))


# -- the fraud lane: 1 and 5 working days --------------------------------------------------
def test_the_fraud_lane_gives_one_and_five_working_days(desk: Desk):
    person = desk.sign_in()
    silent, acknowledged = desk.file(
        person, ("tencent", "fraud_suspected"), ("jd", "fraud_suspected")
    )
    ack, respond = end_of("2026-11-30"), end_of("2026-12-04")  # Mon 30 Nov; Fri 4 Dec
    assert desk.timers(silent) == {"ack_due": ack, "respond_due": respond}
    assert desk.view(silent)["lane"] == "fraud"
    assert desk.due(silent) == ("submitted", ack, False)
    desk.act(acknowledged, {"action": "acknowledge"})
    assert desk.due(acknowledged) == ("acknowledged", respond, False)

    assert fired(desk, before(ack)) == 0
    assert fired(desk, after(ack)) == 1
    assert desk.last(silent) == ("sla_breach", "scheduler", "submitted", "escalated")
    assert desk.due(acknowledged) == ("acknowledged", respond, False)
    assert fired(desk, before(respond)) == 0
    desk.at(after(respond))
    assert desk.due(acknowledged) == ("acknowledged", respond, True)
    # With the escalated case's operator follow-up (Wed 2, Thu 3, Fri 4 Dec).
    assert fired(desk, after(respond)) == 2
    assert desk.last(acknowledged) == ("sla_breach", "scheduler", "acknowledged", "escalated")
    assert desk.last(silent)[0] == "operator_followup"


# -- across 国庆 2026 and its make-up workday ---------------------------------------------
def test_deadlines_across_national_day_count_the_make_up_saturday(desk: Desk):
    """国庆 2026: 1–7 Oct off (Thu–Wed); Sat 10 Oct is a make-up workday (调休). Filed Wed
    30 Sep 10:00, the next working days are Thu 8, Fri 9, Sat 10, Mon 12, Tue 13 …"""
    cal = holidays.China(years=2026)
    make_up = date(2026, 10, 10)
    assert make_up in cal.weekend_workdays and make_up.weekday() == 5
    assert all(date(2026, 10, d) in cal for d in (1, 2, 3, 5, 6, 7))

    desk.clock.set(utc(shanghai("2026-09-30 09:58")))  # back before anything is filed
    person = desk.sign_in()
    desk.at(shanghai("2026-09-30 10:00"))
    standard, fraud_silent, fraud_acknowledged = desk.file(
        person,
        ("tencent", "not_mine"),
        ("jd", "fraud_suspected"),
        ("alipay", "fraud_suspected"),
    )
    # Standard: acknowledge by Fri 9 Oct (Thu 8, Fri 9); respond by Tue 20 Oct — Sat 10 is
    # the 3rd of the ten (Thu 8, Fri 9, Sat 10, Mon 12 … Fri 16, Mon 19, Tue 20).
    assert desk.timers(standard) == {
        "ack_due": end_of("2026-10-09"),
        "respond_due": end_of("2026-10-20"),
    }
    # Fraud: acknowledge by Thu 8 Oct; respond by Tue 13 Oct (Thu 8, Fri 9, Sat 10, Mon 12,
    # Tue 13) — without the make-up Saturday it would be Wed 14.
    assert desk.timers(fraud_silent) == {
        "ack_due": end_of("2026-10-08"),
        "respond_due": end_of("2026-10-13"),
    }
    # As the liaison sees them, to the second (23:59:59 Shanghai):
    assert desk.due(standard) == ("submitted", "2026-10-09T15:59:59Z", False)
    assert desk.due(fraud_silent) == ("submitted", "2026-10-08T15:59:59Z", False)
    desk.act(fraud_acknowledged, {"action": "acknowledge"})
    assert desk.due(fraud_acknowledged) == ("acknowledged", "2026-10-13T15:59:59Z", False)

    # The whole holiday passes without a deadline falling due.
    assert fired(desk, shanghai("2026-10-07 23:59:59")) == 0
    assert desk.due(standard) == ("submitted", end_of("2026-10-09"), False)

    # Thu 8 Oct ends: the silent fraud case escalates.
    assert fired(desk, after(end_of("2026-10-08"))) == 1
    assert desk.last(fraud_silent) == ("sla_breach", "scheduler", "submitted", "escalated")
    # Its operator follow-up counts the make-up Saturday too: Sat 10, Mon 12, Tue 13.
    assert desk.timers(fraud_silent) == {"operator_followup": end_of("2026-10-13")}

    # The standard case is acknowledged on Fri 9 Oct: now held to Tue 20 Oct.
    desk.at(shanghai("2026-10-09 10:00"))
    desk.act(standard, {"action": "acknowledge"})
    assert desk.due(standard) == ("acknowledged", end_of("2026-10-20"), False)

    # Sat 10 Oct counts: the acknowledged fraud case breaches at the end of Tue 13 Oct
    # (with the silent case's operator follow-up), not Wed 14.
    assert fired(desk, before(end_of("2026-10-13"))) == 0
    desk.at(after(end_of("2026-10-13")))
    assert desk.due(fraud_acknowledged) == ("acknowledged", end_of("2026-10-13"), True)
    assert fired(desk, after(end_of("2026-10-13"))) == 2
    assert desk.last(fraud_acknowledged)[0] == "sla_breach"
    assert desk.last(fraud_silent)[0] == "operator_followup"

    # Both escalated cases' operator follow-ups (Thu 15, Fri 16, Mon 19) fire on the way.
    assert fired(desk, before(end_of("2026-10-20"))) == 2
    assert desk.due(standard) == ("acknowledged", end_of("2026-10-20"), False)
    desk.at(after(end_of("2026-10-20")))
    assert desk.due(standard) == ("acknowledged", end_of("2026-10-20"), True)
    assert fired(desk, after(end_of("2026-10-20"))) == 1
    assert desk.last(standard) == ("sla_breach", "scheduler", "acknowledged", "escalated")


# -- a company's own deadlines from the directory -----------------------------------------
@pytest.fixture
def jd_override(tmp_path: Path, monkeypatch) -> directory_module.Directory:
    """workflows/directory.yaml with jd's `deadlines` set, loaded (and validated) by the real
    loader from a copy, and handed to the two services that arm timers."""
    text = directory_module.DEFAULT_PATH.read_text(encoding="utf-8")
    head, marker, tail = text.partition("\n  jd:\n")
    assert marker and "\n    deadlines: {}\n" in tail
    tail = tail.replace(
        "\n    deadlines: {}\n",
        "\n    deadlines: {acknowledge_working_days: 3, fraud_respond_working_days: 4}\n",
        1,
    )
    path = tmp_path / "directory.yaml"
    path.write_text(head + marker + tail, encoding="utf-8")
    directory = directory_module.load_directory(path)
    assert directory.get("jd").deadlines["acknowledge_working_days"] == 3
    assert "acknowledge_working_days" not in directory.get("tencent").deadlines
    monkeypatch.setattr("chalicelib.services.cases.load_directory", lambda: directory)
    monkeypatch.setattr("chalicelib.services.disputes.load_directory", lambda: directory)
    return directory


def test_a_company_override_changes_only_its_own_deadline(desk: Desk, jd_override):
    person = desk.sign_in()
    tencent, jd = desk.file(person, ("tencent", "not_mine"), ("jd", "not_mine"))
    assert desk.due(tencent) == ("submitted", end_of("2026-12-01"), False)  # default 2
    assert desk.due(jd) == ("submitted", end_of("2026-12-02"), False)  # jd: 3
    assert desk.timers(jd)["respond_due"] == end_of("2026-12-11")  # not overridden: 10

    # The fraud lane keeps its own defaults unless the fraud key is overridden.
    other = desk.sign_in("second")
    (jd_fraud,) = desk.file(other, ("jd", "fraud_suspected"))
    assert desk.timers(jd_fraud) == {
        "ack_due": end_of("2026-11-30"),  # fraud default 1, not jd's standard 3
        "respond_due": end_of("2026-12-03"),  # jd's fraud_respond_working_days: 4
    }
    desk.act(jd_fraud, {"action": "acknowledge"})
    assert desk.due(jd_fraud) == ("acknowledged", end_of("2026-12-03"), False)

    assert fired(desk, after(end_of("2026-12-01"))) == 1
    assert desk.due(tencent)[0] == "escalated"
    assert desk.due(jd) == ("submitted", end_of("2026-12-02"), False)
    assert fired(desk, before(end_of("2026-12-02"))) == 0
    desk.at(after(end_of("2026-12-02")))
    assert desk.due(jd) == ("submitted", end_of("2026-12-02"), True)
    assert fired(desk, after(end_of("2026-12-02"))) == 1
    assert desk.last(jd) == ("sla_breach", "scheduler", "submitted", "escalated")
    assert fired(desk, after(end_of("2026-12-03"))) == 1
    assert desk.last(jd_fraud) == ("sla_breach", "scheduler", "acknowledged", "escalated")


# -- awaiting the person: reminders at 1 and 3 days, expiry at 7 ------------------------------
def test_awaiting_the_person_reminds_twice_then_expires(desk: Desk):
    person = desk.sign_in()
    (case,) = desk.file(person, ("tencent", "not_mine"))
    asked = "2026-11-30T02:00:00Z"  # Mon 30 Nov 10:00 Shanghai
    desk.at(asked)
    desk.act(case, ASK)
    assert desk.timers(case) == {
        "respond_due": "paused:9",  # Tue 1 … Fri 11 Dec: nine working days left
        "user_remind_1": "2026-12-01T02:00:00Z",
        "user_remind_3": "2026-12-03T02:00:00Z",
        "user_expire": "2026-12-07T02:00:00Z",
    }
    # The person's turn: the company's clock is stopped, so nothing is due or overdue.
    assert desk.due(case) == ("awaiting_user", None, False)
    assert desk.view(case)["action_on"] == "user"

    for when in ("2026-12-01T02:00:00Z", "2026-12-03T02:00:00Z"):
        moment = utc(when)
        assert fired(desk, f"{moment.date()}T01:59:59Z") == 0
        assert fired(desk, when) == 1
        assert desk.last(case) == ("remind_user", "scheduler", "awaiting_user", "awaiting_user")
        assert desk.due(case) == ("awaiting_user", None, False)
    assert fired(desk, "2026-12-07T01:59:59Z") == 0
    assert fired(desk, "2026-12-07T02:00:00Z") == 1
    assert desk.last(case) == ("expire", "scheduler", "awaiting_user", "expired")
    assert desk.due(case) == ("expired", None, False)
    assert desk.timers(case) == {}
    assert desk.actions(case) == [
        "file",
        "request_user_action",
        "remind_user",
        "remind_user",
        "expire",
    ]
    # The paused respond-by went with the case: nothing fires at its old deadline.
    assert fired(desk, after(end_of("2026-12-11"))) == 0

    texts = texts_to(ACTIVE)
    assert sum("仍待您处理" in t for t in texts) == 2  # both reminders
    desk.tick(shanghai("2026-12-12 08:00"))  # midnight is quiet hours: it goes at 08:00
    texts = texts_to(ACTIVE)
    assert sum("未在期限内完成，案件已关闭" in t for t in texts) == 1, texts


def test_the_company_clock_pauses_while_the_person_acts(desk: Desk):
    """Respond-by Fri 11 Dec. Asked to act on Mon 30 Nov with nine working days left; the
    person is done on Sat 5 Dec: nine working days from then is Thu 17 Dec — not the old
    Fri 11 Dec, and not a fresh ten (Fri 18 Dec)."""
    person = desk.sign_in()
    (case,) = desk.file(person, ("tencent", "not_mine"))
    desk.act(case, {"action": "acknowledge"})
    assert desk.due(case) == ("acknowledged", end_of("2026-12-11"), False)
    desk.at("2026-11-30T02:00:00Z")
    desk.act(case, ASK)
    assert desk.timers(case)["respond_due"] == "paused:9"
    assert desk.due(case) == ("awaiting_user", None, False)

    assert fired(desk, "2026-12-01T02:00:00Z") == 1  # first reminder
    assert fired(desk, "2026-12-03T02:00:00Z") == 1  # second reminder
    desk.at("2026-12-05T02:00:00Z")  # five days later, Saturday
    person = desk.sign_in()  # the old session has long expired
    desk.person_act(person, case, {"action": "user_done"})
    resumed = end_of("2026-12-17")
    assert desk.timers(case) == {"respond_due": resumed}
    assert desk.due(case) == ("acknowledged", resumed, False)

    assert fired(desk, "2026-12-07T02:00:00Z") == 0  # the expiry was cleared
    assert fired(desk, after(end_of("2026-12-11"))) == 0  # the old deadline is gone
    assert fired(desk, before(resumed)) == 0
    desk.at(after(resumed))
    assert desk.due(case) == ("acknowledged", resumed, True)
    assert fired(desk, after(resumed)) == 1
    assert desk.last(case) == ("sla_breach", "scheduler", "acknowledged", "escalated")
    assert desk.actions(case) == [
        "file",
        "acknowledge",
        "request_user_action",
        "remind_user",
        "remind_user",
        "user_done",
        "sla_breach",
    ]


# -- responded: re-query reminder after 24 h, auto-resolve after 15 days ------------------
def test_a_response_reminds_the_person_to_requery_then_resolves_on_silence(desk: Desk):
    person = desk.sign_in()
    (case,) = desk.file(person, ("tencent", "not_mine"))
    responded = "2026-11-30T02:00:00Z"
    desk.at(responded)
    desk.act(case, RESPOND)
    assert desk.timers(case) == {
        "requery_remind": "2026-12-01T02:00:00Z",  # 24 h: the national service's cool-down
        "auto_resolve": "2026-12-15T02:00:00Z",  # 15 days of silence
    }
    assert desk.due(case) == ("responded", None, False)  # the company has answered

    assert fired(desk, "2026-12-01T01:59:59Z") == 0
    assert fired(desk, "2026-12-01T02:00:00Z") == 1
    assert desk.last(case) == ("requery_reminder", "scheduler", "responded", "responded")
    assert desk.timers(case) == {"auto_resolve": "2026-12-15T02:00:00Z"}
    assert desk.tick("2026-12-01T02:05:00Z")["sms_sent"] == 1
    assert sum("现可重新查询" in t for t in texts_to(ACTIVE)) == 1

    assert fired(desk, "2026-12-15T01:59:59Z") == 0
    assert fired(desk, "2026-12-15T02:00:00Z") == 1
    assert desk.last(case) == ("auto_resolve", "scheduler", "responded", "resolved")
    assert desk.due(case) == ("resolved", None, False)
    assert desk.timers(case) == {}
    assert desk.actions(case) == ["file", "respond", "requery_reminder", "auto_resolve"]
