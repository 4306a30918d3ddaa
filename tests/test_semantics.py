"""What a verdict means: undetermined is not clear, and only decisive facts are missing.

Two properties of every decision, checked against outcomes rather than the engine's own
bookkeeping:

* **Non-decisive facts cannot change the outcome.** For every golden and example case,
  each fact asked only as optional (conditions to confirm wait for it) is completed with
  every value it can take (booleans, enum values, and numbers and dates on both sides
  of every threshold a rule tests); the verdict class, the statuses and the blocks
  never change.
* **A status is never better than the facts allow.** A case with facts removed is never
  told something more permissive than the full case: a status that is not
  ``undetermined`` is never better than the full case's, and a block found with fewer
  facts stays.
"""

from __future__ import annotations

import copy
import datetime as dt
import random
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from chipclear.decide.compile import compile_pack
from chipclear.decide.evaluate import Evaluator
from chipclear.io.yamlload import load_file
from chipclear.model.case import Case
from chipclear.model.decision import Decision, Verdict
from chipclear.pack import conditions as C
from chipclear.pack.facts import REGISTRY, FactSpec, Kind
from chipclear.pack.golden import GoldenResult, golden_files, load_golden
from chipclear.pack.loader import CN_ORDER, US_ORDER, RulePack
from pydantic import ValidationError

from tests.conftest import ROOT

PROCEED = {Verdict.go, Verdict.go_with_conditions}


def verdict_class(v: Verdict) -> str:
    """go and go_with_conditions differ only by checklist items: one class, "proceed"."""
    return "proceed" if v in PROCEED else v.value


def status_class(status: Any, order: list[Any]) -> str:
    """The best step and the conditional step (allowed, subject to conditions) are one."""
    if status.value == "undetermined":
        return "undetermined"
    if status.value == "not_applicable":  # out of the module's scope: asks nothing, best class
        return order[0].value
    return order[0].value if order.index(status) <= 1 else status.value


def outcome(d: Decision) -> tuple[Any, ...]:
    return (verdict_class(d.verdict), status_class(d.us.status, US_ORDER),
            status_class(d.cn.status, CN_ORDER),
            tuple(status_class(i.us_status, US_ORDER) for i in d.items),
            tuple(status_class(i.cn_status, CN_ORDER) for i in d.items),
            frozenset(f.rule for f in d.findings if f.severity.value == "block"))


def all_cases(pack: RulePack) -> list[tuple[str, dict[str, Any]]]:
    out = []
    for path in golden_files(pack):
        data = load_file(path)
        for g, _ in load_golden(path):
            raw = next(x["case"] for x in data["golden"] if x["name"] == g.name)
            out.append((g.name, raw))
    for path in sorted((ROOT / "examples" / "cases").glob("*.yaml")):
        data = load_file(path)
        for raw in data.get("cases", [data]):
            out.append((str(raw["id"]), raw))
    return out


# --- completing a fact in a case dict ------------------------------------------------

_STEP = re.compile(r"([a-z_0-9]+)(?:\[(\d+)\])?")


def set_path(data: dict[str, Any], path: str, value: Any) -> None:
    node: Any = data
    steps = path.split(".")
    for n, step in enumerate(steps):
        m = _STEP.fullmatch(step)
        assert m, path
        key, index = m.group(1), m.group(2)
        last = n == len(steps) - 1
        if index is not None:
            node = node.setdefault(key, [])[int(index)]
            assert not last
        elif last:
            node[key] = value
        else:
            node = node.setdefault(key, {})


def spec_for(case_path: str) -> FactSpec | None:
    generic = re.sub(r"\[\d+\]", "[{i}]", case_path)
    for spec in REGISTRY.values():
        if (spec.case_path or spec.path) == generic and not spec.computed:
            return spec
    return None


def thresholds(pack: RulePack, path: str, as_of: dt.date) -> set[Any]:
    params = compile_pack(pack, as_of).params
    found: set[Any] = set()
    for cr in pack.rules:
        for test in C.fact_tests(cr.condition):
            if test.path != path or test.op == "nonempty":
                continue
            vals = test.value if isinstance(test.value, tuple) else (test.value,)
            for v in vals:
                found.add(params[v.name] if isinstance(v, C.ParamRef) else v)
    return found


