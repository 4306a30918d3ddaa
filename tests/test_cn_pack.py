"""The Chinese regulator module (rules/cn): citations, confidence, golden coverage, dates.

Most of this side is unpublished window guidance known from press reports, so the tests
check that every rule says where it comes from and how far it can be relied on, and that
a decision lists the findings resting on reports only under ``reported_only``.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from chipclear.decide.evaluate import Evaluator
from chipclear.io.yamlload import load_file
from chipclear.model.case import Case
from chipclear.model.decision import Decision, Verdict
from chipclear.pack.golden import GoldenResult, fired_rules
from chipclear.pack.loader import CN_ORDER, CnStatus, Rule, RulePack, Severity, Then
from chipclear.pack.sources import Confidence
from pydantic import ValidationError

ROOT = Path(__file__).resolve().parent.parent
CN_DIR = ROOT / "rules" / "cn"
CJK = re.compile(r"[\u4e00-\u9fff]")
H200 = "nvidia-h200-sxm"


def _cn_rules(pack: RulePack) -> list[Rule]:
    return [cr.rule for cr in pack.rules if cr.module == "cn"]


def _is_cn_golden(result: GoldenResult) -> bool:
    return "/rules/cn/golden/" in str(result.location).replace("\\", "/")


@pytest.fixture(scope="module")
def cn_results(golden_results: list[GoldenResult]) -> list[GoldenResult]:
    return [r for r in golden_results if _is_cn_golden(r)]


def _decision(results: list[GoldenResult], name: str) -> Decision:
    for result in results:
        if result.name == name:
            assert result.decision is not None
            return result.decision
    raise AssertionError(f"no golden case named {name}")


# --- citations and confidence ----------------------------------------------------------


def test_cn_module_has_rules(pack: RulePack) -> None:
    rules = _cn_rules(pack)
    assert len(rules) >= 30
    for rule in rules:
        assert rule.id.startswith("CN-"), rule.id
        assert rule.jurisdiction.value == "CN", rule.id


def test_every_cn_rule_cites_known_sources_with_a_confidence(pack: RulePack) -> None:
    for rule in _cn_rules(pack):
        assert rule.sources, rule.id
        for sid in rule.sources:
            assert sid.startswith("cn-"), f"{rule.id} cites {sid} from another module"
            assert sid in pack.sources, f"{rule.id} cites unknown source {sid}"
            assert pack.sources[sid].confidence in set(Confidence), f"{rule.id}: {sid}"


def test_cn_sources_are_prefixed_unique_and_used(pack: RulePack) -> None:
    data = load_file(CN_DIR / "sources.yaml")
    ids = [s["id"] for s in data["sources"]]
    assert len(ids) == len(set(ids))
    for src in data["sources"]:
        assert src["id"].startswith("cn-"), src["id"]
        assert src["url"].startswith(("http://", "https://")), src["id"]
        assert src["confidence"] in ("official", "analysis", "reported", "uncertain"), src["id"]
    cited = {sid for rule in _cn_rules(pack) for sid in (*rule.sources, *rule.context_sources)}
    cited |= {sid for p in pack.parameters.values() if p.id.startswith("cn.")
              for v in p.values for sid in v.sources}
    unused = sorted(set(ids) - cited)
    assert not unused, f"sources no CN rule cites: {unused}"


def test_reported_rules_say_so_in_both_languages(pack: RulePack) -> None:
    """A rule resting on press reports must not read like published law."""
    for rule in _cn_rules(pack):
        stated = rule.confidence or pack.confidence(rule.sources)
        if stated in (Confidence.official, Confidence.analysis):
            continue
        assert rule.summary is not None, rule.id
        assert "report" in rule.summary.en.lower(), rule.id
        assert "报道" in rule.summary.zh, rule.id


def test_analysis_rules_say_whose_reading_it_is(pack: RulePack) -> None:
    """A rule labelled analysis rests on chipclear's reading, and its summary says so."""
    analysed = [r for r in _cn_rules(pack) if r.confidence is Confidence.analysis]
    assert analysed
    for rule in analysed:
        assert rule.summary is not None, rule.id
        assert "chipclear" in rule.summary.en, rule.id
        assert "chipclear" in rule.summary.zh, rule.id


