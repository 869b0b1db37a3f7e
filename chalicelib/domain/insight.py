"""Operator insight and company accountability, as pure rules (no AWS): what one audit event
changes in the statistics, medians from histograms, the fraud-hotspot spike rule and the
public scorecard's publication threshold.

Definitions (each figure is kept per company, from the audit events alone):

- received: cases opened at the company: `file` and `rerouted_in` events.
- open by state: +1 on the state a transition enters, -1 on the one it leaves (open states
  only); settled cases are counted by the terminal state they reached.
- acknowledgement on time: once per case, the company's first answer to a `submitted` case
  (acknowledge, request_user_action, respond or misrouted) is on time when its `at` is no later
  than the event's `due_at` (the deadline in force before it; none = clock paused = on time).
  An `sla_breach` out of `submitted` is a missed acknowledgement.
- response on time: once per case, the first `respond` out of submitted, acknowledged or
  awaiting_user, judged like the acknowledgement; an `sla_breach` (of either deadline) is a
  missed response, and a later answer from `escalated` does not undo it.
- median working days to respond: China working days (chalicelib.domain.workdays) from the
  case's creation to its first `respond`, kept as a histogram; the median is read from it.
- reopen rate: `reopen` and `confirm` → escalated (the person's re-query still differs), over
  every `respond` (each response can be reopened at most once).
- escalations: transitions into `escalated` from another state, by the action that caused it.

Hotspots count filings (`file` events) per region (province, city of the number's prefix) ×
company × ISO week (Asia/Shanghai). SPIKE RULE: a cell is a spike when its count is at least
SPIKE_MIN_COUNT (5) and at least SPIKE_FACTOR (3) × (the mean weekly count of the same cell
over the BASELINE_WEEKS (8) weeks before + 1). The +1 keeps a cell with an empty history from
flagging on noise; the floor of 5 means a handful of filings is never a "ring".
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from chalicelib.domain import clock, workdays

MIN_PUBLIC_CASES = 10
SPIKE_MIN_COUNT = 5
SPIKE_FACTOR = 3
BASELINE_WEEKS = 8

# Figures (the sort keys of counters under `company#<key>`).
RECEIVED = "received"
OPEN = "open#"
SETTLED = "settled#"
ACK_TOTAL = "ack_total"
ACK_ON_TIME = "ack_on_time"
RESP_TOTAL = "resp_total"
RESP_ON_TIME = "resp_on_time"
RESPONDED = "responded"
RESPOND_DAYS = "respond_days#"
REOPENED = "reopened"
ESCALATIONS = "escalations#"

# Per-case flags the aggregator keeps so that once-per-case outcomes are counted once.
FLAG_ACK = "ack"
FLAG_RESPONSE = "resp"
FLAG_FIRST_RESPONSE = "responded"
FLAG_INDEXED = "indexed"  # listed in the hotspot index: the entry ends with the case

ACK_ANSWERS = frozenset({"acknowledge", "request_user_action", "respond", "misrouted"})
ACK_ENDS = ACK_ANSWERS | {"sla_breach"}  # what ends the acknowledgement clock of a case
RECEIVING = frozenset({"file", "rerouted_in"})


def company_scope(company: str) -> str:
    return f"company#{company}"


def hot_scope(week: str) -> str:
    return f"hot#{week}"


def hot_cell(company: str, province: str, city: str) -> str:
    return f"{company}#{province}#{city}"


def hot_index_scope(week: str, company: str, province: str, city: str) -> str:
    """The partition listing the case ids behind one hotspot cell (drill-down, no scan)."""
    return f"hotcases#{week}#{company}#{province}#{city}"


# -- the audit event ------------------------------------------------------------------------
@dataclass(frozen=True)
class AuditEvent:
    case_id: str
    version: int
    action: str
    actor: str | None
    from_state: str | None
    to_state: str
    at: str
    company: str | None
    kind: str | None
    lane: str | None
    region: str | None
    case_created_at: str | None
    due_at: str | None

    @classmethod
    def from_item(cls, item: Mapping[str, Any]) -> AuditEvent:
        """From an event item as plain values; KeyError/ValueError/TypeError when unusable."""

        def text(name: str) -> str | None:
            value = item.get(name)
            if value is None:
                return None
            if not isinstance(value, str):
                raise TypeError(f"{name} must be text")
            return value

        version = item["version"]
        if isinstance(version, bool) or int(version) != version or int(version) < 1:
            raise ValueError("version must be a positive whole number")
        event = cls(
            case_id=str(item["case_id"]),
            version=int(version),
            action=str(item["action"]),
            actor=text("actor"),
            from_state=text("from_state"),
            to_state=str(item["to_state"]),
            at=str(item["at"]),
            company=text("company"),
            kind=text("kind"),
            lane=text("lane"),
            region=text("region"),
            case_created_at=text("case_created_at"),
            due_at=text("due_at"),
        )
        clock.parse_iso(event.at)  # ValueError when malformed
        return event

    def on_time(self) -> bool:
        """No deadline in force (the company clock was paused) counts as on time."""
        return self.due_at is None or self.at <= self.due_at


@dataclass
class Effects:
    """What one event changes: counter deltas keyed (scope, figure), index entries to add
    (scope, case_id), and per-case flags to set."""

    counters: dict[tuple[str, str], int] = field(default_factory=dict)
    index: list[tuple[str, str]] = field(default_factory=list)
    flags: set[str] = field(default_factory=set)


def effects(event: AuditEvent, flags: Iterable[str], open_states: Iterable[str]) -> Effects:
    """The statistics one audit event changes, given the flags its case already carries."""
    out = Effects()
    if not event.company:
        return out  # an event without its case's context (written before it was recorded)
    seen = set(flags)
    open_set = set(open_states)
    c: Counter[str] = Counter()
    action, src, dst = event.action, event.from_state, event.to_state

    if action in RECEIVING:
        c[RECEIVED] += 1
    if src != dst:
        if src in open_set:
            c[OPEN + src] -= 1
        if dst in open_set:
            c[OPEN + dst] += 1
        elif dst:
            c[SETTLED + dst] += 1

    if src == "submitted" and FLAG_ACK not in seen and action in ACK_ENDS:
        c[ACK_TOTAL] += 1
        if action != "sla_breach" and event.on_time():
            c[ACK_ON_TIME] += 1
        out.flags.add(FLAG_ACK)

    if FLAG_RESPONSE not in seen and (action == "sla_breach" or action == "respond"):
        c[RESP_TOTAL] += 1
        if action == "respond" and src != "escalated" and event.on_time():
            c[RESP_ON_TIME] += 1
        out.flags.add(FLAG_RESPONSE)

    if action == "respond":
        c[RESPONDED] += 1
        if FLAG_FIRST_RESPONSE not in seen and event.case_created_at:
            days = workdays.working_days_between(
                clock.parse_iso(event.case_created_at), clock.parse_iso(event.at)
            )
            c[f"{RESPOND_DAYS}{days}"] += 1
            out.flags.add(FLAG_FIRST_RESPONSE)

    if action == "reopen" or (action == "confirm" and dst == "escalated"):
        c[REOPENED] += 1
    if dst == "escalated" and src != "escalated":
        c[ESCALATIONS + action] += 1

    scope = company_scope(event.company)
    out.counters = {(scope, k): v for k, v in c.items() if v}

    if action == "file":
        province, city = split_region(event.region)
        week = iso_week(clock.parse_iso(event.at))
        out.counters[(hot_scope(week), hot_cell(event.company, province, city))] = 1
        out.index.append(hotspot_entry(event.case_id, event.company, event.region, event.at))
        out.flags.add(FLAG_INDEXED)
    elif FLAG_INDEXED in seen and src in open_set and dst not in open_set and event.case_created_at:
        # Settled: its index entry is written again, to end with the case's other records.
        entry = hotspot_entry(event.case_id, event.company, event.region, event.case_created_at)
        out.index.append(entry)
    return out


def hotspot_entry(case_id: str, company: str, region: str | None, filed_at: str) -> tuple[str, str]:
    """The drill-down index entry (partition, sort key) a filed case is listed under."""
    province, city = split_region(region)
    week = iso_week(clock.parse_iso(filed_at))
    return hot_index_scope(week, company, province, city), case_id


# -- figures --------------------------------------------------------------------------------
def rate(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


def histogram(raw: Mapping[str, int], prefix: str = RESPOND_DAYS) -> dict[int, int]:
    return {
        int(k.removeprefix(prefix)): int(v) for k, v in raw.items() if k.startswith(prefix) and v
    }


def median_from_histogram(hist: Mapping[int, int]) -> float | None:
    """The median of the values a histogram counts (the mean of the two middle values when
    the count is even); None when empty."""
    total = sum(n for n in hist.values() if n > 0)
    if total == 0:
        return None
    lo_rank, hi_rank = (total - 1) // 2, total // 2  # 0-based ranks of the middle value(s)
    lo = hi = None
    seen = 0
    for value in sorted(hist):
        n = hist[value]
        if n <= 0:
            continue
        if lo is None and lo_rank < seen + n:
            lo = value
        if hi_rank < seen + n:
            hi = value
            break
        seen += n
    assert lo is not None and hi is not None
    return (lo + hi) / 2


def company_figures(
    raw: Mapping[str, int], open_states: Iterable[str], settled_states: Iterable[str]
) -> dict[str, Any]:
    """The operator's figures for one company from its counters (figure → summed value)."""

    def get(name: str) -> int:
        return int(raw.get(name, 0))

    hist = histogram(raw)
    escalations = {
        k.removeprefix(ESCALATIONS): int(v)
        for k, v in sorted(raw.items())
        if k.startswith(ESCALATIONS) and v
    }
    open_by_state = {s: get(OPEN + s) for s in open_states}
    return {
        "received": get(RECEIVED),
        "open": open_by_state,
        "open_total": sum(open_by_state.values()),
        "settled": {s: get(SETTLED + s) for s in settled_states},
        "acknowledgement": {
            "on_time": get(ACK_ON_TIME),
            "total": get(ACK_TOTAL),
            "on_time_rate": rate(get(ACK_ON_TIME), get(ACK_TOTAL)),
        },
        "response": {
            "on_time": get(RESP_ON_TIME),
            "total": get(RESP_TOTAL),
            "on_time_rate": rate(get(RESP_ON_TIME), get(RESP_TOTAL)),
        },
        "days_to_respond": {
            "median_working_days": median_from_histogram(hist),
            "cases": sum(hist.values()),
            "histogram": {str(k): v for k, v in sorted(hist.items())},
        },
        "reopen": {
            "reopened": get(REOPENED),
            "responses": get(RESPONDED),
            "rate": rate(get(REOPENED), get(RESPONDED)),
        },
        "escalations": {"total": sum(escalations.values()), "by_cause": escalations},
    }


