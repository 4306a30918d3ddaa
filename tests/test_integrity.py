"""Engine integrity: every fact reaches the engine as asserted, or the case fails loudly.

durable-rules' JSON reader cannot read ``1e-05``, ``4e+16`` or ``Infinity``; inside a
batch it stopped at such a fact without raising and dropped every later fact, which
turned a no_go into a go, and a case fact it could not read segfaulted the process.
These tests keep each attack input (and variants) with its plain twin: the twin's
decision, or a one-line error with exit 2; never a changed verdict, a crash or exit 1
from a traceback. The seam tests show the two nets (the adapter's acceptance check and
the Python cross-check) each fail a case on their own when a fact goes missing.
"""

from __future__ import annotations

import copy
import datetime as dt
import json
import math
import shutil
import sqlite3
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest
import yaml
from chipclear.decide.compile import ActionSpec, CompiledPack
from chipclear.decide.evaluate import Evaluator
from chipclear.decide.runtime import Runtime, Unrepresentable, engine_number
from chipclear.errors import EngineFailure
from chipclear.model.case import Case
from chipclear.pack.facts import Scope
from chipclear.pack.loader import RulePack
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.conftest import ROOT
from tests.fresh_seed import GENERATION_CHECKS, fresh_seed
from tests.lossy_runtimes import DroppingRuntime, ForgettingRuntime, SilentlyDroppingRuntime

EXAMPLE = ROOT / "examples" / "cases" / "h200-platform-2026.yaml"


def cli(*args: str, cwd: Path = ROOT) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "chipclear", *args], cwd=cwd,
                          capture_output=True, text=True, timeout=300)


def blocked_case() -> dict[str, Any]:
    """The README example made a no_go: Entity-Listed buyer, B200, military end use."""
    case: dict[str, Any] = yaml.safe_load(EXAMPLE.read_text(encoding="utf-8"))
    case["buyer"]["name"] = "Huawei Technologies Co., Ltd."
    del case["buyer"]["name_zh"]
    case["order"]["items"][0]["chip"] = "B200"
    case["use"]["end_use"] = "military"
    return case


def write_cases(path: Path, cases: list[dict[str, Any]]) -> Path:
    path.write_text(yaml.safe_dump({"cases": cases}, allow_unicode=True, sort_keys=False),
                    encoding="utf-8")
    return path


def strict_json(text: str) -> Any:
    """json.loads that refuses NaN and Infinity, which are not JSON."""
    def refuse(token: str) -> None:
        raise AssertionError(f"output contains {token}, which is not JSON")
    return json.loads(text, parse_constant=refuse)


def verdicts(result: subprocess.CompletedProcess[str]) -> dict[str, str]:
    return {d["case_id"]: d["verdict"] for d in map(strict_json, result.stdout.splitlines())}


def assert_twin_or_refused(result: subprocess.CompletedProcess[str], twin: str,
                           attack: str, want: str) -> None:
    """The attack case got the twin's verdict, or one line at exit 2; never a crash."""
    assert result.returncode >= 0, f"killed by signal {-result.returncode}: {result.stderr}"
    assert "Traceback" not in result.stderr, result.stderr
    got = verdicts(result)
    assert got[twin] == want, (got, result.stderr)
    if attack in got:
        assert got[attack] == want, (attack, got, result.stderr)
    else:
        lines = [ln for ln in result.stderr.splitlines() if ln.strip()]
        assert result.returncode == 2, result.stderr
        assert len(lines) == 1, result.stderr


# --- 1. reproductions, kept as regression tests ----------------------------------------

PRICE_ATTACKS = [0.00001, 1e16, 1e-7, 4e16, 5e-324, 123456789.123456, 4.6e305]


@pytest.mark.parametrize("price", PRICE_ATTACKS)
def test_unit_price_never_turns_a_no_go_into_a_go(tmp_path: Path, price: float) -> None:
    twin = {**blocked_case(), "id": "twin"}
    attack = copy.deepcopy(twin)
    attack["id"] = "attack"
    attack["order"]["items"][0]["unit_price_usd"] = price
    path = write_cases(tmp_path / "c.yaml", [attack, twin])
    result = cli("evaluate", str(path), "--format", "jsonl")
    assert_twin_or_refused(result, "twin", "attack", "no_go")
    assert result.returncode != 0


