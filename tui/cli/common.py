"""What every command group shares: option types, the rule-pack loader and one-line failure."""

from __future__ import annotations

import datetime as dt
import os
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, NoReturn

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
    Path | None, typer.Option("--rules", metavar="DIR",
                              help="Rule-pack directory (default: the shipped pack).")
]


def fail(message: str, code: ExitCode = ExitCode.INVALID_INPUT) -> NoReturn:
    typer.echo(message, err=True)
    raise typer.Exit(int(code))


def load_rules(rules: Path | None) -> RulePack:
    from chipclear.pack.loader import default_rules_dir, load_pack

    try:
        pack = load_pack(rules or default_rules_dir(), cache=True)
    except UserInputError as exc:
        fail(exc.line())
    _freeze()
    return pack


def _freeze() -> None:
    """Move what is alive now (the pack, the modules) out of the collector's view: it
    lives for the whole command, and rescanning it on every collection cost ~7% of a
    batch (``docs/performance.md``). Forked workers inherit the frozen state."""
    import gc

    gc.freeze()


#: Worker processes per CPU core --jobs may ask for: more only thrash (and fork for long).
JOBS_PER_CORE = 4


def check_jobs(jobs: int | None) -> None:
    """Refuse a --jobs far beyond the machine: --jobs 2000 forked 2000 workers."""
    limit = JOBS_PER_CORE * (os.cpu_count() or 1)
    if jobs is not None and jobs > limit:
        fail(f"--jobs: {jobs} is more than {limit} ({JOBS_PER_CORE} per CPU core; "
             f"omit it to let chipclear choose)")


def parse_date(value: str | None, option: str) -> dt.date | None:
    if value is None:
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        fail(f"{option}: '{value}' is not a date (use YYYY-MM-DD)")


def plain_metavars() -> None:
    """Help in click's plain style: ``--rules DIR``, ``--format [table|json]``, not
    typer 0.29's ``<path>``, ``<bool>`` or ``PATH... <list[Path]>`` (typer is pinned to
    0.29.x in pyproject.toml, so this adjustment is checked against the one version)."""
    from typer.core import TyperArgument, TyperOption

    def argument_type(self: TyperArgument, ctx: object) -> str | None:
        return None  # the argument's name (or metavar) already says what it is

    def option_type(self: TyperOption, ctx: Any) -> str | None:
        if self.metavar is not None:
            return self.metavar
        label = self.display_type(ctx).strip("<>")
        if label.startswith("list[") and label.endswith("]"):
            label = label[5:-1]  # repeatable: the help says so
        if self.type_descriptor.is_choice:
            return f"[{label}]"
        return {"str": "TEXT", "int": "INTEGER", "float": "NUMBER"}.get(label, label.upper())

    def usage_name(self: TyperArgument) -> str:
        name = (self.metavar or (self.name or "").upper()).strip("[]")
        name = name if self.required else f"[{name}]"
        return name + ("..." if self.nargs != 1 else "")

    def help_name(self: TyperArgument) -> str:
        return (self.metavar or (self.name or "").upper()).strip("[]")

    TyperArgument._usage_display_name = usage_name  # type: ignore[method-assign]
    TyperArgument._rich_display_name = help_name  # type: ignore[method-assign]
    TyperArgument.display_type_rich = argument_type  # type: ignore[method-assign,assignment]
    TyperOption.display_type_rich = option_type  # type: ignore[method-assign]
