"""The shipped chip catalog: it loads, every figure is cited, and TPP/PD match the research."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from chipclear.io.yamlload import load_file
from chipclear.pack.catalog import Catalog, CatalogFile, Figure, facts_for_chip, normalise_alias
from chipclear.pack.sources import SourceFile

ROOT = Path(__file__).resolve().parent.parent
RULES = ROOT / "rules"
CATALOG = RULES / "catalog" / "chips.yaml"
#: The sources.yaml files the catalog and the lists may cite (their own, not other modules').
OWN_SOURCES = (RULES / "catalog" / "sources.yaml", RULES / "lists" / "sources.yaml")


@pytest.fixture(scope="module")
def catalog_file() -> CatalogFile:
    return CatalogFile.model_validate(load_file(CATALOG))


@pytest.fixture(scope="module")
def catalog(catalog_file: CatalogFile) -> Catalog:
    return Catalog(catalog_file.chips)


@pytest.fixture(scope="module")
def own_source_ids() -> set[str]:
    ids: list[str] = []
    for path in OWN_SOURCES:
        ids += [s.id for s in SourceFile.model_validate(load_file(path)).sources]
    return set(ids)


def _figures(catalog_file: CatalogFile) -> list[tuple[str, str, Figure]]:
    out: list[tuple[str, str, Figure]] = []
    for chip in catalog_file.chips:
        f = chip.figures
        named: dict[str, Figure | None] = {
            "die_area_mm2": f.die_area_mm2, "memory_gb": f.memory_gb,
            "memory_bandwidth_gbs": f.memory_bandwidth_gbs, "io_bandwidth_gbs": f.io_bandwidth_gbs,
            **{f"dense_tflops.{p}": fig for p, fig in f.dense_tflops.items()},
        }
        out += [(chip.id, label, fig) for label, fig in named.items() if fig is not None]
    return out


def test_catalog_is_substantial(catalog_file: CatalogFile) -> None:
    assert len(catalog_file.chips) >= 34


def test_source_ids_are_unique_across_the_rules_tree() -> None:
    seen: dict[str, Path] = {}
    for path in sorted(RULES.rglob("sources.yaml")):
        for src in SourceFile.model_validate(load_file(path)).sources:
            assert src.id not in seen, f"{src.id} in {path} and {seen[src.id]}"
            seen[src.id] = path


def test_own_source_ids_are_prefixed() -> None:
    for path, prefix in zip(OWN_SOURCES, ("cat-", "lst-"), strict=True):
        for src in SourceFile.model_validate(load_file(path)).sources:
            assert src.id.startswith(prefix), src.id


def test_every_chip_cites_known_sources(
    catalog_file: CatalogFile, own_source_ids: set[str]
) -> None:
    for chip in catalog_file.chips:
        assert set(chip.sources) <= own_source_ids, chip.id


def test_every_figure_and_alternative_cites_known_sources(
    catalog_file: CatalogFile, own_source_ids: set[str]
) -> None:
    figures = _figures(catalog_file)
    assert len(figures) > 100
    for chip_id, label, fig in figures:
        assert set(fig.sources) <= own_source_ids, (chip_id, label, fig.sources)
        for alt in fig.alternatives:
            assert set(alt.sources) <= own_source_ids, (chip_id, label, alt.sources)


def test_a_figure_with_alternatives_is_marked_uncertain(catalog_file: CatalogFile) -> None:
    for chip_id, label, fig in _figures(catalog_file):
        if fig.alternatives:
            assert fig.uncertain, (chip_id, label)


@pytest.mark.parametrize(("chip_id", "tpp", "pd"), [
    ("nvidia-h200-sxm", 15832, 19.45),
    ("nvidia-h20", 2368, 2.91),
    ("nvidia-b200", 36000, 22.11),
    ("amd-mi325x", 20919.2, 20.57),
    ("nvidia-a100", 4992, 6.04),
    ("nvidia-h100-sxm", 15832, 19.45),
    ("nvidia-h200-nvl", 13364, 16.42),
])
def test_computed_tpp_and_pd_match_the_research(
    catalog: Catalog, chip_id: str, tpp: float, pd: float
) -> None:
    facts = facts_for_chip(catalog.chips[chip_id])
    assert facts.tpp == pytest.approx(tpp, abs=0.05)
    assert facts.performance_density == pytest.approx(pd, abs=0.005)


def test_china_skus_and_unreleased_parts_have_no_us_availability(catalog: Catalog) -> None:
    for chip_id in ("nvidia-h20", "nvidia-h800", "nvidia-a800", "amd-mi308", "nvidia-b30a",
                    "nvidia-rtx-pro-6000d", "intel-gaudi3-hl328", "intel-gaudi3-hl388",
                    "nvidia-rubin"):
        assert catalog.chips[chip_id].us_available_since is None, chip_id
    for chip_id in ("nvidia-h200-sxm", "amd-mi325x"):
        since = catalog.chips[chip_id].us_available_since
        assert since is not None and since.isoformat() <= "2026-01-15", chip_id


def test_domestic_chips_are_cn_and_not_cuda(catalog_file: CatalogFile) -> None:
    for chip in catalog_file.chips:
        domestic = chip.vendor in {"Huawei", "Cambricon", "Kunlunxin", "MetaX", "Moore Threads",
                                   "Hygon", "Biren", "Alibaba T-Head"}
        assert (chip.vendor_country == "CN") == domestic, chip.id
        assert chip.cuda_ecosystem == (chip.vendor == "NVIDIA"), chip.id


def test_every_alias_resolves_to_its_chip(catalog_file: CatalogFile, catalog: Catalog) -> None:
    for chip in catalog_file.chips:
        for alias in (chip.id, chip.name, *chip.aliases):
            resolved = catalog.resolve(alias)
            assert resolved is not None and resolved.id == chip.id, (alias, chip.id)


@pytest.mark.parametrize(("text", "chip_id"), [
    ("H200", "nvidia-h200-sxm"), ("h200 sxm", "nvidia-h200-sxm"), ("英伟达H200", "nvidia-h200-sxm"),
    ("nvidia-h200", "nvidia-h200-sxm"), ("Ｈ２００", "nvidia-h200-sxm"),
    ("H100", "nvidia-h100-sxm"),
    ("H20", "nvidia-h20"), ("h200-nvl", "nvidia-h200-nvl"), ("昇腾910B", "huawei-ascend-910b"),
    ("寒武纪MLU370", "cambricon-mlu370-x8"), ("昆仑芯P800", "kunlunxin-p800"),
    ("沐曦C600", "metax-c600"), ("摩尔线程S5000", "moorethreads-mtt-s5000"),
    ("MI-325X", "amd-mi325x"), ("HL-388", "intel-gaudi3-hl388"),
])
def test_typed_names_resolve(catalog: Catalog, text: str, chip_id: str) -> None:
    chip = catalog.resolve(text)
    assert chip is not None and chip.id == chip_id


def test_aliases_are_not_repeated_within_a_chip(catalog_file: CatalogFile) -> None:
    for chip in catalog_file.chips:
        keys = [normalise_alias(a) for a in chip.aliases]
        assert len(keys) == len(set(keys)), chip.id


def test_near_miss_suggests_h200_names(catalog: Catalog) -> None:
    assert catalog.resolve("H2O0") is None
    assert any("200" in s for s in catalog.suggest("H2O0"))


def test_letter_o_typo_suggests_h200_names(catalog: Catalog) -> None:
    assert any("200" in s for s in catalog.suggest("H2OO"))
    assert any("308" in s for s in catalog.suggest("MI3O8"))
    assert catalog.suggest("zzzz-9999") == []


def test_catalog_yaml_has_no_typed_tpp(catalog_file: CatalogFile) -> None:
    raw: Any = load_file(CATALOG)
    text = repr(raw)
    assert "'tpp'" not in text and "performance_density" not in text
    assert catalog_file.chips  # loaded through the model too