@pytest.mark.parametrize("spec", [
    {"memory_gb": 0.00001}, {"memory_bandwidth_gbs": 1e-9}, {"io_bandwidth_gbs": 3e20},
    {"dense_tflops": {"fp8": 5e15}}, {"dense_tflops": {"fp16": 1e-6}},
])
def test_a_custom_item_with_odd_figures_does_not_hide_the_next_item(
        tmp_path: Path, spec: dict[str, Any]) -> None:
    """A custom chip placed before a real H200 must not swallow the H200's facts."""
    base = blocked_case()
    base["order"]["items"][0]["chip"] = "H200"
    custom = {"custom": True, "spec": {"name": "Custom X", "dense_tflops": {"fp16": 10},
                                       "die_area_mm2": 500}}
    twin = copy.deepcopy(base)
    twin["id"] = "twin"
    twin["order"]["items"].insert(0, custom)
    attack = copy.deepcopy(twin)
    attack["id"] = "attack"
    attack["order"]["items"][0]["spec"].update(spec)
    path = write_cases(tmp_path / "c.yaml", [attack, twin])
    result = cli("evaluate", str(path), "--format", "jsonl")
    assert_twin_or_refused(result, "twin", "attack", "no_go")


WORKLOAD_ATTACKS = [{"min_memory_gb": 0.00001}, {"min_memory_bandwidth_gbs": 1e20},
                    {"min_memory_gb": 5e-324}, {"min_memory_bandwidth_gbs": 1.7e308}]


@pytest.mark.parametrize("workload", WORKLOAD_ATTACKS)
def test_workload_figures_do_not_crash_evaluate(tmp_path: Path, workload: dict[str, Any]) -> None:
    """These case facts used to segfault evaluate (exit 139) and lose the whole batch."""
    plain = json.loads(json.dumps(yaml.safe_load(EXAMPLE.read_text(encoding="utf-8")),
                                  default=str))
    twin = {**plain, "id": "twin"}
    attack = copy.deepcopy(twin)
    attack["id"] = "attack"
    attack["use"]["workload"].update(workload)
    path = write_cases(tmp_path / "c.yaml", [attack, twin])
    result = cli("evaluate", str(path), "--format", "jsonl")
    assert_twin_or_refused(result, "twin", "attack", "go_with_conditions")


@pytest.mark.parametrize("command", ["coverage", "timeline", "diff"])
def test_workload_figures_do_not_crash_the_audit_commands(tmp_path: Path, command: str) -> None:
    attack = blocked_case()
    attack["id"] = "attack"
    attack["use"]["workload"]["min_memory_gb"] = 0.00001
    path = write_cases(tmp_path / "c.yaml", [attack])
    if command == "coverage":
        result = cli("rules", "coverage", "--cases", str(path))
    elif command == "timeline":
        result = cli("audit", "timeline", str(path), "--from", "2026-01-01", "--to", "2026-03-01")
    else:
        result = cli("audit", "diff", "--base", str(ROOT / "rules"), "--head",
                     str(ROOT / "rules"), "--cases", str(path))
    assert result.returncode in (0, 1, 2), (result.returncode, result.stderr)
    assert "Traceback" not in result.stderr
    assert "engine failure" not in result.stderr


def test_a_custom_chip_with_infinite_tpp_or_pd_is_refused_in_one_line(tmp_path: Path) -> None:
    spec = {"name": "X", "dense_tflops": {"fp8": 1000}, "die_area_mm2": 800}
    specs = {"tpp-inf": {**spec, "dense_tflops": {"fp8": 1.7e308}},
             "pd-inf": {**spec, "die_area_mm2": 1e-308}, "ok": spec}
    cases = [{"id": cid, "as_of": "2026-02-15", "buyer": {"country": "DE"},
              "order": {"items": [{"custom": True, "spec": s}]}} for cid, s in specs.items()]
    path = write_cases(tmp_path / "c.yaml", cases)
    result = cli("evaluate", str(path), "--format", "json")
    assert result.returncode == 2, result.stderr
    body = strict_json(result.stdout)
    assert [d["case_id"] for d in body["decisions"]] == ["ok"]
    errors = result.stderr.strip().splitlines()
    assert len(errors) == 2, result.stderr
    # Refused at the figure (the case model's bounds); the finite-TPP check behind it is
    # the second line of defence for specs built in code.
    for line, field in zip(errors, ("dense_tflops.fp8", "die_area_mm2"), strict=True):
        assert line.startswith(f"{path}:") and f"order.items[0].spec.{field}" in line, line
    assert "Traceback" not in result.stderr


