"""One case across the dated history of a rule pack: on which days its outcome changes.

Export rules change by date (a rule comes into force, a threshold moves), so a buyer
asks "when did this purchase become possible, and why?". An outcome can only change on
a day something in the pack changes, so the case is decided at the start and on each
such day (rule ``valid_from``/``valid_to``, parameter ``from``, dated list entries),
not on every calendar day.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from chipclear.audit.impact import FiringEvaluator, Outcome, decide, show
from chipclear.errors import EngineFailure, UserInputError
from chipclear.model.case import Case
from chipclear.pack import conditions as C
from chipclear.pack.loader import CompiledRule, RulePack


def _list_dates(pack: RulePack) -> set[dt.date]:
    """Days a screening-list entry comes into or goes out of force (``since``/``until``)."""
    out: set[dt.date] = set()
    for lst in (pack.entity_list, pack.approved_customers):
        entries: list[Any] = list(lst.entries)  # typed loosely: see ScreeningList.list
        for entry in entries:
            out.add(entry.since)
            if entry.until is not None:
                out.add(entry.until)
    return out


def change_points(pack: RulePack) -> list[dt.date]:
    """Every date on which something in the pack starts or stops applying."""
    dates: set[dt.date] = set()
    for cr in pack.rules:
        dates.add(cr.rule.valid_from)
        if cr.rule.valid_to is not None:
            dates.add(cr.rule.valid_to)
    for param in pack.parameters.values():
        dates.update(v.from_ for v in param.values)
    dates |= _list_dates(pack)
    return sorted(dates)


@dataclass(frozen=True)
class Flip:
    """A day the outcome changed, what changed, and what in the pack changed that day."""

    date: dt.date
    before: Outcome
    after: Outcome
    started: tuple[str, ...]  # rules in force from this day
    ended: tuple[str, ...]  # rules no longer in force from this day
    parameters: tuple[str, ...]  # "name: old → new"

    def changes(self) -> list[str]:
        out = []
        for name, old, new in self.before.changes_to(self.after):
            if name == "findings":
                came = sorted(set(new) - set(old))
                gone = sorted(set(old) - set(new))
                out.append("findings " + " ".join([*(f"+{r}" for r in came),
                                                   *(f"-{r}" for r in gone)]))
            else:
                out.append(f"{name} {show(old)} → {show(new)}")
        return out

    @property
    def newly_fire(self) -> list[str]:
        return self.before.fire_diff(self.after)[0]

    @property
    def stop_firing(self) -> list[str]:
        return self.before.fire_diff(self.after)[1]

    def responsible(self) -> list[str]:
        """The pack changes of the day that explain the flip (rules that began or stopped
        firing, parameters that moved); every change of the day if none is obvious."""
        moved = set(self.newly_fire) | set(self.stop_firing)
        rules = [r for r in (*self.started, *self.ended) if r in moved]
        if not rules:
            rules = [*self.started, *self.ended]
        return rules

    def to_data(self) -> dict[str, Any]:
        return {"date": self.date.isoformat(), "changes": self.changes(),
                "before": self.before.to_data(), "after": self.after.to_data(),
                "responsible": self.responsible(), "in_force_from": list(self.started),
                "no_longer_in_force": list(self.ended), "parameters": list(self.parameters),
                "newly_fire": self.newly_fire, "stop_firing": self.stop_firing}


@dataclass(frozen=True)
class Timeline:
    case_id: str
    start: dt.date
    end: dt.date
    checked: int  # dates evaluated
    first: Outcome
    flips: tuple[Flip, ...]

    def to_data(self) -> dict[str, Any]:
        return {"case": self.case_id, "from": self.start.isoformat(),
                "to": self.end.isoformat(), "dates_checked": self.checked,
                "at_start": self.first.to_data(), "flips": [f.to_data() for f in self.flips]}


def _params_of(cr: CompiledRule) -> set[str]:
    names = C.params(cr.condition)
    share = cr.rule.then.revenue_share_pct
    if isinstance(share, dict):
        names.add(share["param"])
    return names


def _signature(o: Outcome) -> tuple[Any, ...]:
    return o.compared()


def timeline(pack: RulePack, case: Case, start: dt.date | None = None,
             end: dt.date | None = None, evaluator: FiringEvaluator | None = None) -> Timeline:
    """Decide ``case`` at ``start`` and on every change point up to ``end`` (inclusive)."""
    points = change_points(pack)
    start = start or (points[0] if points else case.as_of or dt.date.today())
    end = end or (points[-1] if points else start)
    ev = evaluator or FiringEvaluator(pack)
    dates = [start, *(d for d in points if start < d <= end)]

    def at(day: dt.date) -> Outcome:
        out = decide(ev, case.model_copy(update={"as_of": day}), day)
        if out.engine_failure:  # no outcome on that day, so no timeline: fail the case
            raise EngineFailure(f"on {day}: {out.error}")
        return out

    first = previous = at(start)
    flips: list[Flip] = []
    for day in dates[1:]:
        now = at(day)
        if _signature(now) != _signature(previous):
            before_day = day - dt.timedelta(days=1)
            started = tuple(cr.rule.id for cr in pack.rules if cr.rule.valid_from == day)
            ended = tuple(cr.rule.id for cr in pack.rules if cr.rule.valid_to == day)
            moved = (now.fired ^ previous.fired) or {cr.rule.id for cr in pack.rules}
            used = {name for rid in moved if rid in pack.rules_by_id
                    for name in _params_of(pack.rules_by_id[rid])}
            params = []
            for name, param in sorted(pack.parameters.items()):
                old, new = param.at(before_day), param.at(day)
                if old != new and name in used:
                    params.append(f"{name}: {show(old.value if old else None)} → "
                                  f"{show(new.value if new else None)}")
            flips.append(Flip(day, previous, now, started, ended, tuple(params)))
        previous = now
    return Timeline(case.id, start, end, len(dates), first, tuple(flips))


def timeline_setup(pack: RulePack) -> Callable[[tuple[Case, dt.date | None, dt.date | None]],
                                               Timeline | UserInputError]:
    """For a worker process: the timeline of one case (a user error travels back)."""

    def run(task: tuple[Case, dt.date | None, dt.date | None]) -> Timeline | UserInputError:
        try:
            return timeline(pack, *task)
        except UserInputError as exc:
            return exc

    return run


def render_timeline(tl: Timeline, fmt: str) -> str:
    import json

    if fmt == "json":
        return json.dumps(tl.to_data(), ensure_ascii=False, allow_nan=False, indent=2) + "\n"
    md = fmt == "markdown"

    def state(o: Outcome) -> str:
        if o.error:
            return f"error: {o.error}"
        share = f" · share {show(o.share_pct)}% = ${show(o.share_usd)}" \
            if o.share_pct is not None else ""
        return f"{o.verdict} · US {o.us_status} · CN {o.cn_status}{share}"

    head = (f"Timeline of {tl.case_id}, {tl.start} to {tl.end} "
            f"({tl.checked} dates checked)")
    out = [f"# {head}" if md else head, ""]
    out.append(f"{'- ' if md else ''}{tl.start}  start: {state(tl.first)}")
    for f in tl.flips:
        out.append(f"{'- ' if md else ''}{f.date}  {'; '.join(f.changes())}")
        pad = "  - " if md else "            "
        out.append(f"{pad}now: {state(f.after)}")
        why = []
        for r in f.responsible():
            why.append(f"{r} {'in force from' if r in f.started else 'no longer in force on'} "
                       f"{f.date}")
        why += list(f.parameters)
        if why:
            out.append(f"{pad}because: {'; '.join(why)}")
        if f.newly_fire:
            out.append(f"{pad}newly fire: {', '.join(f.newly_fire)}")
        if f.stop_firing:
            out.append(f"{pad}stop firing: {', '.join(f.stop_firing)}")
    out.append("")
    n = len(tl.flips)
    out.append(f"{n} date{'s' if n != 1 else ''} change the outcome" if n else
               "the outcome never changes in this period")
    return "\n".join(out) + "\n"
