"""The ``chipclear`` command line. Heavy modules load inside commands, so --help is fast."""

from __future__ import annotations

import datetime as dt
import sys
from collections.abc import Iterator, Sequence
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, TextIO

import typer
from chipclear.batch import DEFAULT_TIMEOUT
from chipclear.errors import ExitCode, OutputFailure, error_record
from chipclear.tui.cli.common import (
    Format,
    Lang,
    RulesOpt,
    check_jobs,
    fail,
    load_rules,
    parse_date,
)
from chipclear.tui.cli.process import Interrupted

if TYPE_CHECKING:
    from chipclear.audit.ledger import Ledger
    from chipclear.batch.run import Outcome
    from chipclear.io.render import JsonStream
    from chipclear.model.case import Case
    from chipclear.model.decision import Decision
    from chipclear.pack.loader import RulePack
    from chipclear.tui.cli.outfile import Output
    from rich.console import Console
    from rich.progress import Progress as RichProgress

EXIT_CODES = (
    "Exit codes: 0 every case is go or go_with_conditions; 1 some case needs attention "
    "(no_go or needs_information; for audit diff, a decision changed); 2 invalid input or "
    "usage (the other cases are still decided); 3 a ledger failed verification; 4 the "
    "engine failed on some case (the others are decided); 70 internal error (please "
    "report it; CHIPCLEAR_DEBUG=1 shows the traceback); 74 the output or the ledger could "
    "not be written; 130/143/129 stopped by Ctrl+C, SIGTERM or SIGHUP; 141 the reader of "
    "the output went away (broken pipe)."
)

app = typer.Typer(
    name="chipclear",
    help="Procurement-compliance decisions for AI accelerators bought by Chinese buyers: "
         "US export licensing and the Chinese regulator's questions, as dated, cited rules.",
    epilog=EXIT_CODES,
    no_args_is_help=True,
    add_completion=True,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
    context_settings={"help_option_names": ["-h", "--help"]},
)


def _show_version(value: bool) -> None:
    if value:
        from chipclear import __version__

        typer.echo(f"chipclear {__version__}")
        raise typer.Exit(0)


@app.callback()
def _root(version: Annotated[bool, typer.Option(
        "--version", is_eager=True, callback=_show_version,
        help="Print the version and exit.")] = False) -> None:
    """Procurement-compliance decisions for AI accelerators bought by Chinese buyers: US
    export licensing and the Chinese regulator's questions, as dated, cited rules."""


def _decided(outcome: Outcome) -> Decision:
    decision = outcome.decided()
    assert decision is not None, "an outcome with a verdict has a decision"
    return decision


class Progress:
    """A rich.progress bar on stderr for long runs on a terminal; error lines above it."""

    AFTER = 20  # cases before the bar appears: short runs stay quiet

    def __init__(self, enabled: bool) -> None:
        self._enabled = enabled and sys.stderr.isatty()
        self._bar: RichProgress | None = None
        self._count = 0

    def tick(self) -> None:
        self._count += 1
        if self._bar is None and self._enabled and self._count >= self.AFTER:
            from rich.console import Console
            from rich.progress import Progress as RichProgress
            from rich.progress import SpinnerColumn, TextColumn, TimeElapsedColumn

            self._bar = RichProgress(SpinnerColumn(), TextColumn("{task.completed} cases"),
                                     TimeElapsedColumn(), console=Console(stderr=True),
                                     transient=True)
            self._bar.start()
            self._task = self._bar.add_task("deciding", total=None)
        if self._bar is not None:
            self._bar.update(self._task, completed=self._count)

    def say(self, line: str) -> None:
        if self._bar is not None:
            self._bar.console.print(line, markup=False, highlight=False, soft_wrap=True)
        else:
            typer.echo(line, err=True)

    def close(self) -> None:
        if self._bar is not None:
            self._bar.stop()
            self._bar = None


class Color(StrEnum):
    auto = "auto"
    always = "always"
    never = "never"


def console_for(stream: TextIO, color: Color) -> Console:
    """A Rich console on ``stream``: Rich's own detection (a terminal or not, NO_COLOR,
    FORCE_COLOR, COLUMNS) unless --color says otherwise; never padded when piped."""
    from rich.console import Console

    force = {Color.always: True, Color.never: False}.get(color)
    return Console(file=stream, force_terminal=force, no_color=True if force is False else None,
                   highlight=False, soft_wrap=False)


