"""Rule packs as data: files, typed conditions, facts, the chip catalog, loading, lint, diff
and the JSON Schemas editors validate against."""

from __future__ import annotations

from typing import TYPE_CHECKING

from chipclear.faces import lazy

if TYPE_CHECKING:
    from chipclear.pack.catalog import compute_tpp
    from chipclear.pack.digest import pack_digest
    from chipclear.pack.golden import golden_files, load_golden, run_golden
    from chipclear.pack.loader import RulePack, Text, default_rules_dir, load_pack

#: The package's public face; everything else is internal to it.
__all__ = [
    "RulePack",
    "Text",
    "compute_tpp",
    "default_rules_dir",
    "golden_files",
    "load_golden",
    "load_pack",
    "pack_digest",
    "run_golden",
]

__getattr__ = lazy(__name__, {
    "RulePack": "chipclear.pack.loader",
    "Text": "chipclear.pack.loader",
    "compute_tpp": "chipclear.pack.catalog",
    "default_rules_dir": "chipclear.pack.loader",
    "golden_files": "chipclear.pack.golden",
    "load_golden": "chipclear.pack.golden",
    "load_pack": "chipclear.pack.loader",
    "pack_digest": "chipclear.pack.digest",
    "run_golden": "chipclear.pack.golden",
})
