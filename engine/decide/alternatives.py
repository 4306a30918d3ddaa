"""Answering the regulator's question: could a domestic accelerator do this job?

Chinese regulators ask buyers of foreign accelerators why domestic cards will not do
(seed 000: "有什么是H20能满足但国产算力卡满足不了的？"). Given the buyer's stated
workload, each domestic chip in the catalog is checked requirement by requirement.
Unknown chip figures give "unknown", never a guessed pass or fail; so does a figure the
catalog marks uncertain when one of the conflicting values it records would flip the result.
"""

from __future__ import annotations

import functools

from chipclear.model.case import Workload
from chipclear.model.decision import AlternativeCheck, DomesticAlternative
from chipclear.pack.catalog import Catalog, ChipFacts, Figure, Figures

#: Production states in which a chip counts as a real alternative today.
AVAILABLE = ("volume_production",)


def _check(
    requirement: str, needed: str, offered: str | None, meets: bool | None
) -> AlternativeCheck:
    return AlternativeCheck(requirement=requirement, needed=needed, offered=offered, meets=meets)


def _at_least(
    name: str, unit: str, need: float | None, have: float | None, figure: Figure | None = None
) -> AlternativeCheck | None:
    if need is None:
        return None
    if have is None:
        return _check(name, f">= {need:g} {unit}", None, None)
    offered = f"{have:g} {unit}"
    meets: bool | None = have >= need
    others = [a.value for a in figure.alternatives] if figure is not None else []
    if others:
        offered += " (other sources: " + ", ".join(f"{v:g} {unit}" for v in others) + ")"
        if any((v >= need) != meets for v in others):
            meets = None  # the sources disagree on this very requirement: say unknown
    return _check(name, f">= {need:g} {unit}", offered, meets)


def _checks(
    workload: Workload, chip: ChipFacts, figures: Figures | None = None
) -> list[AlternativeCheck]:
    checks = [
        _at_least("memory", "GB", workload.min_memory_gb, chip.memory_gb,
                  figures.memory_gb if figures else None),
        _at_least("memory_bandwidth", "GB/s", workload.min_memory_bandwidth_gbs,
                  chip.memory_bandwidth_gbs, figures.memory_bandwidth_gbs if figures else None),
    ]
    if workload.needs_fp8:
        offered = None if chip.fp8 is None else ("yes" if chip.fp8 else "no")
        checks.append(_check("fp8", "yes", offered, chip.fp8))
    if workload.needs_cuda_ecosystem:
        checks.append(_check("cuda_ecosystem", "yes", "yes" if chip.cuda_ecosystem else "no",
                             bool(chip.cuda_ecosystem)))
    if workload.min_cluster_size is not None:
        # Cluster scale needs an interconnect figure the catalog rarely has: unknown without it.
        checks.append(_at_least("cluster_size", "cards", workload.min_cluster_size,
                                figures.max_cluster_size.value
                                if figures and figures.max_cluster_size else None,
                                figures.max_cluster_size if figures else None))
    return [c for c in checks if c is not None]


def stated(workload: Workload) -> bool:
    """Whether the buyer stated any requirement at all."""
    return any(
        v is not None and v is not False
        for v in (workload.min_memory_gb, workload.min_memory_bandwidth_gbs,
                  workload.min_cluster_size, workload.needs_fp8, workload.needs_cuda_ecosystem)
    )


def compare(workload: Workload, catalog: Catalog) -> list[DomesticAlternative]:
    """Each domestic datacenter chip against the stated workload, best candidates first."""
    return list(_compare(workload, catalog))


@functools.lru_cache(maxsize=4096)
def _compare(workload: Workload, catalog: Catalog) -> tuple[DomesticAlternative, ...]:
    """Cached: batches repeat a handful of workloads, and both inputs are immutable."""
    rows: list[DomesticAlternative] = []
    for chip in catalog.chips.values():
        if chip.vendor_country != "CN" or not chip.datacenter:
            continue
        facts = catalog.facts(chip.id)
        checks = _checks(workload, facts, chip.figures)
        verdicts = [c.meets for c in checks]
        if any(v is False for v in verdicts):
            meets: bool | None = False
        elif any(v is None for v in verdicts) or not checks:
            meets = None
        else:
            meets = True
        rows.append(DomesticAlternative(
            chip=chip.id, chip_name=chip.name, status=chip.status.value, meets_all=meets,
            checks=checks, uncertain_figures=list(facts.uncertain_figures),
        ))
    rank = {True: 0, None: 1, False: 2}
    rows.sort(key=lambda r: (rank[r.meets_all], r.status not in AVAILABLE, r.chip))
    return tuple(rows)


def meets_all(rows: list[DomesticAlternative]) -> bool | None:
    """True if a chip in volume production meets every stated requirement; None if unclear."""
    available = [r for r in rows if r.status in AVAILABLE]
    if any(r.meets_all is True for r in available):
        return True
    if any(r.meets_all is None for r in available):
        return None
    return False
