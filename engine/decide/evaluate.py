"""From a case to a decision: prepare facts, run the engine, read the outcome.

The engine (durable-rules, behind ``engine.runtime``) decides which rules fire.
Everything after that is bookkeeping over its answer: the worst status per item and
jurisdiction, the revenue share in dollars, the conditions checklist, and (through
``engine.kleene``) which facts undecided rules still need. Negation at verdict level
("no rule set a status, so not controlled") is computed here, after the engine has
quiesced, so it never depends on the order rules fire in.
"""

from __future__ import annotations

import datetime as dt
import math
import re
import weakref
from collections import defaultdict
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from chipclear.decide import alternatives, counterfactual, crosscheck, kleene
from chipclear.decide.compile import CompiledPack, _engine_value, compile_pack, derived_value
from chipclear.decide.firings import CASE_IDX, Firings
from chipclear.decide.runtime import Runtime
from chipclear.decide.status import Statuses, reached
from chipclear.decide.trace import Trace
from chipclear.decide.undecided import OpenRules
from chipclear.model.case import Case, OrderItem
from chipclear.model.decision import (
    ChangeOption,
    Classification,
    CnOutcome,
    ConditionItem,
    ConditionToConfirm,
    Decision,
    DomesticAlternative,
    Finding,
    Impact,
    ItemOutcome,
    ListHit,
    Missing,
    Notice,
    RulePackRef,
    SourceRef,
    UsOutcome,
    Verdict,
)
from chipclear.pack import conditions as C
from chipclear.pack.catalog import (
    Catalog,
    ChipFacts,
    UnclassifiableSpec,
    contradicted_figure,
    facts_for_spec,
    with_case_figures,
)
from chipclear.pack.facts import REGISTRY, Kind, Scope, engine_key, flatten_case, normalise
from chipclear.pack.loader import (
    CN_ORDER,
    US_ORDER,
    CnStatus,
    CompiledRule,
    Jurisdiction,
    Owner,
    Rule,
    RulePack,
    Severity,
    Text,
    UsStatus,
)
from chipclear.pack.sources import Confidence, weakest
from chipclear.screening.match import ListMatch
from chipclear.screening.outcome import CaseScreening, screen_case


class UnknownChip(ValueError):
    """An order line names a chip the catalog does not know."""

    #: The key of the order line the error points at.
    field: tuple[str, ...] = ("chip",)

    def __init__(self, index: int, text: str, suggestions: list[str]) -> None:
        self.index = index
        self.text = text
        self.suggestions = suggestions
        hint = f"did you mean {', '.join(repr(s) for s in suggestions)}?" if suggestions else \
            "use a catalog id or alias (chipclear chips lists them), or custom: true with a spec"
        super().__init__(f"unknown chip '{text}' ({hint})")


class OutsideCoverage(UnknownChip):
    """A decision date before the first date the pack covers: its rules say nothing
    about it, so "no rule fired" would read as a clean go by accident."""

    field = ("as_of",)

    def __init__(self, as_of: dt.date, covers_from: dt.date) -> None:
        ValueError.__init__(self, coverage_problem(as_of, covers_from))
        self.index = CASE_IDX
        self.text = ""
        self.suggestions = []
        self.dates = (as_of, covers_from)

    def __reduce__(self) -> tuple[type[OutsideCoverage], tuple[dt.date, dt.date]]:
        return OutsideCoverage, self.dates  # from a worker process, whole


def coverage_problem(as_of: dt.date, covers_from: dt.date) -> str:
    """The one line that refuses a decision date the pack does not cover."""
    return (f"as_of {as_of} is before {covers_from}, the first date this rule pack covers "
            f"(decide at {covers_from} or later, or use a pack written for that date)")


class UnclassifiableChip(UnknownChip):
    """An order line whose computed figures are not finite numbers (a custom chip's TPP or
    performance density, or quantity x unit price): no rule can be tested on them."""

    def __init__(self, index: int, field: tuple[str, ...], message: str) -> None:
        ValueError.__init__(self, message)
        self.index = index
        self.text = ""
        self.suggestions = []
        self.field = field


@dataclass
class Prepared:
    """A case as facts: one case-level view and one view per order line."""

    case: Case
    as_of: dt.date
    case_facts: dict[str, Any]
    chips: list[ChipFacts]
    item_facts: list[dict[str, Any]]
    alternatives: list[DomesticAlternative] = field(default_factory=list)
    screening: CaseScreening | None = None

    def facts_for(self, idx: int) -> dict[str, Any]:
        return self.case_facts if idx == CASE_IDX else self.item_facts[idx]

    def engine_facts(self) -> list[dict[str, Any]]:
        case_keys = {engine_key(p): v for p, v in self.case_facts.items()}
        out: list[dict[str, Any]] = [{"t": "case", "id": "case", "idx": CASE_IDX, **case_keys}]
        for i, facts in enumerate(self.item_facts):
            item = {engine_key(p): v for p, v in facts.items()}
            out.append({"t": "item", "id": f"item-{i}", "idx": i, **item})
        return out


