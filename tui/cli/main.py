"""The ``chipclear`` command line. Heavy modules load inside commands, so --help is fast."""

from __future__ import annotations

import datetime as dt
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from chipclear.errors import ChipclearError, ExitCode
from chipclear.tui.cli.common import Format, Lang, RulesOpt, fail, load_rules, parse_date

if TYPE_CHECKING:
    pass

app = typer.Typer(
    name="chipclear",
    help="Procurement-compliance decisions for AI accelerators bought by Chinese buyers: "
         "US export licensing and the Chinese regulator's questions, as dated, cited rules.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


@app.command()
def evaluate(
    paths: Annotated[list[Path], typer.Argument(help="Case files or folders of case files.")],
    fmt: Annotated[Format, typer.Option("--format", "-f", help="Output format.")] = Format.table,
    as_of: Annotated[str | None, typer.Option(help="Evaluate every case at this date.")] = None,
    rules: RulesOpt = None,
    output: Annotated[Path | None, typer.Option("-o", "--output", help="Write here.")] = None,
    lang: Annotated[Lang, typer.Option(help="Language of table and Markdown.")] = Lang.en,
    ledger: Annotated[
        Path | None, typer.Option(help="Append every decision to this SQLite ledger.")
    ] = None,
    jobs: Annotated[int, typer.Option(
        min=0, help="Worker processes (0: evaluate in this process). A worker that crashes "
                    "costs only its case.")] = 0,
) -> None:
    """Decide purchase cases (files or folders of YAML, JSON or JSON lines).

    Exit 0 when every case is go or go_with_conditions, 1 when some case is no_go or
    needs_information, 2 on invalid input (the other cases are still decided), 4 when
    the engine failed on some case.
    """
    from chipclear.batch import run as batch
    from chipclear.decide.evaluate import Evaluator
    from chipclear.io import render

    override = parse_date(as_of, "--as-of")
    for path in paths:
        if not path.exists():
            fail(f"{path}: file not found (check the path)")
    pack = load_rules(rules)
    evaluator = Evaluator(pack)
    today = dt.date.today()
    tally = batch.Tally()
    errors: list[str] = []
    decisions = []
    stream = output.open("w", encoding="utf-8") if output else sys.stdout
    book = None
    if ledger is not None:
        from chipclear.audit.ledger import Ledger

        book = Ledger.open(ledger)
    try:
        # JSON, JSON lines and Markdown stream; only the table needs every decision first.
        json_stream = render.JsonStream(stream) if fmt is Format.json else None
        if fmt is Format.markdown:
            stream.write("# chipclear decisions\n\n")
        progress = _progress()
        if jobs:
            from chipclear.batch.pool import WorkerPool
            from chipclear.io.caseio import read_all

            outcomes = WorkerPool(jobs, pack.root, today, override).run(read_all(paths))
        else:
            outcomes = batch.run(evaluator, paths, today, override)
        for outcome in outcomes:
            tally.add(outcome)
            if progress:
                progress()
            if outcome.error:
                errors.append(outcome.error)
                typer.echo(outcome.error, err=True)
            elif outcome.final_verdict() is not None:
                if book is not None and outcome.entry.case is not None:
                    decision = outcome.decided()
                    assert decision is not None
                    book.append(outcome.entry.case, decision, pack)
                if fmt is Format.jsonl:
                    stream.write(outcome.jsonl())
                else:
                    decision = outcome.decided()
                    assert decision is not None
                    if json_stream is not None:
                        json_stream.add(decision)
                    elif fmt is Format.markdown:
                        stream.write(render.markdown(decision, lang.value))
                    else:
                        decisions.append(decision)
        if json_stream is not None:
            json_stream.close(errors)
        elif fmt is Format.table:
            color = stream is sys.stdout and sys.stdout.isatty() and "NO_COLOR" not in os.environ
            render.write_all(decisions, fmt.value, stream, errors, lang.value, color)
    finally:
        if output:
            stream.close()
        if book is not None:
            book.close()
    raise typer.Exit(int(tally.exit_code()))


def _progress() -> Callable[[], None] | None:
    """A dot per 100 cases on a terminal's stderr; nothing when piped."""
    if not sys.stderr.isatty():
        return None
    count = 0

    def tick() -> None:
        nonlocal count
        count += 1
        if count % 100 == 0:
            sys.stderr.write(f"\r{count} cases")
            sys.stderr.flush()

    return tick


@app.command()
def chips(
    query: Annotated[str | None, typer.Argument(help="Filter by id, name or alias.")] = None,
    rules: RulesOpt = None,
) -> None:
    """List the chip catalog with computed TPP and performance density."""
    pack = load_rules(rules)
    found = pack.catalog.search(query) if query else list(pack.catalog.chips.values())
    for chip in found:
        f = pack.catalog.facts(chip.id)
        tpp = "—" if f.tpp is None else f"{f.tpp:,.0f}"
        pd = "—" if f.performance_density is None else f"{f.performance_density:.2f}"
        flag = " (uncertain: " + ", ".join(f.uncertain_figures) + ")" if f.uncertain_figures \
            else ""
        typer.echo(f"{chip.id:28} {chip.name:32} TPP {tpp:>8}  PD {pd:>6}  "
                   f"{chip.status.value}{flag}")
    if not found:
        fail(f"no chip matches '{query}'")


@app.command()
def schema(
    directory: Annotated[Path, typer.Argument(help="Where to write the JSON Schemas.")] = Path(
        "rules/schema"),
) -> None:
    """Write JSON Schemas of case files and rule-pack files (for yaml-language-server)."""
    from chipclear.pack.schema import write_all

    for path in write_all(directory):
        typer.echo(str(path))


def full_app() -> typer.Typer:
    """The app with the audit, rules and ledger groups (their own module, loaded lazily
    inside each command); registering twice is harmless."""
    from chipclear.tui.cli.audit import audit_app, ledger_app, rules_app
    from chipclear.tui.cli.interview import interview
    from chipclear.tui.cli.lists import lists_app

    if not any(c.name == "interview" for c in app.registered_commands):
        app.command(name="interview")(interview)
    names = {group.name for group in app.registered_groups}
    for name, group in (("audit", audit_app), ("rules", rules_app), ("ledger", ledger_app),
                        ("lists", lists_app)):
        if name not in names:
            app.add_typer(group, name=name)
    return app


def main() -> None:
    """Console entry point: user errors become one line and exit 2, never a traceback."""
    full_app()
    try:
        app()
    except ChipclearError as exc:
        typer.echo(str(exc), err=True)
        sys.exit(int(ExitCode.INVALID_INPUT))
    except KeyboardInterrupt:
        sys.exit(130)

