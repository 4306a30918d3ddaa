"""Every golden case of the shipped pack, through the engine and the reference evaluator.

test_us_pack and test_cn_pack check their own module's goldens in detail; this file
makes sure none is left out (a new module's goldens run here without a new test) and
that each golden case fires the same rules under shuffled fact orders as under the
independent reference evaluator in tests/reference.py.
"""

from __future__ import annotations

from engine.audit import Corpus, read_cases
from engine.evaluate import Evaluator
from engine.golden import golden_files, load_golden, run_golden
from tests.conftest import ROOT
from tests.differential import differential


def test_every_golden_case_passes(evaluator: Evaluator) -> None:
    results = run_golden(evaluator)
    modules = {f.parent.parent.name for f in golden_files(evaluator.pack)}
    assert modules == set(evaluator.pack.manifest.modules)
    assert len(results) >= 60
    failures = [f"{r.name} ({r.location}): {'; '.join(r.problems)}"
                for r in results if r.problems]
    assert not failures, "\n".join(failures)


def test_golden_names_are_unique(evaluator: Evaluator) -> None:
    names = [g.name for path in golden_files(evaluator.pack) for g, _ in load_golden(path)]
    assert len(names) == len(set(names)), sorted(n for n in names if names.count(n) > 1)


def test_golden_cases_match_the_reference_under_shuffles(evaluator: Evaluator) -> None:
    cases = [g.case for path in golden_files(evaluator.pack) for g, _ in load_golden(path)]
    assert len(cases) >= 60
    differential(evaluator, cases)


def test_example_cases_match_the_reference_under_shuffles(evaluator: Evaluator) -> None:
    corpus = Corpus()
    read_cases([ROOT / "examples" / "cases"], corpus)
    assert not corpus.errors, corpus.errors
    assert len(corpus.cases) >= 5
    differential(evaluator, [c.case for c in corpus.cases])
