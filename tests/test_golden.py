"""Every golden case of the shipped pack, through the engine and the reference evaluator.

test_us_pack and test_cn_pack check their own module's goldens in detail; this file
makes sure none is left out (a new module's goldens run here without a new test) and
that each golden case fires the same rules under shuffled fact orders as under the
independent reference evaluator in tests/reference.py.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

from chipclear.audit.impact import Corpus, read_cases
from chipclear.decide.evaluate import Evaluator
from chipclear.pack.golden import GoldenResult, fired_rules, golden_files, load_golden

from tests.conftest import ROOT
from tests.differential import differential


def _module(result: GoldenResult) -> str:
    return Path(result.location.file).parent.parent.name


def test_every_golden_case_passes(evaluator: Evaluator,
                                  golden_results: list[GoldenResult]) -> None:
    per_module = Counter(_module(r) for r in golden_results)
    assert set(per_module) == set(evaluator.pack.manifest.modules)
    assert all(n >= 20 for n in per_module.values()), per_module
    failures = [f"{r.name} ({r.location}): {'; '.join(r.problems)}"
                for r in golden_results if r.problems]
    assert not failures, "\n".join(failures)


def test_every_rule_fires_in_some_golden_case(evaluator: Evaluator,
                                             golden_results: list[GoldenResult]) -> None:
    """Each rule has an example; one that only feeds another counts through derived_from."""
    fired: set[str] = set()
    for result in golden_results:
        if result.decision is not None:
            fired |= fired_rules(result.decision)
            fired |= {p for f in result.decision.findings for p in f.derived_from}
    never = sorted(cr.rule.id for cr in evaluator.pack.rules if cr.rule.id not in fired)
    assert not never, f"rules no golden case exercises: {never}"


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