def _chip_facts(chip: ChipFacts) -> dict[str, Any]:
    values: dict[str, Any] = {
        "chip.id": chip.id, "chip.custom": chip.custom, "chip.vendor": chip.vendor,
        "chip.vendor_country": chip.vendor_country, "chip.family": chip.family,
        "chip.datacenter": chip.datacenter, "chip.status": chip.status, "chip.hbm": chip.hbm,
        "chip.cuda_ecosystem": chip.cuda_ecosystem,
        "chip.us_available": chip.us_available,
        # Never sold in the US (catalog): not available on 15 January 2026 either.
        "chip.us_commercially_available_2026_01_15": False if chip.us_available is False else None,
        "chip.us_available_since": chip.us_available_since, "chip.tpp": chip.tpp,
        "chip.performance_density": chip.performance_density, "chip.memory_gb": chip.memory_gb,
        "chip.memory_bandwidth_gbs": chip.memory_bandwidth_gbs,
        "chip.io_bandwidth_gbs": chip.io_bandwidth_gbs, "chip.fp8": chip.fp8,
        "chip.domestic": None if chip.vendor_country is None else chip.vendor_country == "CN",
    }
    return {k: normalise(v) for k, v in values.items() if v is not None}


#: The facts of each catalog chip as listed, per catalog (so per pack): built once, read
#: by every order line that names the chip without figures of its own. Never mutated.
_LISTED_CHIP_FACTS: weakref.WeakKeyDictionary[Catalog, dict[str, Mapping[str, Any]]] = \
    weakref.WeakKeyDictionary()


def _listed_chip_facts(catalog: Catalog, chip_id: str) -> Mapping[str, Any]:
    known = _LISTED_CHIP_FACTS.setdefault(catalog, {})
    found = known.get(chip_id)
    if found is None:
        found = known[chip_id] = _chip_facts(catalog.facts(chip_id))
    return found


def prepare(case: Case, pack: RulePack, as_of: dt.date) -> Prepared:
    """Flatten the case, resolve chips, screen names and compare domestic alternatives."""
    covers_from = pack.manifest.covers_from
    if covers_from is not None and as_of < covers_from:
        raise OutsideCoverage(as_of, covers_from)
    case_facts = flatten_case(case)
    screened = screen_case(case, pack, as_of)
    if screened is not None:
        # Unknown (absent) while a possible match waits for the user's confirm or clear.
        if screened.entity_list is not None:
            case_facts["screen.entity_list"] = screened.entity_list
        case_facts["screen.approved_customer_list"] = screened.approved is not None
    chips = _resolve_chips(case, pack)
    if chips:
        domestic = [c.vendor_country == "CN" for c in chips if c.vendor_country]
        if len(domestic) == len(chips):
            case_facts["case.has_foreign_chip"] = not all(domestic)
            case_facts["case.has_domestic_chip"] = any(domestic)
    rows: list[DomesticAlternative] = []
    meets: bool | None = None
    stated_workload = alternatives.stated(case.use.workload)
    if any(c.vendor_country != "CN" for c in chips):
        rows = alternatives.compare(case.use.workload, pack.catalog)
        if stated_workload:
            meets = alternatives.meets_all(rows)
    # Weakness must be shown: a comparison left open by unknown catalog figures does not
    # contradict the buyer (the alternatives table shows what stayed open).
    meets_fact = (meets is True) if stated_workload else None
    item_facts = [_item_facts(i, item, chip, case_facts, pack.catalog, meets_fact)
                  for i, (item, chip) in enumerate(zip(case.order.items or [], chips,
                                                       strict=True))]
    return Prepared(case, as_of, case_facts, chips, item_facts, rows, screened)


def _resolve_chips(case: Case, pack: RulePack) -> list[ChipFacts]:
    """Each order line's chip: the catalog's (with figures the case may add where the
    catalog has none) or a custom chip classified from its spec."""
    chips: list[ChipFacts] = []
    for i, item in enumerate(case.order.items or []):
        if item.custom:
            assert item.spec is not None
            try:
                chips.append(facts_for_spec(item.spec))
            except UnclassifiableSpec as exc:
                raise UnclassifiableChip(i, ("spec", exc.field), str(exc)) from None
            continue
        assert item.chip is not None
        found = pack.catalog.resolve(item.chip)
        if found is None:
            raise UnknownChip(i, item.chip, pack.catalog.suggest(item.chip))
        listed = pack.catalog.facts(found.id)
        if item.spec is not None:
            conflict = contradicted_figure(pack.catalog.chips[found.id], item.spec)
            if conflict is not None:
                raise UnclassifiableChip(i, ("spec", *conflict[0]), conflict[1])
            listed = with_case_figures(listed, item.spec, pack.catalog.chips[found.id])
        chips.append(listed)
    return chips


