"""``chipclear audit``, ``rules`` and ``ledger`` commands.

Heavy modules (the engine, durable-rules, sqlite) load inside each command, so
``chipclear --help`` stays fast. User errors are one line and exit 2.
"""

from __future__ import annotations

import datetime as dt
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from chipclear.errors import EngineFailure, ExitCode, UserInputError
from chipclear.tui.cli.common import RulesOpt, check_jobs, fail, load_rules, parse_date

if TYPE_CHECKING:
    from chipclear.audit.ledger import Ledger
    from chipclear.audit.timeline import Timeline
    from chipclear.model.case import Case
    from chipclear.pack.loader import RulePack

audit_app = typer.Typer(help="What changes when the rules change.", no_args_is_help=True)
rules_app = typer.Typer(help="Test, lint and measure the rule packs.", no_args_is_help=True)
ledger_app = typer.Typer(help="The tamper-evident decision ledger.", no_args_is_help=True)


class ReportFormat(StrEnum):
    table = "table"
    markdown = "markdown"
    json = "json"


FormatOpt = Annotated[ReportFormat, typer.Option("--format", "-f", help="Output format.")]
LedgerArg = Annotated[Path, typer.Argument(help="Ledger file (SQLite).")]


def _user_error(exc: UserInputError) -> typer.Exit:
    typer.echo(exc.line(), err=True)
    return typer.Exit(int(ExitCode.INVALID_INPUT))


# --- audit -------------------------------------------------------------------------------


@audit_app.command("diff")
def audit_diff(
    base: Annotated[str, typer.Option(help="Rule-pack directory or git revision "
                                           "(REV or REV:path; default HEAD:rules).")] = "HEAD",
    head: Annotated[str | None, typer.Option(help="Rule-pack directory or git revision "
                                                  "(default: the working tree's rules/).")] = None,
    cases: Annotated[list[Path] | None, typer.Option(
        "--cases", help="Case files or folders (default: examples/cases and every golden "
                        "case of both packs). Repeat for several.")] = None,
    fmt: FormatOpt = ReportFormat.table,
    repo: Annotated[Path | None, typer.Option(help="Git repository for revisions "
                                                   "(default: the one around the current "
                                                   "directory).")] = None,
    jobs: Annotated[int | None, typer.Option(
        min=0, metavar="N", help="Worker processes for deciding the corpus (default: as "
                                 "evaluate picks them; 0: in this process, without crash "
                                 "protection).")] = None,
) -> None:
    """What changed from BASE to HEAD, and which decisions it changes.

    Rules, parameters and catalog figures changed, then every corpus case decided under
    both packs (once where both provably decide it alike: same lists and catalog, same
    rules and values on its date). Exit 0 when no decision changed, 1 when some did, 2
    on bad input.
    """
    check_jobs(jobs)
    import tempfile  # here, not at import: --help loads this module

    from chipclear.audit import impact as audit

    for path in cases or []:
        if not path.exists():
            fail(f"{path}: file not found (check the path)")
    git_repo = audit.repo_root(repo) if repo is not None else audit.repo_root()
    if repo is not None and git_repo is None:
        fail(f"{repo}: not a git repository (pass a rules directory instead)")
    try:
        with tempfile.TemporaryDirectory(prefix="chipclear-audit-") as tmp:
            work = Path(tmp)
            base_spec = audit.resolve_pack(base, git_repo, work)
            head_spec = audit.resolve_pack(head or audit.default_head(git_repo), git_repo, work)
            report = audit.audit_diff(base_spec, head_spec, cases, dt.date.today(), jobs)
    except UserInputError as exc:
        raise _user_error(exc) from None
    except EngineFailure as exc:
        typer.echo(f"audit diff: engine failure: {exc}", err=True)
        raise typer.Exit(int(ExitCode.ENGINE_FAILURE)) from None
    typer.echo(audit.render_report(report, fmt.value), nl=False)
    for err in report.errors + report.engine_failures:
        typer.echo(err, err=True)
    if report.errors and cases:
        raise typer.Exit(int(ExitCode.INVALID_INPUT))
    if report.engine_failures:
        raise typer.Exit(int(ExitCode.ENGINE_FAILURE))
    raise typer.Exit(int(ExitCode.ATTENTION if report.decisions_changed else ExitCode.OK))


