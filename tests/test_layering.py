"""Architecture rules that code review alone would let slip."""

from __future__ import annotations

import ast
import subprocess
import sys

from tests.conftest import ROOT


def _imports(path: str) -> set[str]:
    tree = ast.parse((ROOT / path).read_text(encoding="utf-8"))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(a.name.split(".")[0] for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module.split(".")[0])
    return names


def _modules() -> list[str]:
    return sorted(p.relative_to(ROOT).as_posix() for d in ("engine", "tui")
                  for p in (ROOT / d).rglob("*.py"))


def test_exactly_one_module_imports_durable() -> None:
    users = [m for m in _modules() if "durable" in _imports(m)]
    assert users == ["engine/runtime.py"]


def test_engine_never_imports_the_ui() -> None:
    for module in _modules():
        if module.startswith("engine/"):
            assert not {"tui", "textual"} & _imports(module), module


def test_cli_help_does_not_load_the_engine_or_textual() -> None:
    code = ("import sys, engine.cli; "
            "print(sorted(m for m in ('textual', 'durable', 'engine.evaluate') "
            "if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True,
                         text=True, check=True).stdout.strip()
    assert out == "[]"