# --- 2. the adapter's number form, proven over the whole range --------------------------

#: Every finite double, with extra weight on one-digit mantissas (1e-05, 4e+16): Python
#: writes those without a '.', which is exactly what durable's reader could not parse.
finite = st.floats(allow_nan=False, allow_infinity=False) | st.builds(
    lambda m, e: float(f"{m}e{e}"), st.integers(-9, 9), st.integers(-323, 308)).filter(
    math.isfinite)


@fresh_seed
@settings(max_examples=300, deadline=None)
@given(finite, finite)
def test_engine_numbers_keep_order_and_equality(a: float, b: float) -> None:
    ea, eb = engine_number(a), engine_number(b)
    assert -(2**63) < ea < 2**63
    assert (ea < eb) == (a < b) and (ea == eb) == (a == b)


@pytest.mark.parametrize("value", [math.inf, -math.inf, math.nan, 10**400, 2**53 + 1, "1"])
def test_values_the_engine_cannot_hold_are_refused(value: Any) -> None:
    with pytest.raises(Unrepresentable):
        engine_number(value)


OPS = {"eq": lambda a, b: a == b, "ne": lambda a, b: a != b, "gt": lambda a, b: a > b,
       "gte": lambda a, b: a >= b, "lt": lambda a, b: a < b, "lte": lambda a, b: a <= b}
_DURABLE = {"ne": "$neq", "gt": "$gt", "gte": "$gte", "lt": "$lt", "lte": "$lte"}


def probe_pack(name: str, literals: dict[str, list[Any]]) -> CompiledPack:
    """A hand-built ruleset: one rule per (fact key, literal, operator), as compile writes them."""
    ruleset: dict[str, Any] = {}
    actions: dict[str, ActionSpec] = {}
    for key, values in literals.items():
        for n, value in enumerate(values):
            for op in OPS:
                if isinstance(value, str | bool) and op not in ("eq", "ne"):
                    continue
                test = {key: value} if op == "eq" else {_DURABLE[op]: {key: value}}
                rule = f"{key}|{n}|{op}"
                ruleset[rule] = {"all": [{"m": {"$and": [{"t": "item"}, test]}}], "run": rule}
                actions[rule] = ActionSpec(rule, 0, Scope.item, (), ())
    ruleset["__open"] = {"all": [{"m": {"t": "case"}}], "run": "__open"}
    for kind in ("item", "d"):
        ruleset[f"__keep_{kind}"] = {"all": [{"m": {"t": kind}}, {"never": {"t": "__never__"}}],
                                     "run": "__noop"}
    return CompiledPack(name, dt.date(2026, 1, 1), ruleset, actions, (), {}, {})


KINDS: dict[str, st.SearchStrategy[Any]] = {
    "number": finite,
    "integer": st.integers(min_value=-(2**53), max_value=2**53),
    "date": st.dates().map(dt.date.toordinal),
    "text": st.text(max_size=30) | st.sampled_from(["", "x", "x" * 65536, "x" * 65537]),
    "boolean": st.booleans(),
}
_pack_names = iter(range(10**9))


@fresh_seed
@settings(max_examples=300, deadline=None, suppress_health_check=GENERATION_CHECKS)
@given(st.data())
def test_every_fact_asserted_is_a_fact_the_engine_matched_on(data: st.DataObject) -> None:
    """Facts of every kind over their whole range, in one batch: each is accepted, and each
    comparison the engine makes on it is the comparison Python makes."""
    literals = {kind: data.draw(st.lists(strat, min_size=1, max_size=3), label=f"lit {kind}")
                for kind, strat in KINDS.items()}
    items = [{kind: data.draw(strat, label=f"item {i} {kind}") for kind, strat in KINDS.items()}
             for i in range(data.draw(st.integers(1, 4), label="items"))]
    pack = probe_pack(f"probe_{next(_pack_names)}", literals)
    facts = [{"t": "case", "id": "case", "idx": -1}]
    facts += [{"t": "item", "id": f"item-{i}", "idx": i, **item} for i, item in enumerate(items)]
    fired = {(f.action, f.idx) for f in Runtime().run(pack, facts)}
    for i, item in enumerate(items):
        for kind, values in literals.items():
            for n, value in enumerate(values):
                for op, holds in OPS.items():
                    rule = f"{kind}|{n}|{op}"
                    if rule in pack.actions:
                        assert ((rule, i) in fired) == holds(item[kind], value), (rule, item[kind])