@audit_app.command("timeline")
def audit_timeline(
    case_file: Annotated[Path, typer.Argument(metavar="CASE", help="A case file.")],
    start: Annotated[str | None, typer.Option("--from", help="First date (YYYY-MM-DD; default: "
                                                             "the pack's earliest date).")] = None,
    end: Annotated[str | None, typer.Option("--to", help="Last date, inclusive (default: the "
                                                         "pack's latest change).")] = None,
    case_id: Annotated[str | None, typer.Option(help="Which case, in a file of several.")] = None,
    rules: RulesOpt = None,
    fmt: FormatOpt = ReportFormat.table,
) -> None:
    """The dates a case's outcome changes, and the rules responsible.

    The case is decided on every date the pack changes (rule windows, parameter dates,
    list entries) between --from and --to.
    """
    from chipclear.audit.timeline import render_timeline
    from chipclear.io.caseio import read_file

    first, last = parse_date(start, "--from"), parse_date(end, "--to")
    if first and last and last < first:
        fail(f"--to {last} is before --from {first}")
    if not case_file.is_file():
        fail(f"{case_file}: file not found (check the path)")
    entries = list(read_file(case_file))
    for entry in entries:
        if entry.error is not None:
            fail(entry.error.line())
    picked = [e for e in entries if e.case is not None and (case_id is None
                                                            or e.case.id == case_id)]
    if not picked:
        fail(f"{case_file}: no case with id '{case_id}'" if case_id
             else f"{case_file}: no case in this file")
    if len(picked) > 1:
        fail(f"{case_file}: {len(picked)} cases in this file (pick one with --case-id)")
    case = picked[0].case
    assert case is not None
    pack = load_rules(rules)
    tl = _timeline_in_worker(pack, case, first, last, picked[0].location())
    if tl.first.error and not tl.flips:  # e.g. an unknown chip: nothing to show over time
        fail(f"{picked[0].location()}: {tl.first.error}")
    typer.echo(render_timeline(tl, fmt.value), nl=False)


def _timeline_in_worker(pack: RulePack, case: Case, first: dt.date | None,
                        last: dt.date | None, where: object) -> Timeline:
    """The whole timeline decided in one worker process: a crash or hang is one line."""
    import functools

    from chipclear.audit.timeline import timeline_setup
    from chipclear.batch import DEFAULT_TIMEOUT
    from chipclear.batch.pool import Lost, WorkerPool

    with WorkerPool(1, functools.partial(timeline_setup, pack),
                    timeout=10 * DEFAULT_TIMEOUT) as pool:
        [result] = list(pool.map([(case, first, last)]))
    if isinstance(result, Lost):
        fail(f"{where}: case '{case.id}': engine failure: {result.reason}",
             ExitCode.ENGINE_FAILURE)
    if isinstance(result, UserInputError):
        raise _user_error(result)
    return result


# --- rules -------------------------------------------------------------------------------


@rules_app.command("test")
def rules_test(rules: RulesOpt = None) -> None:
    """Run every golden case of the pack; print the failures. Exit 1 on any failure."""
    from chipclear.decide.evaluate import Evaluator, UnknownChip
    from chipclear.errors import Location
    from chipclear.io.yamlload import load_file, locate
    from chipclear.pack.golden import golden_files, load_golden, run_golden
    from pydantic import ValidationError

    pack = load_rules(rules)
    for path in golden_files(pack):  # name a broken golden file before running any
        try:
            load_golden(path)
        except ValidationError as exc:
            err = exc.errors()[0]
            mark = locate(load_file(path), list(err["loc"]))
            where = Location(str(path), *mark) if mark else Location(str(path))
            fail(f"{where}: {'.'.join(str(p) for p in err['loc'])}: {err['msg']}")
        except UserInputError as exc:
            fail(exc.line())
    try:
        results = run_golden(Evaluator(pack))
    except UnknownChip as exc:
        fail(f"{pack.root}: a golden case names an unknown chip: {exc}")
    except UserInputError as exc:
        fail(exc.line())
    failed = [r for r in results if r.problems]
    for r in failed:
        for problem in r.problems:
            typer.echo(f"{r.location}: {r.name}: {problem}")
    typer.echo(f"{len(results)} golden cases, {len(results) - len(failed)} passed, "
               f"{len(failed)} failed")
    raise typer.Exit(int(ExitCode.ATTENTION if failed else ExitCode.OK))


