"""What every command group shares: option types, the rule-pack loader and one-line failure."""

from __future__ import annotations

import datetime as dt
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, NoReturn

import typer
from chipclear.errors import ExitCode, UserInputError

if TYPE_CHECKING:
    from chipclear.pack.loader import RulePack


class Format(StrEnum):
    table = "table"
    json = "json"
    jsonl = "jsonl"
    markdown = "markdown"


class Lang(StrEnum):
    en = "en"
    zh = "zh"


RulesOpt = Annotated[
    Path | None, typer.Option("--rules", help="Rule-pack directory (default: the shipped pack).")
]


def fail(message: str, code: ExitCode = ExitCode.INVALID_INPUT) -> NoReturn:
    typer.echo(message, err=True)
    raise typer.Exit(int(code))


def load_rules(rules: Path | None) -> RulePack:
    from chipclear.pack.loader import default_rules_dir, load_pack

    try:
        return load_pack(rules or default_rules_dir())
    except UserInputError as exc:
        fail(exc.line())


def parse_date(value: str | None, option: str) -> dt.date | None:
    if value is None:
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        fail(f"{option}: '{value}' is not a date (use YYYY-MM-DD)")
