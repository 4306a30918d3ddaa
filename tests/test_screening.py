"""Screening buyer names against the Entity List and the approved-customer list."""

from __future__ import annotations

import datetime as dt
import random
from pathlib import Path

import pytest
from chipclear.decide.evaluate import Evaluator
from chipclear.errors import RulePackError
from chipclear.io.render import markdown
from chipclear.io.yamlload import load_file, loads
from chipclear.model.case import Case
from chipclear.model.decision import Verdict
from chipclear.screening.match import ScreeningList, normalise_name, parse_list, screen

ROOT = Path(__file__).resolve().parent.parent
LISTS = ROOT / "rules" / "lists"
TODAY = dt.date(2026, 6, 1)


@pytest.fixture(scope="module")
def entity_list() -> ScreeningList:
    path = LISTS / "entity_list.yaml"
    return parse_list(load_file(path), str(path))


def test_both_shipped_lists_parse(entity_list: ScreeningList) -> None:
    assert entity_list.list.jurisdiction == "US"
    assert len(entity_list.entries) >= 20
    path = LISTS / "approved_customers.yaml"
    approved = parse_list(load_file(path), str(path))
    assert approved.list.id == "us-approved-customers"


def test_list_sources_exist() -> None:
    from chipclear.pack.sources import SourceFile

    known = {s.id for s in SourceFile.model_validate(load_file(LISTS / "sources.yaml")).sources}
    for name in ("entity_list.yaml", "approved_customers.yaml"):
        lst = parse_list(load_file(LISTS / name), name)
        assert set(lst.list.sources) <= known
        for entry in lst.entries:
            assert entry.sources and set(entry.sources) <= known, entry.id


@pytest.mark.parametrize(("name", "entry_id"), [
    ("Beijing Zhipu Huazhang Technology Co., Ltd.", "zhipu"),
    ("北京智谱华章科技有限公司", "zhipu"),
    ("Zhipu AI", "zhipu"),
    ("ZHIPU  AI INC.", "zhipu"),
    ("Zhipu Huazhang Technology (Beijing) Co Ltd", "zhipu"),
    ("智谱华章科技有限公司", "zhipu"),
    ("Inspur Electronic Information Industry Co Ltd", "inspur-group"),
    ("浪潮电子信息产业股份有限公司", "inspur-group"),
    ("Inspur Group Co. Ltd", "inspur-group"),
    ("Sugon", "sugon"),
    ("中科曙光", "sugon"),
    ("ＳＵＧＯＮ Information Industry Corporation", "sugon"),
    ("Dawning Information Industry Co., Ltd.", "sugon"),
    ("Huawei Technologies Co Ltd", "huawei"),
    ("华为技术有限公司", "huawei"),
    ("摩尔线程智能科技（北京）有限责任公司", "moore-threads"),
    ("Moore Threads Technology Co., Ltd.", "moore-threads"),
    ("上海壁仞智能科技有限公司", "biren"),
    ("Suma Technology Co., Ltd.", "suma"),
    ("Suma-USI Electronics Co., Ltd.", "suma-usi"),
    ("Nettrix Information Industry (Beijing) Co., Ltd.", "nettrix"),
    ("Sophgo Technologies Ltd.", "sophgo"),
    ("National Supercomputing Center in Wuxi", "nsc-wuxi"),
    ("国家超级计算济南中心", "nsc-jinan"),
])
def test_variants_hit(entity_list: ScreeningList, name: str, entry_id: str) -> None:
    match = screen([name], entity_list, TODAY)
    assert match is not None, name
    assert match.entry_id == entry_id
    assert match.matched_name == name
    assert match.list_id == "us-entity-list"
    assert match.sources


@pytest.mark.parametrize("name", [
    "Sumitomo Corporation",          # "Suma" is a whole word, not a prefix
    "Tech Co Ltd",                   # legal forms and a generic word leave nothing distinctive
    "Hangzhou Example Cloud Technology Co., Ltd.",
    "Example Computing Centre",
    "Example US Research Lab Inc.",
    "National Supercomputing Center Hefei",  # same generic words, different city
    "合肥超算中心",
    "Sunway Berhad",                 # Malaysia's Sunway, not Sunway Microelectronics
    "上海计算能力科技有限公司",          # contains 算能 inside 计算能力
    "Shanghai Shuguang Hospital",
    "Beijing Co., Ltd.",
    "Alibaba Cloud Computing Co., Ltd.",
])
def test_non_hits(entity_list: ScreeningList, name: str) -> None:
    assert screen([name], entity_list, TODAY) is None


