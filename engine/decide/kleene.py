"""Three-valued evaluation of conditions: true, false, or unknown for lack of facts.

durable-rules answers "which rules fire". It cannot say which rules are still
*undecided* because a fact is unknown; that is what the interview must ask and what
``missing`` reports. After the engine quiesces, each rule that did not fire is
evaluated here with unknown facts as a third value (Kleene logic); a rule that comes
out unknown names the facts it is waiting for. The same evaluation of the leaves
explains a fired rule in words (``because``).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from chipclear.decide.compile import _engine_value, derived_value
from chipclear.pack import conditions as C
from chipclear.pack.facts import REGISTRY, Kind


@dataclass(frozen=True)
class Truth:
    """A Kleene value; when unknown, the fact paths whose absence made it so."""

    value: bool | None
    unknown: frozenset[str] = frozenset()


TRUE = Truth(True)
FALSE = Truth(False)

#: Answers a derived test for one instance: derived, not derivable, or pending facts.
DerivedLookup = Callable[[C.DerivedTest], Truth]


def _compare(op: str, have: Any, want: Any) -> bool:
    if op == "eq":
        return bool(have == want)
    if op == "ne":
        return bool(have != want)
    if isinstance(have, bool) or isinstance(have, str) != isinstance(want, str):
        return False
    if op == "gt":
        return bool(have > want)
    if op == "gte":
        return bool(have >= want)
    if op == "lt":
        return bool(have < want)
    return bool(have <= want)


def resolve(value: Any, params: Mapping[str, Any]) -> Any:
    return params[value.name] if isinstance(value, C.ParamRef) else value


def test_fact(test: C.FactTest, facts: Mapping[str, Any], params: Mapping[str, Any]) -> Truth:
    have = facts.get(test.path)
    if have is None:
        return Truth(None, frozenset((test.path,)))
    if test.op == "nonempty":
        return Truth(isinstance(have, str) and have != "")
    want = _literal(test, params)
    if test.op in ("in", "not_in"):
        inside = have in want
        return TRUE if inside == (test.op == "in") else FALSE
    return TRUE if _compare(test.op, have, want) else FALSE


_LITERALS: dict[tuple[int, int], tuple[C.FactTest, Mapping[str, Any], Any]] = {}


def _literal(test: C.FactTest, params: Mapping[str, Any]) -> Any:
    """A test's value in engine form, parameters resolved.

    Cached by object identity (checked on every hit, so a recycled id cannot alias):
    tests and a compiled pack's parameters never change once built.
    """
    hit = _LITERALS.get((id(test), id(params)))
    if hit is not None and hit[0] is test and hit[1] is params:
        return hit[2]
    vals = test.value if isinstance(test.value, tuple) else (test.value,)
    engine = tuple(_engine_value(test.path, resolve(v, params)) for v in vals)
    value = engine if isinstance(test.value, tuple) else engine[0]
    if len(_LITERALS) < 100_000:
        _LITERALS[(id(test), id(params))] = (test, params, value)
    return value


def evaluate(
    cond: C.Condition, facts: Mapping[str, Any], params: Mapping[str, Any], derived: DerivedLookup
) -> Truth:
    if isinstance(cond, C.FactTest):
        return test_fact(cond, facts, params)
    if isinstance(cond, C.DerivedTest):
        return derived(cond)
    if isinstance(cond, C.Not):
        inner = evaluate(cond.item, facts, params, derived)
        return inner if inner.value is None else Truth(not inner.value)
    decisive = isinstance(cond, C.AnyOf)  # any: one true decides; all: one false decides
    unknown: list[frozenset[str]] = []
    for item in cond.items:
        result = evaluate(item, facts, params, derived)
        if result.value is decisive:
            return TRUE if decisive else FALSE
        if result.value is None:
            unknown.append(result.unknown)
    if unknown:
        return Truth(None, frozenset().union(*unknown))
    return FALSE if decisive else TRUE


def _show(path: str, value: Any) -> str:
    if REGISTRY[path].kind is Kind.date and isinstance(value, int | float):
        return dt.date.fromordinal(int(value)).isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


_NEGATED = {"eq": "ne", "ne": "eq", "gt": "lte", "gte": "lt", "lt": "gte", "lte": "gt",
            "in": "not_in", "not_in": "in"}
_SYMBOL = {"eq": "=", "ne": "≠", "gt": ">", "gte": "≥", "lt": "<", "lte": "≤",
           "in": "in", "not_in": "not in"}


def because(
    cond: C.Condition, facts: Mapping[str, Any], params: Mapping[str, Any],
    derived: Mapping[str, list[Any]], negate: bool = False,
) -> list[str]:
    """The true leaves that made a fired condition true, as short readable lines."""
    if isinstance(cond, C.FactTest):
        if test_fact(cond, facts, params).value is not (not negate):
            return []
        have = _show(cond.path, facts[cond.path])
        if cond.op == "nonempty":
            return [f"{cond.path} is given" if not negate else f"{cond.path} is empty"]
        want: Any = cond.value
        if isinstance(want, tuple):
            shown = "[" + ", ".join(_show(cond.path, _engine_value(cond.path, resolve(v, params)))
                                    for v in want) + "]"
        else:
            shown = _show(cond.path, _engine_value(cond.path, resolve(want, params)))
        op = _SYMBOL[_NEGATED[cond.op]] if negate else _SYMBOL[cond.op]
        vals = want if isinstance(want, tuple) else (want,)
        refs = [v.name for v in vals if isinstance(v, C.ParamRef)]
        param_note = f", parameter {', '.join(refs)}" if refs else ""
        if op == "=" and not refs:
            return [f"{cond.path} = {have}"]
        return [f"{cond.path} = {have} ({op} {shown}{param_note})"]
    if isinstance(cond, C.DerivedTest):
        values = [v for v in derived.get(cond.key, []) if cond.values is None
                  or v in [derived_value(x) for x in cond.values]]
        return [f"derived {cond.key} = {_show_plain(v)}" for v in values[:1]]
    if isinstance(cond, C.Not):
        return because(cond.item, facts, params, derived, not negate)
    lines: list[str] = []
    for item in cond.items:
        lines.extend(because(item, facts, params, derived, negate))
    return lines


def _show_plain(value: Any) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def describe(test: C.FactTest, params: Mapping[str, Any], negate: bool = False) -> str:
    """A fact test in words, e.g. ``buyer.country in [CN, MO]`` or ``chip.tpp ≥ 4800``."""
    if test.op == "nonempty":
        return f"{test.path} is empty" if negate else f"{test.path} is given"
    if test.op in ("eq", "ne") and isinstance(test.value, bool):
        holds = test.value if test.op == "eq" else not test.value
        return f"{test.path} = {_show(test.path, holds != negate)}"
    vals = test.value if isinstance(test.value, tuple) else (test.value,)
    shown = [_show(test.path, _engine_value(test.path, resolve(v, params))) for v in vals]
    text = "[" + ", ".join(shown) + "]" if isinstance(test.value, tuple) else shown[0]
    op = _NEGATED[test.op] if negate else test.op
    return f"{test.path} {_SYMBOL[op]} {text}"


def open_tests(cond: C.Condition, facts: Mapping[str, Any], params: Mapping[str, Any],
               negate: bool = False) -> list[str]:
    """The fact tests of a condition still open for lack of facts, as the condition needs them.

    Under ``not`` a test is shown negated, so each line reads as what must hold.
    """
    if isinstance(cond, C.FactTest):
        if cond.path in facts:
            return []
        return [describe(cond, params, negate)]
    if isinstance(cond, C.Not):
        return open_tests(cond.item, facts, params, not negate)
    if isinstance(cond, C.All | C.AnyOf):
        lines: list[str] = []
        for item in cond.items:
            for line in open_tests(item, facts, params, negate):
                if line not in lines:
                    lines.append(line)
        return lines
    return []
