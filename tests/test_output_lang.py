"""Output for people in both languages: one label table, a Chinese memo with no English
label left, a memo that opens with the facts it rests on, and a chip's detail view."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from chipclear import __version__
from chipclear.io import labels
from chipclear.io.render import REGULATOR_QUESTION, hyphen_lines

ROOT = Path(__file__).resolve().parents[1]
CASES = ROOT / "examples" / "cases"

#: ASCII words a Chinese memo may keep: acronyms and units, the tool's name, hash names.
ALLOWED_WORDS = {"ECCN", "TPP", "PD", "GB", "TB", "TFLOPS", "USD", "chipclear", "sha256"}


def cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "chipclear", *args], cwd=ROOT,
                          capture_output=True, text=True, timeout=300, check=False)


def _strings(value: Any, keys: set[str], found: set[str], key: str = "") -> None:
    if isinstance(value, dict):
        for k, inner in value.items():
            _strings(inner, keys, found, k)
    elif isinstance(value, list):
        for inner in value:
            _strings(inner, keys, found, key)
    elif isinstance(value, str) and key in keys:
        found.add(value)


def _data_texts(decisions: list[dict[str, Any]]) -> set[str]:
    """Texts that come from the pack or the case, not from the label table: names of chips,
    sources and list entries, and the English side of bilingual rule texts (shown as gloss)."""
    found: set[str] = set()
    _strings(decisions, {"chip_name", "name", "entry_name", "matched_name", "matched_on",
                         "en", "zh", "reference", "title"}, found)
    return {t for t in found if t.strip()} | {REGULATOR_QUESTION["en"]}


@pytest.fixture(scope="module")
def zh_memo() -> tuple[str, list[dict[str, Any]]]:
    memo = cli("evaluate", str(CASES), "--format", "markdown", "--lang", "zh")
    assert memo.returncode in (0, 1), memo.stderr
    data = cli("evaluate", str(CASES), "--format", "json")
    return memo.stdout, json.loads(data.stdout)["decisions"]


def _without_data(memo: str, decisions: list[dict[str, Any]]) -> str:
    text = re.sub(r"``.*?``|`[^`\n]*`", " ", memo)  # rule ids, facts and values as code
    text = re.sub(r"\[([^\]\n]*)\]\((https?://[^)\s]+)\)", " ", text)  # cited sources
    for data in sorted(_data_texts(decisions), key=len, reverse=True):
        text = text.replace(data, " ")
    text = re.sub(r"^## .*$", " ", text, flags=re.MULTILINE)  # case ids
    text = re.sub(r"^ *> .*$", " ", text, flags=re.MULTILINE)  # texts quoted as given
    return text


def test_every_label_has_both_languages() -> None:
    for section, entries in labels.table().items():
        if section == "phrases":
            assert all(p["en"] and p["zh"] for p in entries)
            continue
        for key, entry in entries.items():
            if section == "values":
                for raw, pair in entry.items():
                    assert pair["en"] and pair["zh"], (section, key, raw)
            else:
                assert entry["en"] and entry["zh"], (section, key)


def test_chinese_memo_has_no_english_label(zh_memo: tuple[str, list[dict[str, Any]]]) -> None:
    memo, decisions = zh_memo
    assert len(decisions) >= 5 and memo.count("\n## ") == len(decisions)
    rest = _without_data(memo, decisions)
    # 1. No label of the table in its English form (whole words, case kept).
    english = {e for e in labels.english_labels()
               if re.search(r"[A-Za-z]{2}", e) and e not in ALLOWED_WORDS}
    left = sorted(e for e in english
                  if re.search(rf"(?<![A-Za-z_.]){re.escape(e.split('{')[0].strip())}"
                               rf"(?![A-Za-z_])", rest))
    assert not left, left
    # 2. No stray ASCII word at all outside code, links, names and quoted rule texts.
    words = sorted(set(re.findall(r"(?<![0-9])[A-Za-z][A-Za-z0-9_]+", rest)) - ALLOWED_WORDS)
    assert not words, words
    # The values are there, translated: every decision's verdict and statuses.
    for chinese in ("结论", "依据事实", "判定日期"):
        assert chinese in memo
    for d in decisions:
        for section, key in (("verdict", d["verdict"]), ("us_status", d["us"]["status"]),
                             ("cn_status", d["cn"]["status"])):
            zh = labels.value(section, key, "zh")
            assert zh != key and zh in memo, (section, key)


def test_the_checker_finds_an_english_label(zh_memo: tuple[str, list[dict[str, Any]]]) -> None:
    memo, decisions = zh_memo
    for leak in ("- because x", "(presumption of denial)", "as of 2026-01-01"):
        rest = _without_data(memo + "\n" + leak + "\n", decisions)
        assert re.findall(r"(?<![0-9])[A-Za-z][A-Za-z0-9_]+", rest), leak


def test_memo_opens_with_the_facts_and_lists_undecided_files(tmp_path: Path) -> None:
    folder = tmp_path / "cases"
    folder.mkdir()
    case = (CASES / "h20-incomplete-2025.yaml").read_text(encoding="utf-8")
    (folder / "a.yaml").write_text(case.replace(
        "evidence:", "evidence:\n  necessity_justification: \"FP8 训练 needs `CUDA`\"", 1)
        if "evidence:" in case else case + "evidence:\n  necessity_justification: "
        "\"FP8 训练 needs `CUDA`\"\n", encoding="utf-8")
    (folder / "b.yaml").write_text("id: broken\nbuyer: {kind: goverment}\n", encoding="utf-8")
    for lang in ("en", "zh"):
        result = cli("evaluate", str(folder), "--format", "markdown", "--lang", lang)
        assert result.returncode == 2, result.stderr
        memo = result.stdout
        decided = json.loads(cli("evaluate", str(folder / "a.yaml"), "--format",
                                 "json").stdout)["decisions"][0]
        head = memo[:memo.index(labels.label("findings", lang))]
        assert labels.label("facts", lang) in head
        assert "FP8 训练 needs `CUDA`" in head  # the justification as given
        assert f"chipclear `{__version__}`" in head
        assert decided["rule_pack"]["sha256"] in head and decided["rule_pack"]["version"] in head
        assert f"{labels.label('f_decided_on', lang)}: {decided['as_of']}" in head
        assert "`buyer.kind = " in head and "`order.items[0].quantity = " in head
        assert "a.yaml:" in head
        tail = memo[memo.index(labels.label("undecidable", lang)):]
        assert "b.yaml:2:" in tail and "goverment" in tail


def test_hyphen_lines_break_after_hyphens_only() -> None:
    assert hyphen_lines("university-h200-pending", 20) == "university-h200-\npending"
    assert hyphen_lines("a-b-c", 20) == "a-b-c"
    assert hyphen_lines("averyveryverylongword-x", 5) == "averyveryverylongword-\nx"
    for text in ("x-y-zz-www-vvvv", "abc", "--a--"):
        for width in (1, 3, 8):
            assert hyphen_lines(text, width).replace("\n", "") == text


def test_chips_detail_shows_figures_with_source_names_aliases_and_classification() -> None:
    from chipclear.pack.loader import default_rules_dir, load_pack

    pack = load_pack(default_rules_dir())
    chip = pack.catalog.chips["nvidia-b200"]
    text = cli("chips", "B200", "--as-of", "2026-03-01")
    assert text.returncode == 0, text.stderr
    data = json.loads(cli("chips", "B200", "--json", "--as-of", "2026-03-01").stdout)
    assert data["id"] == "nvidia-b200" and data["aliases"] == chip.aliases
    assert data["classification"]["value"] == "3A090.a"  # TPP 36,000 >= 4,800
    assert data["tpp"] == pack.catalog.facts("nvidia-b200").tpp
    fig = data["figures"]["die_area_mm2"]
    assert fig["value"] == chip.figures.die_area_mm2.value  # type: ignore[union-attr]
    kelly = pack.sources[chip.figures.die_area_mm2.sources[0]]  # type: ignore[union-attr]
    assert fig["sources"][0]["name"] == kelly.name and fig["sources"][0]["url"] == kelly.url
    for alias in chip.aliases:
        assert alias in text.stdout
    assert kelly.name in text.stdout and kelly.url in text.stdout
    assert "3A090.a" in text.stdout and "cat-kelly" not in text.stdout
    assert "管制分类" in cli("chips", "B200", "--lang", "zh").stdout
    several = json.loads(cli("chips", "H20", "--json").stdout)  # an exact alias: one chip
    assert several["id"] == "nvidia-h20"
    listing = json.loads(cli("chips", "nvidia-h", "--json").stdout)
    assert isinstance(listing, list) and len(listing) >= 2
    assert cli("chips", "no-such-chip-xyz").returncode == 2


def test_memo_cites_figure_sources_by_name() -> None:
    memo = cli("evaluate", str(CASES / "b200-cloud.yaml"), "--format", "markdown").stdout
    line = next(x for x in memo.splitlines() if x.startswith("Figures for NVIDIA B200"))
    assert "cat-kelly-tracker" not in line
    assert "[s-w-kelly/chip-export-controls tracker" in line and "](https://github.com/" in line
