"""The domestic-alternative comparison: the answer to "what can this chip do that domestic
cards cannot?" (engine/alternatives.py), and the fact it feeds to the rules."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from chipclear.decide import alternatives
from chipclear.decide.evaluate import prepare
from chipclear.model.case import Case, Workload
from chipclear.model.decision import DomesticAlternative
from chipclear.pack.catalog import Catalog, Chip
from chipclear.pack.loader import RulePack


def _fig(value: float) -> dict[str, Any]:
    return {"value": value, "sources": ["test-src"]}


def _chip(chip_id: str, country: str = "CN", status: str = "volume_production",
          datacenter: bool = True, cuda: bool = False, **figures: Any) -> Chip:
    figs: dict[str, Any] = {}
    for key in ("memory_gb", "memory_bandwidth_gbs"):
        if key in figures:
            figs[key] = _fig(figures[key])
    if "fp8" in figures:
        figs["dense_tflops"] = {"fp8": _fig(figures["fp8"])}
    elif "bf16" in figures:
        figs["dense_tflops"] = {"bf16": _fig(figures["bf16"])}
    return Chip.model_validate({
        "id": chip_id, "name": chip_id.replace("-", " ").title(), "vendor": chip_id.split("-")[0],
        "vendor_country": country, "family": "test", "datacenter": datacenter,
        "status": status, "cuda_ecosystem": cuda, "figures": figs, "sources": ["test-src"],
    })


@pytest.fixture
def catalog() -> Catalog:
    return Catalog([
        _chip("nvidia-h20", country="US", cuda=True, memory_gb=96, memory_bandwidth_gbs=4000,
              fp8=296),
        _chip("big-a", memory_gb=128, memory_bandwidth_gbs=3200, fp8=800),
        _chip("small-b", memory_gb=64, memory_bandwidth_gbs=1600, bf16=320),
        _chip("blank-c"),  # no figures at all
        _chip("sample-d", status="sampling", memory_gb=144, memory_bandwidth_gbs=4000, fp8=900),
        _chip("edge-e", datacenter=False, memory_gb=256),  # not a datacenter part
    ])


def _row(rows: list[DomesticAlternative], chip: str) -> DomesticAlternative:
    return next(r for r in rows if r.chip == chip)


def _check(row: DomesticAlternative, requirement: str) -> Any:
    return next(c for c in row.checks if c.requirement == requirement)


# --- the comparison table --------------------------------------------------------------


def test_only_domestic_datacenter_chips_are_compared(catalog: Catalog) -> None:
    rows = alternatives.compare(Workload(min_memory_gb=64), catalog)
    assert {r.chip for r in rows} == {"big-a", "small-b", "blank-c", "sample-d"}


def test_meets_and_misses_per_requirement(catalog: Catalog) -> None:
    rows = alternatives.compare(Workload(min_memory_gb=96, min_memory_bandwidth_gbs=2000), catalog)
    big, small = _row(rows, "big-a"), _row(rows, "small-b")
    assert [(c.requirement, c.meets) for c in big.checks] == [
        ("memory", True), ("memory_bandwidth", True)]
    assert big.meets_all is True
    memory = _check(small, "memory")
    assert (memory.needed, memory.offered, memory.meets) == (">= 96 GB", "64 GB", False)
    assert _check(small, "memory_bandwidth").meets is False
    assert small.meets_all is False


def test_threshold_is_inclusive(catalog: Catalog) -> None:
    rows = alternatives.compare(Workload(min_memory_gb=64), catalog)
    assert _check(_row(rows, "small-b"), "memory").meets is True


def test_unknown_figures_give_none_not_a_guess(catalog: Catalog) -> None:
    rows = alternatives.compare(
        Workload(min_memory_gb=32, needs_fp8=True, min_cluster_size=256), catalog)
    blank = _row(rows, "blank-c")
    memory = _check(blank, "memory")
    assert (memory.offered, memory.meets) == (None, None)
    assert _check(blank, "fp8").meets is None
    assert blank.meets_all is None
    small = _row(rows, "small-b")
    assert _check(small, "fp8").meets is None  # no FP8 figure in the catalog: unknown
    # Cluster scale needs interconnect figures the catalog does not have: always unknown.
    assert all(_check(r, "cluster_size").meets is None for r in rows)
    assert _check(_row(rows, "big-a"), "fp8").meets is True


def test_a_known_miss_outweighs_unknowns(catalog: Catalog) -> None:
    rows = alternatives.compare(Workload(min_memory_gb=100, needs_fp8=True), catalog)
    small = _row(rows, "small-b")  # memory misses, fp8 unknown
    assert small.meets_all is False


def test_cuda_dependency_is_a_miss_for_domestic_chips(catalog: Catalog) -> None:
    rows = alternatives.compare(Workload(needs_cuda_ecosystem=True), catalog)
    assert all(r.meets_all is False for r in rows)
    check = _check(_row(rows, "big-a"), "cuda_ecosystem")
    assert (check.needed, check.offered, check.meets) == ("yes", "no", False)


def test_rows_rank_meeting_chips_first_and_volume_before_samples(catalog: Catalog) -> None:
    rows = alternatives.compare(Workload(min_memory_gb=96), catalog)
    assert [r.chip for r in rows] == ["big-a", "sample-d", "blank-c", "small-b"]


def test_nothing_stated(catalog: Catalog) -> None:
    assert not alternatives.stated(Workload())
    assert not alternatives.stated(Workload(needs_fp8=False, needs_cuda_ecosystem=False))
    assert alternatives.stated(Workload(min_cluster_size=8))
    rows = alternatives.compare(Workload(), catalog)
    assert all(r.checks == [] and r.meets_all is None for r in rows)


# --- the weak-justification flag (meets_all) -------------------------------------------


def _rows(*spec: tuple[str, bool | None]) -> list[DomesticAlternative]:
    return [DomesticAlternative(chip=f"c{i}", chip_name=f"C{i}", status=status,
                                meets_all=meets, checks=[])
            for i, (status, meets) in enumerate(spec)]


@pytest.mark.parametrize(
    ("rows", "expected"),
    [
        (_rows(("volume_production", True), ("volume_production", False)), True),
        (_rows(("volume_production", None), ("volume_production", False)), None),
        (_rows(("volume_production", False)), False),
        (_rows(("sampling", True), ("volume_production", False)), False),  # samples don't count
        (_rows(("sampling", True), ("volume_production", None)), None),
        (_rows(), False),
    ],
)
def test_meets_all(rows: list[DomesticAlternative], expected: bool | None) -> None:
    assert alternatives.meets_all(rows) is expected


def test_uncertain_figures_are_carried_to_the_row(minipack: RulePack) -> None:
    # The minipack records Ascend 910C memory as 128 GB, uncertain, with 96 GB elsewhere.
    rows = alternatives.compare(Workload(min_memory_gb=96), minipack.catalog)
    ascend = _row(rows, "huawei-ascend-910c")
    assert ascend.meets_all is True  # both figures clear 96 GB
    assert "memory_gb" in ascend.uncertain_figures
    assert _check(ascend, "memory").offered == "128 GB (other sources: 96 GB)"


def test_sources_disagreeing_on_the_requirement_give_none(minipack: RulePack) -> None:
    rows = alternatives.compare(Workload(min_memory_gb=120), minipack.catalog)
    ascend = _row(rows, "huawei-ascend-910c")
    assert _check(ascend, "memory").meets is None  # 128 passes, 96 fails: no guess
    assert ascend.meets_all is None
    rows = alternatives.compare(Workload(min_memory_gb=130), minipack.catalog)
    assert _row(rows, "huawei-ascend-910c").meets_all is False  # both fail


def _h200_case(workload: dict[str, Any] | None, chip: str = "nvidia-h200-sxm") -> Case:
    return Case.model_validate({
        "id": "alt", "as_of": "2026-02-15",
        "order": {"items": [{"chip": chip, "quantity": 1}]},
        "use": {"workload": workload or {}},
    })


@pytest.mark.parametrize(
    ("workload", "fact"),
    [
        ({"min_memory_gb": 96}, True),  # Ascend 910C (128 GB, volume) meets it: weak
        ({"min_memory_gb": 200}, False),
        ({"min_memory_gb": 96, "needs_cuda_ecosystem": True}, False),
        # A figure unknown leaves the comparison open: weakness is not shown, so the rules see
        # False (the table keeps the open row); only an unstated workload leaves it absent.
        ({"min_memory_gb": 96, "min_memory_bandwidth_gbs": 1000}, False),
        (None, None),  # nothing stated: no comparison, the fact stays absent
    ],
)
def test_the_fact_rules_see(minipack: RulePack, workload: dict[str, Any] | None,
                            fact: bool | None) -> None:
    prep = prepare(_h200_case(workload), minipack, dt.date(2026, 2, 15))
    assert prep.item_facts[0].get("item.domestic_alternative_meets_all") is fact
    assert prep.alternatives  # the table is shown whenever a foreign chip is bought


def test_domestic_purchase_gets_no_comparison(minipack: RulePack) -> None:
    prep = prepare(_h200_case({"min_memory_gb": 96}, chip="huawei-ascend-910c"), minipack,
                   dt.date(2026, 2, 15))
    assert "item.domestic_alternative_meets_all" not in prep.item_facts[0]
    assert prep.alternatives == []
