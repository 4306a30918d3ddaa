"""The engine on a tiny pack: statuses, unknowns, explanations, order independence."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import pytest
from chipclear.decide.evaluate import Evaluator, UnknownChip
from chipclear.decide.runtime import Runtime
from chipclear.io.render import because_text, to_json
from chipclear.model.case import Case
from chipclear.model.decision import Verdict
from chipclear.pack.loader import RulePack

from tests.differential import differential


def case(**parts: Any) -> Case:
    base: dict[str, Any] = {"id": "t", "as_of": "2026-02-15"}
    base.update(parts)
    return Case.model_validate(base)


H200 = {"items": [{"chip": "H200", "quantity": 8, "unit_price_usd": 30000}]}


def test_chain_of_derived_facts_blocks_china(minipack: RulePack) -> None:
    d = Evaluator(minipack).evaluate(case(buyer={"country": "CN"}, order=H200))
    assert d.verdict is Verdict.no_go
    # No name to screen: the Entity List rule (prohibited) is undecided, so the status is
    # not the presumption of denial reached so far but undetermined.
    assert d.us.status.value == "undetermined"
    assert d.us.undecided_rules == ["US-EL-HIT"]
    named = Evaluator(minipack).evaluate(
        case(buyer={"country": "CN", "name": "Example Cloud Co."}, order=H200))
    assert named.us.status.value == "presumption_of_denial"
    assert named.us.undecided_rules == []
    assert d.items[0].eccn == "3A090.a"
    assert d.items[0].tpp == 15832.0
    lic = next(f for f in d.findings if f.rule == "US-LIC-CN")
    assert lic.derived_from == ["US-CLS-A"]
    assert "buyer.country = CN (in [CN, MO])" in [because_text(b) for b in lic.because]
    country = next(b for b in lic.because if b.fact == "buyer.country")
    assert (country.value, country.test, country.against, country.derived) == (
        "CN", "in", ["CN", "MO"], False)


def test_headquarters_alone_triggers_the_same_rule(minipack: RulePack) -> None:
    d = Evaluator(minipack).evaluate(
        case(buyer={"country": "MY", "headquarters": "CN"}, order=H200))
    assert "US-LIC-CN" in {f.rule for f in d.findings}


def test_rule_not_yet_in_force_does_not_fire(minipack: RulePack) -> None:
    d = Evaluator(minipack).evaluate(case(as_of="2023-01-10", buyer={
        "country": "CN", "name": "Example Cloud Co."}, order=H200))
    assert d.findings == []
    assert d.items[0].eccn is None
    assert d.us.status.value == "not_controlled"


GERMAN_BUYER = {"name": "Example GmbH", "country": "DE", "headquarters": "DE"}


def test_unknown_fact_is_missing_not_false(minipack: RulePack) -> None:
    # Buyer outside China and not CN-headquartered: US side clear. Justification unknown:
    # both CN rules are undecided, so the decision asks for it instead of assuming.
    d = Evaluator(minipack).evaluate(case(buyer=GERMAN_BUYER, order=H200))
    assert d.verdict is Verdict.needs_information
    assert [m.fact for m in d.missing] == ["evidence.necessity_justification"]
    assert d.missing[0].rules == ["CN-JUST", "CN-NOJUST"]


def test_given_fact_decides(minipack: RulePack) -> None:
    ev = Evaluator(minipack)
    with_text = ev.evaluate(case(buyer=GERMAN_BUYER, order=H200,
                                 evidence={"necessity_justification": "FP8 training at scale"}))
    assert with_text.verdict is Verdict.go_with_conditions
    assert [c.rule for c in with_text.conditions] == ["CN-JUST"]
    empty = ev.evaluate(case(buyer=GERMAN_BUYER, order=H200,
                             evidence={"necessity_justification": ""}))
    assert empty.verdict is Verdict.no_go
    assert empty.cn.status.value == "prohibited"


def test_no_items_asks_for_items(minipack: RulePack) -> None:
    d = Evaluator(minipack).evaluate(case(buyer={"country": "CN"}))
    assert d.verdict is Verdict.needs_information
    assert "order.items" in [m.fact for m in d.missing]


def test_unknown_chip_suggests(minipack: RulePack) -> None:
    with pytest.raises(UnknownChip, match="did you mean 'H200'"):
        Evaluator(minipack).evaluate(case(order={"items": [{"chip": "H2O0"}]}))


def test_custom_spec_is_classified_like_catalog_chips(minipack: RulePack) -> None:
    spec = {"name": "X1", "vendor_country": "US", "datacenter": True,
            "dense_tflops": {"bf16": 400}, "die_area_mm2": 600}
    d = Evaluator(minipack).evaluate(case(buyer={"country": "CN"},
                                          order={"items": [{"custom": True, "spec": spec}]}))
    assert d.items[0].tpp == 6400.0
    assert d.items[0].eccn == "3A090.a"


def test_json_is_byte_identical_across_runs_and_runtimes(minipack: RulePack) -> None:
    c = case(buyer={"country": "CN"}, order=H200, evidence={"necessity_justification": "x"})
    first = to_json([Evaluator(minipack).evaluate(c)], [])
    second = to_json([Evaluator(minipack, Runtime()).evaluate(c)], [])
    assert first == second
    assert json.loads(first)["decisions"][0]["rule_pack"]["sha256"] == minipack.sha256


def test_sessions_are_cleaned_up(minipack: RulePack) -> None:
    ev = Evaluator(minipack)
    c = case(buyer={"country": "CN"}, order=H200)
    for _ in range(1100):  # durable allows 1,024 live sessions per ruleset
        ev.evaluate(c)


def test_compiled_packs_are_shared_between_equivalent_dates(minipack: RulePack) -> None:
    ev = Evaluator(minipack)
    assert ev.compiled(dt.date(2026, 2, 1)).name == ev.compiled(dt.date(2026, 3, 1)).name
    assert ev.compiled(dt.date(2023, 1, 1)).name != ev.compiled(dt.date(2026, 3, 1)).name


def test_minipack_matches_reference_under_shuffles(minipack: RulePack) -> None:
    two = {"items": [{"chip": "H200"}, {"chip": "huawei-ascend-910c"}]}
    differential(Evaluator(minipack), [
        case(buyer={"country": "CN"}, order=H200),
        case(buyer={"country": "CN"}, order=two, evidence={"necessity_justification": "x"}),
        case(buyer={"country": "DE"}, order=two, evidence={"necessity_justification": ""}),
        case(as_of="2023-01-01", buyer={"country": "CN"}, order=two),
    ])