def values_for(pack: RulePack, spec: FactSpec, as_of: dt.date) -> Iterator[Any]:
    """Every value worth trying: each enum value, true/false, both sides of thresholds."""
    if spec.kind is Kind.boolean:
        yield from (True, False)
    elif spec.kind is Kind.choice:
        yield from spec.choices
    elif spec.kind is Kind.text:  # every value a rule tests, plus empty and other text
        tested = {str(t) for t in thresholds(pack, spec.path, as_of)}
        yield from sorted(tested | {"", "A stated answer", "DE"})
    elif spec.kind is Kind.number:
        edges = {float(t) for t in thresholds(pack, spec.path, as_of)} | {1.0}
        yield from sorted({x for t in edges for x in (t - 1, t, t + 1) if x >= 1})
    elif spec.kind is Kind.date:
        days = {dt.date.fromisoformat(str(t)) for t in thresholds(pack, spec.path, as_of)}
        days.add(as_of)
        yield from sorted({(d + dt.timedelta(k)).isoformat() for d in days for k in (-1, 0, 1)})


def test_completing_a_non_decisive_fact_never_changes_the_outcome(
        pack: RulePack, evaluator: Evaluator) -> None:
    """Every golden and example case, and two variants of each with random answers
    removed (seed drawn per run and reported), so that more facts are open."""
    seed = random.SystemRandom().randrange(2**32)
    rng = random.Random(seed)
    tried = 0
    cases_with_optional = 0
    for name, original in all_cases(pack):
        variants = [original]
        for _ in range(2):
            reduced = copy.deepcopy(original)
            paths = leaves(original)
            for p in rng.sample(paths, k=rng.randint(0, len(paths))):
                drop(reduced, p)
            variants.append(reduced)
        for raw in variants:
            base = evaluator.evaluate(Case.model_validate(raw))
            if base.optional_facts:
                cases_with_optional += 1
            for fact in base.optional_facts:
                spec = spec_for(fact.fact)
                if spec is None:  # a computed fact answered through another field
                    continue
                for value in values_for(pack, spec, base.as_of):
                    data = copy.deepcopy(raw)
                    set_path(data, fact.fact, value)
                    try:
                        case = Case.model_validate(data)
                    except ValidationError:  # not an answer the case model accepts
                        continue
                    d = evaluator.evaluate(case)
                    assert outcome(d) == outcome(base), (seed, name, fact.fact, value,
                                                         outcome(base), outcome(d))
                    tried += 1
    # The property is not vacuous: many decisions have optional facts to complete.
    assert cases_with_optional >= 10, cases_with_optional
    assert tried >= 50, tried


def test_every_non_decisive_fact_is_only_waited_for_by_conditions_to_confirm(
        golden_results: list[GoldenResult]) -> None:
    for r in golden_results:
        d = r.decision
        assert d is not None
        confirm = {c.rule for c in d.conditions_to_confirm}
        decisive = {m.fact for m in d.missing}
        for m in d.optional_facts:
            assert m.impact.value == "condition_only", (r.name, m.fact)
            assert m.fact not in decisive
            assert set(m.rules) <= confirm, (r.name, m.fact, m.rules)
        for m in d.missing:
            assert m.impact.value in ("could_block", "could_change_status"), (r.name, m.fact)
        for_buyer = [m for m in d.missing if m.owner.value != "exporter"]
        if d.verdict is Verdict.needs_information:
            assert for_buyer
        if not for_buyer and d.verdict is not Verdict.no_go:
            assert d.verdict in PROCEED


# --- removing facts never makes the answer more permissive ---------------------------


def leaves(raw: Any, prefix: str = "") -> list[str]:
    """Dotted paths of the scalar answers in a case (not id, as_of, chip names)."""
    out: list[str] = []
    if isinstance(raw, dict):
        for k, v in raw.items():
            if prefix == "" and k in ("id", "as_of"):
                continue
            if k in ("chip", "custom", "spec", "name_zh") and prefix.startswith("order.items"):
                continue
            out.extend(leaves(v, f"{prefix}{k}" if not prefix else f"{prefix}.{k}"))
    elif isinstance(raw, list):
        if prefix == "order.items":
            for i, item in enumerate(raw):
                out.extend(leaves(item, f"{prefix}[{i}]"))
    else:
        out.append(prefix)
    return out


def drop(data: dict[str, Any], path: str) -> None:
    steps = path.split(".")
    node: Any = data
    for step in steps[:-1]:
        m = _STEP.fullmatch(step)
        assert m
        node = node[m.group(1)] if m.group(2) is None else node[m.group(1)][int(m.group(2))]
    node.pop(steps[-1], None)


