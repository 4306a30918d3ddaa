"""When two rule packs must decide a case alike, so an audit need not decide it twice.

An audit compares the parts of two decisions an ``Outcome`` holds (verdict, statuses,
revenue share, the rules behind findings and conditions, the error) and lists only the
cases where they differ. Most rule changes touch a few dates and a few rules, so for most
cases both packs provably reach the same outcome; the proof has three steps, each
checked once per audit or once per decision date, never guessed:

* **Same ground.** The packs agree on everything a decision reads besides rules and
  parameters: coverage dates and modules, sources, catalog, screening lists (shipped and
  imported), questions, module scopes. Only the manifest's id,
  version, title and review horizon may differ: they reach the decision's pack reference,
  screening report and warnings, never an ``Outcome``.
* **Same compiled pack on the date.** The rules in force are the same rules (their
  validity windows aside: a window reaches only a finding's dates, and which rules are in
  force is compared here), compiled to the same durable ruleset and actions, with the same
  parameter values and the same scope (case or order line) for every derived fact they
  test: the engine, the cross-check and every step of the decision see the
  same input, so the case is decided once, under the base pack (``Agreement.same``).
* **Same engine, different revenue share.** As above, but the parameter values that
  differ are read by no condition (no rule, no module scope): only revenue-share
  percentages differ. Then the firings and the trace are the same under both packs, and
  the outcome can differ only through a rule whose share differs, so the case is decided
  once and counted unchanged unless such a rule fired (``Agreement.share_only``).

Everything else (``Agreement.different``), a compile error on either side, or an error
while deciding the case once, falls back to deciding the case under both packs.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

from chipclear.decide.compile import CompiledPack
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
    different = "different"


@dataclass(frozen=True)
class Agreement:
    """How two compiled packs (one date, same ground) relate."""

    relation: Relation
    #: share_only: the rules whose revenue-share percentage differs
    share_rules: frozenset[str] = frozenset()


def _rules_key(compiled: CompiledPack) -> list[tuple[object, ...]]:
    """The rules in force as a decision reads them: everything but their validity window
    and where they were written (read only by compile errors, which fall back)."""
    return [(cr.rule.model_dump(exclude={"valid_from", "valid_to"}), cr.module, cr.scope,
             cr.condition, cr.requirement) for cr in compiled.rules]


def condition_params(compiled: CompiledPack, pack: RulePack) -> set[str]:
    """Parameters some condition reads: a rule's (its ``requires`` included) or a module's
    scope. The others the compiled pack holds are revenue-share percentages."""
    names: set[str] = set()
    for cr in compiled.rules:
        names |= C.params(cr.condition)
        if cr.requirement is not None:
            names |= C.params(cr.requirement)
    for scope in pack.module_scopes.values():
        names |= C.params(scope)
    return names


def agreement(base: CompiledPack, head: CompiledPack, base_pack: RulePack,
              head_pack: RulePack) -> Agreement:
    """How the packs compiled for one date relate (the packs on the same ground)."""
    if not (_same(_rules_key(base), _rules_key(head)) and _same(base.ruleset, head.ruleset)
            and _same(base.actions, head.actions)):
        return Agreement(Relation.different)
    tested = sorted({t.key for cr in base.rules for t in C.derived_tests(cr.condition)})
    if not _same([base_pack.derived_scopes.get(k) for k in tested],
                 [head_pack.derived_scopes.get(k) for k in tested]):
        return Agreement(Relation.different)
    read = sorted(condition_params(base, base_pack))
    if not _same([base.params.get(p) for p in read], [head.params.get(p) for p in read]):
        return Agreement(Relation.different)
    if _same(base.params, head.params) and _same(base.revenue_share, head.revenue_share):
        return Agreement(Relation.same)
    moved = {rid for rid in base.revenue_share.keys() | head.revenue_share.keys()
             if not _same(base.revenue_share.get(rid), head.revenue_share.get(rid))}
    return Agreement(Relation.share_only, frozenset(moved))