def test_statuses_match_severity(pack: RulePack) -> None:
    """Prohibited blocks; approval or conditions are checklist items with Chinese wording."""
    for rule in _cn_rules(pack):
        status = rule.then.cn_status
        if status is CnStatus.prohibited:
            assert rule.severity is Severity.block, rule.id
        if rule.severity is Severity.block:
            assert status is CnStatus.prohibited, rule.id
        if status in (CnStatus.approval_required, CnStatus.conditions):
            assert rule.severity is Severity.condition, rule.id
        if rule.severity is Severity.condition:
            assert rule.then.condition is not None, rule.id
            assert CJK.search(rule.then.condition.zh), rule.id
        if rule.severity is Severity.info:
            assert rule.then.condition is None, rule.id
            assert status in (None, CnStatus.no_objection), rule.id


def test_windows_are_dated(pack: RulePack) -> None:
    for rule in _cn_rules(pack):
        assert rule.summary is not None, rule.id
        if rule.valid_to is not None:
            assert rule.valid_to > rule.valid_from, rule.id


# --- golden cases ----------------------------------------------------------------------


def test_cn_golden_cases_set_a_date() -> None:
    files = sorted((CN_DIR / "golden").glob("*.yaml"))
    assert files
    for path in files:
        for golden in load_file(path)["golden"]:
            assert golden["case"].get("as_of"), f"{path.name}: {golden['name']} has no as_of"


def test_reported_only_lists_exactly_the_unofficial_cn_findings(
    pack: RulePack, cn_results: list[GoldenResult]
) -> None:
    for result in cn_results:
        decision = result.decision
        assert decision is not None
        for finding in decision.findings:
            if finding.jurisdiction.value != "CN":
                continue
            rule = pack.rules_by_id[finding.rule].rule
            # The claim is as strong as its weakest operative source known on the date.
            official = rule.confidence is Confidence.official if rule.confidence else \
                bool(finding.sources) and all(
                    s.confidence is Confidence.official for s in finding.sources)
            assert (finding.rule in decision.reported_only) is (not official), (
                result.name, finding.rule)


def test_reported_only_examples(cn_results: list[GoldenResult]) -> None:
    rtx = _decision(cn_results, "cn-rtx-pro-6000d-after-stop-order-prohibited")
    assert "CN-PRD-RTXPRO6000D-2025" in rtx.reported_only
    # SAMR's announcement and the CAC statement are official texts read only in reprints
    # (no samr.gov.cn / cac.gov.cn page found): labelled reported, not official (issue 15).
    assert "CN-CTX-SAMR-2025" in rtx.reported_only
    h20 = _decision(
        cn_results, "cn-h20-platform-2025-09-attestations-not-yet-obtained-empty-justification")
    assert "CN-ATT-PACKAGE-2025" in h20.reported_only  # chipclear's reading of the summons
    # The summons itself is read only in reprints (reported); the CSL articles it cites are
    # official, but a claim is as strong as its weakest operative source (issue 13).
    assert "CN-CAC-SUMMONS-2025" in h20.reported_only
    assert "CN-ATT-NOBACKDOOR-2025" not in h20.reported_only
    assert "CN-NEC-EMPTY-2025" in h20.reported_only


def test_weak_justification_comes_with_the_comparison(cn_results: list[GoldenResult]) -> None:
    weak = _decision(cn_results, "cn-h20-inference-domestic-chip-meets-all-weak-justification")
    assert "CN-NEC-WEAK-2025" in fired_rules(weak)
    assert any(row.meets_all is True and row.status == "volume_production"
               for row in weak.domestic_alternatives)
    strong = _decision(cn_results, "cn-h20-training-needs-cuda-not-weak")
    assert "CN-NEC-WEAK-2025" not in fired_rules(strong)
    assert not any(row.meets_all is True for row in strong.domestic_alternatives)