def floor(pack: RulePack, d: Decision, side: str, order: list[Any]) -> Any:
    """A decision's status, or if undetermined the one its fired rules already reached."""
    status = getattr(d, side).status
    if status.value != "undetermined":
        return status
    fired = {f.rule for f in d.findings} | {c.rule for c in d.conditions}
    reached = [getattr(pack.rules_by_id[r].rule.then, f"{side}_status") for r in fired]
    return max((s for s in reached if s is not None), key=order.index, default=order[0])


def worse_or_equal(pack: RulePack, part: Decision, full: Decision, side: str,
                   order: list[Any]) -> bool:
    """Whether the partial case's status is at least as strict as the full case's floor."""
    mine = getattr(part, side).status
    if mine.value == "undetermined":
        return True
    # Out of the module's scope (not_applicable) asks nothing of the buyer: the best class.
    rank = {s: (0 if i <= 1 else i) for i, s in enumerate(order)}
    rank.update({s: 0 for s in type(order[0]) if s.value == "not_applicable"})
    return rank[mine] >= rank[floor(pack, full, side, order)]


def test_removing_facts_never_gives_a_more_permissive_status(
        pack: RulePack, evaluator: Evaluator) -> None:
    seed = random.SystemRandom().randrange(2**32)
    rng = random.Random(seed)
    cases = all_cases(pack)
    checked = undetermined = 0
    for name, raw in cases:
        full = evaluator.evaluate(Case.model_validate(raw))
        paths = leaves(raw)
        for _ in range(6):
            data = copy.deepcopy(raw)
            gone = rng.sample(paths, k=rng.randint(1, max(1, len(paths))))
            for p in gone:
                drop(data, p)
            part = evaluator.evaluate(Case.model_validate(data))
            where = (seed, name, sorted(gone))
            assert worse_or_equal(pack, part, full, "us", US_ORDER), (
                where, part.us.status, full.us.status)
            assert worse_or_equal(pack, part, full, "cn", CN_ORDER), (
                where, part.cn.status, full.cn.status)
            if part.verdict is Verdict.no_go:  # a block found with fewer facts stays
                assert full.verdict is Verdict.no_go, where
            exporter_open = any(m.owner.value == "exporter" for m in part.missing)
            if part.verdict in PROCEED and not exporter_open:
                # nothing decisive was open: the full case agrees
                assert full.verdict in PROCEED, (where, full.verdict)
            checked += 1
            undetermined += part.us.status.value == "undetermined"
    assert checked == 6 * len(cases)
    assert undetermined > 0  # the generated cases do reach open statuses


@pytest.mark.parametrize("path", sorted((ROOT / "examples" / "cases").glob("*.yaml")),
                         ids=lambda p: Path(p).name)
def test_examples_never_show_a_clear_status_while_a_worse_rule_is_open(
        path: Path, evaluator: Evaluator) -> None:
    data = load_file(path)
    for raw in data.get("cases", [data]):
        d = evaluator.evaluate(Case.model_validate(raw))
        for outcome_status, undecided in ((d.us.status, d.us.undecided_rules),
                                          (d.cn.status, d.cn.undecided_rules)):
            assert (outcome_status.value == "undetermined") is bool(undecided)
        for item in d.items:
            assert (item.us_status.value == "undetermined" or item.cn_status.value ==
                    "undetermined") is bool(item.undecided_rules)


# --- the cases the issue names, and the other new fields -------------------------------


def decide(evaluator: Evaluator, **raw: Any) -> Decision:
    return evaluator.evaluate(Case.model_validate({"id": "t", "as_of": "2026-03-01", **raw}))


H200_US = {"ship_from": "US", "items": [{"chip": "H200", "quantity": 10,
                                          "unit_price_usd": 30000}]}


def test_a_bare_order_is_undetermined_on_both_sides(evaluator: Evaluator) -> None:
    d = decide(evaluator, order={"items": [{"chip": "H200"}]})
    assert (d.us.status.value, d.cn.status.value, d.items[0].us_status.value) == (
        "undetermined", "undetermined", "undetermined")
    assert d.verdict is Verdict.needs_information
    assert d.items[0].classification.value == "3A090.a"


def test_unknown_approval_or_headquarters_leaves_the_us_status_open(
        evaluator: Evaluator) -> None:
    hk = decide(evaluator, buyer={"name": "Example HK Co.", "country": "HK",
                                  "headquarters": "HK"}, order=H200_US)
    assert hk.us.status.value == "undetermined"
    # Whether a licence names the buyer changes only conditions; the exporter's
    # certifications (a "cannot" denies) keep the status open.
    assert "US-CBC-CERT-CANNOT-2026" in hk.us.undecided_rules
    assert "buyer.us_approved_customer" not in {m.fact for m in hk.missing}
    my = decide(evaluator, buyer={"name": "Example MY Sdn Bhd", "country": "MY"},
                order=H200_US)
    assert my.us.status.value == "undetermined"
    assert "buyer.headquarters" in {m.fact for m in my.missing}
    known = decide(evaluator, buyer={"name": "Example MY Sdn Bhd", "country": "MY",
                                     "headquarters": "MY", "kind": "enterprise"},
                   order=H200_US, use={"end_use": "commercial"})
    assert known.us.status.value == "not_controlled"  # shown, not assumed


