"""The headless interview: session state, which question to ask next, typed answers."""

from __future__ import annotations

from typing import TYPE_CHECKING

from chipclear.faces import lazy

if TYPE_CHECKING:
    from chipclear.interview.explain import Explanation
    from chipclear.interview.paths import get_path
    from chipclear.interview.session import UNKNOWN, Interview, QuestionView, default_case_path

#: The package's public face; everything else is internal to it.
__all__ = [
    "UNKNOWN",
    "Explanation",
    "Interview",
    "QuestionView",
    "default_case_path",
    "get_path",
]

__getattr__ = lazy(__name__, {
    "Explanation": "chipclear.interview.explain",
    "Interview": "chipclear.interview.session",
    "QuestionView": "chipclear.interview.session",
    "UNKNOWN": "chipclear.interview.session",
    "default_case_path": "chipclear.interview.session",
    "get_path": "chipclear.interview.paths",
})
