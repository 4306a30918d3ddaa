"""The ``chipclear`` command line (Typer), one module per command group."""

from __future__ import annotations

from typing import TYPE_CHECKING

from chipclear.faces import lazy

if TYPE_CHECKING:
    from chipclear.tui.cli.main import app, main

#: The package's public face; everything else is internal to it.
__all__ = [
    "app",
    "main",
]

__getattr__ = lazy(__name__, {
    "app": "chipclear.tui.cli.main",
    "main": "chipclear.tui.cli.main",
})