def test_missing_facts_carry_owner_and_impact(evaluator: Evaluator) -> None:
    d = decide(evaluator, buyer={"name": "Hangzhou Example Cloud Co.", "country": "CN",
                                 "headquarters": "CN", "us_approved_customer": True},
               order=H200_US)
    owners = {m.fact: m.owner.value for m in d.missing}
    assert owners["evidence.exporter_certifications.china_volume_within_cap"] == "exporter"
    impacts = {m.fact: m.impact.value for m in d.missing}
    # A precondition of the case-by-case path: "cannot" blocks, so it could block.
    assert impacts["evidence.exporter_certifications.china_volume_within_cap"] == "could_block"
    order = [m.impact.value for m in d.missing]
    assert order == sorted(order, key=["could_block", "could_change_status"].index)
    change = {c.subject: c.changes for c in d.what_would_change}
    assert ("evidence.exporter_certifications.china_volume_within_cap = cannot: "
            "US-CBC-CERT-CANNOT-2026 applies (block)") in \
        change["evidence.exporter_certifications.china_volume_within_cap"]


def test_a_blocked_decision_shows_no_dollars_and_says_what_would_lift_it(
        evaluator: Evaluator) -> None:
    d = decide(evaluator, buyer={"name": "Example MY Sdn Bhd", "country": "MY",
                                 "headquarters": "CN", "kind": "enterprise"},
               order=H200_US, use={"end_use": "supercomputer"})
    assert d.verdict is Verdict.no_go
    assert d.us.revenue_share_usd is None
    assert all(i.revenue_share_usd is None for i in d.items)
    lifts = {c.subject: c.changes for c in d.what_would_change if c.kind == "block"}
    assert "US-SCR-SUPERCOMPUTER-2022" in lifts
    assert any("use.end_use" in line for line in lifts["US-SCR-SUPERCOMPUTER-2022"])


def test_below_threshold_items_are_classified_not_3a090(evaluator: Evaluator) -> None:
    d = decide(evaluator, as_of="2025-09-01",
               buyer={"name": "Example AI Startup Ltd.", "country": "CN", "headquarters": "CN"},
               order={"ship_from": "US", "items": [{"chip": "H20"}]})
    item = d.items[0]
    assert item.eccn is None
    assert (item.classification.value, item.classification_reason) == (
        "not_3A090", "below_thresholds")


def test_sources_published_after_the_date_are_not_support(evaluator: Evaluator) -> None:
    d = decide(evaluator, as_of="2026-02-15",
               buyer={"name": "Hangzhou Example Cloud Co.", "country": "CN",
                      "headquarters": "CN", "us_approved_customer": True},
               order=H200_US, evidence={"exporter_certifications": {
                   k: "certified" for k in ("us_supply_sufficient", "china_volume_within_cap",
                                            "third_party_testing_in_us",
                                            "kyc_and_remote_access_screening",
                                            "no_prohibited_end_use")}})
    cbc = next(f for f in d.findings if f.rule == "US-LIC-CN-CBC-2026")
    assert cbc.later_sources and all(s.date > d.as_of for s in cbc.later_sources)
    assert all(s.date <= d.as_of for s in cbc.sources)
    assert "us-nvda-10q-2026-04" in {s.id for s in cbc.later_sources}
    # Its remaining operative sources include press reports: the weakest one counts.
    assert cbc.confidence.value == "reported"


def test_the_review_horizon_warns_in_every_format(evaluator: Evaluator,
                                                   tmp_path: Path) -> None:
    from chipclear.io.render import markdown, table, to_json, to_jsonl_line

    horizon = evaluator.pack.manifest.reviewed_until
    assert horizon is not None
    later = decide(evaluator, as_of=(horizon + dt.timedelta(days=1)).isoformat(),
                   order={"items": [{"chip": "H200"}]})
    same = decide(evaluator, as_of=horizon.isoformat(), order={"items": [{"chip": "H200"}]})
    assert [w.code for w in later.warnings] == ["after_review_horizon"]
    assert same.warnings == []
    text = later.warnings[0].text.en
    assert text in to_json([later], []) and text in to_jsonl_line(later)
    assert text in markdown(later) and later.warnings[0].text.zh in markdown(later, "zh")
    from rich.console import Console

    out = tmp_path / "table.txt"
    with out.open("w", encoding="utf-8") as stream:
        table([later], Console(file=stream, no_color=True, width=200))
    assert "rules may have changed since" in out.read_text(encoding="utf-8")