@app.command(epilog=EXIT_CODES)
def evaluate(
    paths: Annotated[list[Path], typer.Argument(metavar="PATH",
                                                help="Case files or folders of case files.")],
    fmt: Annotated[Format, typer.Option("--format", "-f", help="Output format.")] = Format.table,
    as_of: Annotated[str | None, typer.Option(metavar="YYYY-MM-DD",
                                              help="Evaluate every case at this date.")] = None,
    rules: RulesOpt = None,
    output: Annotated[Path | None, typer.Option(
        "-o", "--output", metavar="FILE",
        help="Write here ('-': stdout). Replaced only when the run ends.")] = None,
    lang: Annotated[Lang, typer.Option(help="Language of table and Markdown.")] = Lang.en,
    ledger: Annotated[Path | None, typer.Option(
        metavar="FILE", help="Append every decision delivered to this SQLite ledger.")] = None,
    jobs: Annotated[int | None, typer.Option(
        min=0, metavar="N",
        help="Worker processes (default: 1 for a handful of cases, one per core for more; "
             "0: in this process, without crash protection). A worker that crashes or "
             "hangs costs only its case.")] = None,
    timeout: Annotated[float, typer.Option(
        min=0.1, metavar="SECONDS", help="Longest one case may take in a worker.")
    ] = DEFAULT_TIMEOUT,
    color: Annotated[Color, typer.Option(help="Colour in the table.")] = Color.auto,
    summary_only: Annotated[bool, typer.Option(
        "--summary", help="Table format: only the summary table.")] = False,
    details_only: Annotated[bool, typer.Option(
        "--details", help="Table format: only each case's details.")] = False,
) -> None:
    """Decide purchase cases (files or folders of YAML, JSON or JSON lines)."""
    from chipclear.tui.cli.outfile import Output

    override = parse_date(as_of, "--as-of")
    check_jobs(jobs)
    if summary_only and details_only:
        fail("--summary and --details exclude each other (give one, or neither for both)")
    for path in paths:
        if not path.exists():
            fail(f"{path}: file not found (check the path)")
    out = Output(output)
    out.check(paths, ledger)
    pack = load_rules(rules)
    covers_from = pack.manifest.covers_from
    if override is not None and covers_from is not None and override < covers_from:
        from chipclear.decide.evaluate import coverage_problem

        fail(f"--as-of: {coverage_problem(override, covers_from)}")
    book = None
    if ledger is not None:
        from chipclear.audit.ledger import Ledger

        book = Ledger.open(ledger, writable=True)
    skip = [*out.own_files(), *([ledger] if ledger else [])]
    pool = None
    progress = Progress(enabled=fmt is Format.table or out.target is not None)
    delivery = _Delivery(fmt, lang, out, out.open(), book, pack, progress)
    try:
        delivery.start()
        if jobs == 0:
            outcomes = _in_process(pack, paths, skip, override)
        else:
            pool, outcomes = _in_workers(pack, paths, skip, override, jobs, timeout)
        for outcome in outcomes:
            delivery.take(outcome)
        delivery.finish(color, summary_only, details_only)
    except Interrupted:
        delivery.interrupted()
        raise
    except BrokenPipeError:
        out.discard()
        raise
    except OSError as exc:  # the output could not be written (full disk, closed pipe)
        out.discard()  # the target keeps its previous content
        raise OutputFailure(f"{output if output is not None else 'stdout'}: cannot write "
                            f"the output: {exc.strerror or exc}") from None
    except BaseException:
        out.discard()  # the target keeps its previous content
        raise
    finally:
        progress.close()
        if pool is not None:
            pool.close()
        if book is not None:
            book.close()
    raise typer.Exit(int(delivery.tally.exit_code()))


def _in_process(pack: RulePack, paths: list[Path], skip: list[Path],
                override: dt.date | None) -> Iterator[Outcome]:
    """Cases read lazily (once the output is open, so its temporary file is skipped too)
    and decided here, without crash protection (``--jobs 0``)."""
    from chipclear.batch import run as batch
    from chipclear.decide.evaluate import Evaluator
    from chipclear.io.caseio import read_all

    evaluator = Evaluator(pack)
    today = dt.date.today()
    return (batch.evaluate_entry(evaluator, e, today, override)
            for e in read_all(paths, skip=skip))


