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
from typing import Any, Literal

from chipclear.decide.evaluate import Evaluator
from chipclear.errors import Location
from chipclear.io.yamlload import load_file, locate
from chipclear.model.case import Case
from chipclear.model.decision import Decision, Verdict
from chipclear.model.strict import StrictModel
from chipclear.pack.loader import CnStatus, Jurisdiction, Owner, RulePack, Severity, UsStatus
from chipclear.pack.sources import Confidence
from pydantic import Field

Classification = Literal["3A090.a", "3A090.b", "not_3A090", "undetermined"]


class ItemExpect(StrictModel):
    """What one order line must get; a key written as ``null`` asserts null."""

    eccn: str | None = None
    classification: Classification | None = Field(
        None, description="From the rules that fired on the item and derive `classification`; "
                          "undetermined when none did.")
    us_status: UsStatus | None = None
    cn_status: CnStatus | None = None
    revenue_share_pct: float | None = None
    revenue_share_usd: float | None = None
    tpp: float | None = None
    tpp_tolerance_pct: float = Field(0, ge=0, description="Relative tolerance on tpp.")
    memory_gb: float | None = Field(None, description="The catalog's primary figure.")
    memory_bandwidth_gbs: float | None = Field(None, description="The catalog's primary figure.")


class Expect(StrictModel):
    verdict: Verdict | None = None
    verdict_not: list[Verdict] = Field(default_factory=list)
    us_verdict: Verdict | None = Field(
        None, description="The verdict from US rules alone (the CN module may add to it).")
    us_status: UsStatus | None = None
    us_status_not: list[UsStatus] = Field(default_factory=list)
    cn_status: CnStatus | None = None
    revenue_share_usd: float | None = None
    findings: list[str] = Field(default_factory=list, description="Rules that must fire.")
    not_findings: list[str] = Field(default_factory=list, description="Rules that must not.")
    conditions: list[str] = Field(default_factory=list, description="Rules in the checklist.")
    missing: list[str] = Field(default_factory=list, description="Facts that must be missing.")
    not_missing: list[str] = Field(
        default_factory=list,
        description="Facts that must not be asked of the buyer (over-asking guard); the "
                    "exporter's own questions are checked by exporter_missing.")
    exporter_missing: list[str] = Field(
        default_factory=list, description="Facts that must be asked of the exporter.")
    optional: list[str] = Field(
        default_factory=list, description="Facts that must be asked as optional: only "
                                          "conditions to confirm wait for them.")
    to_confirm: list[str] = Field(
        default_factory=list, description="Rules that must be listed as conditions to confirm.")
    items: list[ItemExpect] = Field(default_factory=list)
    weak_justification: bool | None = Field(
        None, description="Whether a rule deriving weak_justification: true must fire.")
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


class Golden(StrictModel):
    name: str
    note: str | None = Field(None, description="Why: the source and its reading.")
    case: Case
    expect: Expect


class GoldenFile(StrictModel):
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


def item_classification(decision: Decision, pack: RulePack, index: int) -> str:
    """The item's 3A090 classification, as the decision states it."""
    return decision.items[index].classification.value


def us_verdict(decision: Decision, pack: RulePack) -> Verdict:
    """The verdict the US rules alone would give (blocks, buyer questions, conditions)."""
    def us(rule: str) -> bool:
        return pack.rules_by_id[rule].rule.jurisdiction == "US"

    if any(f.severity is Severity.block and us(f.rule) for f in decision.findings):
        return Verdict.no_go
    if any(m.owner is not Owner.exporter and any(us(r) for r in m.rules)
           for m in decision.missing):
        return Verdict.needs_information
    if any(us(c.rule) for c in decision.conditions) or any(
            f.severity is Severity.condition and us(f.rule) for f in decision.findings):
        return Verdict.go_with_conditions
    return Verdict.go


class _Problems(list[str]):
    """Problems found so far, with the two comparisons every golden field uses."""

    def same(self, label: str, got: Any, want: Any) -> None:
        """A stated expectation must match (None: not stated, not checked)."""
        if want is not None and got != want:
            self.append(f"{label}: got {got!r}, expected {want!r}")

    def stated(self, label: str, got: Any, want: Any, given: set[str], key: str) -> None:
        """As ``same``, but an explicit null expects no value."""
        if key in given and want is None and got is not None:
            self.append(f"{label}: got {got!r}, expected null")
        else:
            self.same(label, got, want)


