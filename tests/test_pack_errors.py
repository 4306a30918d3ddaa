"""Rule-pack mistakes are reported as file:line:col, never as a traceback."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from chipclear.errors import RulePackError, UserInputError
from chipclear.pack.loader import load_pack

from tests.conftest import MINIPACK


@pytest.fixture
def packdir(tmp_path: Path) -> Path:
    target = tmp_path / "pack"
    shutil.copytree(MINIPACK, target)
    return target


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def error(packdir: Path) -> str:
    with pytest.raises(UserInputError) as err:
        load_pack(packdir)
    return err.value.line()


def test_unknown_fact(packdir: Path) -> None:
    edit(packdir / "core/rules.yaml", "chip.datacenter", "chip.datacentre")
    msg = error(packdir)
    assert msg.startswith(f"{packdir / 'core/rules.yaml'}:3:5: US-CLS-A: unknown fact")


def test_wrong_value_type(packdir: Path) -> None:
    edit(packdir / "core/rules.yaml", "{fact: chip.datacenter, eq: true}",
         "{fact: chip.datacenter, eq: yes}")
    assert "is true/false" in error(packdir)


def test_unknown_source(packdir: Path) -> None:
    edit(packdir / "core/rules.yaml", "sources: [press]", "sources: [presss]")
    msg = error(packdir)
    # the first rule citing it: line 32, column 14 is the list item 'presss'
    assert msg == f"{packdir / 'core/rules.yaml'}:32:14: unknown source 'presss' " \
                  "(add it to a sources.yaml in the pack)"


def test_window_that_ends_before_it_starts(packdir: Path) -> None:
    edit(packdir / "core/rules.yaml", "valid_from: 2023-11-17\n    sources: [fr-2023]\n    when:\n"
         "      all:\n        - {fact: chip.datacenter",
         "valid_from: 2023-11-17\n    valid_to: 2023-01-01\n    sources: [fr-2023]\n    when:\n"
         "      all:\n        - {fact: chip.datacenter")
    assert "is not after valid_from" in error(packdir)


def test_duplicate_rule_id(packdir: Path) -> None:
    edit(packdir / "core/rules.yaml", "id: US-LIC-CN", "id: US-CLS-A")
    assert "rule id 'US-CLS-A' is already used at" in error(packdir)


def test_negated_derived_fact_is_refused(packdir: Path) -> None:
    edit(packdir / "core/rules.yaml", "        - {derived: eccn, in: [3A090.a]}",
         "        - not: {derived: eccn, in: [3A090.a]}")
    msg = error(packdir)
    assert "'not' cannot contain derived facts" in msg
    assert "rules.yaml:" in msg


def test_underived_key(packdir: Path) -> None:
    edit(packdir / "core/rules.yaml", "{derived: eccn, in: [3A090.a]}", "{derived: ecn}")
    assert "no rule derives 'ecn'" in error(packdir)


def test_unknown_parameter(packdir: Path) -> None:
    edit(packdir / "core/rules.yaml", "{param: us.tpp_a}", "{param: us.tpp_b}")
    assert "unknown parameter 'us.tpp_b'" in error(packdir)


def test_malformed_yaml(packdir: Path) -> None:
    edit(packdir / "core/rules.yaml", "severity: block", "severity: [block")
    assert "malformed YAML" in error(packdir)


def test_missing_pack() -> None:
    with pytest.raises(RulePackError, match=r"pack\.yaml missing"):
        load_pack(Path("/nonexistent/rules"))


def test_content_hash_follows_content(packdir: Path) -> None:
    before = load_pack(packdir).sha256
    assert load_pack(packdir).sha256 == before
    edit(packdir / "core/parameters.yaml", "value: 4800", "value: 4801")
    assert load_pack(packdir).sha256 != before
