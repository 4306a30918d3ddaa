"""Typed rule packs: parameters declare a kind and a unit, checked where they are used.

A parameter written as "abc", true or .nan where a number belongs used to load, pass
`rules lint` and leave H200 unclassified; a derive cycle passed lint and was refused
only by `evaluate`. Each is now refused when the pack loads, in one line, and lint
reports it.
"""

from __future__ import annotations

import datetime as dt
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from chipclear.decide.evaluate import Evaluator
from chipclear.errors import RulePackError
from chipclear.model.case import Case
from chipclear.pack import conditions as C
from chipclear.pack.lint import lint
from chipclear.pack.loader import load_pack
from chipclear.pack.schema import condition_schema
from hypothesis import given, settings
from hypothesis import strategies as st
from jsonschema import Draft202012Validator

from tests.conftest import MINIPACK, ROOT
from tests.fresh_seed import GENERATION_CHECKS, fresh_seed

PARAM = "      - {from: 2022-10-07, value: 4800, sources: [fr-2023]}"


@pytest.fixture
def pack(tmp_path: Path) -> Path:
    target = tmp_path / "pack"
    shutil.copytree(MINIPACK, target)
    return target


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text, f"{old!r} not in {path}"
    path.write_text(text.replace(old, new), encoding="utf-8")


def cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "chipclear", *args], cwd=ROOT,
                          capture_output=True, text=True, timeout=300)


def refused(pack: Path) -> str:
    """The loader's one-line refusal, which `rules lint` must report as an error too."""
    with pytest.raises(RulePackError) as err:
        load_pack(pack)
    line = err.value.line()
    errors = [i for i in lint(pack) if i.error]
    assert errors, f"lint missed what the loader refuses: {line}"
    assert "\n" not in line
    return line


@pytest.mark.parametrize(("value", "problem"), [
    ('"abc"', "'abc' is not a number"),
    ("true", "True is not a number"),
    (".nan", "'.nan' is not a number"),
    ("1.0e+999", "inf is not a finite number"),
    ("-1e999", "-inf is not a finite number"),
])
def test_a_number_parameter_must_hold_a_finite_number(pack: Path, value: str,
                                                      problem: str) -> None:
    edit(pack / "core" / "parameters.yaml", "value: 4800", f"value: {value}")
    line = refused(pack)
    assert problem in line and "parameters.yaml" in line, line


def test_a_huge_threshold_loads_and_decides_without_crashing(pack: Path) -> None:
    """1e16 used to crash ruleset registration; it is an ordinary double."""
    edit(pack / "core" / "parameters.yaml", "value: 4800", "value: 1.0e+16")
    ev = Evaluator(load_pack(pack))
    case = Case.model_validate({"id": "x", "as_of": "2026-02-15", "buyer": {"country": "CN"},
                                "order": {"items": [{"chip": "H200"}]}})
    decision = ev.evaluate(case, dt.date(2026, 2, 15))
    assert decision.items[0].eccn is None  # no chip reaches a TPP of 10^16


def test_a_parameter_needs_a_kind_and_a_number_needs_a_unit(pack: Path) -> None:
    params = pack / "core" / "parameters.yaml"
    edit(params, "    unit: TPP\n", "")
    assert "declares its unit" in refused(pack)
    edit(params, "    kind: number\n", "")
    assert "kind" in refused(pack)


def test_a_parameter_in_another_unit_is_refused_where_it_is_compared(pack: Path) -> None:
    edit(pack / "core" / "parameters.yaml", "unit: TPP", "unit: GB/s")
    line = refused(pack)
    assert "US-CLS-A: parameter 'us.tpp_a' is in GB/s, but 'chip.tpp' is in TPP" in line, line
    assert "rules.yaml" in line


def test_a_parameter_of_another_kind_is_refused_where_it_is_compared(pack: Path) -> None:
    edit(pack / "core" / "parameters.yaml", "    kind: number\n    unit: TPP\n",
         "    kind: date\n")
    edit(pack / "core" / "parameters.yaml", "value: 4800", 'value: "2024-01-01"')
    line = refused(pack)
    assert "parameter 'us.tpp_a' is a date, but 'chip.tpp' is a number" in line, line


def test_a_date_parameter_must_hold_a_date(pack: Path) -> None:
    edit(pack / "core" / "parameters.yaml", "    kind: number\n    unit: TPP\n",
         "    kind: date\n")
    assert "4800.0 is not a date" in refused(pack)


def test_a_literal_the_engine_cannot_hold_is_refused(pack: Path) -> None:
    edit(pack / "core" / "rules.yaml", "{fact: chip.tpp, gte: {param: us.tpp_a}}",
         "{fact: chip.tpp, gte: 1e999}")
    assert "'chip.tpp' is a finite number; inf is not a finite number" in refused(pack)
    edit(pack / "core" / "rules.yaml", "gte: 1e999", "gte: 100000000000000000000000000001")
    assert "is not exactly representable" in refused(pack)