def check(decision: Decision, expect: Expect, pack: RulePack) -> list[str]:
    """Every way the decision differs from what the golden case expects."""
    problems = _Problems()
    _check_outcome(problems, decision, expect, pack)
    _check_lists(problems, decision, expect, pack)
    problems += _check_cn_text(decision, expect, pack)
    _check_items(problems, decision, expect, pack)
    return list(problems)


def _check_outcome(problems: _Problems, decision: Decision, expect: Expect,
                   pack: RulePack) -> None:
    """Verdict, statuses and the revenue share of the whole case."""
    problems.same("verdict", decision.verdict, expect.verdict)
    if decision.verdict in expect.verdict_not:
        problems.append(f"verdict: got {decision.verdict!r}, which the law rules out here")
    if expect.us_verdict is not None:
        problems.same("us verdict", us_verdict(decision, pack), expect.us_verdict)
    if decision.us.status in expect.us_status_not:
        problems.append(f"us.status: got {decision.us.status!r}, which the law rules out here")
    problems.same("us.status", decision.us.status, expect.us_status)
    problems.same("cn.status", decision.cn.status, expect.cn_status)
    problems.stated("us.revenue_share_usd", decision.us.revenue_share_usd,
                    expect.revenue_share_usd, expect.model_fields_set, "revenue_share_usd")


def _check_lists(problems: _Problems, decision: Decision, expect: Expect,
                 pack: RulePack) -> None:
    """Fired rules, conditions, and the facts reported missing, optional or to confirm."""
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
        problems.same("weak_justification", weak_justification(decision, pack),
                      expect.weak_justification)
    missing = {m.fact for m in decision.missing}
    for fact in expect.missing:
        if fact not in missing:
            problems.append(f"{fact} not reported missing (missing: {', '.join(sorted(missing))})")
    asked = {m.fact for m in decision.missing if m.owner is not Owner.exporter}
    for fact in expect.not_missing:
        if fact in asked:
            problems.append(f"{fact} reported missing but must not be")
    of_exporter = {m.fact for m in decision.missing if m.owner is Owner.exporter}
    for fact in expect.exporter_missing:
        if fact not in of_exporter:
            problems.append(f"{fact} not asked of the exporter")
    optional = {m.fact for m in decision.optional_facts}
    for fact in expect.optional:
        if fact not in optional:
            problems.append(f"{fact} not asked as optional "
                            f"(optional: {', '.join(sorted(optional))})")
    confirm = {c.rule for c in decision.conditions_to_confirm}
    for rule in expect.to_confirm:
        if rule not in confirm:
            problems.append(f"{rule} not listed as a condition to confirm")


def _check_items(problems: _Problems, decision: Decision, expect: Expect,
                 pack: RulePack) -> None:
    """Each order line's classification, statuses, share and figures."""
    if expect.items and len(expect.items) != len(decision.items):
        problems.append(f"{len(decision.items)} items, expected {len(expect.items)}")
    for i, (got, want) in enumerate(zip(decision.items, expect.items, strict=False)):
        given = want.model_fields_set
        problems.stated(f"items[{i}].eccn", got.eccn, want.eccn, given, "eccn")
        problems.same(f"items[{i}].classification", item_classification(decision, pack, i),
                      want.classification)
        problems.same(f"items[{i}].us_status", got.us_status, want.us_status)
        problems.same(f"items[{i}].cn_status", got.cn_status, want.cn_status)
        problems.stated(f"items[{i}].revenue_share_pct", got.revenue_share_pct,
                        want.revenue_share_pct, given, "revenue_share_pct")
        problems.stated(f"items[{i}].revenue_share_usd", got.revenue_share_usd,
                        want.revenue_share_usd, given, "revenue_share_usd")
        if want.tpp is not None and (got.tpp is None or abs(got.tpp - want.tpp) >
                                     want.tpp * want.tpp_tolerance_pct / 100):
            problems.append(f"items[{i}].tpp: got {got.tpp!r}, expected {want.tpp!r}"
                            f" (±{want.tpp_tolerance_pct}%)")
        if "tpp" in given and want.tpp is None and got.tpp is not None:
            problems.append(f"items[{i}].tpp: got {got.tpp!r}, expected null")
        if got.chip in pack.catalog.chips:
            facts = pack.catalog.facts(got.chip)
            problems.same(f"items[{i}].memory_gb", facts.memory_gb, want.memory_gb)
            problems.same(f"items[{i}].memory_bandwidth_gbs", facts.memory_bandwidth_gbs,
                          want.memory_bandwidth_gbs)
        elif want.memory_gb is not None or want.memory_bandwidth_gbs is not None:
            problems.append(f"items[{i}]: memory figures are only checked for catalog chips")


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
