"""The two contracts: the purchase case a user writes and the decision chipclear returns."""

from __future__ import annotations

from typing import TYPE_CHECKING

from chipclear.faces import lazy

if TYPE_CHECKING:
    from chipclear.model.case import Case
    from chipclear.model.decision import Decision, Finding, ItemOutcome, Missing, Verdict
    from chipclear.model.strict import StrictModel

#: The package's public face; everything else is internal to it.
__all__ = [
    "Case",
    "Decision",
    "Finding",
    "ItemOutcome",
    "Missing",
    "StrictModel",
    "Verdict",
]

__getattr__ = lazy(__name__, {
    "Case": "chipclear.model.case",
    "Decision": "chipclear.model.decision",
    "Finding": "chipclear.model.decision",
    "ItemOutcome": "chipclear.model.decision",
    "Missing": "chipclear.model.decision",
    "StrictModel": "chipclear.model.strict",
    "Verdict": "chipclear.model.decision",
})
