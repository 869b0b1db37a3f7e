"""The generated tables of docs/design.md (workflow and SMS), from workflows/case_workflow.yaml.

    python scripts/design_tables.py           # rewrite the generated blocks in docs/design.md
    python scripts/design_tables.py --check   # exit 1 if they differ from the workflow file

The file is read with the engine's own loader (chalicelib/domain/workflow.py), so the document
shows exactly what the engine enforces, and a file the engine refuses is refused here too.
Each block sits between `<!-- generated:<name>:start -->` and `<!-- generated:<name>:end -->`;
everything outside the markers is written by hand and left alone.
tests/unit/test_design_doc.py fails when a block is out of date.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Iterable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # run as a script: make chalicelib importable
    sys.path.insert(0, str(ROOT))

from chalicelib.domain import sms_text  # noqa: E402
from chalicelib.domain.workflow import (  # noqa: E402
    DEFAULT_PATH,
    Duration,
    Effect,
    Workflow,
    load_workflow_file,
)

DESIGN = ROOT / "docs" / "design.md"
SOURCE = DEFAULT_PATH.relative_to(ROOT).as_posix()
UNITS = {"working_days": "working day", "days": "day", "hours": "hour"}


def _code(names: Iterable[str]) -> str:
    return ", ".join(f"`{n}`" for n in names) or "—"


def _duration(d: Duration | None) -> str:
    if d is None:
        return "—"
    unit = UNITS[d.unit]
    return f"{d.amount} {unit}{'' if d.amount == 1 else 's'}"


def _table(header: list[str], rows: list[list[str]]) -> list[str]:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(cell.replace("|", "\\|") for cell in row) + " |" for row in rows]
    return lines


def _rows(wf: Workflow) -> list[tuple[str, str, Effect]]:
    """(action name, label, effect) per action and outcome, in file order."""
    return [
        (name, f"`{name}`" + (f" ({outcome})" if outcome else ""), effect)
        for name, action in wf.actions.items()
        for outcome, effect in action.effects.items()
    ]


def _clears_all(wf: Workflow) -> list[str]:
    return [label for _, label, e in _rows(wf) if "all" in e.clear]


def _sources(wf: Workflow, sources: frozenset[str]) -> str:
    if sources == frozenset(wf.open_states()):
        return "any open state"
    return _code(s for s in wf.states if s in sources)


def _cleared(effect: Effect) -> str:
    return "all" if "all" in effect.clear else _code(effect.clear)


def states_table(wf: Workflow) -> list[str]:
    rows = []
    for state in wf.states.values():
        kind = "open" if not state.terminal else "terminal"
        if state.settled:
            kind += ", settled"
        by_actor = {}
        for action in wf.actions.values():
            if state.name in action.sources:
                by_actor.setdefault(action.actor, []).append(action.name)
        who = "; ".join(f"{actor}: {_code(names)}" for actor, names in by_actor.items())
        rows.append([f"`{state.name}`", state.action_on, kind, who or "—"])
    return _table(["state", "action on", "kind", "actions allowed here (by actor)"], rows)


def transitions_table(wf: Workflow) -> list[str]:
    rows = []
    for name, label, effect in _rows(wf):
        action = wf.actions[name]
        to = f"`{effect.to}`"
        if effect.effect:
            to += f" + `{effect.effect}`"
        fields = [f"**{f}**" for f in action.requires] + list(action.optional)
        sms = f"{_code(effect.sms)} ({effect.notify})" if effect.sms else "—"
        held = [f"pauses {_code(effect.pause)}"] if effect.pause else []
        held += [f"resumes {_code(effect.resume)}"] if effect.resume else []
        rows.append(
            [
                label,
                action.actor,
                _sources(wf, action.sources),
                to,
                ", ".join(fields) or "—",
                sms,
                _code(effect.arm),
                _cleared(effect) if effect.clear else "—",
                "; ".join(held) or "—",
            ]
        )
    header = ["action", "actor", "from", "to", "fields", "SMS", "arms", "clears", "holds"]
    return _table(header, rows)


def timers_table(wf: Workflow) -> list[str]:
    rows = []
    effects = _rows(wf)
    for timer in wf.timers.values():
        armed = ["(case opens)"] if timer.name in wf.initial_arm else []
        if wf.refiling and timer.name in wf.refiling.arm:
            armed.append("(refiling opens)")
        armed += [label for _, label, e in effects if timer.name in e.arm]
        cleared = [label for _, label, e in effects if timer.name in e.clear]
        override = "—"
        if timer.override:
            override = f"`{timer.override}`"
            if timer.fraud_lane:
                override += f", fraud lane `fraud_{timer.override}`"
        rows.append(
            [
                f"`{timer.name}`",
                f"`{timer.fires}`",
                _duration(timer.after),
                _duration(timer.fraud_lane),
                override,
                "yes" if timer.company_clock else "no",
                ", ".join(armed) or "—",
                ", ".join(cleared) or "—",
            ]
        )
    header = [
        "timer",
        "fires",
        "after",
        "fraud lane",
        "directory override",
        "company clock",
        "armed by",
        "cleared by",
    ]
    return _table(header, rows)


def _refiling(wf: Workflow) -> list[str]:
    r = wf.refiling
    if r is None:
        return []
    return [
        f"Refiling: a filing on the `{r.lane}` lane against a company whose case for the same "
        f"number was `{r.after}` less than {_duration(r.within)} ago opens in `{r.opens_in}` "
        f"with {_code(r.arm)} armed, linked to that case by `reopened_from`.",
        "",
    ]


def workflow_block(wf: Workflow) -> list[str]:
    outside = [[f"`{k}`", f"`{v}`"] for k, v in wf.outside_steps.items()]
    return [
        f"Generated from `{SOURCE}` by `scripts/design_tables.py`; do not edit by hand.",
        "",
        f"A case opens in `{wf.initial_state}` with {_code(wf.initial_arm)} armed. Once per "
        f"dispute, not per case, the filing queues {_code(wf.dispute_sms)} (sent at once).",
        "",
        *_refiling(wf),
        "**States**",
        "",
        *states_table(wf),
        "",
        "**Transitions** (fields: **required**, others optional; SMS: the templates queued, "
        "with `self` = sent at once, `follow_up` = waits for the digest window and quiet hours)",
        "",
        *transitions_table(wf),
        "",
        "**Timers** (working days are China working days, Asia/Shanghai; days and hours are "
        f"wall-clock). Besides those named, {', '.join(_clears_all(wf))} clear every timer.",
        "",
        *timers_table(wf),
        "",
        "**Where the person can turn next** once a case is escalated or closed in disagreement "
        "(advice texts in `templates/advice/`; the fraud lane wins over the kind)",
        "",
        *_table(["lane or kind", "advice"], outside),
    ]


def sms_block(wf: Workflow) -> list[str]:
    used: dict[str, list[str]] = {name: ["filing (once per dispute)"] for name in wf.dispute_sms}
    notify: dict[str, set[str]] = {name: {"self"} for name in wf.dispute_sms}
    for _, label, effect in _rows(wf):
        for name in effect.sms:
            used.setdefault(name, []).append(label)
            notify.setdefault(name, set()).add(effect.notify)
    rows = [
        [
            f"`{name}`",
            ", ".join(used.get(name, [])) or "not queued by a transition (see below)",
            ", ".join(sorted(notify.get(name, []))) or "—",
        ]
        for name in sms_text.template_names()
    ]
    return [
        f"Generated from `{SOURCE}` and `templates/sms/` by `scripts/design_tables.py`.",
        "",
        *_table(["template", "queued by", "notify"], rows),
    ]


BLOCKS: dict[str, Callable[[Workflow], list[str]]] = {
    "workflow": workflow_block,
    "sms": sms_block,
}


def markers(name: str) -> tuple[str, str]:
    return f"<!-- generated:{name}:start -->", f"<!-- generated:{name}:end -->"


def render(document: str, wf: Workflow) -> str:
    """`document` with every generated block rewritten from `wf`."""
    for name, build in BLOCKS.items():
        start, end = markers(name)
        if document.count(start) != 1 or document.count(end) != 1:
            raise ValueError(f"{DESIGN.name}: needs exactly one {start} and one {end}")
        head, rest = document.split(start)
        _, tail = rest.split(end)
        document = "\n".join([head + start, *build(wf), end + tail])
    return document


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="exit 1 if the blocks are stale")
    args = parser.parse_args(argv)
    current = DESIGN.read_text(encoding="utf-8")
    wanted = render(current, load_workflow_file(DEFAULT_PATH))
    if args.check:
        if wanted != current:
            print(
                f"{DESIGN.relative_to(ROOT)} is out of date with {SOURCE}: "
                "run python scripts/design_tables.py",
                file=sys.stderr,
            )
            return 1
        return 0
    if wanted != current:
        DESIGN.write_text(wanted, encoding="utf-8")
        print(f"rewrote the generated blocks of {DESIGN.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
