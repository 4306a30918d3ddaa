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
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Discriminator,
    Field,
    StrictBool,
    StrictFloat,
    StrictInt,
    StrictStr,
    Tag,
    TypeAdapter,
    ValidationError,
    model_validator,
)
from pydantic.json_schema import SkipJsonSchema

Scalar = str | float | bool | int

COMPARE_OPS = ("eq", "ne", "gt", "gte", "lt", "lte")
LIST_OPS = ("in", "not_in")
OPS = (*COMPARE_OPS, *LIST_OPS, "nonempty")
#: The test that holds where a test fails (what a test under ``not`` says).
NEGATED_OP = {"eq": "ne", "ne": "eq", "gt": "lte", "gte": "lt", "lt": "gte", "lte": "gt",
              "in": "not_in", "not_in": "in", "nonempty": "empty"}
#: A comparison's symbol in explanations.
OP_SYMBOL = {"eq": "=", "ne": "≠", "gt": ">", "gte": "≥", "lt": "<", "lte": "≤",
             "in": "in", "not_in": "not in"}


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


# --- the grammar, as typed models: the parser validates with them and the JSON Schema
# --- editors use (rules/schema/rules.schema.json) is generated from them.

class _Node(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True,
                              defer_build=True)  # see StrictModel

    @model_validator(mode="before")
    @classmethod
    def _no_nulls(cls, data: Any) -> Any:
        """A key written without a value is an error, not an absent key (as in the schema)."""
        if isinstance(data, dict):
            for key, value in data.items():
                if value is None:
                    raise ValueError(f"'{key}' has no value")
        return data


class ParamNode(_Node):
    """``{param: name}``: a dated parameter, resolved on the evaluation date."""

    param: StrictStr


LiteralNode = Annotated[StrictBool | StrictInt | StrictFloat | StrictStr,
                        Field(union_mode="left_to_right")]
ValueNode = Annotated[LiteralNode | ParamNode, Field(union_mode="left_to_right")]
_ONE_OF_OPS = f"a fact test is {{fact: path, OP: value}} with one OP of {', '.join(OPS)}"


class AllNode(_Node):
    all: list[ConditionNode] = Field(min_length=1)


class AnyNode(_Node):
    any: list[ConditionNode] = Field(min_length=1)


class NotNode(_Node):
    not_: ConditionNode = Field(alias="not")


class DerivedNode(_Node):
    """``{derived: key}``, optionally with ``eq`` or ``in`` (not both)."""

    model_config = ConfigDict(json_schema_extra={"maxProperties": 2})

    derived: StrictStr
    eq: LiteralNode | SkipJsonSchema[None] = None
    in_: Annotated[list[LiteralNode], Field(min_length=1)] | SkipJsonSchema[None] = Field(
        None, alias="in")

    @model_validator(mode="after")
    def _one(self) -> DerivedNode:
        if self.eq is not None and self.in_ is not None:
            raise ValueError("a derived test is {derived: key} with optional eq or in")
        return self


class FactNode(_Node):
    """``{fact: path, OP: value}`` with exactly one operator."""

    model_config = ConfigDict(json_schema_extra={"minProperties": 2, "maxProperties": 2})

    fact: StrictStr
    eq: ValueNode | SkipJsonSchema[None] = None
    ne: ValueNode | SkipJsonSchema[None] = None
    gt: ValueNode | SkipJsonSchema[None] = None
    gte: ValueNode | SkipJsonSchema[None] = None
    lt: ValueNode | SkipJsonSchema[None] = None
    lte: ValueNode | SkipJsonSchema[None] = None
    in_: Annotated[list[ValueNode], Field(min_length=1)] | SkipJsonSchema[None] = Field(
        None, alias="in")
    not_in: Annotated[list[ValueNode], Field(min_length=1)] | SkipJsonSchema[None] = None
    nonempty: Literal[True] | SkipJsonSchema[None] = Field(
        None, description="The text fact is given and not empty (write 'nonempty: true').")

    def op(self) -> str:
        return next(op for op in OPS if getattr(self, _ATTR.get(op, op)) is not None)

    @model_validator(mode="after")
    def _one_op(self) -> FactNode:
        given = [op for op in OPS if getattr(self, _ATTR.get(op, op)) is not None]
        if len(given) != 1:
            raise ValueError(_ONE_OF_OPS)
        return self


