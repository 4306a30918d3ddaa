"""Golden cases: a rule pack's own examples, each a case plus the outcome it must get.

They live beside the rules (``rules/<module>/golden/*.yaml``) so a rule change and
the examples it affects are reviewed together; the test suite and
``chipclear rules test`` run them all.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from chipclear.decide.evaluate import Evaluator
from chipclear.errors import Location
from chipclear.io.yamlload import load_file, locate
from chipclear.model.case import Case
from chipclear.model.decision import Decision, Verdict
from chipclear.pack.loader import CnStatus, RulePack, UsStatus
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
    not_missing: list[str] = Field(default_factory=list,
                                   description="Facts that must not be reported missing.")
    items: list[ItemExpect] = Field(default_factory=list)
    weak_justification: bool | None = Field(
        None, description="Whether a rule deriving weak_justification: true must fire.")


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
            problems.append(f"{fact} reported missing but must not be")
    if expect.items and len(expect.items) != len(decision.items):
        problems.append(f"{len(decision.items)} items, expected {len(expect.items)}")
    for i, (got, want) in enumerate(zip(decision.items, expect.items, strict=False)):
        same(f"items[{i}].eccn", got.eccn, want.eccn)
        same(f"items[{i}].us_status", got.us_status, want.us_status)
        same(f"items[{i}].cn_status", got.cn_status, want.cn_status)
        same(f"items[{i}].revenue_share_pct", got.revenue_share_pct, want.revenue_share_pct)
        same(f"items[{i}].revenue_share_usd", got.revenue_share_usd, want.revenue_share_usd)
    return problems


def run_golden(evaluator: Evaluator, today: dt.date | None = None) -> list[GoldenResult]:
    results = []
    for path in golden_files(evaluator.pack):
        for golden, where in load_golden(path):
            decision = evaluator.evaluate(golden.case, today)
            problems = tuple(check(decision, golden.expect, evaluator.pack))
            results.append(GoldenResult(golden.name, where, problems, decision))
    return results
