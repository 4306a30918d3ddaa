"""The trace: recorded once per decision, read by the cross-check and the decision."""

from __future__ import annotations

import types
from pathlib import Path
from typing import Any

import pytest
from chipclear.decide import crosscheck, kleene
from chipclear.decide.evaluate import Evaluator
from chipclear.io.caseio import read_file
from chipclear.model.decision import Because
from chipclear.pack import conditions as C

from tests.conftest import ROOT

CASES = sorted((ROOT / "examples" / "cases").glob("*.yaml"))


@pytest.mark.parametrize("path", CASES, ids=lambda p: p.stem)
def test_crosscheck_reevaluates_only_what_the_trace_left_open(
        path: Path, evaluator: Evaluator, monkeypatch: pytest.MonkeyPatch) -> None:
    """The cross-check evaluates rules that fired and rules whose three-valued result the
    trace left unknown; a rule the trace already settled is not evaluated a second time."""
    calls = 0

    def counting(*args: Any) -> kleene.Truth:
        nonlocal calls
        calls += 1
        return kleene.evaluate(*args)

    def counting_fired(*args: Any) -> tuple[kleene.Truth, list[kleene.Leaf]]:
        nonlocal calls
        calls += 1
        return kleene.evaluate_fired(*args)

    traces = []
    real_check = crosscheck.check

    def keep(*args: Any) -> Any:
        traces.append(real_check(*args))
        return traces[-1]

    # only the cross-check's own calls are counted (kleene's recursion and the trace's
    # pass use the real module)
    monkeypatch.setattr(crosscheck, "kleene", types.SimpleNamespace(
        evaluate=counting, evaluate_fired=counting_fired, Truth=kleene.Truth))
    monkeypatch.setattr("chipclear.decide.evaluate.crosscheck",
                        types.SimpleNamespace(check=keep))
    settled_somewhere = False
    entries = [e for e in read_file(path) if e.case is not None]
    assert entries
    for entry in entries:
        assert entry.case is not None
        before = calls
        evaluator.evaluate(entry.case)
        trace = traces[-1]
        fired = sum(len(idxs) for idxs in trace.firings.fired.values())
        unknown = sum(1 for t in trace.open.results.values() if t.value is None)
        settled_somewhere |= len(trace.open.results) > unknown
        assert calls - before == fired + unknown
    assert settled_somewhere, "no settled rule: the case proves nothing here"


_HOLDS = {
    "eq": lambda v, a: v == a, "ne": lambda v, a: v != a, "gt": lambda v, a: v > a,
    "gte": lambda v, a: v >= a, "lt": lambda v, a: v < a, "lte": lambda v, a: v <= a,
    "in": lambda v, a: v in a, "not_in": lambda v, a: v not in a,
}


@pytest.mark.parametrize("path", CASES, ids=lambda p: p.stem)
def test_because_items_are_the_leaves_that_held(path: Path, evaluator: Evaluator) -> None:
    """Each structured ``because`` entry passes its own test on the case's value (or names a
    fact the engine derived there), survives a JSON round trip, and is what the trace held
    for the rule's first firing."""
    checked = 0
    for entry in read_file(path):
        if entry.case is None:
            continue
        decision, trace = evaluator.traced(entry.case)
        for f in decision.findings:
            first = sorted(trace.firings.fired[f.rule])[0]
            assert f.because == trace.because(f.rule, first)
            for b in f.because:
                assert Because.model_validate_json(b.model_dump_json()) == b
                if b.derived:
                    view = {**trace.firings.derived[-1], **trace.firings.derived[first]}
                    assert b.value in [int(v) if isinstance(v, float) else v
                                       for v in view[b.fact]]
                elif b.test in ("nonempty", "empty"):
                    assert b.value is None and b.against is None
                else:
                    assert _HOLDS[b.test](b.value, b.against), b
                    tested = [t for t in C.fact_tests(
                        evaluator.pack.rules_by_id[f.rule].condition) if t.path == b.fact]
                    assert tested and all(p in trace.params for p in b.parameters)
                checked += 1
    assert checked


def test_the_explanation_reads_the_trace_and_shows_only_rules_that_fired(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """No rule is evaluated again to explain a finding, and every rule in its chain fired
    (a rule whose derived fact was never derived is not shown as a cause)."""
    from chipclear.interview.session import Interview
    from chipclear.pack.loader import load_pack

    pack = load_pack(ROOT / "rules")
    iv = Interview.open(pack, ROOT / "examples" / "cases" / "h200-platform-2026.yaml")

    def refuse(*_args: Any) -> Any:
        raise AssertionError("evaluated again")

    for name in ("evaluate", "evaluate_fired", "test_fact"):
        monkeypatch.setattr(kleene, name, refuse)
    monkeypatch.setattr("chipclear.decide.evaluate.prepare", refuse)
    links = 0
    for f in iv.decision.findings:
        for link in iv.explain(f.rule).chain:
            assert link.rule in iv.trace.firings.fired, link.rule
            assert all(not b.derived for b in link.because) or link.rule in {
                g.rule for g in iv.decision.findings}
            links += 1
    assert links


def test_an_interview_deciding_in_a_worker_explains_from_the_worker_s_trace() -> None:
    """With ``WorkerEvaluator`` the decision and its trace are made in the worker (no
    durable-rules in this process); the explanation is the same as in-process."""
    from chipclear.batch.isolated import WorkerEvaluator
    from chipclear.interview.session import Interview
    from chipclear.pack.loader import load_pack

    pack = load_pack(ROOT / "rules")
    path = ROOT / "examples" / "cases" / "h200-platform-2026.yaml"
    here = Interview.open(pack, path)
    with WorkerEvaluator(pack, timeout=120) as worker:
        there = Interview.open(pack, path, evaluator=worker)
        assert there.decision == here.decision
        assert there.trace.open.pack is pack
        for f in here.decision.findings:
            assert there.explain(f.rule) == here.explain(f.rule)
        assert there.relevant_paths() == here.relevant_paths()
