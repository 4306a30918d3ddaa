"""Golden cases: a rule pack's own examples, each a case plus the outcome it must get.

They live beside the rules (``rules/<module>/golden/*.yaml``) so a rule change and
the examples it affects are reviewed together; the test suite and
``chipclear rules test`` run them all.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from chipclear.decide.evaluate import Evaluator
from chipclear.errors import Location
from chipclear.io.yamlload import load_file, locate
from chipclear.model.case import Case
from chipclear.model.decision import Decision, Verdict
from chipclear.pack.loader import CnStatus, Jurisdiction, RulePack, UsStatus
from chipclear.pack.sources import Confidence
from pydantic import BaseModel, ConfigDict, Field


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ItemExpect(_Strict):
    eccn: str | None = None
    us_status: UsStatus | None = None
    cn_status: CnStatus | None = None
    revenue_share_pct: float | None = None
    revenue_share_usd: float | None = None


class Expect(_Strict):
    verdict: Verdict
    us_status: UsStatus | None = None
    cn_status: CnStatus | None = None
    revenue_share_usd: float | None = None
    findings: list[str] = Field(default_factory=list, description="Rules that must fire.")
    not_findings: list[str] = Field(default_factory=list, description="Rules that must not.")
    conditions: list[str] = Field(default_factory=list, description="Rules in the checklist.")
    missing: list[str] = Field(default_factory=list, description="Facts that must be missing.")
    items: list[ItemExpect] = Field(default_factory=list)
    weak_justification: bool | None = Field(
        None, description="Whether a rule deriving weak_justification: true must fire.")
    not_missing: list[str] = Field(
        default_factory=list, description="Facts that must not be asked (over-asking guard).")
    checklist: list[str] = Field(
        default_factory=list,
        description="Text every one of which some CN checklist item must contain (English, "
                    "case-insensitive): the expectation does not depend on rule ids.")
    not_checklist: list[str] = Field(
        default_factory=list, description="Text no CN checklist item may contain.")
    cites: list[str] = Field(
        default_factory=list,
        description="Citations (e.g. 'CSL Art. 37') that must appear in the names of the sources "
                    "or the titles of the CN findings; a number never matches a longer one.")
    not_cites: list[str] = Field(default_factory=list, description="Citations that must not.")
    confidence: Confidence | None = Field(
        None, description="Confidence that some CN finding setting the decided CN status has.")
    note: str | None = Field(None, description="Reasoning and sources for reviewers; not checked.")


class Golden(_Strict):
    name: str
    case: Case
    expect: Expect


class GoldenFile(_Strict):
    golden: list[Golden]


@dataclass(frozen=True)
class GoldenResult:
    name: str
    location: Location
    problems: tuple[str, ...]
    decision: Decision | None


def golden_files(pack: RulePack) -> list[Path]:
    return sorted(p for m in pack.manifest.modules for p in (pack.root / m).glob("golden/*.yaml"))


def load_golden(path: Path) -> list[tuple[Golden, Location]]:
    data = load_file(path)
    parsed = GoldenFile.model_validate(data)
    out = []
    for i, g in enumerate(parsed.golden):
        mark = locate(data, ["golden", i])
        out.append((g, Location(str(path), *(mark or (None, None)))))
    return out


def fired_rules(decision: Decision) -> set[str]:
    return {f.rule for f in decision.findings} | {c.rule for c in decision.conditions}


def weak_justification(decision: Decision, pack: RulePack) -> bool:
    """Whether a fired rule flagged the necessity justification as weak."""
    fired = fired_rules(decision)
    return any(cr.rule.then.derive.get("weak_justification") is True
               for cr in pack.rules if cr.rule.id in fired)


def check(decision: Decision, expect: Expect, pack: RulePack) -> list[str]:
    """Every way the decision differs from what the golden case expects."""
    problems: list[str] = []

    def same(label: str, got: Any, want: Any) -> None:
        if want is not None and got != want:
            problems.append(f"{label}: got {got!r}, expected {want!r}")

    same("verdict", decision.verdict, expect.verdict)
    same("us.status", decision.us.status, expect.us_status)
    same("cn.status", decision.cn.status, expect.cn_status)
    same("us.revenue_share_usd", decision.us.revenue_share_usd, expect.revenue_share_usd)
    fired = fired_rules(decision)
    for rule in expect.findings:
        if rule not in fired:
            problems.append(f"rule {rule} did not fire (fired: {', '.join(sorted(fired))})")
    for rule in expect.not_findings:
        if rule in fired:
            problems.append(f"rule {rule} fired but must not")
    listed = {c.rule for c in decision.conditions}
    for rule in expect.conditions:
        if rule not in listed:
            problems.append(f"condition from {rule} missing from the checklist")
    if expect.weak_justification is not None:
        same("weak_justification", weak_justification(decision, pack), expect.weak_justification)
    missing = {m.fact for m in decision.missing}
    for fact in expect.missing:
        if fact not in missing:
            problems.append(f"{fact} not reported missing (missing: {', '.join(sorted(missing))})")
    for fact in expect.not_missing:
        if fact in missing:
            problems.append(f"{fact} reported missing but must not be asked")
    problems += _check_cn_text(decision, expect, pack)
    if expect.items and len(expect.items) != len(decision.items):
        problems.append(f"{len(decision.items)} items, expected {len(expect.items)}")
    for i, (got, want) in enumerate(zip(decision.items, expect.items, strict=False)):
        same(f"items[{i}].eccn", got.eccn, want.eccn)
        same(f"items[{i}].us_status", got.us_status, want.us_status)
        same(f"items[{i}].cn_status", got.cn_status, want.cn_status)
        same(f"items[{i}].revenue_share_pct", got.revenue_share_pct, want.revenue_share_pct)
        same(f"items[{i}].revenue_share_usd", got.revenue_share_usd, want.revenue_share_usd)
    return problems


def _cn_rules(pack: RulePack) -> set[str]:
    return {cr.rule.id for cr in pack.rules if cr.rule.jurisdiction is Jurisdiction.CN}


def _cites(haystack: str, citation: str) -> bool:
    """Whether ``citation`` appears, a trailing number not running on (Art. 3 != Art. 37)."""
    return re.search(re.escape(citation.casefold()) + r"(?![0-9])", haystack) is not None


def _check_cn_text(decision: Decision, expect: Expect, pack: RulePack) -> list[str]:
    """The checklist, citation and confidence expectations, read on the CN side only."""
    problems: list[str] = []
    cn = _cn_rules(pack)
    checklist = [c.text.en.casefold() for c in decision.conditions if c.rule in cn]
    for text in expect.checklist:
        if not any(text.casefold() in item for item in checklist):
            problems.append(f"no CN checklist item mentions {text!r}")
    for text in expect.not_checklist:
        if any(text.casefold() in item for item in checklist):
            problems.append(f"a CN checklist item mentions {text!r} but must not")
    findings = [f for f in decision.findings if f.rule in cn]
    cited = "\n".join([s.name.casefold() for f in findings for s in f.sources]
                      + [f.title.en.casefold() for f in findings])
    for citation in expect.cites:
        if not _cites(cited, citation):
            problems.append(f"no CN finding cites {citation!r}")
    for citation in expect.not_cites:
        if _cites(cited, citation):
            problems.append(f"a CN finding cites {citation!r} but must not")
    if expect.confidence is not None:
        deciding = [f for f in findings
                    if pack.rules_by_id[f.rule].rule.then.cn_status is decision.cn.status]
        labels = sorted({str(f.confidence.value) for f in deciding})
        if expect.confidence.value not in labels:
            problems.append(f"no finding setting cn.status {decision.cn.status.value} is "
                            f"{expect.confidence.value} (found: {', '.join(labels) or 'none'})")
    return problems


def run_golden(evaluator: Evaluator, today: dt.date | None = None) -> list[GoldenResult]:
    results = []
    for path in golden_files(evaluator.pack):
        for golden, where in load_golden(path):
            decision = evaluator.evaluate(golden.case, today)
            problems = tuple(check(decision, golden.expect, evaluator.pack))
            results.append(GoldenResult(golden.name, where, problems, decision))
    return results
