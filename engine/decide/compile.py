"""Compile the rules in force on a date into a durable-rules ruleset (plain dicts).

Each rule becomes one durable rule per branch: an ``any`` that mixes derived facts is
split, so every durable rule is "this fact, joined to those derived facts". Parameters
are resolved to their value on the date, dates become day ordinals and numbers floats,
so durable never compares mismatched types. The compiled form is hashed; identical
compilations (many dates share one) are registered once.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from dataclasses import dataclass
from typing import Any

from chipclear.errors import RulePackError
from chipclear.pack import conditions as C
from chipclear.pack.facts import REGISTRY, Kind, Scope, engine_key
from chipclear.pack.loader import CompiledRule, RulePack

Branch = tuple[tuple[C.Condition, ...], tuple[C.DerivedTest, ...]]


@dataclass(frozen=True)
class ActionSpec:
    """What a durable action does when a branch of a rule fires."""

    rule_id: str
    branch: int
    scope: Scope
    derive: tuple[tuple[str, Any], ...]  # (key, engine value) pairs other rules consume
    derived_aliases: tuple[str, ...]


@dataclass(frozen=True)
class CompiledPack:
    """Everything needed to evaluate cases at one date."""

    name: str
    as_of: dt.date
    ruleset: dict[str, Any]
    actions: dict[str, ActionSpec]
    rules: tuple[CompiledRule, ...]  # active rules, in dependency (stratum) order
    params: dict[str, Any]
    revenue_share: dict[str, float]


def _branches(cond: C.Condition) -> list[Branch]:
    """Disjunctive form, splitting only where derived facts force separate joins."""
    if isinstance(cond, C.DerivedTest):
        return [((), (cond,))]
    if not C.uses_derived(cond):
        return [((cond,), ())]
    if isinstance(cond, C.AnyOf):
        return [b for item in cond.items for b in _branches(item)]
    if isinstance(cond, C.All):
        result: list[Branch] = [((), ())]
        for item in cond.items:
            result = [
                (facts + more_facts, derived + more_derived)
                for facts, derived in result
                for more_facts, more_derived in _branches(item)
            ]
        return result
    raise AssertionError(f"unexpected condition {cond!r}")  # Not never holds derived tests


def _engine_value(path: str, value: Any) -> Any:
    if REGISTRY[path].kind is Kind.date:
        return dt.date.fromisoformat(str(value)).toordinal()
    if isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    return value


def derived_value(value: Any) -> Any:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else value


_NEGATE = {"eq": "ne", "ne": "eq", "gt": "lte", "gte": "lt", "lt": "gte", "lte": "gt",
           "in": "not_in", "not_in": "in"}
_DURABLE_OP = {"ne": "$neq", "gt": "$gt", "gte": "$gte", "lt": "$lt", "lte": "$lte"}


class _Compiler:
    def __init__(self, pack: RulePack, as_of: dt.date) -> None:
        self.pack = pack
        self.as_of = as_of
        self.params: dict[str, Any] = {}

    def resolve(self, value: Any, rule: CompiledRule) -> Any:
        if not isinstance(value, C.ParamRef):
            return value
        param = self.pack.parameters[value.name]
        current = param.at(self.as_of)
        if current is None:
            raise RulePackError(
                rule.location,
                f"{rule.rule.id}: parameter '{value.name}' has no value on {self.as_of}",
                "give the parameter a value from the rule's valid_from",
            )
        self.params[value.name] = current.value
        return current.value

    def test(self, test: C.FactTest, rule: CompiledRule, negate: bool = False) -> dict[str, Any]:
        key = engine_key(test.path)
        op = _NEGATE.get(test.op, test.op) if negate else test.op
        if test.op == "nonempty":
            return {key: ""} if negate else {"$neq": {key: ""}}
        if op in ("in", "not_in"):
            assert isinstance(test.value, tuple)
            values = [_engine_value(test.path, self.resolve(v, rule)) for v in test.value]
            if op == "in":
                return {"$or": [{key: v} for v in values]}
            return {"$and": [{"$neq": {key: v}} for v in values]}
        value = _engine_value(test.path, self.resolve(test.value, rule))
        if op == "eq":
            return {key: value}
        return {_DURABLE_OP[op]: {key: value}}

    def expr(self, cond: C.Condition, rule: CompiledRule, negate: bool = False) -> dict[str, Any]:
        if isinstance(cond, C.FactTest):
            return self.test(cond, rule, negate)
        if isinstance(cond, C.Not):
            return self.expr(cond.item, rule, not negate)
        if isinstance(cond, C.All | C.AnyOf):
            conj = isinstance(cond, C.All) != negate
            parts = [self.expr(c, rule, negate) for c in cond.items]
            return {"$and" if conj else "$or": parts}
        raise AssertionError(f"derived test in a fact expression: {cond!r}")


def stratify(rules: list[CompiledRule]) -> list[CompiledRule]:
    """Order rules so every rule comes after the rules deriving what it tests."""
    derivers: dict[str, list[CompiledRule]] = {}
    for r in rules:
        for key in r.rule.then.derive:
            derivers.setdefault(key, []).append(r)
    ordered: list[CompiledRule] = []
    state: dict[str, int] = {}

    def visit(r: CompiledRule, chain: tuple[str, ...]) -> None:
        mark = state.get(r.rule.id, 0)
        if mark == 2:
            return
        if mark == 1:
            raise RulePackError(r.location, "rules derive each other in a cycle: "
                                + " -> ".join((*chain, r.rule.id)))
        state[r.rule.id] = 1
        for test in C.derived_tests(r.condition):
            for dep in derivers.get(test.key, []):
                visit(dep, (*chain, r.rule.id))
        state[r.rule.id] = 2
        ordered.append(r)

    for r in rules:
        visit(r, ())
    return ordered


def compile_pack(pack: RulePack, as_of: dt.date) -> CompiledPack:
    comp = _Compiler(pack, as_of)
    active = stratify([r for r in pack.rules if r.rule.active(as_of)])
    consumed = {t.key for r in active for t in C.derived_tests(r.condition)}
    ruleset: dict[str, Any] = {}
    actions: dict[str, ActionSpec] = {}
    revenue_share: dict[str, float] = {}
    for r in active:
        share = r.rule.then.revenue_share_pct
        if share is not None:
            if isinstance(share, dict):
                share = comp.resolve(C.ParamRef(share["param"]), r)
            revenue_share[r.rule.id] = float(share)
        derive = tuple(
            (k, derived_value(v)) for k, v in sorted(r.rule.then.derive.items()) if k in consumed
        )
        for n, (facts, derived) in enumerate(_branches(r.condition)):
            name = f"{r.rule.id}#{n}"
            patterns: list[dict[str, Any]] = []
            joins: list[dict[str, Any]] = []
            aliases: list[str] = []
            for j, dtest in enumerate(derived):
                alias = f"d{j}"
                aliases.append(alias)
                parts: list[dict[str, Any]] = [{"t": "d"}, {"k": dtest.key}]
                if dtest.values is not None:
                    parts.append({"$or": [{"v": derived_value(v)} for v in dtest.values]})
                patterns.append({alias: {"$and": parts}})
                if pack.derived_scopes.get(dtest.key) is Scope.item:
                    joins.append({"idx": {alias: "idx"}})
            main: list[dict[str, Any]] = [{"t": r.scope.value}, *joins]
            main.extend(comp.expr(f, r) for f in facts)
            patterns.append({"m": {"$and": main}})
            ruleset[name] = {"all": patterns, "run": name}
            actions[name] = ActionSpec(r.rule.id, n, r.scope, derive, tuple(aliases))
    # Every session must fire at least one action: deleting a session in which nothing
    # fired crashes durable-rules (segfault in delete_state). One rule on the case fact
    # fires exactly once per case.
    ruleset["__open"] = {"all": [{"m": {"t": "case"}}], "run": "__open"}
    # Facts that no rule matches must still be stored: durable raises otherwise.
    for kind in ("item", "d"):
        ruleset[f"__keep_{kind}"] = {
            "all": [{"m": {"t": kind}}, {"never": {"t": "__never__"}}], "run": "__noop"
        }
    body = json.dumps({"r": ruleset, "p": comp.params}, sort_keys=True, default=str)
    name = "cc_" + hashlib.sha256((pack.sha256 + body).encode()).hexdigest()[:20]
    return CompiledPack(name, as_of, ruleset, actions, tuple(active), comp.params, revenue_share)
