"""The chip catalog: accelerators a buyer can name, with cited figures.

TPP and performance density are computed here from the cited figures, never typed in:
TPP = max over precisions of dense TOPS x bit length; PD = TPP / die area.
"""

from __future__ import annotations

import datetime as dt
import difflib
import math
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from enum import StrEnum
from typing import Annotated

from chipclear.model.case import BIT_LENGTH, ChipSpec, Precision
from chipclear.model.strict import StrictModel
from chipclear.pack.sources import SourceId
from pydantic import Field


class Alternative(StrictModel):
    """A conflicting figure from another source, kept so the user can see the disagreement."""

    value: float
    sources: list[SourceId] = Field(min_length=1)
    note: str | None = None


class Figure(StrictModel):
    """A number with its sources; ``uncertain`` marks a figure chosen among conflicting ones."""

    value: Annotated[float, Field(ge=0, allow_inf_nan=False)]
    sources: list[SourceId] = Field(min_length=1)
    uncertain: bool = False
    note: str | None = None
    alternatives: list[Alternative] = Field(default_factory=list)


class Status(StrEnum):
    volume_production = "volume_production"
    limited_production = "limited_production"
    sampling = "sampling"
    announced = "announced"
    reported = "reported"
    discontinued = "discontinued"


class Figures(StrictModel):
    dense_tflops: dict[Precision, Figure] = Field(default_factory=dict)
    die_area_mm2: Figure | None = None
    memory_gb: Figure | None = None
    memory_bandwidth_gbs: Figure | None = None
    io_bandwidth_gbs: Figure | None = None
    max_cluster_size: Figure | None = Field(
        None, description="Largest cluster (cards) the vendor's interconnect is reported to "
                          "scale to; only the domestic comparison uses it.")


class Chip(StrictModel):
    id: Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9-]*$")]
    name: str
    aliases: list[str] = Field(default_factory=list)
    vendor: str
    vendor_country: Annotated[str, Field(pattern=r"^[A-Z]{2}$")]
    family: str
    datacenter: bool
    status: Status
    hbm: bool | None = None
    cuda_ecosystem: bool = False
    us_available_since: dt.date | None = None
    us_available: bool | None = Field(
        None, description="false: never sold in the US (China-only SKU, unreleased, Chinese "
                          "part). Omitted with no us_available_since: not established (unknown).")
    figures: Figures
    sources: list[SourceId] = Field(min_length=1)
    notes: str | None = None


class CatalogFile(StrictModel):
    chips: list[Chip]


def normalise_alias(text: str) -> str:
    """Fold case, width and punctuation so ``H200 SXM``, ``h200-sxm`` and ``Ｈ200`` match."""
    folded = unicodedata.normalize("NFKC", text).casefold()
    return re.sub(r"[\s_\-./]+", "", folded)


_LOOKALIKE = str.maketrans({"o": "0", "l": "1", "i": "1"})


def _lookalike(key: str) -> str:
    """Fold letters that look like digits, for typo matching only."""
    return key.translate(_LOOKALIKE)


@dataclass(frozen=True)
class ChipFacts:
    """What the engine knows about one item's chip, computed from figures."""

    id: str
    name: str
    vendor: str | None
    vendor_country: str | None
    family: str | None
    datacenter: bool | None
    status: str | None
    hbm: bool | None
    cuda_ecosystem: bool | None
    us_available_since: dt.date | None
    tpp: float | None
    tpp_precision: str | None
    performance_density: float | None
    memory_gb: float | None
    memory_bandwidth_gbs: float | None
    io_bandwidth_gbs: float | None
    fp8: bool | None
    custom: bool
    uncertain_figures: tuple[str, ...] = field(default_factory=tuple)
    figure_sources: tuple[str, ...] = field(default_factory=tuple)
    #: Sold in the US at some time; None when the catalog does not know (never guessed).
    us_available: bool | None = None


def compute_tpp(dense: dict[str, float]) -> tuple[float | None, str | None]:
    """TPP = max over precisions of dense TOPS/TFLOPS x bit length, and the precision used."""
    best: tuple[float | None, str | None] = (None, None)
    for precision in sorted(dense):
        value = dense[precision] * BIT_LENGTH[precision]
        if best[0] is None or value > best[0]:
            best = (round(value, 3), precision)
    return best


def _density(tpp: float | None, die_area: float | None) -> float | None:
    if tpp is None or not die_area:
        return None
    return round(tpp / die_area, 3)