def _item_facts(i: int, item: OrderItem, chip: ChipFacts, case_facts: dict[str, Any],
                catalog: Catalog, meets_fact: bool | None) -> dict[str, Any]:
    """One order line's view: the case's facts, its chip's, and the line's own figures;
    ``meets_fact`` is whether a domestic chip meets the stated workload (None: none stated)."""
    facts = dict(case_facts)
    if item.custom or item.spec is not None:
        facts.update(_chip_facts(chip))
    else:
        facts.update(_listed_chip_facts(catalog, chip.id))
    if item.spec is not None and item.spec.us_commercially_available_2026_01_15 is not None:
        stated = item.spec.us_commercially_available_2026_01_15
        facts["chip.us_commercially_available_2026_01_15"] = stated
        facts.setdefault("chip.us_available", stated)  # a catalog part the catalog left open
    if item.made_with_us_technology is not None:
        facts["item.made_with_us_technology"] = item.made_with_us_technology
    if item.quantity is not None:
        facts["item.quantity"] = float(item.quantity)
    if item.unit_price_usd is not None:
        facts["item.unit_price_usd"] = float(item.unit_price_usd)
    if item.quantity is not None and item.unit_price_usd is not None:
        value = float(item.quantity * item.unit_price_usd)
        if not math.isfinite(value):
            raise UnclassifiableChip(i, ("unit_price_usd",), "quantity x unit price is not a "
                                     "finite number (check unit_price_usd: US dollars)")
        facts["item.value_usd"] = value
    if chip.vendor_country != "CN" and meets_fact is not None:
        facts["item.domestic_alternative_meets_all"] = meets_fact
    return facts


def _fact_case_path(path: str, idx: int) -> str:
    spec = REGISTRY[path]
    template = spec.case_path or path
    return template.replace("{i}", str(idx)) if idx >= 0 else template