# --- 3. the two nets, each shown to bite with a test-only seam --------------------------


def blocked(pack: RulePack) -> Case:
    return Case.model_validate({**blocked_case(), "id": "huawei-b200"})


def test_the_plain_case_decides(pack: RulePack) -> None:
    assert Evaluator(pack).evaluate(blocked(pack)).verdict.value == "no_go"


@pytest.mark.parametrize("runtime", [DroppingRuntime, SilentlyDroppingRuntime, ForgettingRuntime])
def test_a_lost_fact_fails_the_case_instead_of_deciding(pack: RulePack,
                                                        runtime: type[Runtime]) -> None:
    with pytest.raises(EngineFailure) as failure:
        Evaluator(pack, runtime()).evaluate(blocked(pack))
    message = str(failure.value)
    if runtime is DroppingRuntime:
        assert "did not accept fact 'item-0'" in message
    else:
        assert message.startswith("rule ") and "Python evaluation" in message


SEAM_SCRIPT = textwrap.dedent("""\
    import sys
    import chipclear.decide.evaluate
    from tests.lossy_runtimes import {runtime}
    chipclear.decide.evaluate.Runtime = {runtime}
    from chipclear.tui.cli.main import main
    sys.argv = ["chipclear", *sys.argv[1:]]
    main()
""")