_ATTR = {"in": "in_"}
_TAGS = (("all", "All"), ("any", "Any"), ("not", "Not"), ("derived", "Derived"),
         ("fact", "Fact"))


def _tag(raw: Any) -> str | None:
    if isinstance(raw, dict):
        for key, tag in _TAGS:
            if key in raw:
                return tag
    elif isinstance(raw, _Node):
        return type(raw).__name__.removesuffix("Node")
    return None


ConditionNode = Annotated[
    Annotated[AllNode, Tag("All")] | Annotated[AnyNode, Tag("Any")]
    | Annotated[NotNode, Tag("Not")] | Annotated[DerivedNode, Tag("Derived")]
    | Annotated[FactNode, Tag("Fact")],
    Discriminator(_tag, custom_error_type="condition",
                  custom_error_message="expected one of all, any, not, fact, derived"),
]
# AllNode, AnyNode and NotNode name ConditionNode before it exists: deferred (see
# StrictModel), they resolve it from this module when they first validate.
CONDITION_MODEL: TypeAdapter[Any] = TypeAdapter(ConditionNode,
                                                config=ConfigDict(defer_build=True))


def _data_path(raw: Any, loc: tuple[int | str, ...]) -> tuple[int | str, ...]:
    """The part of a pydantic error location that indexes the data (tags are skipped)."""
    path: list[int | str] = []
    node = raw
    for part in loc:
        in_dict = isinstance(node, dict) and isinstance(part, str) and part in node
        in_list = isinstance(node, list) and isinstance(part, int) and 0 <= part < len(node)
        if in_dict or in_list:
            node = node[part]
            path.append(part)
    return tuple(path)


def _message(err: Any, count: int) -> str:
    kind = err["type"]
    if kind == "extra_forbidden":
        return f"unexpected key '{err['loc'][-1]}'"
    if kind == "missing":
        return f"'{err['loc'][-1]}' is required"
    if kind == "literal_error":
        return "write 'nonempty: true'"
    if kind == "value_error":
        return str(err["msg"]).removeprefix("Value error, ")
    if count > 1 and kind.endswith(("_type", "_parsing")):
        return "a value is a literal (text, number, true or false) or {param: name}"
    return str(err["msg"])


def parse(raw: Any, path: tuple[int | str, ...] = ()) -> Condition:
    """Parse a ``when`` tree from YAML data, naming the offending path on error."""
    if not isinstance(raw, dict) or not raw:
        raise ConditionError("a condition is a mapping such as {fact: ..., eq: ...}", path)
    try:
        node = CONDITION_MODEL.validate_python(raw)
    except ValidationError as exc:
        errors = exc.errors()
        first = errors[0]
        same = [e for e in errors if _data_path(raw, e["loc"]) == _data_path(raw, first["loc"])]
        raise ConditionError(_message(first, len(same)),
                             (*path, *_data_path(raw, first["loc"]))) from None
    return _build(node, path)


def _literal(value: Any) -> Scalar | ParamRef:
    return ParamRef(value.param) if isinstance(value, ParamNode) else value


def _build(node: Any, path: tuple[int | str, ...]) -> Condition:
    if isinstance(node, AllNode | AnyNode):
        group = "all" if isinstance(node, AllNode) else "any"
        items = node.all if isinstance(node, AllNode) else node.any
        built = tuple(_build(c, (*path, group, i)) for i, c in enumerate(items))
        return All(built) if isinstance(node, AllNode) else AnyOf(built)
    if isinstance(node, NotNode):
        inner = _build(node.not_, (*path, "not"))
        if uses_derived(inner):
            raise ConditionError(
                "'not' cannot contain derived facts (order-dependent); test the positive case",
                (*path, "not"),
            )
        return Not(inner)
    if isinstance(node, DerivedNode):
        if node.eq is not None:
            return DerivedTest(node.derived, (node.eq,))
        return DerivedTest(node.derived, tuple(node.in_) if node.in_ is not None else None)
    assert isinstance(node, FactNode)
    op = node.op()
    raw_value = getattr(node, _ATTR.get(op, op))
    if op in LIST_OPS:
        return FactTest(node.fact, op, tuple(_literal(v) for v in raw_value))
    return FactTest(node.fact, op, True if op == "nonempty" else _literal(raw_value))


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
