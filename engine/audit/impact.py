"""Auditing a rule change: which decisions it changes, on a corpus of real cases.

A rule edit is reviewed by its effect, not only its text: every case of a corpus
(the examples and the golden cases of both packs by default) is decided under the old
and the new pack, and the cases whose verdict, statuses, revenue-share cost or
findings differ are listed with the rules that newly fire or stop firing. A case both
packs provably decide alike (``chipclear.audit.agreement``) is traced once and no
decision is built for it; the report is the same byte for byte. Packs come from
directories or from git revisions (read with ``git archive``, never a checkout, so a
shared working tree is never touched).
"""

from __future__ import annotations

import datetime as dt
import functools
import io
import subprocess
import tarfile
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from chipclear.audit.agreement import Agreement, Relation, agreement, same_ground, same_trace
from chipclear.decide.compile import CompiledPack
from chipclear.decide.evaluate import Evaluator, Prepared, UnknownChip
from chipclear.decide.trace import Trace
from chipclear.errors import EngineFailure, Location, UserInputError
from chipclear.io.caseio import read_all
from chipclear.model.case import Case
from chipclear.model.decision import Decision, Verdict
from chipclear.pack.diff import PackDiff, diff_packs
from chipclear.pack.golden import fired_rules, golden_files, load_golden
from chipclear.pack.loader import RulePack, default_rules_dir, load_pack


class FiringEvaluator(Evaluator):
    """An evaluator that also remembers every rule that fired, silent ones included.

    Decisions list findings and conditions only; an audit also needs the derivation
    rules (an ECCN that stops being derived), so the raw firings are kept.
    """

    def decide(self, case: Case, today: dt.date,
               prepared: Prepared | None = None) -> tuple[Decision, frozenset[str]]:
        """``prepared``: the case's facts as a pack on the same ground prepared them."""
        return self.decide_traced(*self.trace_case(case, today, prepared))

    def decide_traced(self, prep: Prepared, compiled: CompiledPack,
                      trace: Trace) -> tuple[Decision, frozenset[str]]:
        """The decision, and every rule that fired (read from the trace it was built from)."""
        return self._decide(prep, compiled, trace), frozenset(trace.firings.fired)


# --- where packs come from ---------------------------------------------------------------


def _git(repo: Path, *args: str) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(["git", "-C", str(repo), *args], capture_output=True, check=False)


def repo_root(start: Path | None = None) -> Path | None:
    """The git work tree around ``start``; by default around the current directory, else
    around the shipped pack (a checkout's rules/)."""
    for where in [start] if start is not None else [Path.cwd(), default_rules_dir()]:
        try:
            found = _git(where, "rev-parse", "--show-toplevel")
        except OSError:
            return None
        if found.returncode == 0:
            return Path(found.stdout.decode().strip())
    return None


@dataclass(frozen=True)
class PackSpec:
    """A pack named on the command line, resolved to a directory on disk."""

    label: str
    root: Path
    origin: str = ""  # how to name the pack's files in messages (REV:path for git)

    def load(self) -> RulePack:
        """Load the pack; errors in a pack read from git name ``REV:path/file``."""
        try:
            return load_pack(self.root)
        except UserInputError as exc:
            where = exc.location
            if self.origin and where.file.startswith(str(self.root)):
                where = Location(self.origin + where.file[len(str(self.root)):], where.line,
                                 where.col)
            raise UserInputError(where, exc.message, exc.hint) from None


