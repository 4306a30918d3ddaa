"""Deciding cases out of process: the net under every known engine crash.

``decide_entries`` is what ``chipclear evaluate`` runs by default: one worker process
for a handful of cases, more for a batch, so a segfault or a hang costs the case it
happened on, reported in one line as an engine failure (exit 4), and the batch goes on.
``WorkerEvaluator`` is an ``Evaluator`` whose ``evaluate`` runs in one long-lived
worker process, for callers that decide one case at a time (the interview): a crash
there raises ``EngineFailure`` and the next call starts a fresh worker.
"""

from __future__ import annotations

import datetime as dt
import functools
import os
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any

from chipclear.batch.pool import DEFAULT_TIMEOUT, Lost, WorkerPool
from chipclear.batch.run import Outcome, evaluate_entry
from chipclear.decide.evaluate import Evaluator
from chipclear.errors import EngineFailure, UserInputError
from chipclear.io.caseio import CaseEntry
from chipclear.model.case import Case
from chipclear.model.decision import Decision, Verdict
from chipclear.pack.loader import RulePack, load_pack

#: Up to this many cases, one worker process; beyond, one per core (at most MAX_AUTO).
HANDFUL = 8
MAX_AUTO = 4

#: What a worker sends back for a case: its JSON line, verdict, error, engine failure.
_Answer = tuple[str | None, str | None, str | None, bool]


def auto_jobs(cases: int) -> int:
    """Worker processes for a run of ``cases`` cases when the user did not say."""
    if cases <= HANDFUL:
        return 1
    return max(1, min(MAX_AUTO, os.cpu_count() or 1))


def _pack(pack: RulePack | Path) -> RulePack:
    return pack if isinstance(pack, RulePack) else load_pack(pack)


def _case_setup(pack: RulePack | Path, today: dt.date,
                as_of: dt.date | None) -> Callable[[CaseEntry], _Answer]:
    from chipclear.io.render import to_jsonl_line

    evaluator = Evaluator(_pack(pack))

    def decide(entry: CaseEntry) -> _Answer:
        outcome = evaluate_entry(evaluator, entry, today, as_of)
        decision = outcome.decision
        line = to_jsonl_line(decision) if decision is not None else None
        verdict = decision.verdict.value if decision is not None else None
        return line, verdict, outcome.error, outcome.engine_failure

    return decide


def lost_case(entry: CaseEntry, lost: Lost) -> Outcome:
    """The one-line engine failure that stands for a case its worker never answered."""
    case_id = entry.case.id if entry.case is not None else "?"
    return Outcome(entry, engine_failure=True, error=(
        f"{entry.location()}: case '{case_id}': engine failure: {lost.reason} "
        "(the other cases were still decided)"))


def decide_entries(pool: WorkerPool[CaseEntry, _Answer],
                   entries: Iterable[CaseEntry]) -> Iterator[Outcome]:
    """Outcomes of ``entries`` decided in ``pool``, in input order."""
    sent: deque[CaseEntry] = deque()

    def feed() -> Iterator[CaseEntry]:
        for entry in entries:
            sent.append(entry)
            yield entry

    for answer in pool.map(feed()):
        entry = sent.popleft()
        if isinstance(answer, Lost):
            yield lost_case(entry, answer)
            continue
        line, verdict, error, failed = answer
        yield Outcome(entry, error=error, engine_failure=failed, line=line,
                      verdict=Verdict(verdict) if verdict else None)


def case_pool(jobs: int, pack: RulePack | Path, today: dt.date, as_of: dt.date | None,
              timeout: float | None = DEFAULT_TIMEOUT) -> WorkerPool[CaseEntry, _Answer]:
    """A pool whose workers decide case entries under ``pack``."""
    return WorkerPool(jobs, functools.partial(_case_setup, pack, today, as_of), timeout)


def _evaluate_setup(root: Path) -> Callable[[tuple[Case, dt.date | None]], tuple[Any, ...]]:
    from chipclear.decide.evaluate import OutsideCoverage, UnknownChip

    evaluator = Evaluator(load_pack(root))

    def decide(task: tuple[Case, dt.date | None]) -> tuple[Any, ...]:
        try:
            return ("decision", evaluator.evaluate(*task))
        except OutsideCoverage as exc:  # pickles whole; raised again as is
            return ("user_error", exc)
        except UnknownChip as exc:  # its constructor does not survive pickling: send parts
            return ("unknown_chip", exc.index, exc.text, exc.suggestions)
        except EngineFailure as exc:
            return ("engine_failure", str(exc))
        except UserInputError as exc:
            return ("user_error", exc)

    return decide


class WorkerEvaluator(Evaluator):
    """An ``Evaluator`` whose ``evaluate`` runs in a long-lived worker process.

    Everything else (the compiled packs the interview reads for its questions) stays in
    this process and never touches durable-rules. A crash or a hang in the worker raises
    ``EngineFailure`` with one line to show; the next ``evaluate`` starts a fresh worker.
    The worker is spawned, not forked, so a parent running threads (Textual) is safe.
    Call ``close()`` when done (or use ``with``).
    """

    def __init__(self, pack: RulePack, timeout: float | None = DEFAULT_TIMEOUT) -> None:
        super().__init__(pack)
        self._pool: WorkerPool[tuple[Case, dt.date | None], Any] = WorkerPool(
            1, functools.partial(_evaluate_setup, pack.root), timeout, start="spawn")

    def evaluate(self, case: Case, today: dt.date | None = None) -> Decision:
        [answer] = list(self._pool.map([(case, today)]))
        if isinstance(answer, Lost):
            raise EngineFailure(f"case '{case.id}': {answer.reason}")
        kind, *rest = answer
        if kind == "decision":
            decision: Decision = rest[0]
            return decision
        if kind == "unknown_chip":
            from chipclear.decide.evaluate import UnknownChip

            raise UnknownChip(*rest)
        if kind == "engine_failure":
            raise EngineFailure(rest[0])
        raise rest[0]

    def close(self) -> None:
        self._pool.close()

    def __enter__(self) -> WorkerEvaluator:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