def facts_for_chip(chip: Chip) -> ChipFacts:
    f = chip.figures
    dense = {str(p): fig.value for p, fig in f.dense_tflops.items()}
    tpp, precision = compute_tpp(dense)
    uncertain: list[str] = []
    sources: set[str] = set(chip.sources)
    named: list[tuple[str, Figure | None]] = [
        ("die_area_mm2", f.die_area_mm2),
        ("memory_gb", f.memory_gb),
        ("memory_bandwidth_gbs", f.memory_bandwidth_gbs),
        ("io_bandwidth_gbs", f.io_bandwidth_gbs),
    ] + [(f"dense_tflops.{p}", fig) for p, fig in sorted(f.dense_tflops.items())]
    for label, fig in named:
        if fig is None:
            continue
        sources.update(fig.sources)
        if fig.uncertain:
            uncertain.append(label)
    return ChipFacts(
        id=chip.id,
        name=chip.name,
        vendor=chip.vendor,
        vendor_country=chip.vendor_country,
        family=chip.family,
        datacenter=chip.datacenter,
        status=chip.status.value,
        hbm=chip.hbm,
        cuda_ecosystem=chip.cuda_ecosystem,
        us_available_since=chip.us_available_since,
        tpp=tpp,
        tpp_precision=precision,
        performance_density=_density(tpp, f.die_area_mm2.value if f.die_area_mm2 else None),
        memory_gb=f.memory_gb.value if f.memory_gb else None,
        memory_bandwidth_gbs=f.memory_bandwidth_gbs.value if f.memory_bandwidth_gbs else None,
        io_bandwidth_gbs=f.io_bandwidth_gbs.value if f.io_bandwidth_gbs else None,
        fp8=(
            f.dense_tflops[Precision("fp8")].value > 0
            if Precision("fp8") in f.dense_tflops
            else None
        ),
        custom=False,
        us_available=True if chip.us_available_since is not None else chip.us_available,
        uncertain_figures=tuple(uncertain),
        figure_sources=tuple(sorted(sources)),
    )


