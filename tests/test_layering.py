"""Architecture rules that code review alone would let slip.

The repository keeps engine/ (the core, installed as ``chipclear``) and tui/ (installed as
``chipclear.tui``); these tests read the source files, so they need no install.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

from tests.conftest import ROOT

CORE, UI = ROOT / "engine", ROOT / "tui"


def _module_name(path: Path) -> str:
    if path.is_relative_to(UI):
        parts = ["chipclear", "tui", *path.relative_to(UI).with_suffix("").parts]
    else:
        parts = ["chipclear", *path.relative_to(CORE).with_suffix("").parts]
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


MODULES = {_module_name(p): p for d in (CORE, UI) for p in sorted(d.rglob("*.py"))}


def _imports(path: Path) -> set[str]:
    """Every module a file imports, anywhere in it (lazy imports inside functions too)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    for node in ast.walk(tree):  # imports for the type checker only are not dependencies
        if isinstance(node, ast.If) and ast.unparse(node.test) in {"TYPE_CHECKING",
                                                                     "typing.TYPE_CHECKING"}:
            node.body = []
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
            names.update(f"{node.module}.{a.name}" for a in node.names)
    return names


def _internal(path: Path) -> set[str]:
    return {m for m in _imports(path) if m in MODULES} - {_module_name(path)}


#: durable-rules' Python wrapper and its C engine: the runtime drives the engine directly.
DURABLE = {"durable", "durable_rules_engine"}


def test_exactly_one_module_imports_durable() -> None:
    users = [name for name, p in MODULES.items()
             if any(m.split(".")[0] in DURABLE for m in _imports(p))]
    assert users == ["chipclear.decide.runtime"]


def test_core_never_imports_the_interfaces() -> None:
    """Only ``python -m chipclear`` (engine/__main__.py, an entry point) may."""
    for name, path in MODULES.items():
        if name.startswith("chipclear.tui") or name == "chipclear.__main__":
            continue
        roots = {m.split(".")[0] for m in _imports(path)}
        assert not {"textual", "typer"} & roots, name
        assert not any(m.startswith("chipclear.tui") for m in _imports(path)), name


def test_no_import_cycles() -> None:
    graph = {name: _internal(path) for name, path in MODULES.items()}
    # a package's __init__ is imported with each of its modules: not a dependency edge
    graph = {n: {m for m in deps if not n.startswith(m + ".")} for n, deps in graph.items()}
    seen: dict[str, int] = {}
    stack: list[str] = []

    def visit(node: str) -> None:
        seen[node] = 1
        stack.append(node)
        for dep in sorted(graph.get(node, ())):
            if seen.get(dep) == 1:
                cycle = [*stack[stack.index(dep):], dep]
                raise AssertionError("import cycle: " + " -> ".join(cycle))
            if dep not in seen:
                visit(dep)
        stack.pop()
        seen[node] = 2

    for node in sorted(graph):
        if node not in seen:
            visit(node)


def test_the_interface_holds_no_rule_machinery() -> None:
    """tui/ talks to chipclear.interview and the renderers, never to the rule runtime."""
    banned = {"chipclear.decide.runtime", "chipclear.decide.kleene", "chipclear.decide.compile"}
    for name, path in MODULES.items():
        if name.startswith("chipclear.tui"):
            assert not banned & _imports(path), name
            assert not DURABLE & {m.split(".")[0] for m in _imports(path)}, name


def test_no_private_imports_from_third_party_packages() -> None:
    for name, path in MODULES.items():
        for module in _imports(path):
            if module.split(".")[0] in {"chipclear", "durable"}:
                continue
            assert not any(part.startswith("_") and not part.startswith("__")
                           for part in module.split(".")), f"{name} imports {module}"


def test_importing_the_core_loads_no_interface() -> None:
    code = (
        "import sys, chipclear.interview.session, chipclear.decide.evaluate\n"
        "bad = sorted(m for m in sys.modules if m.split('.')[0] in ('textual', 'typer')"
        " or m.startswith('chipclear.tui'))\n"
        "print(','.join(bad))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         timeout=120, check=True)
    assert out.stdout.strip() == ""


def test_cli_help_does_not_load_the_engine_or_textual() -> None:
    code = ("import sys, chipclear.tui.cli.main as m; m.full_app(); "
            "print(sorted(x for x in ('textual', 'durable', 'chipclear.decide.evaluate') "
            "if x in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout.strip()
    assert out == "[]"
