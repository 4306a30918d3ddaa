"""The interview, headless: answers in, the next question that matters out.

The terminal UI (``tui/``) and the tests drive this module; it never imports Textual.
After every answer the whole case is evaluated again from scratch (a live durable
session is never patched), and the next question is picked from the decision's
``missing`` list, so the flow follows the rules instead of a fixed form: a fact no
undecided rule waits for is never asked. Answers the user does not know are kept as
data, in the case's ``unknown`` list (never asked again; ``chipclear evaluate`` reads
the same file). The file is written back by ``casefile``, which keeps the user's
comments, order, formatting, format and mode, and writes nothing until an answer changes.

The session holds the state; its helpers live beside it: ``casefile`` (writing the
user's file back), ``coerce`` (typed text to values), ``paths`` (fact paths in case
data), ``planner`` (impact and sections) and ``explain`` (the chain behind a finding).
"""

from __future__ import annotations

import copy
import datetime as dt
import re
import threading
import time
from dataclasses import dataclass, field
from enum import Enum
from pathlib import Path
from typing import Any

from chipclear.decide.evaluate import Evaluator, UnknownChip
from chipclear.decide.trace import Trace
from chipclear.errors import EngineFailure, Location, UserInputError
from chipclear.interview.casefile import LEGACY_UNKNOWN, CaseFile, atomic_write
from chipclear.interview.coerce import COUNTRIES, DONT_KNOW, NO, YES, dense_tflops, number
from chipclear.interview.explain import Explanation, ancestors, explain_finding, parents
from chipclear.interview.paths import (
    generic,
    get_path,
    item_index,
    leaves,
    set_path,
    unset_path,
)
from chipclear.interview.planner import IMPACT_RANK, decisive, impact_rank, section_of
from chipclear.io.caseio import describe, read_file
from chipclear.io.render import markdown, to_json
from chipclear.model.case import Case
from chipclear.model.decision import Decision, Missing, SourceRef, Verdict
from chipclear.pack import conditions as C
from chipclear.pack.facts import REGISTRY, Kind, Scope
from chipclear.pack.loader import CompiledRule, InputType, Question, RulePack, Severity, Text
from pydantic import ValidationError

#: Marker value: "I don't know" (the fact stays unknown and is not asked again).
UNKNOWN = "__unknown__"

#: Facts asked before anything else when missing: the order decides which rules apply.
FIRST = ("as_of", "order.items", "buyer.country")

#: Workload questions that feed the domestic-alternatives comparison, in asking order.
WORKLOAD = (
    "use.workload.min_memory_gb",
    "use.workload.min_memory_bandwidth_gbs",
    "use.workload.needs_fp8",
    "use.workload.needs_cuda_ecosystem",
    "use.workload.min_cluster_size",
)

_HEADER = "chipclear interview case; resume with: chipclear interview {name}"

class InterviewError(UserInputError):
    """A case file the interview cannot open (not a single valid case)."""


# --------------------------------------------------------------------------------------
# Views for the UI
# --------------------------------------------------------------------------------------

@dataclass(frozen=True)
class QuestionView:
    """The question to ask now, and why: the rules waiting for it and their sources."""

    fact: str
    text: Text
    help: Text | None
    input: InputType
    unit: str | None
    choices: tuple[str, ...]
    rules: tuple[str, ...]
    rule_titles: tuple[Text, ...]
    why: Text
    sources: tuple[SourceRef, ...]
    blocking: bool
    item: int | None = None
    item_label: str | None = None
    section: Text = field(default_factory=lambda: Text(en="", zh=""))
    reason: Text | None = None  #: the question bank's "why we ask" sentence


@dataclass(frozen=True)
class AnswerView:
    """One answer on the review screen; ``relevant`` is False when it no longer matters."""

    fact: str
    value: Any
    display: str
    question: Text
    relevant: bool
    unknown: bool = False
    without: str | None = None  #: the outcome if this answer were forgotten (when different)


@dataclass
class _Candidate:
    path: str
    rules: set[str] = field(default_factory=set)
    impact: int = IMPACT_RANK["condition_only"]  #: best impact of the facts it answers


# --------------------------------------------------------------------------------------
# The interview
# --------------------------------------------------------------------------------------

