"""What the engine's firings say, per rule and instance: read once, used by every part
of the decision (statuses, findings, open rules, what would lift a block)."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from chipclear.decide.compile import CompiledPack, derived_value
from chipclear.pack.loader import RulePack

#: The instance of a case-level rule or fact (order lines are 0, 1, ...).
CASE_IDX = -1


def _values() -> defaultdict[str, list[Any]]:
    return defaultdict(list)


def _derived_table() -> dict[int, dict[str, list[Any]]]:
    return defaultdict(_values)  # module-level factories: a trace pickles (worker -> parent)


@dataclass
class Firings:
    """The engine's answer, indexed: which rule fired where, and what it derived."""

    #: rule id -> instances it fired on (CASE_IDX: the case, i: order line i)
    fired: dict[str, set[int]] = field(default_factory=lambda: defaultdict(set))
    #: instance -> derived fact key -> values, in firing order
    derived: dict[int, dict[str, list[Any]]] = field(
        default_factory=_derived_table)
    #: "key=value@instance" -> rules that derived it
    derived_by: defaultdict[str, set[str]] = field(default_factory=lambda: defaultdict(set))
    #: rule id -> derived fact ids ("key=value@instance") its firings used
    used: defaultdict[str, set[str]] = field(default_factory=lambda: defaultdict(set))

    def rules_at(self, idx: int) -> list[str]:
        """Rules that fired on this order line or on the whole case."""
        return [rid for rid, idxs in self.fired.items() if idx in idxs or CASE_IDX in idxs]


def read_firings(pack: RulePack, compiled: CompiledPack, firings: list[Any]) -> Firings:
    """Index the engine's firings by rule and instance, with the facts they derived."""
    out = Firings()
    for f in firings:
        spec = compiled.actions[f.action]
        out.fired[spec.rule_id].add(f.idx)
        out.used[spec.rule_id].update(f.derived_ids)
        for key, value in pack.rules_by_id[spec.rule_id].rule.then.derive.items():
            v = derived_value(value)
            if v not in out.derived[f.idx][key]:
                out.derived[f.idx][key].append(v)
            out.derived_by[f"{key}={v}@{f.idx}"].add(spec.rule_id)
    return out
