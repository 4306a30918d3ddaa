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
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from chipclear.decide import alternatives, crosscheck, kleene
from chipclear.decide.compile import CompiledPack, compile_pack, derived_value
from chipclear.decide.runtime import Runtime
from chipclear.model.case import Case
from chipclear.model.decision import (
    CnOutcome,
    ConditionItem,
    Decision,
    DomesticAlternative,
    Finding,
    ItemOutcome,
    ListHit,
    Missing,
    RulePackRef,
    SourceRef,
    UsOutcome,
    Verdict,
)
from chipclear.pack import conditions as C
from chipclear.pack.catalog import (
    ChipFacts,
    UnclassifiableSpec,
    facts_for_spec,
    with_case_figures,
)
from chipclear.pack.facts import REGISTRY, Scope, engine_key, flatten_case, normalise
from chipclear.pack.loader import (
    CN_ORDER,
    US_ORDER,
    CnStatus,
    CompiledRule,
    RulePack,
    Severity,
    Text,
    UsStatus,
)
from chipclear.pack.sources import Confidence
from chipclear.screening.match import ListMatch
from chipclear.screening.outcome import CaseScreening, screen_case

CASE_IDX = -1


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
        "chip.us_available": None if chip.custom else chip.us_available_since is not None,
        "chip.us_available_since": chip.us_available_since, "chip.tpp": chip.tpp,
        "chip.performance_density": chip.performance_density, "chip.memory_gb": chip.memory_gb,
        "chip.memory_bandwidth_gbs": chip.memory_bandwidth_gbs,
        "chip.io_bandwidth_gbs": chip.io_bandwidth_gbs, "chip.fp8": chip.fp8,
        "chip.domestic": None if chip.vendor_country is None else chip.vendor_country == "CN",
    }
    return {k: normalise(v) for k, v in values.items() if v is not None}


def prepare(case: Case, pack: RulePack, as_of: dt.date) -> Prepared:
    """Flatten the case, resolve chips, screen names and compare domestic alternatives."""
    case_facts = flatten_case(case)
    screened = screen_case(case, pack, as_of)
    if screened is not None:
        # Unknown (absent) while a possible match waits for the user's confirm or clear.
        if screened.entity_list is not None:
            case_facts["screen.entity_list"] = screened.entity_list
        case_facts["screen.approved_customer_list"] = screened.approved is not None
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
        chips.append(listed if item.spec is None else with_case_figures(listed, item.spec))
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
    item_facts: list[dict[str, Any]] = []
    for i, chip in enumerate(chips):
        item = (case.order.items or [])[i]
        facts = dict(case_facts)
        facts.update(_chip_facts(chip))
        if item.spec is not None and item.spec.us_commercially_available_2026_01_15 is not None:
            facts["chip.us_commercially_available_2026_01_15"] = \
                item.spec.us_commercially_available_2026_01_15
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
        if chip.vendor_country != "CN" and stated_workload:
            # Weakness must be shown: a comparison left open by unknown catalog figures does
            # not contradict the buyer (the alternatives table shows what stayed open).
            facts["item.domestic_alternative_meets_all"] = meets is True
        item_facts.append(facts)
    return Prepared(case, as_of, case_facts, chips, item_facts, rows, screened)


