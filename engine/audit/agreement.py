"""When two rule packs must decide a case alike, so an audit need not decide it twice.

An audit compares the parts of two decisions an ``Outcome`` holds (verdict, statuses,
revenue share, the rules behind findings and conditions, the error) and lists only the
cases where they differ. Most rule changes touch a few dates and a few rules, so for most
cases both packs provably reach the same outcome. The proof is checked once per audit
(the ground) and once per decision date (how the compiled packs relate), never guessed:

* **Same ground.** The packs agree on everything a decision reads besides rules and
  parameters: coverage dates and modules, sources, catalog, screening lists (shipped and
  imported), questions, module scopes. Only the manifest's id, version, title and review
  horizon may differ: they reach the decision's pack reference, screening report and
  warnings, never an ``Outcome``. So the case's facts are prepared once.
* **Same compiled pack on the date.** The rules in force are the same rules (their
  validity windows aside: a window reaches only a finding's dates, and which rules are in
  force is compared here), compiled to the same durable ruleset and actions, with the same
  parameter values and the same scope (case or order line) for every derived fact they
  test: the engine, the cross-check and every step of the decision see the same input,
  so the case is traced once, under the base pack, and counted unchanged
  (``Agreement.same``).
* **Same engine, different revenue share.** As above, but the parameter values that
  differ are read by no condition (no rule, no module scope): only revenue-share
  percentages differ. Then the firings and the trace are the same under both packs, and
  the outcome can differ only through a rule whose share differs, so the case is decided
  once and counted unchanged unless such a rule fired (``Agreement.share_only``).
* **Same rules, other values.** The rules in force are the same rules with the same
  actions, but parameter values their conditions read differ (a threshold moved); module
  scopes read the same values. The engine and the cross-check run under both packs (an
  engine failure on either side is still reported), and when the two traces are equal and
  no rule whose revenue share differs fired, the outcome is the same: beyond the trace, a
  decision reads condition values only in texts (explanations, what would lift a block,
  the tests a condition waits on) that no ``Outcome`` holds; whether a condition still
  waits on a test depends on which facts are known, not on values
  (``Agreement.values``, ``same_trace``).

Everything else (``Agreement.different``), a compile error on either side, or an error
while tracing the case, falls back to deciding the case under both packs.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from chipclear.decide.compile import CompiledPack
from chipclear.decide.trace import Trace
from chipclear.pack import conditions as C
from chipclear.pack.loader import Jurisdiction, RulePack


def _same(a: object, b: object) -> bool:
    """Equal down to the type and written form of every value (``1`` is not ``1.0``)."""
    return a is b or (type(a) is type(b) and repr(a) == repr(b))


def same_ground(base: RulePack, head: RulePack) -> bool:
    """Whether the packs agree on everything a decision reads besides rules and parameters."""
    manifest_fields = set(type(base.manifest).model_fields) - {
        "id", "version", "title", "reviewed_until"}
    return all(_same(a, b) for a, b in [
        (base.manifest.model_dump(include=manifest_fields),
         head.manifest.model_dump(include=manifest_fields)),
        (base.sources, head.sources),
        (base.catalog.chips, head.catalog.chips),
        (base.entity_list, head.entity_list),
        (base.approved_customers, head.approved_customers),
        (base.imported_list, head.imported_list),
        (base.questions, head.questions),
        (base.module_scopes, head.module_scopes),
        (_cn_modules(base), _cn_modules(head)),  # whether the CN measures reach a case
    ])


def _cn_modules(pack: RulePack) -> list[str]:
    return sorted({cr.module for cr in pack.rules if cr.rule.jurisdiction is Jurisdiction.CN})


class Relation(enum.Enum):
    same = "same"
    share_only = "share_only"
    values = "values"
    different = "different"


@dataclass(frozen=True)
class Agreement:
    """How two compiled packs (one date, same ground) relate."""

    relation: Relation
    #: share_only, values: the rules whose revenue-share percentage differs
    share_rules: frozenset[str] = frozenset()


def _rules_key(compiled: CompiledPack) -> list[tuple[object, ...]]:
    """The rules in force as a decision reads them: everything but their validity window
    and where they were written (read only by compile errors, which fall back)."""
    return [(cr.rule.model_dump(exclude={"valid_from", "valid_to"}), cr.module, cr.scope,
             cr.condition, cr.requirement) for cr in compiled.rules]


def condition_params(compiled: CompiledPack) -> set[str]:
    """Parameters a rule's condition reads (its ``requires`` included)."""
    names: set[str] = set()
    for cr in compiled.rules:
        names |= C.params(cr.condition)
        if cr.requirement is not None:
            names |= C.params(cr.requirement)
    return names


def scope_params(pack: RulePack) -> set[str]:
    """Parameters a module's scope reads (whether the CN measures reach a case)."""
    return {name for scope in pack.module_scopes.values() for name in C.params(scope)}


def agreement(base: CompiledPack, head: CompiledPack, base_pack: RulePack,
              head_pack: RulePack) -> Agreement:
    """How the packs compiled for one date relate (the packs on the same ground)."""
    if not (_same(_rules_key(base), _rules_key(head)) and _same(base.actions, head.actions)):
        return Agreement(Relation.different)
    tested = sorted({t.key for cr in base.rules for t in C.derived_tests(cr.condition)})
    if not _same([base_pack.derived_scopes.get(k) for k in tested],
                 [head_pack.derived_scopes.get(k) for k in tested]):
        return Agreement(Relation.different)
    scoped = sorted(scope_params(base_pack))
    if not _same([base.params.get(p) for p in scoped], [head.params.get(p) for p in scoped]):
        return Agreement(Relation.different)
    moved = frozenset(rid for rid in base.revenue_share.keys() | head.revenue_share.keys()
                      if not _same(base.revenue_share.get(rid), head.revenue_share.get(rid)))
    read = sorted(condition_params(base))
    if not (_same(base.ruleset, head.ruleset)
            and _same([base.params.get(p) for p in read], [head.params.get(p) for p in read])):
        return Agreement(Relation.values, moved)
    if _same(base.params, head.params) and not moved:
        return Agreement(Relation.same)
    return Agreement(Relation.share_only, moved)


def _trace_key(trace: Trace) -> tuple[object, ...]:
    """Everything a trace holds, in a form equal exactly when the traces are."""
    fir, open_ = trace.firings, trace.open

    def table(d: Mapping[Any, Any]) -> list[tuple[Any, Any]]:
        return sorted((k, sorted(v)) for k, v in d.items())

    return (
        table(fir.fired),
        sorted((i, list(d.items())) for i, d in fir.derived.items()),
        table(fir.derived_by), table(fir.used),
        sorted((k, sorted(v)) for k, v in open_.pending.items()),
        sorted((rid, sorted((i, sorted(p)) for i, p in d.items()))
               for rid, d in open_.undecided.items()),
        sorted((i, [cr.rule.id for cr in rules]) for i, rules in open_.open_at.items()),
        sorted((k, t.value, sorted(t.unknown)) for k, t in open_.results.items()),
        [cr.rule.id for cr in open_.no_items],
    )


def same_trace(base: Trace, head: Trace) -> bool:
    """Whether two traces of one case (``Agreement.values``) are equal in every part."""
    return _same(_trace_key(base), _trace_key(head))
