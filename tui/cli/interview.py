"""``chipclear interview``: Textual loads only when the interview starts, so --help stays fast."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from chipclear.tui.cli import common as cli


def interview(
    case_file: Annotated[Path | None, typer.Argument(help="Case file to resume or create.")] = None,
    rules: cli.RulesOpt = None,
    lang: Annotated[cli.Lang | None, typer.Option(help="Start in this language.")] = None,
    ledger: Annotated[
        Path | None, typer.Option(help="Append the final decision to this SQLite ledger.")
    ] = None,
) -> None:
    """Walk through a purchase case in a terminal UI, asking only what matters."""
    pack = cli.load_rules(rules)
    from chipclear.tui.interview.app import run_interview

    raise typer.Exit(run_interview(pack, case_file, lang.value if lang else None, ledger))