def _worst(statuses: list[Any], order: list[Any]) -> Any:
    return max(statuses, key=order.index)


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
        as_of = case.as_of or today or dt.date.today()
        prepared = prepare(case, self.pack, as_of)
        compiled = self.compiled(as_of)
        firings = self.runtime.run(compiled, prepared.engine_facts())
        crosscheck.check(prepared, compiled, firings, self.pack.derived_scopes)
        return self._decide(prepared, compiled, firings)

    def _decide(self, prep: Prepared, compiled: CompiledPack, firings: list[Any]) -> Decision:
        pack = self.pack
        fired: dict[str, set[int]] = defaultdict(set)
        derived: dict[int, dict[str, list[Any]]] = defaultdict(lambda: defaultdict(list))
        derived_by: dict[str, set[str]] = defaultdict(set)  # derived fact id -> rules
        used: dict[str, set[str]] = defaultdict(set)  # rule -> derived fact ids it used
        for f in firings:
            spec = compiled.actions[f.action]
            fired[spec.rule_id].add(f.idx)
            used[spec.rule_id].update(f.derived_ids)
            for key, value in pack.rules_by_id[spec.rule_id].rule.then.derive.items():
                v = derived_value(value)
                if v not in derived[f.idx][key]:
                    derived[f.idx][key].append(v)
                derived_by[f"{key}={v}@{f.idx}"].add(spec.rule_id)

        n_items = len(prep.item_facts)
        instances = {Scope.case: [CASE_IDX], Scope.item: list(range(n_items))}
        # Undecided rules, in stratum order, so derived facts inherit pending facts.
        pending: dict[tuple[str, int], frozenset[str]] = {}  # (derived key, idx) -> facts
        undecided: dict[str, dict[int, frozenset[str]]] = defaultdict(dict)
        for cr in compiled.rules:
            for idx in instances[cr.scope]:
                if idx in fired.get(cr.rule.id, ()):
                    continue

                def lookup(test: C.DerivedTest, idx: int = idx) -> kleene.Truth:
                    scope = pack.derived_scopes.get(test.key, Scope.case)
                    at = idx if scope is Scope.item else CASE_IDX
                    have = derived[at].get(test.key, [])
                    want = None if test.values is None else \
                        [derived_value(v) for v in test.values]
                    if any(want is None or v in want for v in have):
                        return kleene.TRUE
                    wait = pending.get((test.key, at))
                    return kleene.Truth(None, wait) if wait else kleene.FALSE

                truth = kleene.evaluate(cr.condition, prep.facts_for(idx), compiled.params, lookup)
                if truth.value is None:
                    undecided[cr.rule.id][idx] = truth.unknown
                    for key in cr.rule.then.derive:
                        pending[(key, idx)] = pending.get((key, idx), frozenset()) | truth.unknown

        def rules_at(idx: int) -> list[str]:
            return [rid for rid, idxs in fired.items() if idx in idxs or CASE_IDX in idxs]

        # Statuses per item, then the worst over items and case-level rules.
        items: list[ItemOutcome] = []
        total_usd = 0.0
        usd_known = True
        shares: list[float] = []
        for i, chip in enumerate(prep.chips):
            here = rules_at(i)
            us_set = [pack.rules_by_id[r].rule.then.us_status for r in here]
            cn_set = [pack.rules_by_id[r].rule.then.cn_status for r in here]
            us_status = _worst([s for s in us_set if s] or [UsStatus.not_controlled], US_ORDER)
            cn_status = _worst([s for s in cn_set if s] or [CnStatus.no_objection], CN_ORDER)
            share_rules = [compiled.revenue_share[r] for r in here if r in compiled.revenue_share]
            share = max(share_rules) if share_rules else None
            usd = None
            item = (prep.case.order.items or [])[i]
            if share is not None:
                shares.append(share)
                if item.quantity is not None and item.unit_price_usd is not None:
                    usd = round(share / 100 * item.quantity * item.unit_price_usd, 2)
                    total_usd += usd
                else:
                    usd_known = False
            eccns = sorted(str(v) for v in derived[i].get("eccn", []))
            items.append(ItemOutcome(
                index=i, chip=chip.id, chip_name=chip.name, eccn=eccns[0] if eccns else None,
                tpp=chip.tpp, performance_density=chip.performance_density,
                us_status=us_status, cn_status=cn_status, revenue_share_pct=share,
                revenue_share_usd=usd, uncertain_figures=list(chip.uncertain_figures),
                figure_sources=list(chip.figure_sources),
            ))
        case_rules = rules_at(CASE_IDX)
        case_thens = [pack.rules_by_id[r].rule.then for r in case_rules]
        us_all = [it.us_status for it in items] + [t.us_status for t in case_thens if t.us_status]
        cn_all = [it.cn_status for it in items] + [t.cn_status for t in case_thens if t.cn_status]
        us_outcome = UsOutcome(
            status=_worst(us_all or [UsStatus.not_controlled], US_ORDER),
            revenue_share_pct=max(shares) if shares else None,
            revenue_share_usd=round(total_usd, 2) if shares and usd_known else None,
        )
        cn_outcome = CnOutcome(status=_worst(cn_all or [CnStatus.no_objection], CN_ORDER))

        hits = _list_hits(pack, prep.screening)
        findings: list[Finding] = []
        conditions: list[ConditionItem] = []
        for cr in compiled.rules:  # stratum order: causes before consequences
            rid = cr.rule.id
            if rid not in fired:
                continue
            rule = cr.rule
            idxs = sorted(fired[rid])
            if rule.then.condition is not None:
                conditions.append(ConditionItem(rule=rid, text=rule.then.condition))
            if rule.silent:
                continue
            first = idxs[0]
            view = {**derived[CASE_IDX], **derived[first]}
            reasons = kleene.because(cr.condition, prep.facts_for(first), compiled.params, view)
            parents = sorted({r for fid in used[rid] for r in derived_by.get(fid, ())})
            sources = [_source_ref(pack, s) for s in rule.sources]
            confidence = pack.confidence(rule.sources)
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
                sources=sources, confidence=confidence, because=reasons,
                derived_from=parents, valid_from=rule.valid_from, valid_to=rule.valid_to,
                list_match=match,
            ))

        blocked = any(f.severity is Severity.block for f in findings) or any(
            pack.rules_by_id[r].rule.severity is Severity.block for r in fired)
        if blocked:  # nothing ships, so no tariff or payment is due: show no share
            items = [it.model_copy(update={"revenue_share_pct": None, "revenue_share_usd": None})
                     for it in items]
            us_outcome = us_outcome.model_copy(
                update={"revenue_share_pct": None, "revenue_share_usd": None})
        missing: list[Missing] = []
        if not blocked:
            missing = self._missing(compiled, undecided, n_items, prep)
        if blocked:
            verdict = Verdict.no_go
        elif any(m.owner is None for m in missing):
            verdict = Verdict.needs_information
        elif conditions or any(f.severity is Severity.condition for f in findings):
            verdict = Verdict.go_with_conditions
        else:
            verdict = Verdict.go
        uncertain = sorted({f"{it.chip}: {fig}" for it in items for fig in it.uncertain_figures})
        return Decision(
            case_id=prep.case.id, as_of=prep.as_of, rule_pack=self.ref, verdict=verdict,
            us=us_outcome, cn=cn_outcome, items=items, findings=findings,
            conditions=conditions, missing=missing, domestic_alternatives=prep.alternatives,
            reported_only=[f.rule for f in findings if f.confidence is not Confidence.official],
            uncertain_figures=uncertain, list_matches=hits,
            screening=prep.screening.report if prep.screening else None,
        )

    def _missing(self, compiled: CompiledPack, undecided: dict[str, dict[int, frozenset[str]]],
                 n_items: int, prep: Prepared) -> list[Missing]:
        """Facts that undecided rules able to change the outcome are waiting for."""
        needs: dict[str, set[str]] = defaultdict(set)
        for cr in compiled.rules:
            if not _matters(cr):
                continue
            for idx, paths in undecided.get(cr.rule.id, {}).items():
                for path in paths:
                    review = _screening_path(path, prep)
                    for asked in [review] if review else _asked_paths(path, idx,
                                                                      prep.case_facts):
                        needs[asked].add(cr.rule.id)
        if n_items == 0 and any(cr.scope is Scope.item and _matters(cr) for cr in compiled.rules):
            needs["order.items"].update(
                cr.rule.id for cr in compiled.rules if cr.scope is Scope.item and _matters(cr))
        out = []
        for path in sorted(needs):
            q = self.pack.questions.get(_generic_path(path)) or self.pack.questions.get(path)
            owner = q.owner if q is not None and q.owner != "buyer" else None
            question = _review_question(prep) if path == REVIEW_PATH else self._question(path)
            out.append(Missing(fact=path, question=question, rules=sorted(needs[path]),
                               owner=owner))
        return out

    def _question(self, case_path: str) -> Text:
        generic = _generic_path(case_path)
        q = self.pack.questions.get(generic) or self.pack.questions.get(case_path)
        if q is not None:
            return q.text
        return Text(en=f"Please provide {case_path}.", zh=f"请提供 {case_path}。")


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


