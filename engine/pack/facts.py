"""The facts rules can test, and how a case becomes engine facts.

The registry is derived from the case model (every scalar field becomes a fact path
such as ``buyer.kind``) plus the facts chipclear computes itself: the chip's figures
from the catalog (``chip.tpp``), the order line (``item.quantity``) and list
screening (``screen.entity_list``). Values are normalised before they reach the
engine, because durable-rules coerces types when comparing (``'1' == True``).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import types
import typing
from dataclasses import dataclass
from enum import Enum, StrEnum
from typing import Any

from chipclear.model.case import Case
from pydantic import BaseModel


class Kind(StrEnum):
    boolean = "boolean"
    number = "number"
    choice = "choice"
    text = "text"
    date = "date"


class Scope(StrEnum):
    case = "case"
    item = "item"


@dataclass(frozen=True)
class FactSpec:
    """One fact path rules may test."""

    path: str
    kind: Kind
    scope: Scope
    choices: tuple[str, ...] = ()
    #: Where a user supplies it, for questions; ``{i}`` is the item index.
    case_path: str | None = None
    computed: bool = False
    #: The unit of a number fact; a parameter compared with it must declare the same.
    unit: str | None = None
    #: For a computed fact that several case fields supply: the fields to ask for it.
    asks: tuple[str, ...] = ()


def _unwrap(annotation: Any) -> Any:
    origin = typing.get_origin(annotation)
    if origin in (typing.Union, types.UnionType):
        args = [a for a in typing.get_args(annotation) if a is not type(None)]
        return _unwrap(args[0]) if len(args) == 1 else annotation
    if origin is typing.Annotated:
        return _unwrap(typing.get_args(annotation)[0])
    return annotation


def _kind_of(annotation: Any) -> tuple[Kind, tuple[str, ...]] | None:
    tp = _unwrap(annotation)
    if tp is bool:
        return Kind.boolean, ()
    if tp in (int, float):
        return Kind.number, ()
    if tp is str:
        return Kind.text, ()
    if tp is dt.date:
        return Kind.date, ()
    if isinstance(tp, type) and issubclass(tp, Enum):
        return Kind.choice, tuple(str(m.value) for m in tp)
    return None


def _case_specs(model: type[BaseModel], prefix: str) -> list[FactSpec]:
    specs: list[FactSpec] = []
    for name, field in model.model_fields.items():
        path = f"{prefix}{name}"
        tp = _unwrap(field.annotation)
        if isinstance(tp, type) and issubclass(tp, BaseModel):
            specs.extend(_case_specs(tp, f"{path}."))
            continue
        kind = _kind_of(field.annotation)
        if kind is not None and path not in ("id", "as_of"):
            specs.append(FactSpec(path, kind[0], Scope.case, kind[1], case_path=path))
    return specs


def _item(path: str, kind: Kind, case_path: str | None = None, **kw: Any) -> FactSpec:
    return FactSpec(path, kind, Scope.item, case_path=case_path, computed=case_path is None, **kw)


_SPEC = "order.items[{i}].spec."
_COMPUTED: tuple[FactSpec, ...] = (
    _item("item.quantity", Kind.number, "order.items[{i}].quantity"),
    _item("item.unit_price_usd", Kind.number, "order.items[{i}].unit_price_usd"),
    _item("item.value_usd", Kind.number),
    _item("chip.id", Kind.text, "order.items[{i}].chip"),
    _item("chip.custom", Kind.boolean),
    _item("chip.vendor", Kind.text, _SPEC + "vendor"),
    _item("chip.vendor_country", Kind.text, _SPEC + "vendor_country"),
    _item("chip.family", Kind.text, _SPEC + "family"),
    _item("chip.datacenter", Kind.boolean, _SPEC + "datacenter"),
    _item("chip.domestic", Kind.boolean, _SPEC + "vendor_country"),
    _item("chip.status", Kind.text),
    _item("chip.hbm", Kind.boolean),
    _item("chip.cuda_ecosystem", Kind.boolean),
    _item("chip.us_available", Kind.boolean, _SPEC + "us_commercially_available_2026_01_15"),
    _item("chip.us_available_since", Kind.date, _SPEC + "us_commercially_available_2026_01_15"),
    _item("chip.us_commercially_available_2026_01_15", Kind.boolean,
          _SPEC + "us_commercially_available_2026_01_15"),
    _item("item.made_with_us_technology", Kind.boolean,
          "order.items[{i}].made_with_us_technology"),
    _item("chip.tpp", Kind.number, _SPEC + "dense_tflops"),
    _item("chip.performance_density", Kind.number, _SPEC + "die_area_mm2"),
    _item("chip.memory_gb", Kind.number, _SPEC + "memory_gb"),
    _item("chip.memory_bandwidth_gbs", Kind.number, _SPEC + "memory_bandwidth_gbs"),
    _item("chip.io_bandwidth_gbs", Kind.number, _SPEC + "io_bandwidth_gbs"),
    _item("chip.fp8", Kind.boolean, _SPEC + "dense_tflops"),
    _item("item.domestic_alternative_meets_all", Kind.boolean, asks=(
        "use.workload.min_memory_gb", "use.workload.min_memory_bandwidth_gbs",
        "use.workload.needs_fp8", "use.workload.needs_cuda_ecosystem")),
    FactSpec("screen.entity_list", Kind.boolean, Scope.case, case_path="buyer.name", computed=True),
    FactSpec(
        "screen.approved_customer_list", Kind.boolean, Scope.case, case_path="buyer.name",
        computed=True,
    ),
    FactSpec("case.has_foreign_chip", Kind.boolean, Scope.case, case_path="order.items",
             computed=True),
    FactSpec("case.has_domestic_chip", Kind.boolean, Scope.case, case_path="order.items",
             computed=True),
)


#: Units of the number facts, so a threshold in GB/s is never compared with a TPP.
UNITS: dict[str, str] = {
    "use.workload.min_memory_gb": "GB",
    "use.workload.min_memory_bandwidth_gbs": "GB/s",
    "use.workload.min_cluster_size": "accelerators",
    "buyer.state_funded_project_completion_pct": "percent",
    "item.quantity": "units",
    "item.unit_price_usd": "USD",
    "item.value_usd": "USD",
    "chip.tpp": "TPP",
    "chip.performance_density": "TPP/mm2",
    "chip.memory_gb": "GB",
    "chip.memory_bandwidth_gbs": "GB/s",
    "chip.io_bandwidth_gbs": "GB/s",
}


def _build_registry() -> dict[str, FactSpec]:
    specs = _case_specs(Case, "") + list(_COMPUTED)
    return {s.path: dataclasses.replace(s, unit=UNITS.get(s.path)) for s in specs}


REGISTRY: dict[str, FactSpec] = _build_registry()


def engine_key(path: str) -> str:
    """The flat key a fact path has inside engine facts (durable reads dots as nesting)."""
    return path.replace(".", "__")


def normalise(value: Any) -> Any:
    """The engine-side form of a value: enums as text, dates as day ordinals."""
    if isinstance(value, Enum):
        return str(value.value)
    if isinstance(value, bool | str):
        return value
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, dt.date):
        return value.toordinal()
    raise TypeError(f"cannot use {type(value).__name__} as a fact value")


#: Facts a case settles without stating them: (fact, value it takes, facts that must all be
#: true). A buyer holding every security attestation has not been refused them, so the
#: refusal question is not asked of it.
IMPLIED: tuple[tuple[str, Any, tuple[str, ...]], ...] = (
    ("evidence.vendor_attestation.vendor_refused", False, tuple(
        f"evidence.vendor_attestation.{name}" for name in (
            "no_backdoor", "no_remote_shutdown", "no_location_tracking", "firmware_hashes",
            "network_components_inventory"))),
)


def flatten_case(case: Case) -> dict[str, Any]:
    """Every known scalar case field by fact path; unknown fields are simply absent."""
    out: dict[str, Any] = {}

    def walk(model: BaseModel, prefix: str) -> None:
        for name in type(model).model_fields:
            value = getattr(model, name)
            path = f"{prefix}{name}"
            if isinstance(value, BaseModel):
                walk(value, f"{path}.")
            elif value is not None and path in REGISTRY:
                out[path] = normalise(value)

    walk(case, "")
    for path, value, premises in IMPLIED:
        if path not in out and all(out.get(p) is True for p in premises):
            out[path] = normalise(value)
    return out
