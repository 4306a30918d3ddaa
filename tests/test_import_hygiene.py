"""The engine stays headless: importing it never loads Textual or the TUI.

Batch evaluation runs on servers without a terminal; pulling in Textual there would
cost start-up time and a dependency the engine does not need.
"""

from __future__ import annotations

import subprocess
import sys

from tests.conftest import ROOT


def test_engine_never_imports_textual_or_tui() -> None:
    code = (
        "import sys, engine.cli, engine.interview, engine.evaluate\n"
        "bad = sorted(m for m in sys.modules if m == 'textual' or m.startswith('textual.')"
        " or m == 'tui' or m.startswith('tui.'))\n"
        "print(','.join(bad))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True,
                         text=True, timeout=120, check=True)
    assert out.stdout.strip() == ""


def test_tui_does_not_import_rule_machinery() -> None:
    """No rule logic in tui/: it talks to engine.interview, never to the rule runtime."""
    for path in sorted((ROOT / "tui").glob("*.py")):
        text = path.read_text(encoding="utf-8")
        for module in ("engine.runtime", "engine.kleene", "engine.compile", "durable"):
            assert f"import {module}" not in text and f"from {module} " not in text, \
                f"{path.name} imports {module}"