@rules_app.command("lint")
def rules_lint(
    rules: RulesOpt = None,
    strict: Annotated[bool, typer.Option(help="Exit 1 on warnings too.")] = False,
    overlaps: Annotated[bool, typer.Option(
        "--overlaps", help="List the status overlaps (notes) one by one.")] = False,
) -> None:
    """Find problems in a rule pack, all at once.

    Errors: rules without sources, unknown facts, inverted windows, parameters with no
    value when a rule starts. Warnings: derived facts nobody derives. Notes: rules that
    can set different statuses on the same purchase and dates (the worst one wins);
    counted, and listed with --overlaps. Exit 1 on errors (with --strict, on warnings).
    """
    from chipclear.pack.lint import lint
    from chipclear.pack.loader import default_rules_dir

    try:
        issues = lint(rules or default_rules_dir())
    except UserInputError as exc:
        raise _user_error(exc) from None
    count = {level: sum(1 for i in issues if i.level == level)
             for level in ("error", "warning", "note")}
    for issue in issues:
        if issue.level != "note" or overlaps:
            typer.echo(issue.line())
    summary = (f"{count['error']} error{'s' * (count['error'] != 1)}, "
               f"{count['warning']} warning{'s' * (count['warning'] != 1)}")
    if count["note"]:
        summary += (f", {count['note']} status overlap{'s' * (count['note'] != 1)} resolved "
                    "by worst-status precedence" + ("" if overlaps else " (--overlaps lists them)"))
    typer.echo(summary)
    failed = count["error"] or (strict and count["warning"])
    raise typer.Exit(int(ExitCode.ATTENTION if failed else ExitCode.OK))


@rules_app.command("coverage")
def rules_coverage(
    cases: Annotated[list[Path], typer.Option("--cases", metavar="PATH",
                                              help="Case files or folders.")],
    rules: RulesOpt = None,
    jobs: Annotated[int | None, typer.Option(
        min=0, metavar="N", help="Worker processes (default: as evaluate picks them; 0: in "
                                 "this process, without crash protection).")] = None,
) -> None:
    """Rules that never fire, or fire on every case, over a corpus."""
    check_jobs(jobs)
    from chipclear.audit.impact import Corpus, coverage, read_cases, render_coverage
    from chipclear.batch.isolated import auto_jobs

    for path in cases:
        if not path.exists():
            fail(f"{path}: file not found (check the path)")
    pack = load_rules(rules)
    corpus = Corpus()
    read_cases(cases, corpus)
    failures: list[str] = []
    cov = coverage(pack, corpus.cases, dt.date.today(), corpus.errors,
                   auto_jobs(len(corpus.cases)) if jobs is None else jobs, failures)
    typer.echo(render_coverage(cov, pack), nl=False)
    for line in failures:
        typer.echo(line, err=True)
    if corpus.errors:
        raise typer.Exit(int(ExitCode.INVALID_INPUT))
    if failures:
        raise typer.Exit(int(ExitCode.ENGINE_FAILURE))


# --- ledger ------------------------------------------------------------------------------


def _open(path: Path) -> Ledger:
    from chipclear.audit.ledger import Ledger

    try:
        return Ledger.open(path, create=False)
    except UserInputError as exc:
        raise _user_error(exc) from None


def _broken(seq: int | None, problem: str | None) -> str:
    """Where the chain breaks, and which rows before it still hold."""
    if seq is None:
        return f"{problem} (no row can be trusted)"
    intact = f"rows 1 to {seq - 1} are intact" if seq > 1 else "no row before it is intact"
    return f"row {seq}: {problem} ({intact})"


