"""The README's layout table matches the tree: every package and module has its row."""

from __future__ import annotations

import re

from tests.conftest import ROOT


def _rows() -> dict[str, str]:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    section = text.split("## Layout", 1)[1]
    return {m.group(1): m.group(0) for m in re.finditer(r"^\| `([^`]+)` \|.*$", section, re.M)}


def _packages() -> list[str]:
    return sorted(f"{p.parent.relative_to(ROOT).as_posix()}/"
                  for top in ("engine", "tui") for p in (ROOT / top).glob("*/__init__.py"))


def test_every_package_directory_has_a_row() -> None:
    rows = _rows()
    assert _packages(), "no packages found: is ROOT right?"
    missing = [pkg for pkg in _packages() if pkg not in rows]
    assert not missing, f"README layout table lacks rows for {missing}"


def test_every_module_is_named_in_its_package_row() -> None:
    rows = _rows()
    unnamed = []
    for pkg in _packages():
        for module in sorted((ROOT / pkg).glob("*.py")):
            if module.stem != "__init__" and f"`{module.stem}`" not in rows.get(pkg, ""):
                unnamed.append(f"{pkg}{module.name}")
    assert not unnamed, f"README layout table does not name {unnamed}"


def test_every_row_names_a_real_path() -> None:
    gone = [path for path in _rows() if not (ROOT / path).exists()]
    assert not gone, f"README layout table names paths that do not exist: {gone}"