def resolve_pack(spec: str, repo: Path | None, workdir: Path) -> PackSpec:
    """A rule-pack directory, or ``REV`` / ``REV:path`` read from git into ``workdir``.

    ``REV`` alone means the pack at ``rules/`` in that revision.
    """
    as_dir = Path(spec)
    if as_dir.is_dir():
        if not (as_dir / "pack.yaml").is_file():
            raise UserInputError(Location(spec), "no rule pack here (pack.yaml missing)",
                                 "pass a rules directory or a git revision")
        return PackSpec(spec, as_dir)
    rev, _, sub = spec.partition(":")
    sub = sub.strip("/") or "rules"
    if repo is None:
        raise UserInputError(Location(spec), "neither a rule-pack directory nor a git revision",
                             "run inside a git repository or pass --repo")
    found = _git(repo, "rev-parse", "--verify", "--quiet", f"{rev}^{{commit}}")
    if found.returncode != 0:
        head = _git(repo, "rev-parse", "--verify", "--quiet", "HEAD")
        hint = "the repository has no commits yet" if head.returncode != 0 else \
            "use a branch, tag, commit or a rules directory"
        raise UserInputError(Location(spec),
                             f"neither a rule-pack directory nor a git revision of {repo}", hint)
    commit = found.stdout.decode().strip()
    archive = _git(repo, "archive", "--format=tar", commit, "--", sub)
    if archive.returncode != 0:
        raise UserInputError(Location(spec), f"'{sub}' does not exist at {commit[:12]}",
                             "name the pack's folder as REV:path")
    dest = workdir / f"{commit[:12]}-{len(list(workdir.iterdir()))}"
    try:
        with tarfile.open(fileobj=io.BytesIO(archive.stdout)) as tar:
            for member in tar.getmembers():
                if not (member.isfile() or member.isdir()):
                    what = "a symbolic link" if member.issym() else "not a regular file"
                    raise UserInputError(
                        Location(f"{rev}:{member.name}"), f"{what} in {commit[:12]}",
                        "a rule pack holds regular files only")
            tar.extractall(dest, filter="data")
    except tarfile.TarError as exc:
        raise UserInputError(Location(spec), f"cannot read '{sub}' at {commit[:12]}: {exc}") \
            from None
    root = dest / sub
    if not (root / "pack.yaml").is_file():
        raise UserInputError(Location(spec), f"no rule pack at '{sub}' in {commit[:12]}",
                             "name the pack's folder as REV:path")
    return PackSpec(f"{rev}:{sub} ({commit[:12]})", root, f"{rev}:{sub}")


def default_head(repo: Path | None) -> str:
    """The working tree's pack: ``<repo>/rules``, else the shipped pack."""
    if repo is not None and (repo / "rules" / "pack.yaml").is_file():
        return str(repo / "rules")
    return str(default_rules_dir())


# --- the corpus --------------------------------------------------------------------------


@dataclass(frozen=True)
class CorpusCase:
    label: str  # where it was read: file:line:col, or the golden case's name
    case: Case


@dataclass
class Corpus:
    cases: list[CorpusCase] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    sources: list[str] = field(default_factory=list)


def read_cases(paths: Iterable[Path], corpus: Corpus) -> None:
    """Add case files (or folders of them); bad cases become one-line errors."""
    for entry in read_all(paths):
        if entry.case is None:
            corpus.errors.append(entry.error.line() if entry.error else f"{entry.file}: bad case")
        else:
            corpus.cases.append(CorpusCase(str(entry.location()), entry.case))


def add_golden(pack: RulePack, corpus: Corpus, seen: set[str]) -> None:
    """Add a pack's golden cases; one already added (same name and case) is skipped."""
    for path in golden_files(pack):
        try:
            loaded = load_golden(path)
        except (ValueError, UserInputError) as exc:
            corpus.errors.append(f"{path}: {str(exc).splitlines()[0]}")
            continue
        for golden, _where in loaded:
            key = golden.name + "\0" + golden.case.model_dump_json()
            if key in seen:
                continue
            label = f"golden {golden.name}"
            if any(c.label == label for c in corpus.cases):
                label += " (base version)"
            seen.add(key)
            corpus.cases.append(CorpusCase(label, golden.case))


def default_corpus(base: RulePack, head: RulePack) -> Corpus:
    corpus = Corpus()
    # the shipped examples live beside the shipped rules/ in a checkout (not in a wheel)
    examples = default_rules_dir().parent / "examples" / "cases"
    if examples.is_dir():
        read_cases([examples], corpus)
        corpus.sources.append(str(examples))
    seen: set[str] = set()
    add_golden(head, corpus, seen)
    add_golden(base, corpus, seen)
    corpus.sources.append("golden cases of both packs")
    return corpus


