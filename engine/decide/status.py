"""US and Chinese statuses from the rules that fired, held open while an undecided rule
could still set a worse one, and how much each open rule could change the outcome."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from chipclear.decide.firings import CASE_IDX, Firings
from chipclear.decide.undecided import OpenRules
from chipclear.model.decision import Impact
from chipclear.pack.loader import (
    CN_ORDER,
    US_ORDER,
    CnStatus,
    CompiledRule,
    RulePack,
    Severity,
    UsStatus,
)


@dataclass
class Statuses:
    """The worst status fired rules reached, per order line and for the whole case."""

    blocked: bool
    n_items: int
    us_reached: list[UsStatus | None]
    cn_reached: list[CnStatus | None]
    us_case: UsStatus | None
    cn_case: CnStatus | None
    #: every open rule, instances in order, then item rules open for want of order lines
    every_open: list[CompiledRule]

    def could_worsen(self, rules: list[CompiledRule], us: UsStatus | None,
                     cn: CnStatus | None) -> tuple[list[str], list[str]]:
        """Open rules that could set a worse status than reached (beyond conditions)."""
        us_open = {cr.rule.id for cr in rules
                   if worse(cr.rule.then.us_status, us, US_ORDER, collapse=True)}
        cn_open = {cr.rule.id for cr in rules
                   if worse(cr.rule.then.cn_status, cn, CN_ORDER, collapse=True)}
        return sorted(us_open), sorted(cn_open)

    def shown(self, reached: Any, rules: list[CompiledRule], side: str, order: list[Any],
              open_ids: list[str], best: Any) -> Any:
        """The status to report: undetermined, or the reached one raised to the
        conditional step when a condition to confirm could set it."""
        if open_ids:
            return order[0].__class__("undetermined")
        if self.blocked:  # a blocked deal has no conditions to confirm
            return reached or best
        raised = [getattr(cr.rule.then, side) for cr in rules
                  if worse(getattr(cr.rule.then, side), reached, order)]
        return worst_or_none([reached, *raised], order) or best

    def impact(self, cr: CompiledRule, idx: int) -> Impact | None:
        """The most firing this open rule could do to the outcome (None: nothing)."""
        rule, then = cr.rule, cr.rule.then
        if rule.severity is Severity.block:
            return Impact.could_block
        targets = [idx] if idx >= 0 else list(range(self.n_items))
        if worse(then.us_status, self.us_case, US_ORDER, True) or worse(
                then.cn_status, self.cn_case, CN_ORDER, True) or any(
                worse(then.us_status, self.us_reached[j], US_ORDER, True)
                or worse(then.cn_status, self.cn_reached[j], CN_ORDER, True) for j in targets):
            return Impact.could_change_status
        if then.condition is not None or rule.severity is Severity.condition or \
                then.us_status is not None or then.cn_status is not None:
            return Impact.condition_only
        return None


def reached(pack: RulePack, n_items: int, firings: Firings, open_: OpenRules) -> Statuses:
    """The statuses fired rules set, per line and for the case (the worst of all)."""
    us_reached: list[UsStatus | None] = []
    cn_reached: list[CnStatus | None] = []
    for i in range(n_items):
        thens = [pack.rules_by_id[r].rule.then for r in firings.rules_at(i)]
        us_reached.append(worst_or_none([t.us_status for t in thens], US_ORDER))
        cn_reached.append(worst_or_none([t.cn_status for t in thens], CN_ORDER))
    case_thens = [pack.rules_by_id[r].rule.then for r in firings.rules_at(CASE_IDX)]
    us_case = worst_or_none([*us_reached, *(t.us_status for t in case_thens)], US_ORDER)
    cn_case = worst_or_none([*cn_reached, *(t.cn_status for t in case_thens)], CN_ORDER)
    every_open = [cr for idx in sorted(open_.open_at) for cr in open_.open_at[idx]] \
        + open_.no_items
    blocked = any(pack.rules_by_id[r].rule.severity is Severity.block for r in firings.fired)
    return Statuses(blocked, n_items, us_reached, cn_reached, us_case, cn_case, every_open)


def worst_or_none(statuses: Iterable[Any], order: list[Any]) -> Any:
    present = [s for s in statuses if s is not None]
    return max(present, key=order.index) if present else None


def worse(status: Any, reached: Any, order: list[Any], collapse: bool = False) -> bool:
    """Whether a rule's status would be worse than the one reached (none reached: the best).

    With ``collapse``, the best step and the conditional step (allowed, subject to
    conditions) count as one: the difference between them is a checklist item.
    """
    if status is None:
        return False

    def rank(s: Any) -> int:
        i = order.index(s if s is not None else order[0])
        return 0 if collapse and i <= 1 else i

    return rank(status) > rank(reached)
