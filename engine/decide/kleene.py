"""Three-valued evaluation of conditions: true, false, or unknown for lack of facts.

durable-rules answers "which rules fire". It cannot say which rules are still
*undecided* because a fact is unknown; that is what the interview must ask and what
``missing`` reports. After the engine quiesces, each rule that did not fire is
evaluated here with unknown facts as a third value (Kleene logic); a rule that comes
out unknown names the facts it is waiting for. The cross-check's evaluation of a rule
that fired also collects the leaves that made it true (``evaluate_fired``): the
decision's ``because``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from chipclear.decide.compile import _engine_value
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


@dataclass(frozen=True)
class Leaf:
    """A leaf of a fired condition that held: a fact test (``negate``: under an odd number
    of ``not``) with the engine value it saw, or a derived test with the value derived."""

    test: C.FactTest | C.DerivedTest
    negate: bool
    value: Any


#: For a derived test: the first value derived for its key that it accepts, or None.
DerivedShown = Callable[[C.DerivedTest], Any]


def evaluate_fired(cond: C.Condition, facts: Mapping[str, Any], params: Mapping[str, Any],
                   derived: DerivedLookup, shown: DerivedShown) -> tuple[Truth, list[Leaf]]:
    """``evaluate`` without short-circuit, also collecting the leaves that held: the
    cross-check's pass over a rule that fired, which is also its explanation (``because``).

    The value is the same as ``evaluate``'s (Kleene logic does not depend on the order
    items are read in). A fact test is a leaf when it holds with its polarity; a derived
    test is a leaf whenever a value it accepts was derived.
    """
    leaves: list[Leaf] = []

    def walk(node: C.Condition, negate: bool) -> Truth:
        if isinstance(node, C.FactTest):
            result = test_fact(node, facts, params)
            if result.value is (not negate):
                leaves.append(Leaf(node, negate, facts[node.path]))
            return result
        if isinstance(node, C.DerivedTest):
            value = shown(node)
            if value is not None:
                leaves.append(Leaf(node, negate, value))
            return derived(node)
        if isinstance(node, C.Not):
            inner = walk(node.item, not negate)
            return inner if inner.value is None else Truth(not inner.value)
        decisive = isinstance(node, C.AnyOf)
        decided = False
        unknown: list[frozenset[str]] = []
        for item in node.items:  # every item: each may hold leaves
            result = walk(item, negate)
            if result.value is decisive:
                decided = True
            elif result.value is None:
                unknown.append(result.unknown)
        if decided:
            return TRUE if decisive else FALSE
        if unknown:
            return Truth(None, frozenset().union(*unknown))
        return FALSE if decisive else TRUE

    return walk(cond, False), leaves


def plain(path: str, value: Any) -> Any:
    """An engine value as the decision shows it: a date as ISO text, a whole number
    without ".0"."""
    if REGISTRY[path].kind is Kind.date and isinstance(value, int | float) \
            and not isinstance(value, bool):
        return dt.date.fromordinal(int(value)).isoformat()
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


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
    op = C.NEGATED_OP[test.op] if negate else test.op
    return f"{test.path} {C.OP_SYMBOL[op]} {text}"


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