# --- impact ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Outcome:
    """The parts of a decision an audit compares, or why there is no decision."""

    verdict: str | None = None
    us_status: str | None = None
    cn_status: str | None = None
    share_pct: float | None = None
    share_usd: float | None = None
    findings: tuple[str, ...] = ()  # rules behind findings and checklist conditions
    fired: frozenset[str] = frozenset()  # every rule that fired, silent ones included
    error: str | None = None
    engine_failure: bool = False  # the error is the engine's: reported as a failure, not counted

    def compared(self) -> tuple[Any, ...]:
        return (self.verdict, self.us_status, self.cn_status, self.share_pct, self.share_usd,
                self.findings, self.error)

    def changes_to(self, after: Outcome) -> list[tuple[str, Any, Any]]:
        """(field, old, new) for each part that differs; findings as sorted lists."""
        names = ("verdict", "us_status", "cn_status", "share_pct", "share_usd", "error")
        out = [(n, getattr(self, n), getattr(after, n)) for n in names
               if getattr(self, n) != getattr(after, n)]
        if self.findings != after.findings:
            out.append(("findings", list(self.findings), list(after.findings)))
        return out

    def fire_diff(self, after: Outcome) -> tuple[list[str], list[str]]:
        """Rules that fire only after, and rules that fire only before."""
        return sorted(after.fired - self.fired), sorted(self.fired - after.fired)

    def to_data(self) -> dict[str, Any]:
        if self.error:
            return {"error": self.error}
        return {"verdict": self.verdict, "us_status": self.us_status,
                "cn_status": self.cn_status, "revenue_share_pct": self.share_pct,
                "revenue_share_usd": self.share_usd, "findings": list(self.findings)}


def outcome_of(decision: Decision, fired: frozenset[str]) -> Outcome:
    return Outcome(decision.verdict.value, decision.us.status.value, decision.cn.status.value,
                   decision.us.revenue_share_pct, decision.us.revenue_share_usd,
                   tuple(sorted(fired_rules(decision))), fired)


def decide(evaluator: FiringEvaluator, case: Case, today: dt.date,
           prepared: Prepared | None = None) -> Outcome:
    return settle(lambda: evaluator.decide(case, today, prepared))


def settle(decision: Callable[[], tuple[Decision, frozenset[str]]]) -> Outcome:
    """The outcome of a decision, or the error that stands for it."""
    try:
        return outcome_of(*decision())
    except UnknownChip as exc:
        return Outcome(error=str(exc))
    except EngineFailure as exc:
        return Outcome(error=str(exc), engine_failure=True)
    except UserInputError as exc:
        return Outcome(error=str(exc))


#: Totals, in the order they are printed.
CATEGORIES = ("newly_blocked", "newly_cleared", "newly_conditional",
              "newly_needs_information", "other_changes", "unchanged")
_BY_VERDICT = {Verdict.no_go.value: "newly_blocked", Verdict.go.value: "newly_cleared",
               Verdict.go_with_conditions.value: "newly_conditional",
               Verdict.needs_information.value: "newly_needs_information"}


@dataclass(frozen=True)
class CaseImpact:
    label: str
    case_id: str
    base: Outcome
    head: Outcome

    @property
    def changed(self) -> bool:
        return self.base.compared() != self.head.compared()

    @property
    def category(self) -> str:
        if not self.changed:
            return "unchanged"
        if self.base.verdict != self.head.verdict and self.head.verdict is not None:
            return _BY_VERDICT[self.head.verdict]
        return "other_changes"

    def changed_fields(self) -> list[tuple[str, Any, Any]]:
        return self.base.changes_to(self.head)

    @property
    def newly_fire(self) -> list[str]:
        return self.base.fire_diff(self.head)[0]

    @property
    def stop_firing(self) -> list[str]:
        return self.base.fire_diff(self.head)[1]

    def to_data(self) -> dict[str, Any]:
        return {"case": self.case_id, "where": self.label, "category": self.category,
                "base": self.base.to_data(), "head": self.head.to_data(),
                "newly_fire": self.newly_fire, "stop_firing": self.stop_firing}


def pack_ref(label: str, pack: RulePack) -> dict[str, str]:
    return {"label": label, "id": pack.manifest.id, "version": pack.manifest.version,
            "sha256": pack.sha256}


@dataclass
class AuditReport:
    base: dict[str, str]
    head: dict[str, str]
    diff: PackDiff
    corpus: list[str]
    cases: int
    impacts: list[CaseImpact]  # the changed cases only
    totals: dict[str, int]
    errors: list[str]
    engine_failures: list[str] = field(default_factory=list)

    @property
    def decisions_changed(self) -> bool:
        return bool(self.impacts)

    def to_data(self) -> dict[str, Any]:
        return {
            "base": self.base, "head": self.head,
            "structure": [c.to_data() for c in self.diff.changes],
            "impact": {"corpus": self.corpus, "cases": self.cases,
                       "decisions_changed": self.decisions_changed, "totals": self.totals,
                       "changed": [i.to_data() for i in self.impacts]},
            "errors": self.errors + self.engine_failures,
        }


