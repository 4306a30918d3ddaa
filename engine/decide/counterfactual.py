"""What would change the outcome: the smallest changes of facts that lift a finding.

A buyer told ``no_go`` asks "what would have to be different?". For a fired rule the
answer is in its condition: an ``all`` is lifted by making any one of its true parts
false, an ``any`` only by making every true part false, a ``not`` by making its inner
part true, and a derived fact by lifting every rule that derived it. The result is a
short list of alternatives, each a set of fact tests that would have to hold, minimal
(no alternative contains another) and smallest first.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from itertools import product
from typing import Any

from chipclear.decide import kleene
from chipclear.pack import conditions as C

Alternatives = list[frozenset[str]]

#: Alternatives kept per finding: enough to show the ways out, short enough to read.
LIMIT = 6

NOTHING: Alternatives = [frozenset()]


def _minimal(alternatives: Alternatives) -> Alternatives:
    unique = sorted(set(alternatives), key=lambda a: (len(a), sorted(a)))
    kept: Alternatives = []
    for alt in unique:
        if not any(k <= alt for k in kept):
            kept.append(alt)
    return kept[:LIMIT]


def _union(groups: list[Alternatives]) -> Alternatives:
    return _minimal([alt for group in groups for alt in group])


def _product(groups: list[Alternatives]) -> Alternatives:
    combined: Alternatives = NOTHING
    for group in groups:
        combined = _minimal([a | b for a, b in product(combined, group)])
    return combined


class Lifter:
    """Finds the changes that make a true condition false, for one rule instance.

    ``lift_derived`` answers the same question for a derived test (through the rules
    that derived it), so chains of rules are followed to the facts at their roots.
    """

    def __init__(self, facts: Mapping[str, Any], params: Mapping[str, Any],
                 lookup: kleene.DerivedLookup,
                 lift_derived: Callable[[C.DerivedTest], Alternatives]) -> None:
        self.facts = facts
        self.params = params
        self.lookup = lookup
        self.lift_derived = lift_derived

    def _truth(self, cond: C.Condition) -> bool | None:
        return kleene.evaluate(cond, self.facts, self.params, self.lookup).value

    def falsify(self, cond: C.Condition) -> Alternatives:
        """Ways to make a condition that holds stop holding."""
        if self._truth(cond) is not True:
            return NOTHING
        if isinstance(cond, C.FactTest):
            return [frozenset((kleene.describe(cond, self.params, negate=True),))]
        if isinstance(cond, C.DerivedTest):
            return self.lift_derived(cond)
        if isinstance(cond, C.Not):
            return self.satisfy(cond.item)
        if isinstance(cond, C.All):
            return _union([self.falsify(c) for c in cond.items])
        return _product([self.falsify(c) for c in cond.items if self._truth(c) is True])

    def satisfy(self, cond: C.Condition) -> Alternatives:
        """Ways to make a condition that fails hold (only case facts: ``not`` has no derived)."""
        if self._truth(cond) is True:
            return NOTHING
        if isinstance(cond, C.FactTest):
            return [frozenset((kleene.describe(cond, self.params),))]
        if isinstance(cond, C.Not):
            return self.falsify(cond.item)
        if isinstance(cond, C.All):
            return _product([self.satisfy(c) for c in cond.items if self._truth(c) is not True])
        if isinstance(cond, C.AnyOf):
            return _union([self.satisfy(c) for c in cond.items])
        return []


def lines(alternatives: Alternatives) -> list[str]:
    """Each alternative as one line: its changes joined with 'and'."""
    return [" and ".join(sorted(alt)) for alt in alternatives if alt]
