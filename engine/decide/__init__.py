"""From a case to a decision: prepare facts, run the engine (the only durable import lives
in ``runtime``), cross-check and build the decision."""

from __future__ import annotations

from typing import TYPE_CHECKING

from chipclear.faces import lazy

if TYPE_CHECKING:
    from chipclear.decide.evaluate import (
        Evaluator,
        Prepared,
        UnclassifiableChip,
        UnknownChip,
        prepare,
    )
    from chipclear.decide.runtime import Runtime

#: The package's public face; everything else is internal to it.
__all__ = [
    "Evaluator",
    "Prepared",
    "Runtime",
    "UnclassifiableChip",
    "UnknownChip",
    "prepare",
]

__getattr__ = lazy(__name__, {
    "Evaluator": "chipclear.decide.evaluate",
    "Prepared": "chipclear.decide.evaluate",
    "Runtime": "chipclear.decide.runtime",
    "UnclassifiableChip": "chipclear.decide.evaluate",
    "UnknownChip": "chipclear.decide.evaluate",
    "prepare": "chipclear.decide.evaluate",
})