def merge_counters(many: Iterable[Mapping[str, int]]) -> dict[str, int]:
    total: Counter[str] = Counter()
    for raw in many:
        total.update({k: int(v) for k, v in raw.items()})
    return dict(total)


# -- the public scorecard -------------------------------------------------------------------
def publish(value: float | int | None, cases: int) -> dict[str, Any]:
    """A public figure, shown only when at least MIN_PUBLIC_CASES cases stand behind it; the
    exact count of a smaller group is not shown either."""
    if cases < MIN_PUBLIC_CASES or value is None:
        return {"value": None, "cases": None, "reason": "fewer_than_10_cases"}
    return {"value": value, "cases": cases}


def scorecard_figures(figures: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "received": publish(figures["received"], figures["received"]),
        "on_time_acknowledgement": publish(
            figures["acknowledgement"]["on_time_rate"], figures["acknowledgement"]["total"]
        ),
        "on_time_response": publish(
            figures["response"]["on_time_rate"], figures["response"]["total"]
        ),
        "median_working_days_to_respond": publish(
            figures["days_to_respond"]["median_working_days"], figures["days_to_respond"]["cases"]
        ),
        "reopen_rate": publish(figures["reopen"]["rate"], figures["reopen"]["responses"]),
    }


# -- regions and weeks ----------------------------------------------------------------------
UNKNOWN_REGION = "未知"
MUNICIPALITIES = ("北京市", "天津市", "上海市", "重庆市")
PROVINCES = (
    *MUNICIPALITIES,
    "河北省",
    "山西省",
    "辽宁省",
    "吉林省",
    "黑龙江省",
    "江苏省",
    "浙江省",
    "安徽省",
    "福建省",
    "江西省",
    "山东省",
    "河南省",
    "湖北省",
    "湖南省",
    "广东省",
    "海南省",
    "四川省",
    "贵州省",
    "云南省",
    "陕西省",
    "甘肃省",
    "青海省",
    "台湾省",
    # libphonenumber writes autonomous regions short ("内蒙古呼和浩特市"); the long forms
    # come first so that either spelling splits the same way.
    "内蒙古自治区",
    "广西壮族自治区",
    "西藏自治区",
    "宁夏回族自治区",
    "新疆维吾尔自治区",
    "内蒙古",
    "广西",
    "西藏",
    "宁夏",
    "新疆",
)
_SHORT = {
    "内蒙古自治区": "内蒙古",
    "广西壮族自治区": "广西",
    "西藏自治区": "西藏",
    "宁夏回族自治区": "宁夏",
    "新疆维吾尔自治区": "新疆",
}


