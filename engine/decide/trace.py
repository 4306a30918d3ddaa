"""The trace of one decision, recorded once: which rule fired where and what it derived,
and the three-valued result of every rule at every instance where it did not fire.

The cross-check and the decision both read it, so the three-valued pass over the rules
that did not fire runs once per case.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from chipclear.decide.compile import CompiledPack
from chipclear.decide.firings import Firings, read_firings
from chipclear.decide.undecided import OpenRules, open_rules
from chipclear.pack.loader import RulePack

if TYPE_CHECKING:
    from chipclear.decide.evaluate import Prepared


@dataclass
class Trace:
    """What the engine did and what stayed open, for one case and one compiled pack."""

    firings: Firings
    open: OpenRules


def record(pack: RulePack, compiled: CompiledPack, prep: Prepared,
           firings: list[Any]) -> Trace:
    """Index the firings (already checked to name known actions and instances) and
    evaluate the rules that did not fire, once."""
    fir = read_firings(pack, compiled, firings)
    return Trace(fir, open_rules(pack, compiled, prep, fir))