@pytest.mark.parametrize("runtime", ["SilentlyDroppingRuntime", "DroppingRuntime"])
def test_the_cli_exits_4_and_records_nothing(tmp_path: Path, runtime: str) -> None:
    path = write_cases(tmp_path / "c.yaml", [{**blocked_case(), "id": "huawei-b200"}])
    ledger = tmp_path / "ledger.sqlite"
    result = subprocess.run(
        [sys.executable, "-c", SEAM_SCRIPT.format(runtime=runtime), "evaluate", str(path),
         "--format", "jsonl", "--ledger", str(ledger)],
        cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert result.returncode == 4, result.stderr
    assert result.stdout == ""
    assert f"{path}:" in result.stderr and "case 'huawei-b200': engine failure: " \
        in result.stderr
    assert "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    if ledger.exists():
        with sqlite3.connect(ledger) as db:
            assert db.execute("select count(*) from decisions").fetchone() == (0,)


# --- the whole pipeline: random cases never make the two evaluators disagree -------------

def _example_cases() -> list[dict[str, Any]]:
    from chipclear.io.caseio import read_all

    return [e.case.model_dump(mode="json", exclude_none=True)
            for e in read_all([ROOT / "examples" / "cases"]) if e.case is not None]


def _scalar_paths(node: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    if isinstance(node, dict):
        return [p for k, v in node.items() for p in _scalar_paths(v, (*prefix, k))]
    if isinstance(node, list):
        return [p for i, v in enumerate(node) for p in _scalar_paths(v, (*prefix, i))]
    return [prefix]


def _replacement(old: Any) -> st.SearchStrategy[Any]:
    if isinstance(old, bool):
        return st.booleans() | st.none()
    if isinstance(old, int | float):
        return finite | st.integers(0, 2**53) | st.none()
    return st.sampled_from([old, "", "x" * 65537, "CN", "US", "government", "granted",
                            "military", "H20", "H200", "B200"]) | st.text(max_size=20)


_EXAMPLES = _example_cases()
_NUMBERS = [("order", "items", 0, "unit_price_usd"), ("use", "workload", "min_memory_gb"),
            ("use", "workload", "min_memory_bandwidth_gbs"),
            ("use", "workload", "min_cluster_size"), ("order", "items", 0, "quantity")]


def set_path(case: dict[str, Any], path: tuple[Any, ...], value: Any) -> None:
    """Set a nested field, creating the mappings on the way (an order keeps its items)."""
    node: Any = case
    for part in path[:-1]:
        if isinstance(node, list):
            if not node:
                return
            node = node[part]
        else:
            node = node.setdefault(part, [] if part == "items" else {})
    if isinstance(node, dict):
        node[path[-1]] = value


@fresh_seed
@settings(max_examples=300, deadline=None, suppress_health_check=GENERATION_CHECKS)
@given(st.data())
def test_random_cases_never_make_the_evaluators_disagree(evaluator: Evaluator,
                                                        data: st.DataObject) -> None:
    """Any case the model accepts is decided with both evaluators in agreement: the
    cross-check runs inside evaluate, so an EngineFailure here is a lost or misread fact."""
    from chipclear.decide.evaluate import UnknownChip
    from pydantic import ValidationError

    case = copy.deepcopy(data.draw(st.sampled_from(_EXAMPLES), label="base"))
    for path, value in data.draw(st.lists(st.tuples(st.sampled_from(_NUMBERS), finite),
                                          min_size=1, max_size=3), label="numbers"):
        set_path(case, path, value)
    paths = _scalar_paths(case)
    for path in data.draw(st.lists(st.sampled_from(paths), max_size=6, unique=True),
                          label="paths"):
        parent: Any = case
        for part in path[:-1]:
            parent = parent[part]
        value = data.draw(_replacement(parent[path[-1]]), label=str(path))
        if value is None and isinstance(parent, dict):
            del parent[path[-1]]
        else:
            parent[path[-1]] = value
    try:
        model = Case.model_validate(case)
    except ValidationError:
        return  # refused as input: not the engine's business
    try:
        evaluator.evaluate(model, dt.date(2026, 2, 15))
    except UnknownChip:
        return


def test_an_engine_registration_error_is_one_line() -> None:
    """durable raises bare exceptions quoting the whole ruleset; the adapter says one line."""
    pack = probe_pack("probe_bad_registration", {})
    pack.ruleset["broken"] = {"all": [{"m": {"$bogus": {"x": 1}}}], "run": "broken"}
    pack.actions["broken"] = ActionSpec("broken", 0, Scope.item, (), ())
    with pytest.raises(EngineFailure) as failure:
        Runtime().run(pack, [{"t": "case", "id": "case", "idx": -1}])
    message = str(failure.value)
    assert message.startswith("the rule engine refused the compiled pack: "), message
    assert "\n" not in message and len(message) < 300


@pytest.mark.parametrize("command", ["diff", "coverage", "timeline"])
def test_the_audit_commands_report_a_lost_fact_as_an_engine_failure(tmp_path: Path,
                                                                     command: str) -> None:
    """Never 'unchanged', 'skipped' or a decision: one line naming the case, exit 4."""
    from tests.conftest import MINIPACK

    head = tmp_path / "head"
    shutil.copytree(MINIPACK, head)
    params = head / "core" / "parameters.yaml"
    params.write_text(params.read_text(encoding="utf-8").replace("value: 4800", "value: 4801"),
                      encoding="utf-8")
    case = {"id": "cn-h200", "as_of": "2026-02-15", "buyer": {"country": "CN"},
            "order": {"items": [{"chip": "H200", "quantity": 1}]}}
    path = write_cases(tmp_path / "c.yaml", [case])
    args = {"diff": ["audit", "diff", "--base", str(MINIPACK), "--head", str(head),
                     "--cases", str(path)],
            "coverage": ["rules", "coverage", "--rules", str(MINIPACK), "--cases", str(path)],
            "timeline": ["audit", "timeline", str(path), "--rules", str(MINIPACK),
                         "--from", "2026-01-01", "--to", "2026-03-01"]}[command]
    result = subprocess.run(
        [sys.executable, "-c", SEAM_SCRIPT.format(runtime="SilentlyDroppingRuntime"), *args],
        cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert result.returncode == 4, (result.returncode, result.stdout, result.stderr)
    assert "Traceback" not in result.stderr
    lines = [ln for ln in result.stderr.splitlines() if "engine failure" in ln]
    assert len(lines) == 1 and "cn-h200" in lines[0] and "Python evaluation" in lines[0], \
        result.stderr
