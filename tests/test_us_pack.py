"""The US export-licensing module (rules/us): citations, coverage by golden cases, date flips."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest
from chipclear.decide.evaluate import Evaluator
from chipclear.io.yamlload import load_file
from chipclear.model.case import Case
from chipclear.model.decision import Decision, Verdict
from chipclear.pack.golden import fired_rules, us_verdict
from chipclear.pack.loader import RulePack, Severity, UsStatus

ROOT = Path(__file__).resolve().parent.parent
US_DIR = ROOT / "rules" / "us"


def _us_rules(pack: RulePack) -> list[Any]:
    return [cr.rule for cr in pack.rules if cr.module == "us"]


# --- citations -------------------------------------------------------------------------


def test_us_module_has_rules(pack: RulePack) -> None:
    assert len(_us_rules(pack)) >= 30


def test_every_us_rule_cites_known_sources(pack: RulePack) -> None:
    for rule in _us_rules(pack):
        assert rule.sources, rule.id
        for sid in rule.sources:
            assert sid in pack.sources, f"{rule.id} cites unknown source {sid}"


def test_us_source_ids_are_prefixed_and_complete() -> None:
    data = load_file(US_DIR / "sources.yaml")
    ids = [s["id"] for s in data["sources"]]
    assert len(ids) == len(set(ids))
    for src in data["sources"]:
        assert src["id"].startswith("us-"), src["id"]
        assert src["url"].startswith(("http://", "https://")), src["id"]
        assert src["confidence"] in ("official", "reported", "uncertain"), src["id"]


def test_every_us_parameter_value_is_sourced(pack: RulePack) -> None:
    us_params = [p for p in pack.parameters.values() if p.id.startswith("us.")]
    assert us_params
    for param in us_params:
        for value in param.values:
            assert value.sources, f"{param.id} from {value.from_} has no source"
            for sid in value.sources:
                assert sid in pack.sources, f"{param.id} cites unknown source {sid}"


def test_statuses_match_severity(pack: RulePack) -> None:
    """Denials block; a licence requirement or exception is a condition."""
    for rule in _us_rules(pack):
        status = rule.then.us_status
        if status in (UsStatus.presumption_of_denial, UsStatus.prohibited):
            assert rule.severity is Severity.block, rule.id
        if status in (UsStatus.licence_required, UsStatus.licence_exception):
            assert rule.severity is Severity.condition, rule.id
        if rule.severity is Severity.condition:
            assert rule.then.condition is not None or status is not None, rule.id


def test_reported_only_revenue_share_says_so(pack: RulePack) -> None:
    rule = pack.rules_by_id["US-ISINF-H20-LIC-2025"].rule
    assert rule.summary is not None
    assert "reported" in rule.summary.en.lower()
    assert "no regulation" in rule.summary.en.lower() or "no legal text" in rule.summary.en.lower()


# --- golden cases ----------------------------------------------------------------------


# --- date flips ------------------------------------------------------------------------

CERTS_OK = {
    "us_supply_sufficient": True,
    "china_volume_within_cap": True,
    "third_party_testing_in_us": True,
    "kyc_and_remote_access_screening": True,
    "no_prohibited_end_use": True,
}


def _case(chip: str | dict[str, Any], as_of: str, **buyer: Any) -> Case:
    item: dict[str, Any] = {"quantity": 10, "unit_price_usd": 10000}
    if isinstance(chip, str):
        item["chip"] = chip
    else:
        item.update(custom=True, spec=chip)
    data: dict[str, Any] = {
        "id": f"flip-{as_of}",
        "as_of": as_of,
        "buyer": {
            "name": "Hangzhou Example Cloud Technology Co., Ltd.",
            "country": "CN",
            "headquarters": "CN",
            "kind": "internet_platform",
            "us_approved_customer": True,
            **buyer,
        },
        "order": {"ship_from": "US", "items": [item]},
        "use": {"purpose": "training", "end_use": "commercial"},
        "evidence": {"exporter_certifications": CERTS_OK},
    }
    return Case.model_validate(data)


def _run(evaluator: Evaluator, case: Case) -> Decision:
    return evaluator.evaluate(case)


def test_h200_flips_from_denial_to_case_by_case(evaluator: Evaluator) -> None:
    before = _run(evaluator, _case("nvidia-h200-sxm", "2026-01-14"))
    # From 2026-01-14 to 01-28 China blocks commercial H200 imports at customs, and no share
    # is given once a block fired: a research university with its special-circumstances
    # approval is the buyer the CN side lets through (review-cn.md item 1).
    research = _case("nvidia-h200-sxm", "2026-01-15", kind="university").model_dump(
        mode="json", exclude_none=True)
    research["use"]["purpose"] = "research"
    research["evidence"]["import_approval"] = "granted"
    after = _run(evaluator, Case.model_validate(research))
    assert before.items[0].us_status is UsStatus.presumption_of_denial
    assert "US-LIC-CN-2023" in fired_rules(before)
    assert after.items[0].us_status is UsStatus.licence_required
    assert after.items[0].revenue_share_pct == 25
    assert after.items[0].revenue_share_usd == 25000
    assert "US-LIC-CN-2023" not in fired_rules(after)


def test_h200_from_taiwan_stays_denied_after_january_2026(evaluator: Evaluator) -> None:
    case = _case("nvidia-h200-sxm", "2026-03-01")
    case = case.model_copy(update={"order": case.order.model_copy(update={"ship_from": "TW"})})
    decision = _run(evaluator, case)
    assert decision.items[0].us_status is UsStatus.presumption_of_denial
    assert "US-LIC-CN-PD-2026" in fired_rules(decision)


@pytest.mark.parametrize(
    ("as_of", "status", "blocked", "share"),
    [
        ("2025-04-08", UsStatus.not_controlled, False, None),
        # The April 2025 letter requires a licence (NVIDIA 8-K); none was granted until August.
        ("2025-04-09", UsStatus.licence_required, True, None),
        ("2025-08-10", UsStatus.licence_required, True, None),
        ("2025-08-11", UsStatus.licence_required, False, 15),
        ("2026-03-01", UsStatus.licence_required, False, 15),
    ],
)
def test_h20_history(
    evaluator: Evaluator, as_of: str, status: UsStatus, blocked: bool, share: float | None
) -> None:
    decision = _run(evaluator, _case("nvidia-h20", as_of))
    assert decision.items[0].us_status is status
    assert (us_verdict(decision, evaluator.pack) is Verdict.no_go) is blocked
    assert decision.items[0].revenue_share_pct == share


@pytest.mark.parametrize("as_of", ["2025-11-01", "2026-02-15", "2026-12-01"])
def test_b200_is_always_denied_to_china(evaluator: Evaluator, as_of: str) -> None:
    # Ownership answered: while the affiliates rule is in force an unknown owner keeps the
    # status undetermined (it could prohibit), issue 13.
    decision = _run(evaluator, _case("nvidia-b200", as_of, owned_by_listed_parties=False))
    assert decision.items[0].us_status is UsStatus.presumption_of_denial
    unknown = _run(evaluator, _case("nvidia-b200", as_of))
    assert unknown.items[0].us_status in (UsStatus.presumption_of_denial, UsStatus.undetermined)
    assert decision.us.revenue_share_usd is None


@pytest.mark.parametrize(
    ("spec", "eccn"),
    [
        ({"dense_tflops": {"bf16": 300}, "die_area_mm2": 2000}, "3A090.a"),  # TPP 4800 exactly
        ({"dense_tflops": {"bf16": 299}, "die_area_mm2": 1000}, "3A090.b"),  # 4784, PD 4.78
        ({"dense_tflops": {"bf16": 100}, "die_area_mm2": 270}, "3A090.a"),  # 1600, PD 5.93
        ({"dense_tflops": {"bf16": 100}, "die_area_mm2": 500}, "3A090.b"),  # 1600, PD 3.2
        ({"dense_tflops": {"bf16": 100}, "die_area_mm2": 501}, None),  # 1600, PD 3.19
        ({"dense_tflops": {"bf16": 99}, "die_area_mm2": 100}, None),  # 1584: below every floor
    ],
)
def test_custom_spec_thresholds(
    evaluator: Evaluator, spec: dict[str, Any], eccn: str | None
) -> None:
    full = {"name": "boundary part", "vendor_country": "US", "datacenter": True, **spec}
    decision = _run(evaluator, _case(full, "2025-06-01"))
    assert decision.items[0].eccn == eccn


def test_a100_class_part_is_3a090a_after_november_2023(evaluator: Evaluator) -> None:
    """An A100-class figure set (TPP 4992, PD 6.04) is 3A090.a whatever its interconnect."""
    spec = {
        "name": "cut-interconnect part",
        "vendor_country": "US",
        "datacenter": True,
        "dense_tflops": {"bf16": 312},
        "die_area_mm2": 826,
    }
    late = _run(evaluator, _case(spec, "2024-01-10"))
    assert late.items[0].eccn == "3A090.a"
    assert late.items[0].us_status is UsStatus.presumption_of_denial


def test_rule_windows_are_exclusive_at_valid_to(pack: RulePack) -> None:
    rule = pack.rules_by_id["US-LIC-CN-2023"].rule
    assert rule.active(dt.date(2026, 1, 14))
    assert not rule.active(dt.date(2026, 1, 15))
    assert pack.rules_by_id["US-LIC-CN-CBC-2026"].rule.active(dt.date(2026, 1, 15))
    suspended = pack.rules_by_id["US-AFF-50-SUSP-2025"].rule
    assert suspended.active(dt.date(2026, 11, 9))
    assert not suspended.active(dt.date(2026, 11, 10))


def test_parameters_are_dated(pack: RulePack) -> None:
    assert pack.parameters["us.cbc_tpp_max"].at(dt.date(2026, 1, 14)) is None
    value = pack.parameters["us.cbc_tpp_max"].at(dt.date(2026, 1, 15))
    assert value is not None and value.value == 21000
    share = pack.parameters["us.h20_revenue_share_pct"].at(dt.date(2025, 9, 1))
    assert share is not None and share.value == 15


# --- issue 14: figures a case supplies for a catalog chip ------------------------------


def test_case_can_supply_a_figure_the_catalog_lacks(evaluator: Evaluator) -> None:
    """The H100 PCIe has no cited interconnect figure; the 2022 test asks for it, and the
    answer is given as a spec override on the catalog chip instead of being refused."""
    asked = _run(evaluator, _case("nvidia-h100-pcie", "2022-11-01"))
    path = "order.items[0].spec.io_bandwidth_gbs"
    assert path in {m.fact for m in asked.missing}
    data = _case("nvidia-h100-pcie", "2022-11-01").model_dump(mode="json", exclude_none=True)
    data["order"]["items"][0]["spec"] = {"io_bandwidth_gbs": 600}
    answered = _run(evaluator, Case.model_validate(data))
    assert path not in {m.fact for m in answered.missing}
    assert answered.items[0].eccn == "3A090.a"
    assert answered.items[0].us_status is UsStatus.presumption_of_denial
    assert "case: io_bandwidth_gbs" in answered.items[0].figure_sources


def test_catalog_spec_override_refuses_identity_fields() -> None:
    with pytest.raises(ValueError, match="only override figures"):
        Case.model_validate({"id": "x", "order": {"items": [
            {"chip": "nvidia-h100-pcie", "spec": {"vendor_country": "CN"}}]}})


def test_exporter_certifications_are_asked_last_and_never_hold_the_verdict(
        evaluator: Evaluator) -> None:
    """91 FR 1684 certifications are the exporter's: unknown, they are a condition, listed
    for the exporter, and the interview puts them after every buyer question."""
    from chipclear.interview.session import Interview

    data = _case("nvidia-h200-sxm", "2026-03-01", country="HK", headquarters="HK").model_dump(
        mode="json", exclude_none=True)
    del data["evidence"]["exporter_certifications"]
    decision = _run(evaluator, Case.model_validate(data))
    owners = {m.fact: m.owner for m in decision.missing}
    cert = "evidence.exporter_certifications.china_volume_within_cap"
    assert owners.get(cert) == "exporter"
    assert us_verdict(decision, evaluator.pack) is Verdict.go_with_conditions
    paths = [q.fact for q in Interview(evaluator.pack, data, evaluator=evaluator).pending()]
    exporter_first = min(i for i, p in enumerate(paths) if p.startswith("evidence.exporter_"))
    assert all(p.startswith("evidence.exporter_") for p in paths[exporter_first:])


@pytest.mark.parametrize(("chip", "as_of", "rule"), [
    ("nvidia-a800", "2023-10-23", "US-LIC-CN-EARLY-2023"),  # 8-K read through quotations
    ("nvidia-h200-sxm", "2026-03-01", "US-S232-BAND1-2026"),  # bands from CBP/law-firm relays
    ("nvidia-h200-sxm", "2026-03-01", "US-AFF-50-SUSP-2025"),  # suspension via law firms
    ("nvidia-h200-sxm", "2026-03-01", "US-LIC-CN-CBC-2026"),  # 91 FR 1684 not read at its home
])
def test_findings_resting_on_relays_are_not_official(
        evaluator: Evaluator, chip: str, as_of: str, rule: str) -> None:
    decision = _run(evaluator, _case(chip, as_of))
    finding = next(f for f in decision.findings if f.rule == rule)
    assert finding.confidence.value != "official", rule


def test_a_buyer_without_any_name_is_not_screened_as_clear(evaluator: Evaluator) -> None:
    """No name and no Chinese name: the Entity List screen is unknown, never "not listed"."""
    data = _case("nvidia-h200-sxm", "2026-03-01").model_dump(mode="json", exclude_none=True)
    del data["buyer"]["name"]
    decision = _run(evaluator, Case.model_validate(data))
    missing = {m.fact: m for m in decision.missing}
    assert "buyer.name" in missing
    assert missing["buyer.name"].impact.value == "could_block"
    assert decision.verdict is Verdict.needs_information


def test_us_availability_unknown_to_the_catalog_stays_unknown(pack: RulePack) -> None:
    """No date and no explicit false: the catalog does not know (never 'not sold in the US')."""
    assert pack.catalog.facts("nvidia-l40s").us_available is None
    assert pack.catalog.facts("intel-gaudi2").us_available is None
    assert pack.catalog.facts("nvidia-h800").us_available is False
    assert pack.catalog.facts("nvidia-h200-sxm").us_available is True


def test_a_case_may_state_us_availability_for_a_catalog_chip(evaluator: Evaluator) -> None:
    open_case = _run(evaluator, _case("nvidia-l40s", "2026-03-01"))
    assert open_case.us.status is UsStatus.undetermined
    assert "order.items[0].spec.us_commercially_available_2026_01_15" in {
        m.fact for m in open_case.missing}
    data = _case("nvidia-l40s", "2026-03-01").model_dump(mode="json", exclude_none=True)
    data["order"]["items"][0]["spec"] = {"us_commercially_available_2026_01_15": True}
    stated = _run(evaluator, Case.model_validate(data))
    assert stated.items[0].us_status is UsStatus.licence_required
    data["order"]["items"][0]["spec"] = {"us_commercially_available_2026_01_15": False}
    denied = _run(evaluator, Case.model_validate(data))
    assert denied.items[0].us_status is UsStatus.presumption_of_denial