class Interview:
    """One case being built by answering questions, evaluated afresh after each answer.

    Thread-safe for one writer: the UI runs ``answer`` in a worker thread while the
    event loop reads views, and durable-rules must never see two evaluations at once.
    """

    def __init__(self, pack: RulePack, case_data: dict[str, Any] | None = None,
                 path: Path | None = None, *, unknown: set[str] | None = None,
                 evaluator: Evaluator | None = None, today: dt.date | None = None,
                 file: CaseFile | None = None) -> None:
        self.pack = pack
        self.path = path
        self.evaluator = evaluator or Evaluator(pack)
        self.today = today
        data = copy.deepcopy(case_data) if case_data else {}
        data.setdefault("id", _new_id(path))
        self.data: dict[str, Any] = _plain(Case.model_validate(data))
        self.unknown: set[str] = set(self.data.get("unknown", ())) | set(unknown or ())
        if self.unknown:
            self.data["unknown"] = sorted(self.unknown)
        self.asked: list[str] = []  #: facts answered in this session, in order
        self.resumed = 0  #: answers (and "don't know"s) a resumed case file came with
        self.last_eval_ms = 0.0
        self.file: CaseFile | None = file if file is not None else (
            CaseFile(path, path.suffix == ".json", None, None) if path is not None else None)
        self.saved = False  #: whether this session has written the case file
        self._lock = threading.RLock()
        self._without_cache: dict[tuple[str, str], str | None] = {}
        self._bank_order = {q: i for i, q in enumerate(pack.questions)}
        #: the decision and its trace (what fired, why, what stayed open): the explanation
        #: reads the trace instead of evaluating again
        self.decision, self.trace = self._evaluate(self.case)

    # -- opening and saving -----------------------------------------------------------

    @classmethod
    def open(cls, pack: RulePack, path: Path, **kw: Any) -> Interview:
        """Resume the case in ``path``, or start a new one there if the file is absent.

        Nothing is written here: the file changes only when an answer does.
        """
        file = CaseFile.open(path)
        if file.text is None:
            return cls(pack, None, path, file=file, **kw)
        entries = list(read_file(path))
        if len(entries) != 1 or entries[0].index is not None:
            raise InterviewError(Location(str(path)),
                                 "the interview works on one case per file, not a 'cases:' list")
        entry = entries[0]
        if entry.error is not None:
            raise entry.error
        assert entry.case is not None
        unknown: set[str] = set()  # older interviews kept them in a comment
        for line in (file.text or "").splitlines():
            if line.startswith(LEGACY_UNKNOWN):
                unknown.update(p.strip() for p in line[len(LEGACY_UNKNOWN):].split(",")
                               if p.strip())
        read = _plain(entry.case)
        file.baseline(read)
        try:
            resumed = cls(pack, read, path, unknown=unknown, file=file, **kw)
        except UnknownChip as exc:
            raise InterviewError(Location(str(path)), str(exc)) from None
        resumed.resumed = sum(1 for p, _ in leaves(resumed.data) if p != "id")
        return resumed

    def render(self) -> str:
        """The case file's text as the next save would write it."""
        if self.file is None:
            raise ValueError("this interview has no case file")
        return self.file.render(self.data, self._header())

    def _header(self) -> str:
        return _HEADER.format(name=self.path.name if self.path else "<file>")

    def save(self) -> bool:
        """Write the answers if the file does not hold them yet; True if it was written.

        Raises OSError when the file cannot be written (the answers stay in memory).
        """
        if self.file is None:
            return False
        with self._lock:
            written = self.file.write(self.data, self._header())
            self.saved = self.saved or written
            return written

    # -- answering --------------------------------------------------------------------

    @property
    def case(self) -> Case:
        return Case.model_validate(self.data)

    def answer(self, fact: str, value: Any) -> list[str]:
        """Record an answer; return errors (and keep the previous value) if it is invalid.

        ``value`` may be typed (bool, number, list of items) or text as typed by the
        user; ``UNKNOWN`` or ``None`` means "I don't know" and the fact is not asked again.
        """
        with self._lock:
            if value is None or (isinstance(value, str) and (
                    value == UNKNOWN or value.strip().casefold() in DONT_KNOW)):
                return self._mark_unknown(fact)
            try:
                coerced = self.coerce(fact, value)
            except ValueError as exc:
                return [str(exc)]
            new = copy.deepcopy(self.data)
            try:
                set_path(new, fact, coerced)
            except ValueError as exc:
                return [str(exc)]
            return self._commit(new, fact, self.unknown - {fact})

    def unset(self, fact: str) -> list[str]:
        """Forget an answer: the fact becomes unknown again and may be asked again."""
        with self._lock:
            new = copy.deepcopy(self.data)
            unset_path(new, fact)
            unknown = self.unknown - {fact}
            if fact == "order.items" or fact.startswith("order.items["):
                unknown = {u for u in unknown if not u.startswith("order.items[")}
            return self._commit(new, fact, unknown)

    def _mark_unknown(self, fact: str) -> list[str]:
        new = copy.deepcopy(self.data)
        unset_path(new, fact)
        return self._commit(new, fact, self.unknown | {fact})

    def _commit(self, new: dict[str, Any], fact: str, unknown: set[str]) -> list[str]:
        """Adopt ``new`` only if it is valid, decided and saved; otherwise keep the old state."""
        new.pop("unknown", None)
        if unknown:
            new["unknown"] = sorted(unknown)
        errors = self.check(new)
        if errors:
            return errors
        case = Case.model_validate(new)
        try:
            decision, trace = self._evaluate(case)
        except UnknownChip as exc:
            return [str(exc)]
        except EngineFailure as exc:
            return [f"the rule engine failed on this answer ({exc}); nothing was changed"]
        data = _plain(case)
        if data != self.data and self.file is not None:
            try:
                self.saved = self.file.write(data, self._header()) or self.saved
            except OSError as exc:
                reason = exc.strerror or str(exc)
                return [f"could not save {self.file.path}: {reason}; the answer was not "
                        "recorded (make the folder writable, then answer again)"]
        self.data = data
        self.decision, self.trace = decision, trace
        self.unknown = set(unknown)
        if fact not in self.asked:
            self.asked.append(fact)
        return []

    def _evaluate(self, case: Case) -> tuple[Decision, Trace]:
        start = time.perf_counter()
        traced = self.evaluator.traced(case, self.today)
        self.last_eval_ms = (time.perf_counter() - start) * 1000
        return traced

    def check(self, data: dict[str, Any]) -> list[str]:
        """Validate case data through the case model, plus contradictions worth catching."""
        try:
            case = Case.model_validate(data)
        except ValidationError as exc:
            described = describe(exc)  # (location, message, hint, ...)
            message, hint = str(described[1]), described[2]
            return [f"{message} ({hint})" if hint else message]
        errors: list[str] = []
        for i, item in enumerate(case.order.items or []):
            if not item.custom and item.chip and self.pack.catalog.resolve(item.chip) is None:
                sugg = self.pack.catalog.suggest(item.chip)
                hint = f" (did you mean {', '.join(sugg)}?)" if sugg else \
                    " (search the catalog by name or alias)"
                errors.append(f"order line {i + 1}: unknown chip '{item.chip}'{hint}")
        b = case.buyer
        if b.kind is not None and b.kind.value == "state_owned_enterprise" and \
                b.state_owned is False:
            errors.append("buyer.kind is state_owned_enterprise but state_owned is 'no'")
        return errors

    # -- coercing typed text ----------------------------------------------------------

    def question_for(self, fact: str) -> Question | None:
        return self.pack.questions.get(generic(fact)) or self.pack.questions.get(fact)

    def input_of(self, fact: str) -> InputType:
        q = self.question_for(fact)
        if q is not None:
            return q.input
        if fact == "as_of":
            return InputType.date
        spec = REGISTRY.get(generic(fact).replace("order.items[].", "item."))
        spec = spec or REGISTRY.get(fact)
        if spec is None:
            return InputType.text
        return {Kind.boolean: InputType.yesno, Kind.number: InputType.number,
                Kind.choice: InputType.choice, Kind.date: InputType.date}.get(
                    spec.kind, InputType.text)

    def coerce(self, fact: str, value: Any) -> Any:
        """Turn typed text into the value the case model expects, or raise ValueError."""
        if fact == "order.items":
            return self._items(value)
        if fact.endswith(".spec.dense_tflops"):
            return dense_tflops(value)
        kind = self.input_of(fact)
        if kind is InputType.yesno:
            if isinstance(value, bool):
                return value
            text = str(value).strip().casefold()
            if text in YES:
                return True
            if text in NO:
                return False
            raise ValueError("answer yes, no or don't know")
        if kind is InputType.number:
            return number(value)
        if kind is InputType.date:
            if isinstance(value, dt.date):
                return value.isoformat()
            if str(value).strip().casefold() in ("", "today", "今天", "今日"):
                return (self.today or dt.date.today()).isoformat()
            try:
                return dt.date.fromisoformat(str(value).strip()).isoformat()
            except ValueError:
                raise ValueError(f"'{value}' is not a date (use YYYY-MM-DD)") from None
        if kind is InputType.country:
            text = str(value).strip()
            code = COUNTRIES.get(text.casefold(), text.upper())
            if not re.fullmatch(r"[A-Z]{2}", code):
                raise ValueError(f"'{text}' is not a two-letter country code (e.g. CN, MY, US)")
            return code
        if kind is InputType.choice:
            text = str(value.value if isinstance(value, Enum) else value).strip()
            q = self.question_for(fact)
            if q is not None and q.choices and text not in q.choices:
                raise ValueError(f"'{text}' is not one of {', '.join(q.choices)}")
            return text
        return str(value).strip()

    def _items(self, value: Any) -> list[dict[str, Any]]:
        if not isinstance(value, list) or not value:
            raise ValueError("add at least one order line (chip, quantity, unit price)")
        out: list[dict[str, Any]] = []
        for i, raw in enumerate(value):
            if isinstance(raw, str):
                raw = {"chip": raw}
            if not isinstance(raw, dict):
                raise ValueError(f"order line {i + 1}: expected chip, quantity and unit price")
            item = {k: v for k, v in raw.items() if v not in (None, "")}
            chip = item.get("chip")
            if isinstance(chip, str) and not item.get("custom"):
                found = self.pack.catalog.resolve(chip)
                if found is None:
                    sugg = self.pack.catalog.suggest(chip)
                    hint = f" (did you mean {', '.join(sugg)}?)" if sugg else ""
                    raise ValueError(f"order line {i + 1}: unknown chip '{chip}'{hint}")
                item["chip"] = found.id
            for key in ("quantity", "unit_price_usd"):
                if key in item:
                    try:
                        item[key] = number(item[key])
                    except ValueError as exc:
                        raise ValueError(f"order line {i + 1}: {key}: {exc}") from None
            out.append(item)
        return out

    # -- what to ask next -------------------------------------------------------------

    def _answerable(self, path: str) -> bool:
        """Whether the case has a place for this fact the user can fill in."""
        idx = item_index(path)
        if idx is None:
            return path in self.pack.questions or generic(path) in REGISTRY
        items = self.data.get("order", {}).get("items") or []
        if idx >= len(items):
            return False
        if ".spec." in path:
            return bool(items[idx].get("custom"))
        return generic(path) in self.pack.questions

    def _targets(self, fact: str) -> list[str]:
        """The answerable case paths behind one missing fact (computed facts fan out)."""
        items = self.data.get("order", {}).get("items") or []
        if fact == "order.items":
            if not items:
                return ["order.items"]
            return [f"order.items[{i}].spec.vendor_country" for i, it in enumerate(items)
                    if it.get("custom") and not get_path(it, "spec.vendor_country")]
        if fact == "item.value_usd":
            return [f"order.items[{i}].{k}" for i, it in enumerate(items)
                    for k in ("quantity", "unit_price_usd") if it.get(k) is None]
        if fact == "item.domestic_alternative_meets_all":
            return [p for p in WORKLOAD if get_path(self.data, p) is None]
        return [fact] if self._answerable(fact) else []

    def _open(self) -> list[Missing]:
        """Decisive facts, then the optional ones only conditions to confirm wait for."""
        return [*self.decision.missing, *self.decision.optional_facts]

    def _candidates(self) -> list[_Candidate]:
        found: dict[str, _Candidate] = {}
        for m in self._open():
            for path in self._targets(m.fact):
                if path in self.unknown or (
                        path != "order.items" and get_path(self.data, path) is not None):
                    continue
                cand = found.setdefault(path, _Candidate(path))
                cand.rules.update(m.rules)
                cand.impact = min(cand.impact, impact_rank(m))
        if "as_of" not in self.data and "as_of" not in self.unknown:
            # Without a date a saved case would re-decide under whatever rules are in force
            # the day it is reopened: ask once, and record it.
            found.setdefault("as_of", _Candidate("as_of", impact=IMPACT_RANK["could_block"]))
        if self.decision.verdict is not Verdict.no_go and any(
                a.meets_all is None for a in self.decision.domestic_alternatives):
            # The workload decides the comparison with domestic chips the regulator asks
            # about; it never changes the verdict, so it comes after everything decisive.
            for path in WORKLOAD:
                if path not in self.unknown and get_path(self.data, path) is None:
                    found.setdefault(path, _Candidate(path))
        return sorted(found.values(), key=self._priority)

    def _priority(self, c: _Candidate) -> tuple[int, int, int, int, int, int, str]:
        q = self.question_for(c.path)
        others = 1 if q is not None and q.owner == "exporter" else 0  # the exporter's, last
        first = FIRST.index(c.path) if c.path in FIRST else len(FIRST)
        block = 0 if any(self._severity(r) is Severity.block for r in c.rules) else 1
        bank = self._bank_order.get(generic(c.path), len(self._bank_order))
        return others, first, c.impact, block, -len(c.rules), bank, c.path

    def progress(self) -> tuple[int, int]:
        """(decisive questions left, all questions left): what the progress line counts."""
        with self._lock:
            cands = self._candidates()
            return sum(1 for c in cands if c.impact < IMPACT_RANK["condition_only"]), \
                len(cands)

    def decisive_open(self) -> bool:
        """Whether a missing fact could still change the verdict or a status."""
        return any(decisive(m) for m in self.decision.missing)

    def _severity(self, rule_id: str) -> Severity | None:
        cr = self.pack.rules_by_id.get(rule_id)
        return cr.rule.severity if cr else None

    def next_question(self) -> QuestionView | None:
        """The most useful question now, or None when nothing the user can answer is missing."""
        with self._lock:
            cands = self._candidates()
            return self.view(cands[0].path, cands[0].rules) if cands else None

    def pending(self) -> list[QuestionView]:
        """Every question still worth asking, most useful first."""
        with self._lock:
            return [self.view(c.path, c.rules) for c in self._candidates()]

    def open_facts(self) -> list[str]:
        """Missing facts that will not be asked: answered "don't know" or not answerable here."""
        with self._lock:
            asked = {c.path for c in self._candidates()}
            out: list[str] = []
            for m in self._open():
                targets = self._targets(m.fact)
                if not targets or not any(t in asked for t in targets):
                    out.append(m.fact)
            return out

    def view(self, fact: str, rules: set[str] | None = None) -> QuestionView:
        """A question for any fact path, with why it is asked (the rules) and their sources."""
        rules = rules if rules is not None else self._rules_waiting(fact)
        q = self.question_for(fact)
        kind = self.input_of(fact)
        text = q.text if q else Text(en=f"Please provide {fact}.", zh=f"请提供 {fact}。")
        reason = q.why if q else None
        if fact == "as_of" and q is None:
            text = Text(en="At which date should the rules be applied? (Enter = today)",
                        zh="按哪一天的规则判定？（回车 = 今天）")
            reason = Text(en="Rules change often; the date is saved so the case is decided the "
                             "same way when it is reopened.",
                          zh="规则变化频繁；保存日期可使案例重新打开时按同样规则判定。")
        ordered = sorted(rules, key=lambda r: (self._severity(r) is not Severity.block, r))
        titles = tuple(self.pack.rules_by_id[r].rule.title for r in ordered
                       if r in self.pack.rules_by_id)
        sources: dict[str, SourceRef] = {}
        for r in ordered:
            cr = self.pack.rules_by_id.get(r)
            for sid in cr.rule.sources if cr else ():
                s = self.pack.sources.get(sid)
                if s is not None and sid not in sources:
                    sources[sid] = SourceRef(id=s.id, name=s.name, date=s.date, url=s.url,
                                             confidence=s.confidence)
        blocking = any(self._severity(r) is Severity.block for r in ordered)
        idx = item_index(fact)
        label = None
        if idx is not None and idx < len(self.decision.items):
            label = f"#{idx + 1} {self.decision.items[idx].chip_name}"
        choices: tuple[str, ...] = tuple(q.choices or ()) if q else ()
        if not choices and kind is InputType.choice:
            spec = REGISTRY.get(fact)
            choices = spec.choices if spec else ()
        return QuestionView(
            fact=fact, text=text, help=q.help if q else None, input=kind,
            unit=q.unit if q else None, choices=choices, rules=tuple(ordered),
            rule_titles=titles, why=_why(ordered, titles, blocking), sources=tuple(
                sources.values()), blocking=blocking, item=idx, item_label=label,
            section=section_of(fact), reason=reason)

    def _rules_waiting(self, fact: str) -> set[str]:
        rules: set[str] = set()
        for m in self._open():
            if fact in self._targets(m.fact) or m.fact == fact:
                rules.update(m.rules)
        return rules

    # -- answers and relevance --------------------------------------------------------

    def relevant_paths(self) -> set[str]:
        """Case paths that matter now: used by a fired finding or tested by an undecided rule."""
        d = self.decision
        items = list(range(len(d.items)))
        out: set[str] = set(FIRST) | {"as_of"}
        for f in d.findings:
            where = f.items or items
            for leaf in f.because:
                if not leaf.derived:
                    out.update(_case_paths(leaf.fact, where))
            for rid in ancestors(self.pack, f.derived_from):
                out.update(self._rule_paths(self.pack.rules_by_id[rid], where))
        for m in self._open():
            out.add(m.fact)
            for rid in m.rules:
                cr = self.pack.rules_by_id.get(rid)
                if cr is not None:
                    out.update(self._rule_paths(cr, items))
                    for parent in ancestors(self.pack, parents(self.pack, cr)):
                        out.update(self._rule_paths(self.pack.rules_by_id[parent], items))
        if d.screening is not None or any(p.startswith("screen.") for p in out):
            # A screened name decides the list rules even when they come out false: a
            # different name could match, so it is never "not needed".
            out.update(("buyer.name", "buyer.name_zh"))
        if "item.value_usd" in out or d.us.revenue_share_pct is not None:
            for i in items:
                out.update((f"order.items[{i}].quantity", f"order.items[{i}].unit_price_usd"))
        if d.domestic_alternatives or "item.domestic_alternative_meets_all" in out:
            out.update(WORKLOAD)
        for i in items:
            out.update((f"order.items[{i}].chip", f"order.items[{i}].custom"))
            out.update(f"order.items[{i}].spec.{k}" for k in (
                "name", "vendor", "vendor_country", "family", "datacenter", "dense_tflops",
                "die_area_mm2", "memory_gb", "memory_bandwidth_gbs"))
        return out

    def _rule_paths(self, cr: CompiledRule, items: list[int]) -> set[str]:
        out: set[str] = set()
        for test in C.fact_tests(cr.condition):
            out.update(_case_paths(test.path, items))
            out.add(test.path)
        return out

    def answers(self) -> list[AnswerView]:
        """Every answer given (and every "don't know"), marked relevant or not."""
        with self._lock:
            relevant = self.relevant_paths()
            out: list[AnswerView] = []
            for path, value in leaves(self.data):
                if path == "id" or path.startswith("unknown[") or path.endswith(".custom"):
                    continue
                q = self.question_for(path)
                # Needed when forgetting it changes the outcome, or when a rule that fired or
                # still waits tests it (absence is not always "unknown" to the engine: an
                # absent buyer name is not screened, so the outcome alone can't clear it).
                without = self._without(path)
                used = path in relevant or generic(path) in relevant
                out.append(AnswerView(
                    fact=path, value=value, display=_display(value),
                    question=q.text if q else Text(en=path, zh=path),
                    relevant=without is not None or used, without=without))
            for path in sorted(self.unknown):
                q = self.question_for(path)
                out.append(AnswerView(
                    fact=path, value=None, display="?", unknown=True,
                    question=q.text if q else Text(en=path, zh=path),
                    relevant=path in relevant))
            return out

    def _outcome(self, decision: Decision) -> tuple[str, str, str]:
        return (decision.verdict.value, decision.us.status.value, decision.cn.status.value)

    def _without(self, path: str) -> str | None:
        """The outcome (verdict · US · CN) with this answer forgotten, if it differs; else None.

        Where the engine treats an absent fact as "any value" (three-valued logic), an
        outcome that stands without the answer means no answer could change it; ``answers``
        also keeps every answer a rule tests, for facts whose absence means something else.
        Order lines, the date and answers the case cannot do without always count.
        """
        if path == "as_of" or (path.startswith("order.items[") and not path.endswith(
                ("quantity", "unit_price_usd"))):
            return "—"
        key = (repr(self.data), path)
        if key in self._without_cache:
            return self._without_cache[key]
        new = copy.deepcopy(self.data)
        unset_path(new, path)
        try:
            decision = self.evaluator.evaluate(Case.model_validate(new), self.today)
        except (ValidationError, UnknownChip, EngineFailure):
            result: str | None = "—"
        else:
            before, after = self._outcome(self.decision), self._outcome(decision)
            result = None if before == after else " · ".join(after)
        if len(self._without_cache) > 2000:
            self._without_cache.clear()
        self._without_cache[key] = result
        return result

    def preview_line(self, line: dict[str, Any]) -> tuple[str | None, str | None]:
        """(ECCN, US status) the engine gives one order line on its own, for live previews.

        Decided for a China-based buyer at the case's date; nothing in the case changes.
        """
        data: dict[str, Any] = {"id": "preview", "buyer": {"country": "CN"},
                                "order": {"items": [line]}}
        if "as_of" in self.data:
            data["as_of"] = self.data["as_of"]
        with self._lock:
            decision = self.evaluator.evaluate(Case.model_validate(data), self.today)
        item = decision.items[0]
        return item.eccn, item.us_status.value

    # -- explanations and exports -----------------------------------------------------

    def explain(self, rule_id: str) -> Explanation:
        """A finding with its rule, the facts it used and the chain of rules it follows from."""
        with self._lock:
            return explain_finding(self.pack, self.decision, self.trace, rule_id)

    def export_markdown(self, lang: str = "en") -> str:
        """The memo, opening with the answers it rests on (the same renderer as the CLI)."""
        return markdown(self.decision, lang, self.case, str(self.path) if self.path else None)

    def export_json(self) -> str:
        return to_json([self.decision], [])

    def export(self, kind: str, lang: str = "en", directory: Path | None = None) -> Path:
        """Write the memo (``md``) or decision (``json``) next to the case file, atomically."""
        with self._lock:
            base = directory or (self.path.parent if self.path else Path.cwd())
            stem = self.path.stem if self.path else self.data["id"]
            if kind == "md":
                target = base / f"{stem}.memo.{lang}.md"
                atomic_write(target, self.export_markdown(lang))
            else:
                target = base / f"{stem}.decision.json"
                atomic_write(target, self.export_json())
            return target