class Evaluator:
    """Evaluates cases against one rule pack; compiled packs are cached per date."""

    def __init__(self, pack: RulePack, runtime: Runtime | None = None) -> None:
        self.pack = pack
        self.runtime = runtime or Runtime()
        self._compiled: dict[dt.date, CompiledPack] = {}
        self._by_name: dict[str, CompiledPack] = {}
        self.ref = RulePackRef(id=pack.manifest.id, version=pack.manifest.version,
                               sha256=pack.sha256)
        self._source_refs: dict[str, SourceRef] = {}

    def _source_ref(self, sid: str) -> SourceRef:
        """A pack source as the decision cites it, built once per source (immutable)."""
        hit = self._source_refs.get(sid)
        if hit is None:
            hit = self._source_refs[sid] = _source_ref(self.pack, sid)
        return hit

    def compiled(self, as_of: dt.date) -> CompiledPack:
        hit = self._compiled.get(as_of)
        if hit is None:
            fresh = compile_pack(self.pack, as_of)
            hit = self._by_name.setdefault(fresh.name, fresh)
            if hit is not fresh:  # same rules and values: reuse, keep this date's as_of
                hit = CompiledPack(hit.name, as_of, hit.ruleset, hit.actions, hit.rules,
                                   hit.params, hit.revenue_share)
            self._compiled[as_of] = hit
        return hit

    def evaluate(self, case: Case, today: dt.date | None = None) -> Decision:
        return self.traced(case, today)[0]

    def traced(self, case: Case, today: dt.date | None = None) -> tuple[Decision, Trace]:
        """The decision with the trace it was built from (what fired, why, what stayed
        open), for readers that explain it without evaluating again."""
        prepared, compiled, trace = self.trace_case(case, today)
        return self._decide(prepared, compiled, trace), trace

    def trace_case(self, case: Case, today: dt.date | None = None,
                   prepared: Prepared | None = None) -> tuple[Prepared, CompiledPack, Trace]:
        """What a decision is built from (facts, compiled pack, the cross-checked trace),
        without building it: an audit proves most cases unchanged from this alone, and
        passes the facts another pack on the same catalog and lists prepared."""
        as_of = case.as_of or today or dt.date.today()
        if prepared is None:
            prepared = prepare(case, self.pack, as_of)
        compiled = self.compiled(as_of)
        firings = self.runtime.run(compiled, prepared.engine_facts())
        return prepared, compiled, crosscheck.check(prepared, compiled, firings, self.pack)

    def _decide(self, prep: Prepared, compiled: CompiledPack, trace: Trace) -> Decision:
        """Assemble the decision from the trace: per-line outcomes, findings, what is
        missing, the verdict."""
        pack = self.pack
        fir, open_ = trace.firings, trace.open
        st = reached(pack, len(prep.item_facts), fir, open_)
        items, share = self._items(prep, compiled, fir, open_, st)
        us_case_open, cn_case_open = st.could_worsen(st.every_open, st.us_case, st.cn_case)
        hits = _list_hits(self._source_ref, prep.screening)
        findings, conditions = self._findings(prep, compiled, trace, hits)

        missing: list[Missing] = []
        optional: list[Missing] = []
        to_confirm: list[ConditionToConfirm] = []
        if not st.blocked:
            missing, optional, to_confirm = self._open_facts(
                compiled, open_.undecided, open_.no_items, prep, st.impact)
        verdict = _verdict(st.blocked, missing, conditions, to_confirm, findings)
        if st.blocked:  # nothing ships, so no tariff or payment is due: show no share
            items = [it.model_copy(update={"revenue_share_pct": None, "revenue_share_usd": None})
                     for it in items]
        us_outcome = UsOutcome(
            status=st.shown(st.us_case, st.every_open, "us_status", US_ORDER, us_case_open,
                            UsStatus.not_controlled),
            revenue_share_pct=max(share.pcts) if share.pcts and not st.blocked else None,
            revenue_share_usd=round(share.total_usd, 2)
            if share.pcts and share.usd_known and not st.blocked else None,
            revenue_share_basis=[] if st.blocked else share.bases,
            undecided_rules=us_case_open,
        )
        cn_outcome = CnOutcome(
            status=st.shown(st.cn_case, st.every_open, "cn_status", CN_ORDER, cn_case_open,
                            _cn_best(pack, prep, compiled)),
            undecided_rules=cn_case_open)

        changes: list[ChangeOption] = []
        if st.blocked:
            changes = self._lift_blocks(compiled, fir.fired, fir.derived, prep, open_.lookup_at)
        elif missing:
            changes = self._settle(compiled, open_.undecided, missing, prep, open_.lookup_at,
                                   st.impact)
        uncertain = sorted({f"{it.chip}: {fig}" for it in items for fig in it.uncertain_figures})
        horizon = pack.manifest.reviewed_until
        return Decision(
            case_id=prep.case.id, as_of=prep.as_of, rule_pack=self.ref, verdict=verdict,
            us=us_outcome, cn=cn_outcome, items=items, findings=findings,
            conditions=conditions, missing=missing, domestic_alternatives=prep.alternatives,
            reported_only=[f.rule for f in findings if f.confidence is not Confidence.official],
            uncertain_figures=uncertain, list_matches=hits,
            screening=prep.screening.report if prep.screening else None,
            conditions_to_confirm=to_confirm, optional_facts=optional,
            what_would_change=changes, reviewed_until=horizon,
            warnings=_horizon_warnings(prep.as_of, horizon),
        )

    def _items(self, prep: Prepared, compiled: CompiledPack, fir: Firings, open_: OpenRules,
               st: Statuses) -> tuple[list[ItemOutcome], _Share]:
        """One outcome per order line, and the revenue share summed over the lines."""
        pack = self.pack
        items: list[ItemOutcome] = []
        share_sum = _Share()
        for i, chip in enumerate(prep.chips):
            here = fir.rules_at(i)
            item_open = open_.open_at[i] + open_.open_at[CASE_IDX]
            us_open, cn_open = st.could_worsen(item_open, st.us_reached[i], st.cn_reached[i])
            share_rules = sorted((compiled.revenue_share[r], r) for r in here
                                 if r in compiled.revenue_share)
            share = share_rules[-1][0] if share_rules else None
            basis = pack.rules_by_id[share_rules[-1][1]].rule.then.revenue_share_basis \
                if share_rules else None
            if basis is not None and basis not in share_sum.bases:
                share_sum.bases.append(basis)
            usd = None
            item = (prep.case.order.items or [])[i]
            if share is not None:
                share_sum.pcts.append(share)
                if item.quantity is not None and item.unit_price_usd is not None:
                    usd = round(share / 100 * item.quantity * item.unit_price_usd, 2)
                    share_sum.total_usd += usd
                else:
                    share_sum.usd_known = False
            eccns = sorted(str(v) for v in fir.derived[i].get("eccn", []))
            cls, reason = self._classification(i, fir.derived[i], open_.open_at[i],
                                               open_.undecided)
            items.append(ItemOutcome(
                index=i, chip=chip.id, chip_name=chip.name, eccn=eccns[0] if eccns else None,
                classification=cls, classification_reason=reason,
                tpp=chip.tpp, performance_density=chip.performance_density,
                us_status=st.shown(st.us_reached[i], item_open, "us_status", US_ORDER, us_open,
                                   UsStatus.not_controlled),
                cn_status=st.shown(st.cn_reached[i], item_open, "cn_status", CN_ORDER, cn_open,
                                   _cn_best(pack, prep, compiled)),
                revenue_share_pct=share, revenue_share_usd=usd, revenue_share_basis=basis,
                uncertain_figures=list(chip.uncertain_figures),
                figure_sources=list(chip.figure_sources),
                figure_source_refs=[self._source_ref(s) for s in chip.figure_sources
                                    if s in pack.sources],
                undecided_rules=sorted(set(us_open) | set(cn_open)),
            ))
        return items, share_sum

    def _findings(self, prep: Prepared, compiled: CompiledPack, trace: Trace,
                  hits: list[ListHit]) -> tuple[list[Finding], list[ConditionItem]]:
        """A finding per fired rule that is not silent (stratum order: causes before
        consequences), and the conditions fired rules set."""
        pack = self.pack
        fir = trace.firings
        findings: list[Finding] = []
        conditions: list[ConditionItem] = []
        for cr in compiled.rules:
            rid = cr.rule.id
            if rid not in fir.fired:
                continue
            rule = cr.rule
            idxs = sorted(fir.fired[rid])
            if rule.then.condition is not None:
                conditions.append(ConditionItem(rule=rid, text=rule.then.condition))
            if rule.silent:
                continue
            reasons = trace.because(rid, idxs[0])
            parents = sorted({r for fid in fir.used[rid] for r in fir.derived_by.get(fid, ())})
            known = [s for s in rule.sources if pack.sources[s].date <= prep.as_of]
            context = [s for s in rule.context_sources if pack.sources[s].date <= prep.as_of]
            later = [s for s in (*rule.sources, *rule.context_sources)
                     if pack.sources[s].date > prep.as_of]
            sources = [self._source_ref(s) for s in known]
            confidence = _claim_confidence(pack, rule, known)
            match = _deciding_hit(cr, hits)
            if match is not None:  # the authority is the matched entry's own listing notice
                sources = list(match.sources)
                confidence = Confidence.official if any(
                    s.confidence is Confidence.official for s in sources) else (
                    Confidence.reported if any(s.confidence is Confidence.reported
                                               for s in sources) else Confidence.uncertain)
            findings.append(Finding(
                rule=rid, jurisdiction=rule.jurisdiction, severity=rule.severity,
                title=rule.title, summary=rule.summary,
                items=[i for i in idxs if i >= 0],
                sources=sources, confidence=confidence,
                context_sources=[self._source_ref(s) for s in context],
                later_sources=[self._source_ref(s) for s in sorted(set(later), key=later.index)],
                because=reasons, derived_from=parents, valid_from=rule.valid_from,
                valid_to=rule.valid_to, list_match=match,
            ))
        return findings, conditions

    def _classification(self, idx: int, derived: dict[str, list[Any]],
                        open_rules: list[CompiledRule],
                        undecided: dict[str, dict[int, frozenset[str]]],
                        ) -> tuple[Classification, str | None]:
        """3A090.a, 3A090.b, not_3A090 (with the reason a rule derived) or undetermined.

        Read from the derived ``classification`` (and ``classification_reason``), else
        from ``eccn``; undetermined while a rule that classifies is open.
        """
        stated = {str(v) for v in derived.get("classification", [])} | {
            str(v) for v in derived.get("eccn", [])}
        reasons = sorted(str(v) for v in derived.get("classification_reason", []))
        for cls in (Classification.a, Classification.b, Classification.not_3a090):
            if cls.value in stated:
                reason = ", ".join(reasons) if cls is Classification.not_3a090 and reasons \
                    else None
                return cls, reason
        waits = sorted({_fact_case_path(p, idx) for cr in open_rules
                        if {"eccn", "classification"} & set(cr.rule.then.derive)
                        for p in undecided[cr.rule.id].get(idx, ())})
        if waits:
            return Classification.undetermined, "waits for " + ", ".join(waits)
        return Classification.undetermined, "no classification rule applies"

    def _open_facts(
        self, compiled: CompiledPack, undecided: dict[str, dict[int, frozenset[str]]],
        no_items: list[CompiledRule], prep: Prepared,
        impact: Callable[[CompiledRule, int], Impact | None],
    ) -> tuple[list[Missing], list[Missing], list[ConditionToConfirm]]:
        """Facts open rules wait for, split into decisive (missing) and condition-only ones.

        A fact is decisive when an open rule waiting for it could block or change a status;
        a precondition (``requires``) is always decisive, as it opens or closes a path.
        """
        needs: dict[str, set[str]] = defaultdict(set)
        level: dict[str, Impact] = {}

        def note(path: str, rid: str, how: Impact) -> None:
            needs[path].add(rid)
            if path not in level or _IMPACT_ORDER.index(how) < _IMPACT_ORDER.index(level[path]):
                level[path] = how

        confirm: dict[str, tuple[Text, list[str], set[str]]] = {}
        for cr in compiled.rules:
            for idx, paths in undecided.get(cr.rule.id, {}).items():
                how = impact(cr, idx)
                if how is None:
                    continue
                required = {t.path for t in C.fact_tests(cr.requirement)} \
                    if cr.requirement is not None else set()
                for path in sorted(paths):
                    step = Impact.could_change_status if how is Impact.condition_only and \
                        path in required else how
                    for asked in _ask(path, idx, prep):
                        note(asked, cr.rule.id, step)
                if how is Impact.condition_only:
                    text = cr.rule.then.condition or cr.rule.title
                    _, tests, facts = confirm.setdefault(cr.rule.id, (text, [], set()))
                    for line in kleene.open_tests(cr.condition, prep.facts_for(idx),
                                                  compiled.params):
                        if line not in tests:
                            tests.append(line)
                    facts.update(a for p in paths for a in _ask(p, idx, prep))
        for cr in no_items:
            how = impact(cr, -1)
            if how is not None:
                note("order.items", cr.rule.id, how)
        missing: list[Missing] = []
        optional: list[Missing] = []
        for path in sorted(needs, key=lambda p: (_IMPACT_ORDER.index(level[p]),
                                                 list(Owner).index(self._owner(p)), p)):
            question = _review_question(prep) if path == REVIEW_PATH else self._question(path)
            entry = Missing(fact=path, question=question, rules=sorted(needs[path]),
                            owner=self._owner(path), impact=level[path])
            (optional if level[path] is Impact.condition_only else missing).append(entry)
        decisive = {m.fact for m in missing}
        to_confirm = [
            ConditionToConfirm(rule=rid, text=text, applies_if=tests, facts=sorted(facts))
            for rid, (text, tests, facts) in confirm.items()
            if not facts <= decisive or not tests  # else it waits on decisive facts alone
        ]
        return missing, optional, to_confirm

    def _lift_blocks(self, compiled: CompiledPack, fired: dict[str, set[int]],
                     derived: dict[int, dict[str, list[Any]]], prep: Prepared,
                     lookup_at: Callable[[int], kleene.DerivedLookup]) -> list[ChangeOption]:
        """For each fired blocking rule, the smallest changes of facts that would lift it."""
        pack = self.pack
        by_rule = {cr.rule.id: cr for cr in compiled.rules}

        def lifter(idx: int) -> counterfactual.Lifter:
            def lift_derived(test: C.DerivedTest) -> counterfactual.Alternatives:
                scope = pack.derived_scopes.get(test.key, Scope.case)
                at = idx if scope is Scope.item else CASE_IDX
                want = None if test.values is None else [derived_value(v) for v in test.values]
                sources = [cr for cr in compiled.rules if at in fired.get(cr.rule.id, ())
                           and test.key in cr.rule.then.derive
                           and (want is None or derived_value(cr.rule.then.derive[test.key])
                                in want)]
                return counterfactual._product(
                    [lifter(at).falsify(cr.condition) for cr in sources])
            return counterfactual.Lifter(prep.facts_for(idx), compiled.params, lookup_at(idx),
                                         lift_derived)

        out: list[ChangeOption] = []
        for cr in compiled.rules:
            rid = cr.rule.id
            if rid not in fired or cr.rule.severity is not Severity.block:
                continue
            first = sorted(fired[rid])[0]
            lines = counterfactual.lines(lifter(first).falsify(by_rule[rid].condition))
            out.append(ChangeOption(subject=rid, kind="block", changes=lines))
        return out

    def _settle(self, compiled: CompiledPack, undecided: dict[str, dict[int, frozenset[str]]],
                missing: list[Missing], prep: Prepared,
                lookup_at: Callable[[int], kleene.DerivedLookup],
                impact: Callable[[CompiledRule, int], Impact | None]) -> list[ChangeOption]:
        """For each decisive fact, which answers apply or rule out the rules waiting for it."""
        wanted = {m.fact for m in missing}
        lines: dict[str, list[str]] = defaultdict(list)
        for cr in compiled.rules:
            for idx, paths in undecided.get(cr.rule.id, {}).items():
                how = impact(cr, idx)
                if how not in (Impact.could_block, Impact.could_change_status):
                    continue
                facts = prep.facts_for(idx)
                for path in sorted(paths):
                    case_path = _fact_case_path(path, idx)
                    if case_path not in wanted:
                        continue
                    for test in C.fact_tests(cr.condition):
                        if test.path != path:
                            continue
                        for negate in (False, True):
                            value = _witness(test, compiled.params, negate)
                            if value is None:
                                continue
                            truth = kleene.evaluate(cr.condition, {**facts, path: value},
                                                    compiled.params, lookup_at(idx)).value
                            effect = {True: f"{cr.rule.id} applies"
                                      + (" (block)" if how is Impact.could_block else ""),
                                      False: f"rules out {cr.rule.id}",
                                      None: f"{cr.rule.id} then waits for other facts"}[truth]
                            label = f"{path} = {kleene._show(path, value)}" \
                                if REGISTRY[path].kind in (Kind.boolean, Kind.choice) else \
                                kleene.describe(test, compiled.params, negate)
                            line = f"{label}: {effect}"
                            if line not in lines[case_path]:
                                lines[case_path].append(line)
        out = []
        for m in missing:
            found = lines.get(m.fact, [])
            settled = [line for line in found if not line.endswith("waits for other facts")]
            if found:
                out.append(ChangeOption(subject=m.fact, kind="fact",
                                        changes=(settled or found)[:8]))
        return out

    def _owner(self, case_path: str) -> Owner:
        q = self.pack.questions.get(_generic_path(case_path)) or \
            self.pack.questions.get(case_path)
        return q.owner if q is not None else Owner.buyer

    def _question(self, case_path: str) -> Text:
        generic = _generic_path(case_path)
        q = self.pack.questions.get(generic) or self.pack.questions.get(case_path)
        if q is not None:
            return q.text
        return Text(en=f"Please provide {case_path}.", zh=f"请提供 {case_path}。")