# --- dates -----------------------------------------------------------------------------

ATTESTED = {
    "no_backdoor": True, "no_remote_shutdown": True, "no_location_tracking": True,
    "firmware_hashes": True, "network_components_inventory": True,
}


def _case(chip: str, as_of: str, buyer: dict[str, Any] | None = None,
          evidence: dict[str, Any] | None = None) -> Case:
    data: dict[str, Any] = {
        "id": f"cn-flip-{chip}-{as_of}",
        "as_of": as_of,
        "buyer": {"name": "Example Platform Co., Ltd.", "country": "CN", "headquarters": "CN",
                  "kind": "internet_platform", "state_owned": False,
                  "state_funded_project": False, "critical_infrastructure": False,
                  **(buyer or {})},
        "order": {"ship_from": "US", "items": [{"chip": chip, "quantity": 10,
                                                "unit_price_usd": 10000}]},
        "use": {"purpose": "inference", "end_use": "commercial"},
        "evidence": evidence or {},
    }
    return Case.model_validate(data)


@pytest.mark.parametrize(
    ("chip", "before", "after", "rule"),
    [
        ("nvidia-h20", "2025-07-30", "2025-07-31", "CN-CAC-SUMMONS-2025"),
        ("nvidia-rtx-pro-6000d", "2025-09-16", "2025-09-17", "CN-PRD-RTXPRO6000D-2025"),
        ("nvidia-h20", "2025-09-14", "2025-09-15", "CN-CTX-SAMR-2025"),
    ],
)
def test_rules_start_on_their_date(
    evaluator: Evaluator, chip: str, before: str, after: str, rule: str
) -> None:
    assert rule not in fired_rules(evaluator.evaluate(_case(chip, before)))
    assert rule in fired_rules(evaluator.evaluate(_case(chip, after)))


def test_h200_import_path_over_january_2026(evaluator: Evaluator) -> None:
    none = {"import_approval": "none"}
    paused = evaluator.evaluate(_case(H200, "2026-01-13", evidence=none))
    assert "CN-IMP-H200-PAUSE-2026" in fired_rules(paused)
    assert paused.cn.status is CnStatus.approval_required
    shut = evaluator.evaluate(_case(H200, "2026-01-14", evidence=none))
    assert "CN-IMP-H200-PAUSE-2026" not in fired_rules(shut)
    assert shut.cn.status is CnStatus.prohibited
    assert shut.verdict is Verdict.no_go
    pending = evaluator.evaluate(_case(H200, "2026-02-01", evidence={"import_approval": "pending"}))
    assert pending.cn.status is CnStatus.approval_required
    granted = evaluator.evaluate(_case(H200, "2026-02-01", evidence={
        "import_approval": "granted", "necessity_justification": "FP8 training at 141 GB.",
        "vendor_attestation": ATTESTED}))
    assert granted.cn.status is CnStatus.conditions


def test_h200_import_approval_unknown_is_asked(evaluator: Evaluator) -> None:
    decision = evaluator.evaluate(_case(H200, "2026-02-01"))
    if decision.verdict is not Verdict.no_go:
        assert "evidence.import_approval" in {m.fact for m in decision.missing}