class Comparer:
    """Decides a case under both packs, or proves it unchanged from one trace.

    With ``fast`` (the default) and the packs on the same ground (see
    ``chipclear.audit.agreement``), each case is traced under the base pack first: a case
    both packs provably decide alike is reported as None (unchanged) without building a
    decision; any other case gets the base decision from that trace and the head
    decision from the same prepared facts. A case whose trace fails, and every case when
    the packs are not on the same ground, is decided under both packs from scratch.
    """

    def __init__(self, base: RulePack, head: RulePack, today: dt.date,
                 fast: bool = True) -> None:
        self.base = FiringEvaluator(base)
        self.head = FiringEvaluator(head, self.base.runtime)
        self.today = today
        self.fast = fast and same_ground(base, head)
        self._agreements: dict[tuple[str, str], Agreement] = {}

    def __call__(self, cc: CorpusCase) -> CaseImpact | None:
        case = cc.case
        if not self.fast:
            return self._both(cc)
        try:
            agreed = self._agreement(case.as_of or self.today)
            traced = self.base.trace_case(case, self.today)
        except (UnknownChip, EngineFailure, UserInputError):
            return self._both(cc)  # errors are rare: decided under both packs, as ever
        base = functools.partial(self.base.decide_traced, *traced)
        if agreed.relation is Relation.different:  # the facts are the same: prepare once
            return CaseImpact(cc.label, case.id, settle(base),
                              decide(self.head, case, self.today, traced[0]))
        fired = traced[2].firings.fired
        share_fired = any(fired.get(rid) for rid in agreed.share_rules)
        if agreed.relation is Relation.values:
            try:
                head_traced = self.head.trace_case(case, self.today, traced[0])
            except (UnknownChip, EngineFailure, UserInputError):
                return CaseImpact(cc.label, case.id, settle(base),
                                  decide(self.head, case, self.today, traced[0]))
            if not share_fired and same_trace(traced[2], head_traced[2]):
                return None
            head = functools.partial(self.head.decide_traced, *head_traced)
            return CaseImpact(cc.label, case.id, settle(base), settle(head))
        if not share_fired:
            return None
        return CaseImpact(cc.label, case.id, settle(base),
                          decide(self.head, case, self.today, traced[0]))

    def _both(self, cc: CorpusCase) -> CaseImpact:
        return CaseImpact(cc.label, cc.case.id, decide(self.base, cc.case, self.today),
                          decide(self.head, cc.case, self.today))

    def _agreement(self, day: dt.date) -> Agreement:
        base, head = self.base.compiled(day), self.head.compiled(day)
        key = (base.name, head.name)
        found = self._agreements.get(key)
        if found is None:
            found = self._agreements[key] = agreement(base, head, self.base.pack,
                                                      self.head.pack)
        return found


def _impact_setup(base: RulePack, head: RulePack, today: dt.date,
                  fast: bool = True) -> Callable[[CorpusCase], CaseImpact | None]:
    return Comparer(base, head, today, fast)


def engine_failure_line(label: str, case_id: str, reason: str) -> str:
    """The one line that stands for a case whose worker crashed or hung."""
    return f"{label}: case '{case_id}': engine failure: {reason} (the other cases were decided)"


def impact(base: RulePack, head: RulePack, cases: Sequence[CorpusCase],
           today: dt.date, jobs: int = 0, failures: list[str] | None = None,
           fast: bool = True) -> tuple[list[CaseImpact], dict[str, int]]:
    """Decide every case under both packs; identical packs cannot change a decision.

    ``jobs`` >= 1 decides in that many worker processes: a case whose worker crashes or
    hangs is left out of the totals and named in ``failures`` instead. ``fast`` False
    decides every case under both packs even where one decision provably suffices (the
    reference the fast path is tested against)."""
    totals = dict.fromkeys(CATEGORIES, 0)
    if base.sha256 == head.sha256:
        totals["unchanged"] = len(cases)
        return [], totals
    changed: list[CaseImpact] = []
    counts: Counter[str] = Counter()

    def count(result: CaseImpact | None) -> None:
        if result is None:  # proven unchanged
            counts["unchanged"] += 1
            return
        for side in (result.base, result.head):
            if side.engine_failure and failures is not None:
                # an engine failure is never a decision, so never "unchanged" either
                failures.append(engine_failure_line(result.label, result.case_id,
                                                    str(side.error)))
                return
        counts[result.category] += 1
        if result.changed:
            changed.append(result)

    if jobs:
        from chipclear.batch.pool import Lost, WorkerPool

        with WorkerPool(jobs, functools.partial(_impact_setup, base, head, today,
                                                fast)) as pool:
            for cc, result in zip(cases, pool.map(cases), strict=True):
                if isinstance(result, Lost):
                    if failures is not None:
                        failures.append(engine_failure_line(cc.label, cc.case.id,
                                                            result.reason))
                else:
                    count(result)
    else:
        compare = Comparer(base, head, today, fast)
        for cc in cases:
            count(compare(cc))
    totals.update(counts)
    return changed, totals


