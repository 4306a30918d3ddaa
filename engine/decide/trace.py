"""The trace of one decision, recorded once: which rule fired where and what it derived,
why each firing held (the leaves of its condition, collected by the cross-check's own
pass), and the three-valued result of every rule at every instance where it did not fire.

The cross-check, the decision (findings, ``missing``) and the interview's explanation all
read it, so no rule is evaluated again and no explanation is parsed back from text.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, cast

from chipclear.decide import kleene
from chipclear.decide.compile import CompiledPack, _engine_value
from chipclear.decide.firings import Firings, read_firings
from chipclear.decide.undecided import OpenRules, open_rules
from chipclear.model.decision import Because, BecauseTest
from chipclear.pack import conditions as C
from chipclear.pack.loader import RulePack

if TYPE_CHECKING:
    from chipclear.decide.evaluate import Prepared


@dataclass
class Trace:
    """What the engine did and what stayed open, for one case and one compiled pack."""

    firings: Firings
    open: OpenRules
    #: the compiled pack's parameters on the decision date (``because`` resolves them)
    params: Mapping[str, Any]
    #: (rule id, instance) -> the leaves that made it true, for every instance it fired on
    #: (filled by the cross-check, which evaluates each firing once)
    held: dict[tuple[str, int], list[kleene.Leaf]] = field(default_factory=dict)

    def because(self, rule_id: str, idx: int) -> list[Because]:
        """Why a rule fired at an instance, as the decision's structured ``because``
        (empty where it did not fire)."""
        return [because_item(leaf, self.params) for leaf in self.held.get((rule_id, idx), ())]


def record(pack: RulePack, compiled: CompiledPack, prep: Prepared,
           firings: list[Any]) -> Trace:
    """Index the firings (already checked to name known actions and instances) and
    evaluate the rules that did not fire, once."""
    fir = read_firings(pack, compiled, firings)
    return Trace(fir, open_rules(pack, compiled, prep, fir), compiled.params)


_ITEMS: dict[tuple[int, bool, type, Any, int],
             tuple[C.FactTest | C.DerivedTest, Mapping[str, Any], Because]] = {}


def because_item(leaf: kleene.Leaf, params: Mapping[str, Any]) -> Because:
    """A leaf as a structured ``because`` entry: values as shown, the test that held
    (negated under ``not``), parameters resolved.

    Cached by the test's and the parameters' identity (checked on every hit, so a
    recycled id cannot alias) with the value and its type: entries are immutable, and
    the same test on the same value recurs across cases.
    """
    key = (id(leaf.test), leaf.negate, type(leaf.value), leaf.value, id(params))
    hit = _ITEMS.get(key)
    if hit is not None and hit[0] is leaf.test and hit[1] is params:
        return hit[2]
    item = _because_item(leaf, params)
    if len(_ITEMS) < 100_000:
        _ITEMS[key] = (leaf.test, params, item)
    return item


def _because_item(leaf: kleene.Leaf, params: Mapping[str, Any]) -> Because:
    test = leaf.test
    if isinstance(test, C.DerivedTest):
        value = leaf.value
        shown = int(value) if isinstance(value, float) and value.is_integer() else value
        return Because.model_construct(fact=test.key, derived=True, value=shown, test="eq",
                                       against=None, parameters=[])
    op = cast(BecauseTest, C.NEGATED_OP[test.op] if leaf.negate else test.op)
    if test.op == "nonempty":
        return Because.model_construct(fact=test.path, derived=False, value=None, test=op,
                                       against=None, parameters=[])
    vals = test.value if isinstance(test.value, tuple) else (test.value,)
    against = [kleene.plain(test.path, _engine_value(test.path, kleene.resolve(v, params)))
               for v in vals]
    return Because.model_construct(
        fact=test.path, derived=False, value=kleene.plain(test.path, leaf.value), test=op,
        against=against if isinstance(test.value, tuple) else against[0],
        parameters=[v.name for v in vals if isinstance(v, C.ParamRef)])
