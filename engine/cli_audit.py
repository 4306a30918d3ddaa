"""``chipclear audit``, ``rules`` and ``ledger`` commands (being built; see issue 6)."""

from __future__ import annotations

import typer

audit_app = typer.Typer(help="What changes when the rules change.", no_args_is_help=True)
rules_app = typer.Typer(help="Test, lint and measure the rule packs.", no_args_is_help=True)
ledger_app = typer.Typer(help="The tamper-evident decision ledger.", no_args_is_help=True)
