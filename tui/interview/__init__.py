"""The Textual interview: app, screens, widgets. No rule logic lives here."""

from __future__ import annotations

from typing import TYPE_CHECKING

from chipclear.faces import lazy

if TYPE_CHECKING:
    from chipclear.tui.interview.app import InterviewApp

#: The package's public face; everything else is internal to it.
__all__ = [
    "InterviewApp",
]

__getattr__ = lazy(__name__, {
    "InterviewApp": "chipclear.tui.interview.app",
})
