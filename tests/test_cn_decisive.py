"""The CN module asks only questions whose answer can change the outcome (issue 15).

For every CN golden case and shipped example that ends in ``needs_information``, each fact
that only CN rules ask is varied over its possible answers while the facts asked by the
same rules are completed in every combination and the other missing facts are held at
their mildest; the fact is decisive when two of its answers give a different verdict class
or a different US or CN status. A fact no answer of which can change anything must be a
checklist item, not a question. Tolerated until the semantics branch lands: a fact whose
rules could only set a CN status that a fired rule has already reached.
"""

from __future__ import annotations

import copy
import itertools
from pathlib import Path
from typing import Any

import pytest
from chipclear.decide.evaluate import Evaluator
from chipclear.io.caseio import read_file
from chipclear.model.case import Case
from chipclear.model.decision import Decision, Verdict
from chipclear.pack import conditions as C
from chipclear.pack.facts import REGISTRY, Kind
from chipclear.pack.golden import fired_rules, golden_files, load_golden
from chipclear.pack.loader import Jurisdiction, RulePack

ROOT = Path(__file__).resolve().parent.parent
#: How many completions of the other missing facts are tried per question.
COMPLETIONS = 256


def _answers(pack: RulePack, path: str) -> list[Any]:
    """Every answer class a rule can tell apart: booleans, choices, both sides of each
    threshold a rule tests, empty or given text."""
    spec = REGISTRY[path]
    if spec.kind is Kind.boolean:
        return [True, False]
    if spec.kind is Kind.choice:
        return list(spec.choices)
    if spec.kind is Kind.text:
        return ["", "a stated reason"]
    if path == "use.workload.min_memory_gb":  # every memory size the comparison can split on
        sizes = {c.figures.memory_gb.value for c in pack.catalog.chips.values()
                 if c.vendor_country == "CN" and c.figures.memory_gb is not None}
        return sorted({0.0, 1e5} | sizes)  # 1e5: the case model's largest memory
    if spec.kind is Kind.number:
        cuts = {float(t.value) for cr in pack.rules for t in C.fact_tests(cr.condition)
                if t.path == path and isinstance(t.value, int | float)
                and not isinstance(t.value, bool)}
        if not cuts:  # compared with catalog figures (the workload): tiny and huge
            return [0.0, 1e5]
        return sorted({0.0} | {c + d for c in cuts for d in (-1.0, 0.0, 1.0) if c + d >= 0})
    return []


def _set(data: dict[str, Any], path: str, value: Any) -> None:
    node = data
    *head, last = path.split(".")
    for key in head:
        node = node.setdefault(key, {})
    node[last] = value


def _outcome(evaluator: Evaluator, base: dict[str, Any],
             answers: dict[str, Any]) -> tuple[str, str, str]:
    data = copy.deepcopy(base)
    for path, value in answers.items():
        _set(data, path, value)
    decision = evaluator.evaluate(Case.model_validate(data))
    verdict = "needs_information" if decision.verdict is Verdict.needs_information \
        else decision.verdict.value
    # An undetermined status (issue 13) hides what the fired rules reached; compare that too.
    thens = [evaluator.pack.rules_by_id[r].rule.then for r in fired_rules(decision)]
    reached = "/".join(sorted({str(t.cn_status) for t in thens if t.cn_status}
                              | {str(t.us_status) for t in thens if t.us_status}))
    return verdict, decision.us.status.value, decision.cn.status.value + " " + reached


def _cn_only(pack: RulePack, rules: list[str]) -> bool:
    return all(pack.rules_by_id[r].rule.jurisdiction is Jurisdiction.CN for r in rules)


# An undetermined status (issue 13) still allows the mildest one: for choosing the mildest
# answers it ranks with the best, so a question left open is not masked by a worse answer.
_CN_RANK = {"undetermined": 0, "no_objection": 0, "conditions": 1, "approval_required": 2,
            "prohibited": 3}
_US_RANK = {"undetermined": 0, "not_controlled": 0, "licence_exception": 1,
            "licence_required": 2, "presumption_of_denial": 3, "prohibited": 4}


def _mildest(evaluator: Evaluator, base: dict[str, Any], facts: list[str]) -> dict[str, Any]:
    """Answers to ``facts`` chosen one by one for the mildest statuses, so that facts
    unrelated to a question do not mask it with a worse status of their own."""
    chosen: dict[str, Any] = {}
    for fact in facts:
        def rank(value: Any, fact: str = fact) -> tuple[int, int, int, int]:
            data = copy.deepcopy(base)
            for path, answer in {**chosen, fact: value}.items():
                _set(data, path, answer)
            d = evaluator.evaluate(Case.model_validate(data))
            # The statuses the fired rules reached (an undetermined status may still end
            # there), then fewer conditions and blocks: the milder answer.
            thens = [evaluator.pack.rules_by_id[r].rule.then for r in fired_rules(d)]
            cn = max((_CN_RANK[t.cn_status.value] for t in thens if t.cn_status), default=0)
            us = max((_US_RANK[t.us_status.value] for t in thens if t.us_status), default=0)
            weight = len(d.conditions) + sum(f.severity.value != "info" for f in d.findings)
            # Then the answer that leaves fewer rules able to make a status worse.
            still_open = len(d.us.undecided_rules) + len(d.cn.undecided_rules)
            return cn, us, weight, still_open
        chosen[fact] = min(_answers(evaluator.pack, fact), key=rank)
    return chosen