def test_a_revenue_share_is_a_percentage(pack: Path) -> None:
    edit(pack / "core" / "rules.yaml", "then: {us_status: presumption_of_denial}",
         "then: {us_status: presumption_of_denial, revenue_share_pct: {param: us.tpp_a}}")
    assert "must be a number in percent" in refused(pack)


def test_a_derive_cycle_is_refused_by_the_loader_and_lint(pack: Path) -> None:
    rules = pack / "core" / "rules.yaml"
    edit(rules, "        - {fact: chip.tpp, gte: {param: us.tpp_a}}\n",
         "        - {fact: chip.tpp, gte: {param: us.tpp_a}}\n        - {derived: loop}\n")
    edit(rules, "then: {us_status: presumption_of_denial}",
         "then: {us_status: presumption_of_denial, derive: {loop: true}}")
    line = refused(pack)
    assert "rules derive each other in a cycle: " in line, line
    assert "US-CLS-A" in line and "US-LIC-CN" in line
    result = cli("rules", "lint", "--rules", str(pack))
    assert result.returncode == 1
    assert "cycle" in result.stdout and "Traceback" not in result.stderr


def test_rules_that_never_overlap_in_time_may_feed_each_other(pack: Path) -> None:
    """A 'cycle' between rules never in force together is no cycle on any date."""
    rules = pack / "core" / "rules.yaml"
    edit(rules, "        - {fact: chip.tpp, gte: {param: us.tpp_a}}\n",
         "        - {fact: chip.tpp, gte: {param: us.tpp_a}}\n        - {derived: loop}\n")
    edit(rules, "then: {us_status: presumption_of_denial}",
         "then: {us_status: presumption_of_denial, derive: {loop: true}}")
    edit(rules, "    valid_from: 2023-11-17\n    sources: [fr-2023]\n    when:\n      all:\n"
                "        - {fact: chip.datacenter",
         "    valid_from: 2020-01-01\n    valid_to: 2023-11-17\n    sources: [fr-2023]\n"
         "    when:\n      all:\n        - {fact: chip.datacenter")
    load_pack(pack)


def test_every_number_fact_has_a_unit() -> None:
    from chipclear.pack.facts import REGISTRY, Kind

    assert [p for p, s in REGISTRY.items() if s.kind is Kind.number and not s.unit] == []


def test_the_shipped_pack_declares_every_parameter() -> None:
    pack = load_pack(ROOT / "rules")
    assert pack.parameters and all(p.kind for p in pack.parameters.values())
    assert [i.line() for i in lint(ROOT / "rules") if i.error] == []


# --- the condition schema is generated from the parser's own models ---------------------

_KEYS = ["all", "any", "not", "fact", "derived", "eq", "ne", "gt", "gte", "lt", "lte", "in",
         "not_in", "nonempty", "param", "bogus"]
_LEAF = st.one_of(st.booleans(), st.integers(-5, 5), st.floats(-10, 10), st.sampled_from(
    ["chip.tpp", "eccn", "CN", ""]), st.none())
_TREES = st.recursive(
    _LEAF,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(
        st.sampled_from(_KEYS), inner, min_size=1, max_size=3),
    max_leaves=8,
)
_CONDITIONS = st.one_of(
    _TREES,
    st.builds(lambda f, op, v: {"fact": f, op: v}, st.sampled_from(["chip.tpp", "buyer.kind"]),
              st.sampled_from(_KEYS[5:]), _TREES),
    st.builds(lambda ops: {"all": [{"fact": "chip.tpp", **ops}]},
              st.dictionaries(st.sampled_from(_KEYS[5:]), _TREES, min_size=1, max_size=2)),
)


@pytest.mark.parametrize("raw", [
    {"derived": "eccn", "eq": None}, {"fact": "chip.tpp", "gte": 1, "lt": None},
    {"all": None}, {"fact": "chip.tpp", "in": [None]}, {"not": None},
])
def test_a_key_without_a_value_is_refused_by_parser_and_schema(raw: object) -> None:
    """Found by the property test below: the parser read `eq: null` as no `eq` at all."""
    validator = Draft202012Validator({"$defs": condition_schema(), "$ref": "#/$defs/Condition"})
    with pytest.raises(C.ConditionError):
        C.parse(raw)
    assert not validator.is_valid(raw)


@fresh_seed
@settings(max_examples=300, deadline=None, suppress_health_check=GENERATION_CHECKS)
@given(_CONDITIONS)
def test_the_schema_editors_see_accepts_exactly_what_the_parser_accepts(raw: object) -> None:
    validator = Draft202012Validator({"$defs": condition_schema(),
                                      "$ref": "#/$defs/Condition"})
    try:
        C.parse(raw)
        parsed = True
    except C.ConditionError as exc:
        if "cannot contain derived facts" in str(exc):  # a rule of meaning, not of shape
            return
        parsed = False
    assert validator.is_valid(raw) == parsed, raw