@ledger_app.command("verify")
def ledger_verify(path: LedgerArg) -> None:
    """Walk the hash chain; name the first broken row. Exit 0 intact, 3 broken."""
    with _open(path) as book:
        result = book.verify()
    for warning in result.warnings:
        typer.echo(f"{path}: warning: {warning}", err=True)
    if not result.ok:
        typer.echo(f"{path}: {_broken(result.broken_seq, result.problem)}")
        raise typer.Exit(int(ExitCode.INTEGRITY))
    typer.echo(f"{path}: {result.rows} rows intact; head hash {result.head}")


@ledger_app.command("list")
def ledger_list(path: LedgerArg) -> None:
    """One line per decision: sequence, time, case, date, verdict, rule pack."""
    from chipclear.io.render import printable

    with _open(path) as book:
        typer.echo(f"{'seq':>6}  {'utc':27}  {'as_of':10}  {'verdict':18}  {'pack':12}  case")
        for row in book.rows():
            typer.echo(f"{row.seq:>6}  {row.utc:27}  {row.as_of:10}  {row.verdict:18}  "
                       f"{row.pack_sha256[:12]}  {printable(row.case_id)}")


@ledger_app.command("show")
def ledger_show(path: LedgerArg,
                seq: Annotated[int, typer.Argument(metavar="N", help="Row number.")]) -> None:
    """One row: its chain fields, the stored case and the decision JSON."""
    import json

    with _open(path) as book:
        try:
            row = book.row(seq)
        except UserInputError as exc:
            raise _user_error(exc) from None
    for name in ("seq", "utc", "tool_version", "case_id", "as_of", "verdict", "case_sha256",
                 "pack_sha256", "prev_hash", "hash"):
        typer.echo(f"{name:13} {getattr(row, name)}")
    typer.echo("case:")
    typer.echo(json.dumps(json.loads(row.case_json), ensure_ascii=False, indent=2))
    typer.echo("decision:")
    typer.echo(json.dumps(json.loads(row.decision_json), ensure_ascii=False, indent=2))


@ledger_app.command("replay")
def ledger_replay(
    path: LedgerArg,
    seq: Annotated[int | None, typer.Argument(metavar="[N]",
                                              help="Row number (default: every row).")] = None,
) -> None:
    """Re-decide stored cases under their stored packs; compare the JSON byte for byte.

    A row written before ``because`` became structured counts as the same decision when
    the replay matches it byte for byte with ``because`` written as those lines; it is
    counted apart. Exit 0 identical (or only that), 1 some decision differs (the
    difference is shown), 3 the ledger fails ``ledger verify`` (said first; the rows are
    still replayed).
    """
    with _open(path) as book:
        check = book.verify()
        if not check.ok:  # "identical" must not vouch for tampered rows: say so, exit 3
            typer.echo(f"{path}: fails verification: "
                       f"{_broken(check.broken_seq, check.problem)} (see chipclear ledger verify)")
        seqs = [seq] if seq is not None else [r.seq for r in book.rows()]
        differ = earlier = 0
        for n in seqs:
            try:
                result = book.replay(n)
            except UserInputError as exc:
                raise _user_error(exc) from None
            note = f" ({result.note})" if result.note else ""
            if result.identical:
                if seq is not None:
                    typer.echo(f"row {n}: identical decision{note}")
                continue
            if result.earlier_because:
                earlier += 1
                if seq is not None:
                    typer.echo(f"row {n}: identical decision, `because` stored in the earlier "
                               f"text form{note}")
                continue
            differ += 1
            typer.echo(f"row {n}: the replayed decision differs{note}")
            for line in result.diff():
                typer.echo(line)
    if seq is None:
        same = len(seqs) - differ - earlier
        older = f", {earlier} identical but for `because` stored in the earlier text form " \
            "(rendered to text, every byte matches)" if earlier else ""
        typer.echo(f"{len(seqs)} rows replayed, {same} identical{older}, {differ} differ")
    if not check.ok:
        raise typer.Exit(int(ExitCode.INTEGRITY))
    raise typer.Exit(int(ExitCode.ATTENTION if differ else ExitCode.OK))