def _in_workers(pack: RulePack, paths: list[Path], skip: list[Path], override: dt.date | None,
                jobs: int | None, timeout: float) -> tuple[Any, Iterator[Outcome]]:
    """The pool (for the caller to close) and its outcomes in input order: JSON lines and
    YAML cases go to the workers unparsed, for them to parse; as many workers as asked,
    or as ``auto_jobs`` gives for the first handful of cases, never more than cases."""
    from itertools import chain, islice

    from chipclear.batch.isolated import HANDFUL, auto_jobs, case_pool, decide_entries
    from chipclear.io.caseio import read_raw
    from chipclear.tui.cli.process import deferred_signals

    tasks = read_raw(paths, skip=skip)
    head = list(islice(tasks, HANDFUL + 1))
    workers = jobs or auto_jobs(len(head))
    if len(head) <= HANDFUL:  # never more workers than cases
        workers = min(workers, max(1, len(head)))
    with deferred_signals():  # a signal mid-fork would raise in an at-fork hook
        pool = case_pool(workers, pack, dt.date.today(), override, timeout)
    return pool, decide_entries(pool, chain(head, tasks))


class _Delivery:
    """Where decided cases go, in the chosen format: lines and memo parts as they come
    (each with its ledger row: both or neither), the table at the end; error lines on
    stderr above the progress bar, and in the JSON document or memo at its end."""

    def __init__(self, fmt: Format, lang: Lang, out: Output, stream: TextIO,
                 book: Ledger | None, pack: RulePack, progress: Progress) -> None:
        from chipclear.batch.run import Tally

        self.fmt, self.lang, self.out, self.stream = fmt, lang, out, stream
        self.book, self.pack, self.progress = book, pack, progress
        self.tally = Tally()
        self.errors: list[str] = []
        self.table_rows: list[tuple[Case, Decision]] = []
        self.json_stream: JsonStream | None = None

    def start(self) -> None:
        from chipclear.io import render

        if self.fmt is Format.json:
            self.json_stream = render.JsonStream(self.stream)
        elif self.fmt is Format.markdown:
            self.stream.write(render.memo_head(self.lang.value))

    def take(self, outcome: Outcome) -> None:
        from chipclear.io import render
        from chipclear.tui.cli.process import deferred_signals

        self.tally.add(outcome)
        self.progress.tick()
        case = outcome.entry.case
        if outcome.error is not None or outcome.final_verdict() is None or case is None:
            self.errors.append(outcome.error or f"{outcome.entry.location()}: invalid case")
            self.progress.say(self.errors[-1])
            return
        if self.fmt is Format.table:  # delivered at the end, with its ledger rows
            self.table_rows.append((case, _decided(outcome)))
            return
        with deferred_signals():  # the line, then its ledger row: both or neither
            if self.fmt is Format.jsonl:  # the worker's line as is: no parsing back
                self.stream.write(outcome.jsonl())
            elif self.json_stream is not None:
                self.json_stream.add(_decided(outcome))
            else:
                self.stream.write(render.markdown(_decided(outcome), self.lang.value, case,
                                                  str(outcome.entry.location())))
            if self.book is not None:
                self.out.flush()
                self.book.append(case, _decided(outcome), self.pack)

    def finish(self, color: Color, summary_only: bool, details_only: bool) -> None:
        from chipclear.io import render
        from chipclear.tui.cli.process import deferred_signals

        self.progress.close()
        if self.fmt is Format.table:
            with deferred_signals():
                render.table([d for _, d in self.table_rows],
                             console_for(self.stream, color), self.lang.value,
                             summary=not details_only, details=not summary_only)
                self.out.flush()
                if self.book is not None:
                    for case, decision in self.table_rows:
                        self.book.append(case, decision, self.pack)
        elif self.json_stream is not None:
            self.json_stream.close([error_record(e) for e in self.errors])
        elif self.fmt is Format.markdown:
            self.stream.write(render.memo_errors(self.errors, self.lang.value))
        self.out.commit()

    def interrupted(self) -> None:
        """Deliver what was decided (every ledger row has its line), as a whole document."""
        if self.json_stream is not None:
            self.json_stream.close([error_record(e) for e in self.errors])
        self.out.commit()