class UnclassifiableSpec(ValueError):
    """A custom chip's figures give a TPP or performance density that is not a finite number."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


def facts_for_spec(spec: ChipSpec) -> ChipFacts:
    """Classify a custom chip from the figures the case gives, exactly like a catalog chip."""
    dense = {str(p): v for p, v in spec.dense_tflops.items()}
    tpp, precision = compute_tpp(dense)
    if tpp is not None and not math.isfinite(tpp):
        raise UnclassifiableSpec("dense_tflops", "the computed TPP of this chip is not a finite "
                                 "number (check dense_tflops: TFLOPS, not FLOPS)")
    density = _density(tpp, spec.die_area_mm2)
    if density is not None and not math.isfinite(density):
        raise UnclassifiableSpec("die_area_mm2", "the computed performance density of this chip "
                                 "is not a finite number (check die_area_mm2: square millimetres)")
    return ChipFacts(
        id="custom",
        name=spec.name or "custom",
        vendor=spec.vendor,
        vendor_country=spec.vendor_country,
        family=spec.family,
        datacenter=spec.datacenter,
        status=None,
        hbm=None,
        cuda_ecosystem=None,
        us_available_since=None,
        tpp=tpp,
        tpp_precision=precision,
        performance_density=density,
        memory_gb=spec.memory_gb,
        memory_bandwidth_gbs=spec.memory_bandwidth_gbs,
        io_bandwidth_gbs=spec.io_bandwidth_gbs,
        fp8=(spec.dense_tflops[Precision("fp8")] > 0) if Precision("fp8") in spec.dense_tflops
        else None,
        custom=True,
    )


def contradicted_figure(listed: Chip, spec: ChipSpec) -> tuple[tuple[str, ...], str] | None:
    """The first figure a case gives that the catalog already has with another value:
    its path under ``spec`` and a one-line message naming the catalog value and source.

    A case may only fill figures the catalog lacks; a cited figure is never replaced,
    least of all by a lower one that would take the chip out of a control.
    """
    f = listed.figures
    given: list[tuple[tuple[str, ...], float | None, Figure | None]] = [
        (("dense_tflops", str(p)), v, f.dense_tflops.get(p))
        for p, v in sorted(spec.dense_tflops.items())]
    for name in ("die_area_mm2", "memory_gb", "memory_bandwidth_gbs", "io_bandwidth_gbs"):
        if name in spec.model_fields_set:
            given.append(((name,), getattr(spec, name), getattr(f, name)))
    for path, value, figure in given:
        if figure is not None and value is not None and float(value) != figure.value:
            return path, (
                f"{listed.name}'s {'.'.join(path)} is {figure.value:g} in the catalog "
                f"(source: {', '.join(figure.sources)}), not {value:g}; a case may only give "
                f"figures the catalog lacks (remove it, or use custom: true for another part)")
    return None


def with_case_figures(chip: ChipFacts, spec: ChipSpec,
                      listed: Chip | None = None) -> ChipFacts:
    """A catalog chip with the figures a case supplies where the catalog has none.

    Used where the catalog lacks a figure (no cited source) and a rule needs it; the
    figure is marked as the case's in ``figure_sources``. Dense TFLOPS the case gives
    are added to the catalog's (``listed``), never put in their place.
    """
    given = spec.model_fields_set
    if not given:
        return chip
    tpp, precision, fp8 = chip.tpp, chip.tpp_precision, chip.fp8
    if "dense_tflops" in given:
        dense = {str(p): fig.value for p, fig in listed.figures.dense_tflops.items()} \
            if listed is not None else {}
        dense.update({str(p): v for p, v in spec.dense_tflops.items()})
        tpp, precision = compute_tpp(dense)
        fp8 = dense["fp8"] > 0 if "fp8" in dense else None
    area: float | None = spec.die_area_mm2
    if "die_area_mm2" not in given and chip.tpp and chip.performance_density:
        area = chip.tpp / chip.performance_density  # the catalog's die area, recovered
    labels = tuple(f"case: {name}" for name in sorted(given))
    return replace(
        chip, tpp=tpp, tpp_precision=precision, fp8=fp8,
        performance_density=_density(tpp, area),
        memory_gb=spec.memory_gb if "memory_gb" in given else chip.memory_gb,
        memory_bandwidth_gbs=(spec.memory_bandwidth_gbs if "memory_bandwidth_gbs" in given
                              else chip.memory_bandwidth_gbs),
        io_bandwidth_gbs=(spec.io_bandwidth_gbs if "io_bandwidth_gbs" in given
                          else chip.io_bandwidth_gbs),
        figure_sources=tuple(sorted((*chip.figure_sources, *labels))),
    )


class Catalog:
    """Chips by id, with alias lookup and did-you-mean suggestions."""

    def __init__(self, chips: Iterable[Chip]) -> None:
        self.chips: dict[str, Chip] = {}
        self._aliases: dict[str, str] = {}
        self._facts: dict[str, ChipFacts] = {}
        for chip in chips:
            if chip.id in self.chips:
                raise ValueError(f"duplicate chip id {chip.id!r}")
            self.chips[chip.id] = chip
            for alias in (chip.id, chip.name, *chip.aliases):
                key = normalise_alias(alias)
                owner = self._aliases.get(key)
                if owner is not None and owner != chip.id:
                    raise ValueError(f"alias {alias!r} names both {owner} and {chip.id}")
                self._aliases[key] = chip.id

    def resolve(self, text: str) -> Chip | None:
        chip_id = self._aliases.get(normalise_alias(text))
        return self.chips[chip_id] if chip_id else None

    def suggest(self, text: str) -> list[str]:
        """Close catalog names for an unknown chip, for 'did you mean' hints.

        Letters that users type for look-alike digits (``H2OO``, ``MI3O8``) are folded
        on both sides first, so such typos still find the chip.
        """
        names: dict[str, str] = {}
        for chip in self.chips.values():
            for label in (chip.name, chip.id, *chip.aliases):
                names.setdefault(_lookalike(normalise_alias(label)), label)
        hits = difflib.get_close_matches(_lookalike(normalise_alias(text)), list(names),
                                         n=3, cutoff=0.6)
        return [names[h] for h in hits]

    def facts(self, chip_id: str) -> ChipFacts:
        cached = self._facts.get(chip_id)
        if cached is None:
            cached = self._facts[chip_id] = facts_for_chip(self.chips[chip_id])
        return cached

    def search(self, query: str, limit: int = 10) -> list[Chip]:
        """Chips whose id, name or alias contains the query (for the interview's picker)."""
        q = normalise_alias(query)
        hits = [
            c for c in self.chips.values()
            if any(q in normalise_alias(a) for a in (c.id, c.name, *c.aliases))
        ]
        return hits[:limit]
