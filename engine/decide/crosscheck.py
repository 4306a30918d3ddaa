"""The second evaluator: every case's firings are checked against three-valued Python.

durable-rules is a C library with traps (see docs/engine.md); a fact it loses or a
comparison it gets wrong would otherwise turn into a confident verdict. So after the
engine quiesces, every active rule is evaluated again in Python (``kleene``) on the
same prepared facts, at every instance it applies to (the case, or each order line),
with derived facts taken from the engine's own firings:

* a rule the engine fired must be *true* in Python, and
* a rule Python finds *true* must have fired.

Any disagreement is an ``EngineFailure`` naming the rule and the instance (every caller
names the case it was deciding): the case gets no decision (exit 4), never a verdict
built on a fact the engine did not see.
"""

from __future__ import annotations

from collections import defaultdict
from typing import TYPE_CHECKING, Any

from chipclear.decide import kleene
from chipclear.decide.compile import derived_value
from chipclear.decide.firings import CASE_IDX
from chipclear.decide.trace import Trace, record
from chipclear.errors import EngineFailure
from chipclear.pack import conditions as C
from chipclear.pack.facts import Scope

if TYPE_CHECKING:
    from chipclear.decide.compile import CompiledPack
    from chipclear.decide.evaluate import Prepared
    from chipclear.decide.runtime import Firing
    from chipclear.pack.loader import RulePack


def _where(idx: int) -> str:
    return "the case" if idx == CASE_IDX else f"order item {idx}"


def check(prep: Prepared, compiled: CompiledPack, firings: list[Firing],
          pack: RulePack) -> Trace:
    """Raise EngineFailure unless the engine and Python agree on every rule and instance;
    return the decision's trace, recorded once the firings are known to be well formed.

    Where a rule fired, this pass walks its whole condition and keeps the leaves that held
    (``Trace.held``): the decision's ``because`` comes from here, not from a second walk.

    Where a rule did not fire, the trace already holds its three-valued result with
    derived facts of open rules left unknown. Strong Kleene logic is monotone, so that
    result refines only where it is unknown: false stays false and true stays true when
    those derived facts are read as the engine left them (absent: false). Only the
    unknown results are evaluated again here.
    """
    derived_scopes = pack.derived_scopes
    instances = {Scope.case: [CASE_IDX], Scope.item: list(range(len(prep.item_facts)))}
    fired, derived = _engine_answer(compiled, firings, instances)
    trace = record(pack, compiled, prep, firings)
    ordered = trace.firings.derived

    def lookup_at(idx: int) -> kleene.DerivedLookup:
        def lookup(test: C.DerivedTest) -> kleene.Truth:
            at = idx if derived_scopes.get(test.key) is Scope.item else CASE_IDX
            have = derived[at].get(test.key, set())
            if test.values is None:
                return kleene.Truth(bool(have))
            return kleene.Truth(any(derived_value(v) in have for v in test.values))
        return lookup

    every = [CASE_IDX, *instances[Scope.item]]
    lookups = {idx: lookup_at(idx) for idx in every}
    shown = {idx: _shown(ordered[CASE_IDX], ordered[idx]) for idx in every}
    for cr in compiled.rules:
        for idx in instances[cr.scope]:
            lookup = lookups[idx]
            engine = idx in fired.get(cr.rule.id, ())
            if engine:
                truth, leaves = kleene.evaluate_fired(
                    cr.condition, prep.facts_for(idx), compiled.params, lookup, shown[idx])
                trace.held[(cr.rule.id, idx)] = leaves
            else:
                known = trace.open.results.get((cr.rule.id, idx))
                truth = known if known is not None and known.value is not None else \
                    kleene.evaluate(cr.condition, prep.facts_for(idx), compiled.params, lookup)
            if engine != (truth.value is True):
                python = {True: "true", False: "false", None: "unknown"}[truth.value]
                said = "fired" if engine else "did not fire"
                raise EngineFailure(
                    f"rule {cr.rule.id} {said} on {_where(idx)} but the Python evaluation "
                    f"of the same facts is {python}; no decision")
    return trace


def _engine_answer(compiled: CompiledPack, firings: list[Firing],
                   instances: dict[Scope, list[int]],
                   ) -> tuple[dict[str, set[int]], dict[int, dict[str, set[Any]]]]:
    """Where each rule fired and what it derived, refusing a firing of an unknown action
    or on an instance its rule does not apply to."""
    scopes = {cr.rule.id: cr.scope for cr in compiled.rules}
    fired: dict[str, set[int]] = defaultdict(set)
    derived: dict[int, dict[str, set[Any]]] = defaultdict(lambda: defaultdict(set))
    for f in firings:
        spec = compiled.actions.get(f.action)
        if spec is None:
            raise EngineFailure(f"the engine ran an unknown action {f.action}")
        scope = scopes.get(spec.rule_id)
        if scope is None or f.idx not in instances[scope]:
            raise EngineFailure(f"rule {spec.rule_id} fired on {_where(f.idx)}, which it "
                                "does not apply to")
        fired[spec.rule_id].add(f.idx)
        for key, value in spec.derive:
            derived[f.idx][key].add(value)
    return fired, derived


def _shown(case: dict[str, list[Any]], here: dict[str, list[Any]]) -> kleene.DerivedShown:
    """For a derived leaf: the first value derived (in firing order) that the test accepts,
    the instance's own values before the case's."""
    def shown(test: C.DerivedTest) -> Any:
        values = here[test.key] if test.key in here else case.get(test.key, [])
        want = None if test.values is None else [derived_value(x) for x in test.values]
        return next((v for v in values if want is None or v in want), None)
    return shown