# --------------------------------------------------------------------------------------
# Helpers
# --------------------------------------------------------------------------------------

def _new_id(path: Path | None) -> str:
    if path is not None:
        return path.stem
    return "case-" + dt.datetime.now().strftime("%Y%m%d-%H%M%S")


def default_case_path(directory: Path | None = None) -> Path:
    """Where a new interview autosaves: ``chipclear-case-<timestamp>.yaml`` in the directory."""
    stamp = dt.datetime.now().strftime("%Y%m%d-%H%M%S")
    return (directory or Path.cwd()) / f"chipclear-case-{stamp}.yaml"


def _plain(case: Case) -> dict[str, Any]:
    """Case data without nulls, defaults or empty mappings, in the model's key order."""
    raw = case.model_dump(mode="json", exclude_defaults=True, exclude_none=True)
    return _prune(raw)  # type: ignore[no-any-return]


def _prune(value: Any) -> Any:
    if isinstance(value, dict):
        out = {k: _prune(v) for k, v in value.items()}
        return {k: v for k, v in out.items() if v not in ({}, None)}
    if isinstance(value, list):
        return [_prune(v) for v in value]
    return value


def _display(value: Any) -> str:
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float) and value.is_integer():
        return f"{int(value):,}"
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, dict):
        return ", ".join(f"{k}={_display(v)}" for k, v in value.items())
    return str(value)


def _case_paths(fact: str, items: list[int]) -> set[str]:
    """Case paths behind an engine fact path (item facts once per order line)."""
    spec = REGISTRY.get(fact)
    if spec is None:
        return {fact}
    if fact == "item.value_usd":
        return {f"order.items[{i}].{k}" for i in items for k in ("quantity", "unit_price_usd")}
    template = spec.case_path or fact
    if spec.scope is Scope.item or "{i}" in template:
        return {template.replace("{i}", str(i)) for i in items} | {fact}
    return {template, fact}


def _why(rules: list[str], titles: tuple[Text, ...], blocking: bool) -> Text:
    named_en = "; ".join(f"{r} ({t.en})" for r, t in zip(rules, titles, strict=False))
    named_zh = "；".join(f"{r}（{t.zh}）" for r, t in zip(rules, titles, strict=False))
    n = len(rules)
    en = f"Needed to decide {n} rule{'s' if n != 1 else ''}: {named_en}."
    zh = f"有 {n} 条规则需要此信息才能判定：{named_zh}。"
    if blocking:
        en += " The answer can stop the purchase."
        zh += " 该回答可能导致不能采购。"
    return Text(en=en, zh=zh)