_IMPACT_ORDER = list(Impact)


@dataclass
class _Share:
    """The revenue share over all order lines: percentages, dollars, legal bases."""

    pcts: list[float] = field(default_factory=list)
    total_usd: float = 0.0
    usd_known: bool = True
    bases: list[Text] = field(default_factory=list)


def _verdict(blocked: bool, missing: list[Missing], conditions: list[ConditionItem],
             to_confirm: list[ConditionToConfirm], findings: list[Finding]) -> Verdict:
    if blocked:
        return Verdict.no_go
    if any(m.owner is not Owner.exporter for m in missing):
        # The exporter's facts (its certifications) the buyer cannot answer: they are
        # listed for the exporter and the verdict stays conditional on them.
        return Verdict.needs_information
    if conditions or to_confirm or missing or any(
            f.severity is Severity.condition for f in findings):
        return Verdict.go_with_conditions
    return Verdict.go


def _horizon_warnings(as_of: dt.date, horizon: dt.date | None) -> list[Notice]:
    """A warning when the decision date is after the pack's sources were last reviewed."""
    warnings: list[Notice] = []
    if horizon is not None and as_of > horizon:
        warnings.append(Notice(code="after_review_horizon", text=Text(
            en=f"Decided for {as_of}, after {horizon}, the date up to which this rule "
               "pack's sources were reviewed: rules may have changed since; check for newer "
               "measures.",
            zh=f"判定日期{as_of}晚于本规则包来源的审阅截止日{horizon}：此后规则可能已有变化，"
               "请核查是否有新的措施。")))
    return warnings



