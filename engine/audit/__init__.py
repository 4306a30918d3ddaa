"""What a rule change does (impact, timeline, coverage) and the tamper-evident ledger."""

from __future__ import annotations

from typing import TYPE_CHECKING

from chipclear.faces import lazy

if TYPE_CHECKING:
    from chipclear.audit.impact import Corpus, coverage, read_cases
    from chipclear.audit.ledger import Ledger
    from chipclear.audit.timeline import Timeline, render_timeline, timeline_setup

#: The package's public face; everything else is internal to it.
__all__ = [
    "Corpus",
    "Ledger",
    "Timeline",
    "coverage",
    "read_cases",
    "render_timeline",
    "timeline_setup",
]

__getattr__ = lazy(__name__, {
    "Corpus": "chipclear.audit.impact",
    "Ledger": "chipclear.audit.ledger",
    "Timeline": "chipclear.audit.timeline",
    "coverage": "chipclear.audit.impact",
    "read_cases": "chipclear.audit.impact",
    "render_timeline": "chipclear.audit.timeline",
    "timeline_setup": "chipclear.audit.timeline",
})