def split_region(region: str | None) -> tuple[str, str]:
    """(province, city) from a number's region as libphonenumber names it: "广东省深圳市" →
    ("广东省", "深圳市"); a municipality is its own city ("北京市" → ("北京市", "北京市"));
    a province alone has city ""; unknown ("", "中国") → ("未知", "")."""
    text = (region or "").strip()
    if not text or text in ("中国", UNKNOWN_REGION):
        return UNKNOWN_REGION, ""
    for province in PROVINCES:
        if text.startswith(province):
            rest = text.removeprefix(province)
            short = _SHORT.get(province, province)
            if province in MUNICIPALITIES:
                return province, province
            return short, rest
    return text, ""


def region_label(province: str, city: str) -> str:
    """What the drill-down's `region` takes back: split_region(region_label(p, c)) == (p, c)."""
    return province if city in ("", province) else province + city


def iso_week(moment: datetime) -> str:
    return week_of(moment.astimezone(workdays.SHANGHAI).date())


def parse_week(text: str) -> date:
    """The Monday of an ISO week written YYYY-Www whose baseline weeks and whole span are
    dates the calendar has (year 1 to 9999); ValueError for anything else."""
    digits = text[:4] + text[6:]
    if len(text) != 8 or text[4:6] != "-W" or not (digits.isascii() and digits.isdigit()):
        raise ValueError("must be an ISO week like 2026-W48")
    try:
        monday = date.fromisocalendar(int(text[:4]), int(text[6:]), 1)
    except ValueError:
        raise ValueError(f"{text} is no ISO week (e.g. week 53 in a 52-week year)") from None
    if monday - date.min < timedelta(weeks=BASELINE_WEEKS) or date.max - monday < timedelta(6):
        raise ValueError("the week or its 8 baseline weeks fall outside years 1 to 9999")
    return monday