def _source_refs(pack: RulePack, match: ListMatch) -> list[SourceRef]:
    refs = [_source_ref(pack, s) for s in match.sources]
    if match.citation is not None:
        c = match.citation
        refs.insert(0, SourceRef(id=f"{match.list_id}:{match.entry_id}", name=c.name,
                                 date=c.date, url=c.url, confidence=Confidence.official))
    return refs


def _list_hits(pack: RulePack, screened: CaseScreening | None) -> list[ListHit]:
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
            sources=_source_refs(pack, m)))
    if screened.approved is not None:
        m = screened.approved
        out.append(ListHit(
            fact="screen.approved_customer_list", list_id=m.list_id, entry_id=m.entry_id,
            entry_name=m.entry_name, matched_name=m.matched_name, matched_on=m.matched_on,
            how=m.how.value, tier="block", score=m.score, since=m.since,
            reference=m.reference, sources=_source_refs(pack, m)))
    return out


def _deciding_hit(cr: CompiledRule, hits: list[ListHit]) -> ListHit | None:
    """For a rule that fired on the Entity List fact: the match that made it true."""
    if not any(t.path == "screen.entity_list" for t in C.fact_tests(cr.condition)):
        return None
    return next((h for h in hits if h.fact == "screen.entity_list" and h.tier == "block"), None)


def _asked_paths(path: str, idx: int, case_facts: dict[str, Any]) -> list[str]:
    """The case fields to ask for a missing fact: a computed fact names the unanswered
    fields that supply it (the domestic comparison: the workload), else its own path."""
    asks = REGISTRY[path].asks
    if asks:
        return [p for p in asks if p not in case_facts] or [_fact_case_path(path, idx)]
    return [_fact_case_path(path, idx)]


def _matters(cr: CompiledRule) -> bool:
    """Whether a rule can change the outcome (an info-only rule cannot)."""
    then = cr.rule.then
    return bool(cr.rule.severity is not Severity.info or then.us_status or then.cn_status
                or then.revenue_share_pct is not None or then.condition is not None)


def _generic_path(case_path: str) -> str:
    return re.sub(r"\[\d+\]", "[]", case_path)


def _source_ref(pack: RulePack, sid: str) -> SourceRef:
    s = pack.sources[sid]
    return SourceRef(id=s.id, name=s.name, date=s.date, url=s.url, confidence=s.confidence)
