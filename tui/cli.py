"""The ``chipclear`` entry point: the engine's commands plus ``interview``.

The interview is registered here so that ``engine`` never imports the UI; Textual
itself loads only when the interview starts, keeping ``chipclear --help`` and batch
runs fast.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from engine import cli


@cli.app.command()
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
    from tui.app import run_interview

    raise typer.Exit(run_interview(pack, case_file, lang.value if lang else None, ledger))


def main() -> None:
    cli.main()