def _cn_best(pack: RulePack, prep: Prepared, compiled: CompiledPack) -> CnStatus:
    """The best CN status a case can show: "no objection", or "not applicable" when the
    Chinese measures do not reach the case at all."""
    outside = _outside_cn_scope(pack, prep.case_facts, compiled.params)
    return CnStatus.not_applicable if outside else CnStatus.no_objection


def _outside_cn_scope(pack: RulePack, facts: dict[str, Any], params: dict[str, Any]) -> bool:
    """Whether every module with CN rules is out of scope for the case (its ``applies_when``
    is false, not unknown): then no CN status is "no objection", the measures do not apply."""
    modules = {cr.module for cr in pack.rules if cr.rule.jurisdiction is Jurisdiction.CN}
    scopes = [pack.module_scopes.get(m) for m in sorted(modules)]
    return bool(scopes) and all(
        scope is not None and kleene.evaluate(
            scope, facts, params, lambda _test: kleene.Truth(None, frozenset())).value is False
        for scope in scopes)


def _claim_confidence(pack: RulePack, rule: Rule, known_sources: list[str]) -> Confidence:
    """The rule's stated confidence, else the weakest of its operative sources known then."""
    if rule.confidence is not None:
        return rule.confidence if known_sources else weakest([rule.confidence,
                                                              Confidence.uncertain])
    return pack.confidence(known_sources)


