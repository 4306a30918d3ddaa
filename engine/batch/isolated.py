"""Deciding cases out of process: the net under every known engine crash.

``decide_entries`` is what ``chipclear evaluate`` runs by default: one worker process
for a handful of cases, more for a batch, so a segfault or a hang costs the case it
happened on, reported in one line as an engine failure (exit 4), and the batch goes on.
Lines of JSON lines, and the plain cases of a YAML ``cases:`` list, reach the workers
unparsed (``caseio.read_raw``): each worker decodes, parses and validates its own
share, so the parent only reads bytes (and, for YAML, finds where each case ends with
libyaml's C parser) and the work scales with the workers.
``WorkerEvaluator`` is an ``Evaluator`` whose ``evaluate`` runs in one long-lived
worker process, for callers that decide one case at a time (the interview): a crash
there raises ``EngineFailure`` and the next call starts a fresh worker.
"""

from __future__ import annotations

import datetime as dt
import functools
import gc
import os
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any, Protocol

from chipclear.batch import DEFAULT_TIMEOUT
from chipclear.batch.pool import Lost, WorkerPool
from chipclear.batch.run import Outcome, evaluate_entry
from chipclear.decide.evaluate import Evaluator
from chipclear.decide.trace import Trace
from chipclear.errors import EngineFailure, UserInputError
from chipclear.io.caseio import (
    CaseEntry,
    Ids,
    RawCase,
    RawLine,
    parse_case,
    parse_line,
    where_only,
)
from chipclear.model.case import Case
from chipclear.model.decision import Decision, Verdict
from chipclear.pack.loader import RulePack, load_pack

#: Up to this many cases, one worker process; beyond, one per core (at most MAX_AUTO).
HANDFUL = 8
MAX_AUTO = 4

#: What a worker sends back for a task: the entry it parsed (for a raw line; None when
#: the parent has it, or for a blank line), the case's JSON line, verdict, error, and
#: whether the engine failed.
_Answer = tuple[CaseEntry | None, str | None, str | None, str | None, bool]

#: What a worker is sent: an entry the parent parsed, or a raw JSON line or YAML case
#: to parse.
Task = CaseEntry | RawLine | RawCase


def auto_jobs(cases: int) -> int:
    """Worker processes for a run of ``cases`` cases when the user did not say."""
    if cases <= HANDFUL:
        return 1
    return max(1, min(MAX_AUTO, os.cpu_count() or 1))


def _pack(pack: RulePack | Path) -> RulePack:
    return pack if isinstance(pack, RulePack) else load_pack(pack)


def _case_setup(pack: RulePack | Path, today: dt.date,
                as_of: dt.date | None) -> Callable[[Task], _Answer]:
    from chipclear.io.render import to_jsonl_line

    evaluator = Evaluator(_pack(pack))
    gc.freeze()  # the pack and evaluator live as long as the worker: never rescan them

    def decide(task: Task) -> _Answer:
        if isinstance(task, RawLine):
            parsed = parse_line(task)
            if parsed is None:
                return None, None, None, None, False
            entry = parsed
            # back to the parent: enough to place and record it, not the raw text
            sent: CaseEntry | None = CaseEntry(entry.file, None, None, case=entry.case,
                                               line=entry.line)
        elif isinstance(task, RawCase):
            entry = parse_case(task)
            sent = where_only(entry)  # where it and its id sit, for the parent's messages
        else:
            entry, sent = task, None
        outcome = evaluate_entry(evaluator, entry, today, as_of)
        decision = outcome.decision
        line = to_jsonl_line(decision) if decision is not None else None
        verdict = decision.verdict.value if decision is not None else None
        return sent, line, verdict, outcome.error, outcome.engine_failure

    return decide


def lost_case(entry: CaseEntry, lost: Lost, case_id: str | None = None) -> Outcome:
    """The one-line engine failure that stands for a case its worker never answered
    (``case_id``: the id read from the text of a case the worker was to parse)."""
    case_id = entry.case.id if entry.case is not None else (case_id or "?")
    return Outcome(entry, engine_failure=True, error=(
        f"{entry.location()}: case '{case_id}': engine failure: {lost.reason} "
        "(the other cases were still decided)"))


class Mapper(Protocol):
    """What ``decide_entries`` needs of a pool: answers to tasks, in input order."""

    def map(self, tasks: Iterable[Task], /) -> Iterator[_Answer | Lost]: ...