def test_cybersecurity_review_moves_to_amended_csl(evaluator: Evaluator) -> None:
    cii = {"critical_infrastructure": True}
    # The vendor's refusal answered, so no prohibiting rule is open (issue 13: undetermined).
    unfiled = {"cybersecurity_review_required": True, "cybersecurity_review_filed": False,
               "vendor_attestation": {"vendor_refused": False}}
    old = evaluator.evaluate(_case("nvidia-h20", "2025-12-31", cii, unfiled))
    new = evaluator.evaluate(_case("nvidia-h20", "2026-01-01", cii, unfiled))
    assert "CN-CRM-REVIEW-2022" in fired_rules(old)
    assert "CN-CRM-REVIEW-2026" not in fired_rules(old)
    assert "CN-CRM-REVIEW-2026" in fired_rules(new)
    assert "CN-CRM-REVIEW-2022" not in fired_rules(new)
    assert new.cn.status is CnStatus.approval_required
    # Filed is not cleared: the review is still pending, so the status stays (CRM 2022 Art. 5-6).
    filed = evaluator.evaluate(_case("nvidia-h20", "2026-01-01", cii, {
        "cybersecurity_review_required": True, "cybersecurity_review_filed": True,
        "vendor_attestation": {"vendor_refused": False}}))
    assert "CN-CRM-REVIEW-2026" in fired_rules(filed)
    assert filed.cn.status is CnStatus.approval_required
    # The operator's pre-judgment found no national-security effect: no review, keep the record.
    cleared = evaluator.evaluate(_case("nvidia-h20", "2026-01-01", cii,
                                       {"cybersecurity_review_required": False}))
    assert "CN-CRM-REVIEW-2026" not in fired_rules(cleared)
    assert "CN-CRM-PREJUDGE-2022" in fired_rules(cleared)
    assert "evidence.cybersecurity_review_filed" not in {m.fact for m in cleared.missing}


def test_domestic_accelerator_never_draws_a_cn_objection(evaluator: Evaluator) -> None:
    """The foreign-chip measures never reach a domestic card; the cybersecurity review does:
    Review Measures 2022 Art. 5 binds a CII operator's network products whatever their origin."""
    for kind in ("government", "government_cloud", "state_owned_enterprise", "university"):
        buyer = {"kind": kind, "state_funded_project": True, "critical_infrastructure": False}
        decision = evaluator.evaluate(_case("huawei-ascend-910c", "2026-03-01", buyer))
        assert decision.cn.status is CnStatus.no_objection, kind
        assert "CN-DOM-NOOBJECTION-2025" in fired_rules(decision), kind
        cii = {**buyer, "critical_infrastructure": True}
        prejudged = evaluator.evaluate(_case("huawei-ascend-910c", "2026-03-01", cii,
                                             {"cybersecurity_review_required": False}))
        assert prejudged.cn.status is CnStatus.conditions, kind
        assert "CN-CRM-PREJUDGE-2022" in fired_rules(prejudged), kind
        review = evaluator.evaluate(_case("huawei-ascend-910c", "2026-03-01", cii,
                                          {"cybersecurity_review_required": True}))
        assert review.cn.status is CnStatus.approval_required, kind
        assert "CN-CRM-REVIEW-2026" in fired_rules(review), kind
        unknown = evaluator.evaluate(_case("huawei-ascend-910c", "2026-03-01", cii))
        assert unknown.cn.status is CnStatus.undetermined, kind
        assert "CN-CRM-REVIEW-2026" in unknown.cn.undecided_rules, kind


def test_no_rule_may_claim_the_module_does_not_apply() -> None:
    """``not_applicable`` is what a decision says when the CN module's scope is false; a rule
    that could set it would silence the regulator for a buyer inside the scope."""
    with pytest.raises(ValidationError):
        Then.model_validate({"cn_status": "not_applicable"})
    assert CnStatus.not_applicable not in CN_ORDER


def test_outside_the_mainland_is_not_applicable_and_unknown_country_is_not(
        evaluator: Evaluator) -> None:
    for country in ("HK", "MO", "MY"):
        decision = evaluator.evaluate(_case("nvidia-h20", "2025-10-20",
                                            {"country": country, "headquarters": country}))
        assert decision.cn.status is CnStatus.not_applicable, country
        assert all(it.cn_status is CnStatus.not_applicable for it in decision.items), country
        assert not [f for f in decision.findings if f.jurisdiction.value == "CN"], country
    data = _case("nvidia-h20", "2025-10-20").model_dump(mode="json", exclude_none=True)
    del data["buyer"]["country"]
    unknown = evaluator.evaluate(Case.model_validate(data))
    assert unknown.cn.status is CnStatus.undetermined
