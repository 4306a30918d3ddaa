"""The rules that did not fire, evaluated three-valued: which are still open, and on
which facts they wait. Derived facts inherit the facts their open deriving rules wait
for, so the rules are walked in stratum order."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from chipclear.decide import kleene
from chipclear.decide.compile import CompiledPack, derived_value
from chipclear.decide.firings import CASE_IDX, Firings
from chipclear.pack import conditions as C
from chipclear.pack.facts import Scope
from chipclear.pack.loader import CompiledRule, RulePack

if TYPE_CHECKING:
    from chipclear.decide.evaluate import Prepared


@dataclass
class OpenRules:
    """Rules whose outcome the known facts leave open, per instance."""

    pack: RulePack
    firings: Firings
    #: (derived key, instance) -> facts an open rule deriving it waits for
    pending: dict[tuple[str, int], frozenset[str]] = field(default_factory=dict)
    #: rule id -> instance -> facts it waits for
    undecided: defaultdict[str, dict[int, frozenset[str]]] = field(
        default_factory=lambda: defaultdict(dict))
    #: instance -> open rules there, in stratum order
    open_at: defaultdict[int, list[CompiledRule]] = field(
        default_factory=lambda: defaultdict(list))
    #: (rule id, instance) -> three-valued result, for every instance where it did not fire
    results: dict[tuple[str, int], kleene.Truth] = field(default_factory=dict)
    #: with no order lines known, every item rule is still open
    no_items: list[CompiledRule] = field(default_factory=list)

    def __getstate__(self) -> dict[str, Any]:
        """Pickled without the pack: a worker sends its trace to the interview, whose
        process has the same pack and puts it back (``batch.isolated.WorkerEvaluator``)."""
        return {**self.__dict__, "pack": None}

    def lookup_at(self, idx: int) -> kleene.DerivedLookup:
        """Derived facts at an instance: true if fired, unknown while a deriver is open."""
        def lookup(test: C.DerivedTest) -> kleene.Truth:
            scope = self.pack.derived_scopes.get(test.key, Scope.case)
            at = idx if scope is Scope.item else CASE_IDX
            have = self.firings.derived[at].get(test.key, [])
            want = None if test.values is None else [derived_value(v) for v in test.values]
            if any(want is None or v in want for v in have):
                return kleene.TRUE
            wait = self.pending.get((test.key, at))
            return kleene.Truth(None, wait) if wait else kleene.FALSE
        return lookup


def open_rules(pack: RulePack, compiled: CompiledPack, prep: Prepared,
               firings: Firings) -> OpenRules:
    """Evaluate every rule that did not fire at every instance it applies to."""
    out = OpenRules(pack, firings)
    n_items = len(prep.item_facts)
    instances = {Scope.case: [CASE_IDX], Scope.item: list(range(n_items))}
    for cr in compiled.rules:
        for idx in instances[cr.scope]:
            if idx in firings.fired.get(cr.rule.id, ()):
                continue
            truth = kleene.evaluate(cr.condition, prep.facts_for(idx), compiled.params,
                                    out.lookup_at(idx))
            out.results[(cr.rule.id, idx)] = truth
            if truth.value is None:
                out.undecided[cr.rule.id][idx] = truth.unknown
                for key in cr.rule.then.derive:
                    out.pending[(key, idx)] = out.pending.get((key, idx), frozenset()) \
                        | truth.unknown
    out.no_items = [cr for cr in compiled.rules if cr.scope is Scope.item] \
        if n_items == 0 else []
    for cr in compiled.rules:
        for idx in out.undecided.get(cr.rule.id, {}):
            out.open_at[idx].append(cr)
    return out