def _witness(test: C.FactTest, params: Mapping[str, Any], negate: bool) -> Any:
    """An engine value for which the test holds (or, negated, fails); None if none is simple."""
    spec = REGISTRY[test.path]
    vals = test.value if isinstance(test.value, tuple) else (test.value,)
    engine = [_engine_value(test.path, kleene.resolve(v, params)) for v in vals]
    if test.op == "nonempty":
        return "" if negate else "stated"
    if spec.kind is Kind.boolean:
        holds = engine[0] if test.op == "eq" else not engine[0]
        return (not holds) if negate else holds
    if test.op in ("in", "not_in", "eq", "ne"):
        inside = (test.op in ("in", "eq")) != negate
        if inside:
            return engine[0]
        if spec.kind is Kind.choice:
            rest = [c for c in spec.choices if c not in engine]
            return rest[0] if rest else None
        if spec.kind in (Kind.number, Kind.date):
            return max(engine) + 1
        return None
    t = engine[0]
    step = 1.0
    holds_at = {"gt": t + step, "gte": t, "lt": t - step, "lte": t}[test.op]
    fails_at = {"gt": t, "gte": t - step, "lt": t, "lte": t + step}[test.op]
    return fails_at if negate else holds_at


#: Where a user answers a possible list match: confirm or clear it in the case.
REVIEW_PATH = "screening.cleared"