def _undecisive(evaluator: Evaluator, case: Case, decision: Decision) -> list[str]:
    """Missing facts asked only by CN rules that no answer can make matter: the facts asked
    by the same rules are tried in every combination, the others held at their mildest."""
    pack = evaluator.pack
    base = case.model_dump(mode="json", exclude_none=True)
    asked = [m for m in decision.missing if m.fact in REGISTRY and _answers(pack, m.fact)]
    found: list[str] = []
    for missing in asked:
        if not _cn_only(pack, missing.rules):
            continue
        related = [m.fact for m in asked
                   if m.fact != missing.fact and set(m.rules) & set(missing.rules)]
        unrelated = [m.fact for m in asked
                     if m.fact != missing.fact and m.fact not in related]
        mild = _mildest(evaluator, base, unrelated)
        combos = itertools.islice(itertools.product(*[_answers(pack, f) for f in related]),
                                  COMPLETIONS)
        decisive = False
        for combo in combos:
            fixed = {**mild, **dict(zip(related, combo, strict=True))}
            outcomes = {_outcome(evaluator, base, {**fixed, missing.fact: v})
                        for v in _answers(pack, missing.fact)}
            if len(outcomes) > 1:
                decisive = True
                break
        if not decisive and not _already_reached(pack, missing.rules, decision):
            found.append(missing.fact)
    return found


def _already_reached(pack: RulePack, rules: list[str], decision: Decision) -> bool:
    """Every rule asking the fact could only set a CN status a fired rule already set.

    Today's engine asks such facts (an undecided condition counts as missing); the semantics
    branch (issue 13) reports them as conditions to confirm instead. Tolerated here, so that
    this test catches what no status can make matter, as the five attestation questions were.
    """
    if decision.cn.status.value == "undetermined":
        return False
    order = [s for s in _CN_RANK if s != "undetermined"]
    reached = order.index(decision.cn.status.value)
    for rid in rules:
        then = pack.rules_by_id[rid].rule.then
        if then.cn_status is None or order.index(then.cn_status.value) > reached:
            return False
    return True


def _cn_cases(pack: RulePack) -> list[tuple[str, Case]]:
    out: list[tuple[str, Case]] = []
    for path in golden_files(pack):
        if path.parent.parent.name == "cn":
            out += [(golden.name, golden.case) for golden, _ in load_golden(path)]
    for path in sorted((ROOT / "examples" / "cases").glob("*.yaml")):
        for entry in read_file(path):
            if entry.case is not None and entry.case.buyer.country == "CN":
                out.append((f"{path.name}:{entry.case.id}", entry.case))
    return out


def test_every_cn_question_can_change_the_outcome(evaluator: Evaluator) -> None:
    pending = _cn_cases(evaluator.pack)
    checked = 0
    problems: list[str] = []
    for name, case in pending:
        decision = evaluator.evaluate(case)
        if decision.verdict is not Verdict.needs_information:
            continue
        checked += 1
        problems += [f"{name}: {fact}" for fact in _undecisive(evaluator, case, decision)]
    assert checked >= 10
    assert not problems, "CN questions no answer of which changes the outcome:\n" + \
        "\n".join(problems)


@pytest.mark.parametrize("fact", ["evidence.vendor_attestation.no_backdoor",
                                  "deployment.outbound_telemetry_blocked",
                                  "use.data.personal_information"])
def test_a_checklist_fact_is_recognised_as_not_decisive(
    evaluator: Evaluator, pack: RulePack, fact: str
) -> None:
    """The check itself can fail: these facts only shape checklist text today."""
    case = Case.model_validate({
        "id": "probe", "as_of": "2025-09-01",
        "buyer": {"name": "Example AI Startup Ltd.", "country": "CN", "headquarters": "CN",
                  "kind": "startup", "state_owned": False, "state_funded_project": False,
                  "critical_infrastructure": False},
        "order": {"ship_from": "US", "items": [{"chip": "H20", "quantity": 8,
                                                "unit_price_usd": 12000}]},
        "use": {"purpose": "inference", "end_use": "commercial"},
    })
    base = case.model_dump(mode="json", exclude_none=True)
    outcomes = {_outcome(evaluator, base, {fact: v, "evidence.necessity_justification": "x",
                                           "evidence.vendor_attestation.vendor_refused": False,
                                           "use.workload.needs_cuda_ecosystem": True})
                for v in _answers(pack, fact)}
    assert len(outcomes) == 1
