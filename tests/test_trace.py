"""The trace: recorded once per decision, read by the cross-check and the decision."""

from __future__ import annotations

import types
from pathlib import Path
from typing import Any

import pytest
from chipclear.decide import crosscheck, kleene
from chipclear.decide.evaluate import Evaluator
from chipclear.io.caseio import read_file

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