@app.command()
def chips(
    query: Annotated[str | None, typer.Argument(
        help="A chip id, name or alias (one chip: its detail), or part of one (a list).")
    ] = None,
    rules: RulesOpt = None,
    json_out: Annotated[bool, typer.Option("--json", help="Write JSON.")] = False,
    as_of: Annotated[str | None, typer.Option(
        metavar="YYYY-MM-DD", help="Date of the classification (default: today).")] = None,
    lang: Annotated[Lang, typer.Option(help="Language of the labels.")] = Lang.en,
) -> None:
    """The chip catalog with computed TPP and performance density; one chip in detail:
    figures with their sources (names and URLs), aliases and classification."""
    import json

    from chipclear.io.chipsheet import chip_sheet, chip_text

    pack = load_rules(rules)
    exact = pack.catalog.resolve(query) if query else None
    found = [exact] if exact else (pack.catalog.search(query, limit=len(pack.catalog.chips))
                                   if query else list(pack.catalog.chips.values()))
    if not found:
        fail(f"no chip matches '{query}' (run `chipclear chips` for the whole catalog)")
    if query and len(found) == 1:
        sheet = chip_sheet(pack, found[0].id, parse_date(as_of, "--as-of") or dt.date.today())
        typer.echo(json.dumps(sheet, ensure_ascii=False, indent=2) if json_out
                   else chip_text(sheet, lang.value), nl=json_out)
        return
    rows: list[dict[str, Any]] = []
    for chip in found:
        f = pack.catalog.facts(chip.id)
        rows.append({"id": chip.id, "name": chip.name, "tpp": f.tpp,
                     "performance_density": f.performance_density,
                     "status": chip.status.value, "uncertain_figures": list(f.uncertain_figures)})
    if json_out:
        typer.echo(json.dumps(rows, ensure_ascii=False, indent=2))
        return
    for row in rows:
        tpp = "—" if row["tpp"] is None else f"{row['tpp']:,.0f}"
        pd = "—" if row["performance_density"] is None else f"{row['performance_density']:.2f}"
        flag = " (uncertain: " + ", ".join(row["uncertain_figures"]) + ")" \
            if row["uncertain_figures"] else ""
        typer.echo(f"{row['id']:28} {row['name']:32} TPP {tpp:>8}  PD {pd:>6}  "
                   f"{row['status']}{flag}")


@app.command()
def schema(
    directory: Annotated[Path | None, typer.Argument(
        metavar="[DIR]", help="Where to write the JSON Schemas (default: the schema folder "
                              "of the pack given with --rules).")] = None,
    rules: Annotated[Path | None, typer.Option(
        "--rules", metavar="DIR", help="Rule-pack directory whose schema folder to write.")
    ] = None,
) -> None:
    """Write JSON Schemas of case files and rule-pack files (for yaml-language-server).

    Without DIR or --rules nothing is guessed from the current folder: name one.
    """
    from chipclear.pack.schema import write_all

    if directory is None:
        if rules is None:
            fail("schema: name the pack (--rules DIR) or the folder to write (DIR)")
        if not (rules / "pack.yaml").is_file():
            fail(f"{rules}: not a rule pack (no pack.yaml)")
        directory = rules / "schema"
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


def _invoke(args: Sequence[str]) -> int:
    """Run the click command behind the app; usage errors are one line, exit 2."""
    from chipclear.tui.cli.common import plain_metavars

    plain_metavars()
    command = typer.main.get_command(full_app())
    command._main_shell_completion({}, "chipclear", None)  # exits on a completion request
    try:
        with command.make_context("chipclear", list(args)) as ctx:
            command.invoke(ctx)
    except typer.Exit as exc:
        return int(exc.exit_code)
    except typer.TyperException as exc:
        # Click's exceptions, recognised through typer's public base class (typer vendors
        # click privately): a usage error carries the context and exit code 2.
        if type(exc).__name__ == "NoArgsIsHelpError":  # `chipclear` or a group alone: help
            typer.echo(exc.format_message())
            return int(ExitCode.OK)
        failed_in = getattr(exc, "ctx", None)
        code = int(getattr(exc, "exit_code", ExitCode.INVALID_INPUT))
        message = " ".join(exc.format_message().split())
        if code == int(ExitCode.INVALID_INPUT):
            where = failed_in.command_path if failed_in is not None else "chipclear"
            typer.echo(f"{where}: {message} (see '{where} --help')", err=True)
            return int(ExitCode.INVALID_INPUT)
        typer.echo(message, err=True)
        return code
    except typer.Abort:
        return int(ExitCode.INTERRUPTED)
    return int(ExitCode.OK)


def main(args: Sequence[str] | None = None) -> None:
    """Console entry point: every way out is an exit code with a meaning (see --help)."""
    from chipclear.tui.cli.process import run

    sys.exit(run(lambda: _invoke(sys.argv[1:] if args is None else args)))