def _screening_path(path: str, prep: Prepared) -> str | None:
    """An undecided list fact waits for the user's review when names were screened."""
    if path == "screen.entity_list" and prep.screening is not None:
        return REVIEW_PATH
    return None


def _review_question(prep: Prepared) -> Text:
    open_ = prep.screening.open_reviews if prep.screening else []
    named = "; ".join(f"'{m.matched_name}' ~ {m.entry_name} ({m.entry_id}, {m.how.value})"
                      for m in open_)
    return Text(
        en=f"Possible list match: {named}. Check it, then record in the case "
           "screening: {confirmed: [entry-id]} if it is that party, or "
           "screening: {cleared: [entry-id], reason: ...} if it is not.",
        zh=f"可能的清单匹配：{named}。请核实后在案例中记录：若为该主体，填写 "
           "screening: {confirmed: [条目id]}；若不是，填写 "
           "screening: {cleared: [条目id], reason: 理由}。")


def _source_refs(cite: Callable[[str], SourceRef], match: ListMatch) -> list[SourceRef]:
    refs = [cite(s) for s in match.sources]
    if match.citation is not None:
        c = match.citation
        refs.insert(0, SourceRef(id=f"{match.list_id}:{match.entry_id}", name=c.name,
                                 date=c.date, url=c.url, confidence=Confidence.official))
    return refs


def _list_hits(cite: Callable[[str], SourceRef],
               screened: CaseScreening | None) -> list[ListHit]:
    """Every match the decision reports: blocks, confirmed and open possible matches, and
    the approved-customer hit."""
    if screened is None:
        return []
    out: list[ListHit] = []
    for m in screened.hits:
        tier = "block" if m.tier.value == "block" or m in screened.confirmed else "review"
        out.append(ListHit(
            fact="screen.entity_list", list_id=m.list_id, entry_id=m.entry_id,
            entry_name=m.entry_name, matched_name=m.matched_name, matched_on=m.matched_on,
            how=m.how.value, tier=tier, score=m.score, since=m.since, reference=m.reference,
            sources=_source_refs(cite, m)))
    if screened.approved is not None:
        m = screened.approved
        out.append(ListHit(
            fact="screen.approved_customer_list", list_id=m.list_id, entry_id=m.entry_id,
            entry_name=m.entry_name, matched_name=m.matched_name, matched_on=m.matched_on,
            how=m.how.value, tier="block", score=m.score, since=m.since,
            reference=m.reference, sources=_source_refs(cite, m)))
    return out


def _deciding_hit(cr: CompiledRule, hits: list[ListHit]) -> ListHit | None:
    """For a rule that fired on the Entity List fact: the match that made it true."""
    if not any(t.path == "screen.entity_list" for t in C.fact_tests(cr.condition)):
        return None
    return next((h for h in hits if h.fact == "screen.entity_list" and h.tier == "block"), None)


def _ask(path: str, idx: int, prep: Prepared) -> list[str]:
    """Where a missing fact is answered: the screening review, or the case fields."""
    review = _screening_path(path, prep)
    return [review] if review else _asked_paths(path, idx, prep.case_facts)


def _asked_paths(path: str, idx: int, case_facts: dict[str, Any]) -> list[str]:
    """The case fields to ask for a missing fact: a computed fact names the unanswered
    fields that supply it (the domestic comparison: the workload), else its own path."""
    asks = REGISTRY[path].asks
    if asks:
        return [p for p in asks if p not in case_facts] or [_fact_case_path(path, idx)]
    return [_fact_case_path(path, idx)]


def _generic_path(case_path: str) -> str:
    return re.sub(r"\[\d+\]", "[]", case_path)


def _source_ref(pack: RulePack, sid: str) -> SourceRef:
    s = pack.sources[sid]
    return SourceRef(id=s.id, name=s.name, date=s.date, url=s.url, confidence=s.confidence)
