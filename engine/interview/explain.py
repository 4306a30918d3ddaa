"""Why a finding holds: the chain of rules and facts behind it, with their sources.

Kept apart from the session: it reads a decision, its trace and the pack, and changes
nothing; no rule is evaluated again.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from chipclear.decide.firings import CASE_IDX
from chipclear.decide.trace import Trace
from chipclear.model.decision import Because, Decision, Finding, SourceRef
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
    because: tuple[Because, ...]
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


def explain_finding(pack: RulePack, decision: Decision, trace: Trace,
                    rule_id: str) -> Explanation:
    """A finding with its rule, the facts it used and the chain of rules it follows from.

    A rule in the chain is read from the trace where it fired (at the finding's first
    order line, or on the case): a finding's own ``because`` and ``derived_from``, or for
    a silent rule the leaves that held, without derived ones (the links under it show
    where those came from), and the rules whose derived facts its firing used.
    """
    finding = next(f for f in decision.findings if f.rule == rule_id)
    cr = pack.rules_by_id[rule_id]
    chain: list[ChainLink] = []
    seen: set[str] = {rule_id}
    idx = finding.items[0] if finding.items else CASE_IDX
    by_finding = {f.rule: f for f in decision.findings}
    fir = trace.firings

    def walk(rule_ids: list[str], depth: int) -> None:
        for pid in rule_ids:
            if pid in seen or pid not in pack.rules_by_id:
                continue
            seen.add(pid)
            pcr = pack.rules_by_id[pid]
            at = idx if pcr.scope is Scope.item else CASE_IDX
            pf = by_finding.get(pid)
            if pf is not None:
                because = tuple(pf.because)
                grand = pf.derived_from
            else:
                if at not in fir.fired.get(pid, ()):
                    continue
                because = tuple(b for b in trace.because(pid, at) if not b.derived)
                grand = sorted({r for fid in fir.used[pid] for r in fir.derived_by.get(fid, ())})
            chain.append(ChainLink(
                rule=pid, title=pcr.rule.title, depth=depth,
                derives=dict(pcr.rule.then.derive), because=because,
                sources=tuple(_source(pack, s) for s in pcr.rule.sources)))
            walk(grand, depth + 1)

    walk(list(finding.derived_from), 1)
    return Explanation(finding=finding, module=cr.module,
                       condition=C.to_data(cr.condition), chain=tuple(chain))


def _source(pack: RulePack, sid: str) -> SourceRef:
    s = pack.sources[sid]
    return SourceRef(id=s.id, name=s.name, date=s.date, url=s.url, confidence=s.confidence)
