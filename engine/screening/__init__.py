"""Restricted-party screening: buyer names against the Entity List and the allow lists."""

from __future__ import annotations

from typing import TYPE_CHECKING

from chipclear.faces import lazy

if TYPE_CHECKING:
    from chipclear.screening.csl import read_csl
    from chipclear.screening.match import ListMatch
    from chipclear.screening.outcome import CaseScreening, screen_case

#: The package's public face; everything else is internal to it.
__all__ = [
    "CaseScreening",
    "ListMatch",
    "read_csl",
    "screen_case",
]

__getattr__ = lazy(__name__, {
    "CaseScreening": "chipclear.screening.outcome",
    "ListMatch": "chipclear.screening.match",
    "read_csl": "chipclear.screening.csl",
    "screen_case": "chipclear.screening.outcome",
})