# --- preconditions (`requires`) --------------------------------------------------------

PATH_RULES = """
  - id: US-PATH-OPEN
    title: {en: A path that needs the exporter's certification, zh: 需出口商证明的路径}
    jurisdiction: US
    severity: condition
    valid_from: 2023-11-17
    sources: [fr-2023]
    when: {fact: buyer.country, eq: MY}
    requires:
      - {fact: evidence.exporter_certifications.china_volume_within_cap, in: [certified, not_yet]}
    then: {condition: {en: keep the certification, zh: 留存证明}}
  - id: US-PATH-CLOSED
    title: {en: The exporter cannot certify, zh: 出口商无法证明}
    jurisdiction: US
    severity: block
    valid_from: 2023-11-17
    sources: [fr-2023]
    when:
      all:
        - {fact: buyer.country, eq: MY}
        - {fact: evidence.exporter_certifications.china_volume_within_cap, eq: cannot}
    then: {us_status: presumption_of_denial}
"""


def _pack_with(tmp_path: Path, extra: str) -> RulePack:
    import shutil

    from chipclear.pack.loader import load_pack

    root = tmp_path / "pack"
    shutil.copytree(ROOT / "tests" / "fixtures" / "minipack", root)
    rules = root / "core" / "rules.yaml"
    rules.write_text(rules.read_text(encoding="utf-8") + extra, encoding="utf-8")
    return load_pack(root)


def test_a_precondition_opens_closes_or_waits(tmp_path: Path) -> None:
    ev = Evaluator(_pack_with(tmp_path, PATH_RULES))
    buyer = {"name": "Example MY Sdn Bhd", "country": "MY", "headquarters": "MY"}
    cap = "evidence.exporter_certifications.china_volume_within_cap"

    def run(answer: str | None) -> Decision:
        evidence: dict[str, Any] = {"necessity_justification": "FP8"}
        if answer is not None:
            evidence["exporter_certifications"] = {"china_volume_within_cap": answer}
        return ev.evaluate(Case.model_validate({
            "id": "p", "as_of": "2026-02-15", "buyer": buyer, "evidence": evidence,
            "order": {"items": [{"chip": "H200", "quantity": 1, "unit_price_usd": 1}]}}))

    fired = {a: {f.rule for f in run(a).findings} | {c.rule for c in run(a).conditions}
             for a in ("certified", "not_yet", "cannot")}
    assert "US-PATH-OPEN" in fired["certified"] and "US-PATH-OPEN" in fired["not_yet"]
    assert "US-PATH-OPEN" not in fired["cannot"] and "US-PATH-CLOSED" in fired["cannot"]
    open_ = run(None)
    assert {m.fact: m.impact.value for m in open_.missing}.get(cap) == "could_block"
    assert open_.us.status.value == "undetermined"


def test_a_precondition_is_decisive_even_on_a_condition_only_path(tmp_path: Path) -> None:
    only_open = PATH_RULES.split("  - id: US-PATH-CLOSED")[0]
    ev = Evaluator(_pack_with(tmp_path, only_open))
    d = ev.evaluate(Case.model_validate({
        "id": "p", "as_of": "2026-02-15", "evidence": {"necessity_justification": "FP8"},
        "buyer": {"name": "Example MY Sdn Bhd", "country": "MY", "headquarters": "MY"},
        "order": {"items": [{"chip": "H200", "quantity": 1, "unit_price_usd": 1}]}}))
    impacts = {m.fact: m.impact.value for m in d.missing}
    assert impacts["evidence.exporter_certifications.china_volume_within_cap"] == \
        "could_change_status"


def test_a_precondition_cannot_test_a_derived_fact(tmp_path: Path) -> None:
    from chipclear.errors import RulePackError

    bad = PATH_RULES.split("  - id: US-PATH-CLOSED")[0].replace(
        "- {fact: evidence.exporter_certifications.china_volume_within_cap, "
        "in: [certified, not_yet]}", "- {derived: eccn}")
    with pytest.raises(RulePackError, match="requires tests case facts"):
        _pack_with(tmp_path, bad)