def audit_diff(base: PackSpec, head: PackSpec, case_paths: Sequence[Path] | None,
               today: dt.date, jobs: int | None = None, fast: bool = True) -> AuditReport:
    """``jobs`` None: worker processes as ``chipclear evaluate`` picks them; ``fast`` as
    in ``impact``."""
    from chipclear.batch.isolated import auto_jobs

    base_pack, head_pack = base.load(), head.load()
    if case_paths:
        corpus = Corpus(sources=[str(p) for p in case_paths])
        read_cases(case_paths, corpus)
    else:
        corpus = default_corpus(base_pack, head_pack)
    failures: list[str] = []
    impacts, totals = impact(base_pack, head_pack, corpus.cases, today,
                             auto_jobs(len(corpus.cases)) if jobs is None else jobs, failures,
                             fast)
    return AuditReport(pack_ref(base.label, base_pack), pack_ref(head.label, head_pack),
                       diff_packs(base_pack, head_pack), corpus.sources, len(corpus.cases),
                       impacts, totals, corpus.errors, failures)


# --- coverage ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Coverage:
    cases: int
    fired: dict[str, int]  # rule id -> cases it fired in
    in_force: dict[str, int]  # rule id -> cases whose date it was in force on
    errors: list[str]

    @property
    def never(self) -> list[str]:
        return [r for r, n in self.fired.items() if n == 0]

    @property
    def always(self) -> list[str]:
        return [r for r, n in self.fired.items() if self.cases and n == self.cases]


def _coverage_setup(pack: RulePack, today: dt.date) -> Callable[[CorpusCase], Outcome]:
    ev = FiringEvaluator(pack)
    return lambda cc: decide(ev, cc.case, today)


def coverage(pack: RulePack, cases: Sequence[CorpusCase], today: dt.date,
             errors: list[str], jobs: int = 0, failures: list[str] | None = None) -> Coverage:
    """How many cases each rule fires in (silent rules included); ``jobs`` as in
    ``impact``: a case whose worker crashed or hung is named in ``failures``."""
    fired = {cr.rule.id: 0 for cr in pack.rules}
    in_force = dict(fired)
    errs = list(errors)
    outcomes: Iterable[Any]
    pool = None
    lost = 0
    if jobs:
        from chipclear.batch.pool import WorkerPool

        pool = WorkerPool(jobs, functools.partial(_coverage_setup, pack, today))
        outcomes = pool.map(cases)
    else:
        ev = FiringEvaluator(pack)
        outcomes = (decide(ev, cc.case, today) for cc in cases)
    try:
        for cc, out in zip(cases, outcomes, strict=True):
            if not isinstance(out, Outcome):  # a Lost task: the worker crashed or hung
                lost += 1
                if failures is not None:
                    failures.append(engine_failure_line(cc.label, cc.case.id, out.reason))
                continue
            if out.engine_failure and failures is not None:
                lost += 1
                failures.append(engine_failure_line(cc.label, cc.case.id, str(out.error)))
                continue
            if out.error:
                errs.append(f"{cc.label}: {out.error}")
                continue
            when = cc.case.as_of or today
            for cr in pack.rules:
                if cr.rule.active(when):
                    in_force[cr.rule.id] += 1
            for rid in out.fired:
                fired[rid] += 1
    finally:
        if pool is not None:
            pool.close()
    return Coverage(len(cases) - lost, fired, in_force, errs)


# --- rendering ---------------------------------------------------------------------------


def show(value: Any) -> str:
    """A value as a reviewer reads it: '—' for nothing, compact JSON for structures."""
    import json

    if value is None:
        return "—"
    if isinstance(value, float):
        return f"{value:,.2f}" if value != int(value) else f"{value:,.0f}"
    if isinstance(value, dict | list | tuple):
        return json.dumps(value, ensure_ascii=False, allow_nan=False, separators=(", ", ": "))
    return str(value)


def _pack_line(ref: dict[str, str]) -> str:
    return f"{ref['label']} ({ref['id']} {ref['version']}, sha256 {ref['sha256'][:12]})"