def test_any_of_several_names_can_hit(entity_list: ScreeningList) -> None:
    match = screen([None, "", "Example Trading", "北京智谱华章科技有限公司"], entity_list, TODAY)
    assert match is not None and match.matched_name == "北京智谱华章科技有限公司"
    assert screen([None, "  "], entity_list, TODAY) is None


def test_a_typo_hits_fuzzily(entity_list: ScreeningList) -> None:
    match = screen(["Zhipuu Huazhang Technology Co Ltd"], entity_list, TODAY)
    assert match is not None and match.entry_id == "zhipu"


def test_exact_match_wins_over_containment(entity_list: ScreeningList) -> None:
    match = screen(["Suma-USI Electronics"], entity_list, TODAY)
    assert match is not None and match.entry_id == "suma-usi"


def test_listing_date_gates_the_match(entity_list: ScreeningList) -> None:
    name = "Beijing Zhipu Huazhang Technology Co., Ltd."
    assert screen([name], entity_list, dt.date(2025, 1, 15)) is None
    match = screen([name], entity_list, dt.date(2025, 1, 16))
    assert match is not None and match.since == dt.date(2025, 1, 16)
    assert match.reference and "2025-00704" in match.reference
    assert screen(["Nettrix"], entity_list, dt.date(2025, 3, 24)) is None
    assert screen(["Nettrix"], entity_list, dt.date(2025, 3, 25)) is not None


def _one_entry(until: str | None) -> ScreeningList:
    text = (
        "list: {id: test, title: Test, jurisdiction: US}\n"
        "entries:\n"
        "  - {id: acme, name: 'Acme Widgets Co., Ltd.', since: 2024-01-01, sources: [x]"
        + (f", until: {until}" if until else "") + "}\n"
    )
    return parse_list(loads(text, "t.yaml"), "t.yaml")


def test_until_ends_the_listing() -> None:
    lst = _one_entry("2025-01-01")
    assert screen(["ACME WIDGETS"], lst, dt.date(2024, 12, 31)) is not None
    assert screen(["ACME WIDGETS"], lst, dt.date(2025, 1, 1)) is None
    assert screen(["ACME WIDGETS"], _one_entry(None), dt.date(2030, 1, 1)) is not None
    assert screen(["ACME WIDGETS"], lst, dt.date(2023, 12, 31)) is None


def test_empty_approved_list_never_hits() -> None:
    path = LISTS / "approved_customers.yaml"
    approved = parse_list(load_file(path), str(path))
    assert screen(["Beijing Zhipu Huazhang Technology Co., Ltd."], approved, TODAY) is None


@pytest.mark.parametrize(("text", "fragment"), [
    ("list: {id: t, title: T, jurisdiction: EU}\nentries: []\n", "list.jurisdiction"),
    ("list: {id: t, title: T, jurisdiction: US}\nentries:\n  - {id: a, name: A, sources: [x]}\n",
     "entries.0.since"),
    ("list: {id: t, title: T, jurisdiction: US}\nentries:\n"
     "  - {id: a, name: A, since: 2024-01-01, sources: [x]}\n"
     "  - {id: a, name: B, since: 2024-01-01, sources: [x]}\n", "appears twice"),
    ("list: {id: t, title: T, jurisdiction: US}\nentries:\n"
     "  - {id: a, name: A, since: 2024-01-01, until: 2023-01-01, sources: [x]}\n",
     "not after since"),
])
def test_bad_list_is_a_rule_pack_error_with_a_position(text: str, fragment: str) -> None:
    with pytest.raises(RulePackError) as info:
        parse_list(loads(text, "bad.yaml"), "bad.yaml")
    line = info.value.line()
    assert fragment in line
    assert line.startswith("bad.yaml:")


