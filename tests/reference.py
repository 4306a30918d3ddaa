"""A small, independent reference evaluator for differential tests.

It knows nothing of durable-rules or of chipclear's compiler: it walks the rule
conditions directly over the prepared facts and iterates to a fixpoint. Unknown
facts simply make a test false, as in the engine. If it and the engine ever
disagree on which rules fire, one of them is wrong.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from chipclear.decide.compile import CompiledPack
from chipclear.decide.evaluate import CASE_IDX, Prepared
from chipclear.pack import conditions as C
from chipclear.pack.facts import REGISTRY, Kind, Scope
from chipclear.pack.loader import RulePack


def _literal(path: str, value: Any, params: dict[str, Any]) -> Any:
    if isinstance(value, C.ParamRef):
        value = params[value.name]
    if REGISTRY[path].kind is Kind.date:
        return dt.date.fromisoformat(str(value)).toordinal()
    if isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    return value


def _holds(cond: C.Condition, facts: dict[str, Any], derived: dict[str, set[Any]],
           params: dict[str, Any], negate: bool = False) -> bool:
    """Two-valued truth; negation is pushed to the leaves, where an absent fact is false."""
    if isinstance(cond, C.Not):
        return _holds(cond.item, facts, derived, params, not negate)
    if isinstance(cond, C.All | C.AnyOf):
        results = [_holds(c, facts, derived, params, negate) for c in cond.items]
        return all(results) if isinstance(cond, C.All) != negate else any(results)
    if isinstance(cond, C.DerivedTest):
        have = derived.get(cond.key, set())
        if cond.values is None:
            return bool(have)
        want = {float(v) if isinstance(v, int) and not isinstance(v, bool) else v
                for v in cond.values}
        return bool(have & want)
    assert isinstance(cond, C.FactTest)
    if cond.path not in facts:
        return False
    return _leaf(cond, facts[cond.path], params) != negate


def _leaf(cond: C.FactTest, have: Any, params: dict[str, Any]) -> bool:
    if cond.op == "nonempty":
        return isinstance(have, str) and have != ""
    if cond.op in ("in", "not_in"):
        assert isinstance(cond.value, tuple)
        inside = have in [_literal(cond.path, v, params) for v in cond.value]
        return inside if cond.op == "in" else not inside
    want = _literal(cond.path, cond.value, params)
    if cond.op == "eq":
        return bool(have == want)
    if cond.op == "ne":
        return bool(have != want)
    if isinstance(have, str) or isinstance(want, str):
        return False
    ops = {"gt": lambda a, b: a > b, "gte": lambda a, b: a >= b,
           "lt": lambda a, b: a < b, "lte": lambda a, b: a <= b}
    return bool(ops[cond.op](have, want))


def fired(pack: RulePack, compiled: CompiledPack, prep: Prepared) -> set[tuple[str, int]]:
    """(rule id, instance) pairs that fire, by naive iteration to a fixpoint."""
    instances = {Scope.case: [CASE_IDX], Scope.item: list(range(len(prep.item_facts)))}
    derived: dict[int, dict[str, set[Any]]] = {}
    result: set[tuple[str, int]] = set()
    changed = True
    while changed:
        changed = False
        for cr in compiled.rules:
            for idx in instances[cr.scope]:
                if (cr.rule.id, idx) in result:
                    continue
                view: dict[str, set[Any]] = {}
                for key, scope in pack.derived_scopes.items():
                    at = idx if scope is Scope.item else CASE_IDX
                    view[key] = derived.get(at, {}).get(key, set())
                if _holds(cr.condition, prep.facts_for(idx), view, compiled.params):
                    result.add((cr.rule.id, idx))
                    for key, value in cr.rule.then.derive.items():
                        v = float(value) if isinstance(value, int) and not isinstance(
                            value, bool) else value
                        derived.setdefault(idx, {}).setdefault(key, set()).add(v)
                    changed = True
    return result
