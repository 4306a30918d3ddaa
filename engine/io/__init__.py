"""Reading case files (YAML, JSON, JSON lines) with positions, and rendering decisions."""

from __future__ import annotations

from typing import TYPE_CHECKING

from chipclear.faces import lazy

if TYPE_CHECKING:
    from chipclear.io.caseio import CASE_SUFFIXES, CaseEntry, read_all, read_file
    from chipclear.io.yamlload import load_file, locate

#: The package's public face; everything else is internal to it.
__all__ = [
    "CASE_SUFFIXES",
    "CaseEntry",
    "load_file",
    "locate",
    "read_all",
    "read_file",
]

__getattr__ = lazy(__name__, {
    "CASE_SUFFIXES": "chipclear.io.caseio",
    "CaseEntry": "chipclear.io.caseio",
    "load_file": "chipclear.io.yamlload",
    "locate": "chipclear.io.yamlload",
    "read_all": "chipclear.io.caseio",
    "read_file": "chipclear.io.caseio",
})