_decide_here: Callable[[Task], _Answer] | None = None


def init_worker(pack: RulePack | Path, today: dt.date, as_of: dt.date | None) -> None:
    """Set up this process to decide tasks (an executor's ``initializer``)."""
    global _decide_here
    _decide_here = _case_setup(pack, today, as_of)


def decide_task(task: Task) -> _Answer:
    """Decide one task in a process set up by ``init_worker``; picklable by name."""
    assert _decide_here is not None, "init_worker must run first in this process"
    return _decide_here(task)


class ExecutorMapper:
    """Any ``concurrent.futures.Executor`` as the pool of ``decide_entries``.

    Each worker of the executor must run ``init_worker(pack, today, as_of)`` first (the
    ``initializer`` of ``ProcessPoolExecutor``; a worker plugin or actor set-up
    elsewhere). Unlike ``WorkerPool``, a crash fails the whole map (no one-case blame),
    and ``Executor.map`` submits every task at once: hand it shards, not a huge stream.
    """

    def __init__(self, executor: Any, chunksize: int = 32) -> None:
        self.executor = executor
        self.chunksize = chunksize

    def map(self, tasks: Iterable[Task], /) -> Iterator[_Answer | Lost]:
        answers: Iterator[_Answer] = self.executor.map(decide_task, tasks,
                                                       chunksize=self.chunksize)
        return iter(answers)


def decide_entries(pool: WorkerPool[Task, _Answer] | Mapper,
                   tasks: Iterable[Task]) -> Iterator[Outcome]:
    """Outcomes of ``tasks`` decided in ``pool`` (ours, or an executor through
    ``ExecutorMapper``), in input order.

    A case id seen before in the batch is refused here, in order, as ``read_all`` does
    (the worker decided it, but its decision is not delivered).
    """
    sent: deque[Task] = deque()
    ids = Ids()

    def feed() -> Iterator[Task]:
        for task in tasks:
            sent.append(task)
            yield task

    for answer in pool.map(feed()):
        task = sent.popleft()
        if isinstance(task, CaseEntry):
            placed = task
        elif isinstance(task, RawCase):
            placed = task.placed()
        else:
            placed = CaseEntry(task.file, None, None, line=task.line)
        if isinstance(answer, Lost):
            yield lost_case(placed, answer,
                            task.item.case_id if isinstance(task, RawCase) else None)
            continue
        parsed, line, verdict, error, failed = answer
        if isinstance(task, CaseEntry):
            entry = task
        elif parsed is None:  # a blank line
            continue
        else:
            entry = parsed
        checked = ids.check(entry)
        if checked is not entry:
            yield Outcome(checked, error=checked.error.line() if checked.error else None)
            continue
        yield Outcome(entry, error=error, engine_failure=failed, line=line,
                      verdict=Verdict(verdict) if verdict else None)


def case_pool(jobs: int, pack: RulePack | Path, today: dt.date, as_of: dt.date | None,
              timeout: float | None = DEFAULT_TIMEOUT) -> WorkerPool[Task, _Answer]:
    """A pool whose workers parse raw lines and decide case entries under ``pack``."""
    return WorkerPool(jobs, functools.partial(_case_setup, pack, today, as_of), timeout)


def _evaluate_setup(root: Path) -> Callable[[tuple[Case, dt.date | None]], tuple[Any, ...]]:
    from chipclear.decide.evaluate import OutsideCoverage, UnknownChip

    evaluator = Evaluator(load_pack(root))
    gc.freeze()  # the pack and evaluator live as long as the worker: never rescan them

    def decide(task: tuple[Case, dt.date | None]) -> tuple[Any, ...]:
        try:
            return ("decision", *evaluator.traced(*task))
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
        return self.traced(case, today)[0]

    def traced(self, case: Case, today: dt.date | None = None) -> tuple[Decision, Trace]:
        """The decision and its trace, both made in the worker (the trace comes back
        without the pack, which this process has)."""
        [answer] = list(self._pool.map([(case, today)]))
        if isinstance(answer, Lost):
            raise EngineFailure(f"case '{case.id}': {answer.reason}")
        kind, *rest = answer
        if kind == "decision":
            decision: Decision = rest[0]
            trace: Trace = rest[1]
            trace.open.pack = self.pack
            return decision, trace
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
