"""Why a finding holds: the chain of rules and facts behind it, with their sources.

Kept apart from the session: it reads a decision and the pack, and changes nothing.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from chipclear.decide import kleene
from chipclear.decide.evaluate import CASE_IDX, Evaluator, prepare
from chipclear.model.case import Case
from chipclear.model.decision import Decision, Finding, SourceRef
from chipclear.pack import conditions as C
from chipclear.pack.facts import Scope
from chipclear.pack.loader import CompiledRule, RulePack, Text


@dataclass(frozen=True)
class ChainLink:
    """A rule in the chain behind a finding: the rule, what it derived, the facts it used."""

    rule: str
    title: Text
    depth: int
    derives: dict[str, Any]
    because: tuple[str, ...]
    sources: tuple[SourceRef, ...]


@dataclass(frozen=True)
class Explanation:
    """Everything the explain view shows for one finding, in both languages."""

    finding: Finding
    module: str
    condition: Any
    chain: tuple[ChainLink, ...]


def parents(pack: RulePack, cr: CompiledRule) -> list[str]:
    """Rules deriving a fact this rule tests: where its derived facts come from."""
    keys = {t.key for t in C.derived_tests(cr.condition)}
    return [r.rule.id for r in pack.rules if keys & set(r.rule.then.derive)]


def ancestors(pack: RulePack, start: list[str]) -> list[str]:
    """Every rule upstream of ``start`` (the rules themselves included)."""
    seen: list[str] = []
    todo = list(start)
    while todo:
        rid = todo.pop()
        if rid in seen or rid not in pack.rules_by_id:
            continue
        seen.append(rid)
        todo.extend(parents(pack, pack.rules_by_id[rid]))
    return seen


def explain_finding(pack: RulePack, evaluator: Evaluator, decision: Decision, case: Case,
                    today: dt.date | None, rule_id: str) -> Explanation:
    """A finding with its rule, the facts it used and the chain of rules it follows from."""
    finding = next(f for f in decision.findings if f.rule == rule_id)
    cr = pack.rules_by_id[rule_id]
    chain: list[ChainLink] = []
    seen: set[str] = {rule_id}
    as_of = case.as_of or today or dt.date.today()
    prep = prepare(case, pack, as_of)
    params = evaluator.compiled(as_of).params
    idx = finding.items[0] if finding.items else CASE_IDX
    by_finding = {f.rule: f for f in decision.findings}

    def walk(rule_ids: list[str], depth: int) -> None:
        for pid in rule_ids:
            if pid in seen or pid not in pack.rules_by_id:
                continue
            seen.add(pid)
            pcr = pack.rules_by_id[pid]
            at = idx if pcr.scope is Scope.item else CASE_IDX
            if at >= len(prep.item_facts):
                at = CASE_IDX
            facts = prep.facts_for(at)
            pf = by_finding.get(pid)
            if pf is not None:
                because = tuple(pf.because)
                grand = pf.derived_from
            else:
                truth = kleene.evaluate(pcr.condition, facts, params, lambda _t: kleene.TRUE)
                if truth.value is not True:
                    continue
                because = tuple(kleene.because(pcr.condition, facts, params, {}))
                grand = [g for g in parents(pack, pcr) if pcr.rule.active(as_of)]
            chain.append(ChainLink(
                rule=pid, title=pcr.rule.title, depth=depth,
                derives=dict(pcr.rule.then.derive), because=because,
                sources=tuple(_source(pack, s) for s in pcr.rule.sources)))
            walk([g for g in grand if pack.rules_by_id[g].rule.active(as_of)], depth + 1)

    walk(list(finding.derived_from), 1)
    return Explanation(finding=finding, module=cr.module,
                       condition=C.to_data(cr.condition), chain=tuple(chain))


def _source(pack: RulePack, sid: str) -> SourceRef:
    s = pack.sources[sid]
    return SourceRef(id=s.id, name=s.name, date=s.date, url=s.url, confidence=s.confidence)