_MARK = {"added": "+", "removed": "-", "changed": "~"}


def _structure_lines(diff: PackDiff, markdown: bool) -> list[str]:
    out: list[str] = []
    if diff.empty:
        return ["No structural change." if markdown else "no structural change", ""]
    for section in ("rules", "parameters", "catalog", "sources", "files"):
        changes = diff.section(section)
        if not changes:
            continue
        out.append(f"### {section.capitalize()}" if markdown else section.capitalize())
        if markdown:
            out.append("")
        for c in changes:
            extra = f" ({c.summary})" if c.summary else ""
            if markdown:
                out.append(f"- **{c.kind}** `{c.key}`{extra}")
            else:
                out.append(f"  {_MARK[c.kind]} {c.key}  {c.kind}{extra}")
            for f in c.fields:
                if markdown:
                    out.append(f"  - `{f.field}`: `{show(f.old)}` → `{show(f.new)}`")
                else:
                    out.append(f"      {f.field}: {show(f.old)} → {show(f.new)}")
        out.append("")
    return out


def _change_text(impact: CaseImpact) -> list[str]:
    parts = []
    for name, old, new in impact.changed_fields():
        if name == "findings":
            gone = sorted(set(old) - set(new))
            came = sorted(set(new) - set(old))
            text = " ".join([*(f"+{r}" for r in came), *(f"-{r}" for r in gone)])
            parts.append(f"findings {text}")
        else:
            parts.append(f"{name} {show(old)} → {show(new)}")
    return parts


def render_report(report: AuditReport, fmt: str) -> str:
    import json

    if fmt == "json":
        return json.dumps(report.to_data(), ensure_ascii=False, allow_nan=False, indent=2) + "\n"
    md = fmt == "markdown"
    out = ["# Rule-pack audit" if md else "chipclear audit diff", ""]
    out += [f"- base: {_pack_line(report.base)}", f"- head: {_pack_line(report.head)}", ""] \
        if md else [f"base: {_pack_line(report.base)}", f"head: {_pack_line(report.head)}", ""]
    out += ["## What changed in the rules", ""] if md else ["What changed in the rules", ""]
    out += _structure_lines(report.diff, md)
    plural = "" if report.cases == 1 else "s"
    title = f"Impact on {report.cases} case{plural} ({', '.join(report.corpus)})"
    out += [f"## {title}", ""] if md else [title, ""]
    if md and report.impacts:
        out += ["| case | where | change | newly fire | stop firing |", "|---|---|---|---|---|"]
    for imp in report.impacts:
        change = "; ".join(_change_text(imp))
        if md:
            out.append(f"| `{imp.case_id}` | {imp.label} | {change} | "
                       f"{', '.join(imp.newly_fire) or '—'} | "
                       f"{', '.join(imp.stop_firing) or '—'} |")
        else:
            out.append(f"  {imp.case_id}  [{imp.category.replace('_', ' ')}]  {imp.label}")
            out.append(f"      {change}")
            if imp.newly_fire:
                out.append(f"      newly fire: {', '.join(imp.newly_fire)}")
            if imp.stop_firing:
                out.append(f"      stop firing: {', '.join(imp.stop_firing)}")
    if report.impacts:
        out.append("")
    totals = ", ".join(f"{k.replace('_', ' ')} {v}" for k, v in report.totals.items())
    out.append(f"Totals: {totals}" if md else f"totals: {totals}")
    if not report.decisions_changed:
        out.append("no decision changed")
    for err in report.errors:
        out.append(f"{'- ' if md else ''}skipped: {err}")
    return "\n".join(out) + "\n"


def render_coverage(cov: Coverage, pack: RulePack) -> str:
    out = [f"coverage of {pack.manifest.id} {pack.manifest.version} over {cov.cases} cases", ""]
    width = max((len(r) for r in cov.fired), default=10)
    out.append(f"  {'rule':{width}}  {'fired':>7}  {'in force':>8}")
    for rid, n in cov.fired.items():
        out.append(f"  {rid:{width}}  {n:>7}  {cov.in_force[rid]:>8}")
    out.append("")
    never = cov.never
    always = cov.always
    out.append(f"never fire ({len(never)}): " + (", ".join(
        f"{r}{' (never in force)' if cov.in_force[r] == 0 else ''}" for r in never) or "none"))
    out.append(f"fire on every case ({len(always)}): " + (", ".join(always) or "none"))
    for err in cov.errors:
        out.append(f"skipped: {err}")
    return "\n".join(out) + "\n"
