"""The condition language of rules: a small, declarative tree over facts.

A rule's ``when`` is one of::

    {all: [cond, ...]}   {any: [cond, ...]}   {not: cond}
    {fact: buyer.kind, eq: government}        # also ne, gt, gte, lt, lte, in, not_in
    {fact: evidence.necessity_justification, nonempty: true}
    {derived: eccn, in: ["3A090.a", "3A090.b"]}   # a fact another rule derived
    {derived: case_by_case_window}                # derived with any value

A value may be ``{param: us.tpp_3a090a}``, resolved at the evaluation date.
Negation is only allowed over case facts, never over derived facts: negating a
derivation would make results depend on the order rules fire in.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

Scalar = str | float | bool | int

COMPARE_OPS = ("eq", "ne", "gt", "gte", "lt", "lte")
LIST_OPS = ("in", "not_in")
OPS = (*COMPARE_OPS, *LIST_OPS, "nonempty")


@dataclass(frozen=True)
class ParamRef:
    """A reference to a dated parameter, resolved when the pack is compiled for a date."""

    name: str


Value = Scalar | ParamRef | tuple[Scalar | ParamRef, ...]


@dataclass(frozen=True)
class FactTest:
    path: str
    op: str
    value: Value


@dataclass(frozen=True)
class DerivedTest:
    key: str
    values: tuple[Scalar, ...] | None  # None: any value


@dataclass(frozen=True)
class All:
    items: tuple[Condition, ...]


@dataclass(frozen=True)
class AnyOf:
    items: tuple[Condition, ...]


@dataclass(frozen=True)
class Not:
    item: Condition


Condition = FactTest | DerivedTest | All | AnyOf | Not


class ConditionError(ValueError):
    """A malformed condition; ``path`` is the key path inside ``when``."""

    def __init__(self, message: str, path: tuple[int | str, ...]) -> None:
        super().__init__(message)
        self.path = path


def _value(raw: Any, path: tuple[int | str, ...]) -> Scalar | ParamRef:
    if isinstance(raw, dict):
        if set(raw) != {"param"} or not isinstance(raw["param"], str):
            raise ConditionError("a value is a literal or {param: name}", path)
        return ParamRef(raw["param"])
    if isinstance(raw, bool | int | float | str):
        return raw
    raise ConditionError(f"unsupported value {raw!r}", path)


def parse(raw: Any, path: tuple[int | str, ...] = ()) -> Condition:
    """Parse a ``when`` tree from YAML data, naming the offending path on error."""
    if not isinstance(raw, dict) or not raw:
        raise ConditionError("a condition is a mapping such as {fact: ..., eq: ...}", path)
    keys = set(raw)
    for group, cls in (("all", All), ("any", AnyOf)):
        if group in raw:
            if keys != {group}:
                raise ConditionError(f"'{group}' stands alone; extra keys {sorted(keys - {group})}",
                                     path)
            items = raw[group]
            if not isinstance(items, list) or not items:
                raise ConditionError(f"'{group}' takes a non-empty list", (*path, group))
            return cls(tuple(parse(c, (*path, group, i)) for i, c in enumerate(items)))
    if "not" in raw:
        if keys != {"not"}:
            raise ConditionError("'not' stands alone", path)
        inner = parse(raw["not"], (*path, "not"))
        if uses_derived(inner):
            raise ConditionError(
                "'not' cannot contain derived facts (order-dependent); test the positive case",
                (*path, "not"),
            )
        return Not(inner)
    if "derived" in raw:
        key = raw["derived"]
        if not isinstance(key, str):
            raise ConditionError("'derived' names a derived fact key", (*path, "derived"))
        extra = keys - {"derived", "eq", "in"}
        if extra or len(keys) > 2:
            raise ConditionError("a derived test is {derived: key} with optional eq or in", path)
        if "eq" in raw:
            return DerivedTest(key, (_scalar(raw["eq"], (*path, "eq")),))
        if "in" in raw:
            vals = raw["in"]
            if not isinstance(vals, list) or not vals:
                raise ConditionError("'in' takes a non-empty list", (*path, "in"))
            return DerivedTest(key, tuple(_scalar(v, (*path, "in", i)) for i, v in enumerate(vals)))
        return DerivedTest(key, None)
    if "fact" in raw:
        fact = raw["fact"]
        ops = keys - {"fact"}
        if not isinstance(fact, str) or len(ops) != 1 or not ops <= set(OPS):
            raise ConditionError(
                f"a fact test is {{fact: path, OP: value}} with one OP of {', '.join(OPS)}", path
            )
        op = ops.pop()
        raw_value = raw[op]
        if op in LIST_OPS:
            if not isinstance(raw_value, list) or not raw_value:
                raise ConditionError(f"'{op}' takes a non-empty list", (*path, op))
            value: Value = tuple(_value(v, (*path, op, i)) for i, v in enumerate(raw_value))
        elif op == "nonempty":
            if raw_value is not True:
                raise ConditionError("write 'nonempty: true'", (*path, op))
            value = True
        else:
            value = _value(raw_value, (*path, op))
        return FactTest(fact, op, value)
    raise ConditionError("expected one of all, any, not, fact, derived", path)


def _scalar(raw: Any, path: tuple[int | str, ...]) -> Scalar:
    if isinstance(raw, bool | int | float | str):
        return raw
    raise ConditionError("derived values are literals", path)


def uses_derived(cond: Condition) -> bool:
    if isinstance(cond, DerivedTest):
        return True
    if isinstance(cond, All | AnyOf):
        return any(uses_derived(c) for c in cond.items)
    if isinstance(cond, Not):
        return uses_derived(cond.item)
    return False


def fact_tests(cond: Condition) -> list[FactTest]:
    if isinstance(cond, FactTest):
        return [cond]
    if isinstance(cond, All | AnyOf):
        return [t for c in cond.items for t in fact_tests(c)]
    if isinstance(cond, Not):
        return fact_tests(cond.item)
    return []


def derived_tests(cond: Condition) -> list[DerivedTest]:
    if isinstance(cond, DerivedTest):
        return [cond]
    if isinstance(cond, All | AnyOf):
        return [t for c in cond.items for t in derived_tests(c)]
    return []


def params(cond: Condition) -> set[str]:
    names: set[str] = set()
    for test in fact_tests(cond):
        vals = test.value if isinstance(test.value, tuple) else (test.value,)
        names.update(v.name for v in vals if isinstance(v, ParamRef))
    return names


def to_data(cond: Condition) -> Any:
    """Back to the YAML shape, for diffs and explanations."""
    if isinstance(cond, All):
        return {"all": [to_data(c) for c in cond.items]}
    if isinstance(cond, AnyOf):
        return {"any": [to_data(c) for c in cond.items]}
    if isinstance(cond, Not):
        return {"not": to_data(cond.item)}
    if isinstance(cond, DerivedTest):
        if cond.values is None:
            return {"derived": cond.key}
        return {"derived": cond.key, "in": list(cond.values)}

    def one(v: Scalar | ParamRef) -> Any:
        return {"param": v.name} if isinstance(v, ParamRef) else v

    value = [one(v) for v in cond.value] if isinstance(cond.value, tuple) else one(cond.value)
    return {"fact": cond.path, cond.op: value}