def week_of(day: date) -> str:
    """YYYY-Www, zero-padded, as the API takes and gives weeks."""
    year, week, _ = day.isocalendar()
    return f"{year:04d}-W{week:02d}"


def previous_weeks(week: str, count: int = BASELINE_WEEKS) -> list[str]:
    """The `count` ISO weeks before `week`, oldest first."""
    monday = parse_week(week)
    return [week_of(monday - timedelta(weeks=k)) for k in range(count, 0, -1)]


# -- the spike rule -------------------------------------------------------------------------
@dataclass(frozen=True)
class Verdict:
    count: int
    baseline_mean: float
    threshold: float
    spike: bool


def assess(count: int, baseline: Iterable[int], weeks: int = BASELINE_WEEKS) -> Verdict:
    """SPIKE RULE: count ≥ 5 and count ≥ 3 × (baseline weekly mean + 1). Weeks missing from
    `baseline` count as zero. Compared in whole numbers, so no rounding decides a flag."""
    history = list(baseline)
    weeks = max(weeks, len(history), 1)
    total = sum(history)
    spike = count >= SPIKE_MIN_COUNT and count * weeks >= SPIKE_FACTOR * (total + weeks)
    mean = total / weeks
    threshold = max(float(SPIKE_MIN_COUNT), SPIKE_FACTOR * (mean + 1))
    return Verdict(count, round(mean, 3), round(threshold, 3), spike)