@pytest.mark.parametrize(("raw", "core"), [
    ("Beijing Zhipu Huazhang Technology Co., Ltd.", "beijing zhipu huazhang technology"),
    ("北京智谱华章科技有限公司", "北京智谱华章科技"),
    ("浪潮集团有限公司", "浪潮"),
    ("Inspur Group Co. Ltd", "inspur"),
    ("Ｓｕｇｏｎ (Tianjin) Inc.", "sugon"),
    ("摩尔线程智能科技（北京）有限责任公司", "摩尔线程智能科技"),
])
def test_normalise_name(raw: str, core: str) -> None:
    assert normalise_name(raw) == core


def _scan(names: list[str], lst: ScreeningList, as_of: dt.date) -> tuple[str, str] | None:
    """The plain reading of the matching rules: every entry, every name, best tier first."""
    from chipclear.screening.match import _contains, _fuzzy, _Target, in_force

    given = [t for t in (_Target.of(n) for n in names if n.strip()) if t.core]
    best: tuple[int, str, str] | None = None
    for entry in lst.entries:
        if not in_force(entry, as_of):
            continue
        for text in (entry.name, entry.name_zh, *entry.aliases):
            target = _Target.of(text) if text else None
            if target is None or not target.core:
                continue
            for g in given:
                if g.compact == target.compact or g.bare == target.compact or (
                        target.bare is not None and g.compact == target.bare):
                    tier = 0
                elif _contains(g.core, target.core):
                    tier = 1
                elif _fuzzy(g.distinctive, target.distinctive):
                    tier = 2
                else:
                    continue
                if best is None or tier < best[0]:
                    best = (tier, entry.id, text)
    return None if best is None else (best[1], best[2])


def test_indexed_screening_equals_a_plain_scan(entity_list: ScreeningList) -> None:
    """The index is an optimisation only: on names built from the list's own names, with
    places, legal forms, typos and unrelated words, it finds what a full scan finds."""
    rng = random.Random(7)
    listed = [n for e in entity_list.entries for n in (e.name, e.name_zh, *e.aliases) if n]
    decorations = ["Beijing ", "北京", "Shanghai ", "", "The "]
    suffixes = [" Co., Ltd.", "有限公司", " Group", "", " (Shenzhen) Limited", " Holdings"]
    others = ["Example Cloud", "示例科技", "Tsinghua University", "Wuxi Example Co"]
    checked = hits = 0
    for _ in range(600):
        base = rng.choice(listed + others)
        name = rng.choice(decorations) + base + rng.choice(suffixes)
        if rng.random() < 0.3 and len(name) > 6:  # a typo
            i = rng.randrange(len(name))
            name = name[:i] + rng.choice("aeiou0") + name[i + 1:]
        if rng.random() < 0.2:
            name = rng.choice(others) + " " + name
        as_of = dt.date(rng.choice([2019, 2023, 2025, 2026]), 6, 1)
        got = screen([name], entity_list, as_of)
        want = _scan([name], entity_list, as_of)
        assert (None if got is None else (got.entry_id, got.matched_on)) == want, name
        checked += 1
        hits += want is not None
    assert checked == 600 and 100 < hits < 600  # the corpus exercises hits and misses


def test_decision_names_the_entry_a_variant_matched(evaluator: Evaluator) -> None:
    """A block on a name match must let the reviewer check the match itself."""
    case = Case.model_validate({
        "id": "variant", "as_of": "2026-02-15",
        "buyer": {"name": "Zhipu Huazhang Tech Co Limited", "country": "CN",
                  "headquarters": "CN"},
        "order": {"ship_from": "US", "items": [{"chip": "H200"}]}})
    decision = evaluator.evaluate(case)
    assert decision.verdict is Verdict.no_go
    [hit] = decision.list_matches
    assert (hit.fact, hit.entry_id, hit.how) == ("screen.entity_list", "zhipu", "contained")
    assert hit.matched_name == "Zhipu Huazhang Tech Co Limited" and hit.reference
    assert any(s.confidence.value == "official" for s in hit.sources)
    text = markdown(decision)
    assert "### List matches" in text and "(`zhipu`)" in text
    clean = evaluator.evaluate(case.model_copy(update={"buyer": case.buyer.model_copy(
        update={"name": "Example Cloud Co., Ltd."})}))
    assert clean.list_matches == []
