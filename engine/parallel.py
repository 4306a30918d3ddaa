"""Evaluating a batch in worker processes, so a crash costs one case, not the run.

durable-rules is a C extension with known segfaults. With ``--jobs N`` each case goes
to one of N worker processes; if a worker dies, the case it held is reported as an
engine failure with its id, a fresh worker takes its place, and the batch goes on.
Results come back in input order through a small reorder buffer, so memory stays
bounded however long the batch is.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import multiprocessing as mp
import os
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from multiprocessing.connection import Connection, wait
from multiprocessing.process import BaseProcess
from pathlib import Path
from typing import Any

from engine.batch import Outcome, evaluate_entry
from engine.caseio import CaseEntry
from engine.decision import Decision

#: Test-only hook: a worker aborts (as a segfault would) when it meets this case id.
ABORT_ENV = "CHIPCLEAR_TEST_ABORT_CASE"


@dataclass
class _Result:
    index: int
    decision_json: str | None
    error: str | None
    engine_failure: bool


def _worker(conn: Connection, rules: Path, today: dt.date, as_of: dt.date | None) -> None:
    from engine.evaluate import Evaluator
    from engine.pack import load_pack
    from engine.render import to_jsonl_line

    evaluator = Evaluator(load_pack(rules))
    abort_on = os.environ.get(ABORT_ENV)
    while True:
        job = conn.recv()
        if job is None:
            return
        index, entry = job
        if abort_on and entry.case is not None and entry.case.id == abort_on:
            os.abort()
        outcome = evaluate_entry(evaluator, entry, today, as_of)
        line = to_jsonl_line(outcome.decision) if outcome.decision is not None else None
        conn.send(_Result(index, line, outcome.error, outcome.engine_failure))


@dataclass
class _Slot:
    process: BaseProcess
    conn: Connection
    job: tuple[int, CaseEntry] | None = None


class WorkerPool:
    """N worker processes, each evaluating one case at a time."""

    def __init__(self, jobs: int, rules: Path, today: dt.date, as_of: dt.date | None) -> None:
        method = "fork" if "fork" in mp.get_all_start_methods() else "spawn"
        self._ctx: Any = mp.get_context(method)
        self._args = (rules, today, as_of)
        self._slots = [self._start() for _ in range(jobs)]

    def _start(self) -> _Slot:
        parent, child = self._ctx.Pipe()
        process = self._ctx.Process(target=_worker, args=(child, *self._args), daemon=True)
        process.start()
        child.close()
        return _Slot(process, parent)

    def run(self, entries: Iterable[CaseEntry]) -> Iterator[Outcome]:
        """Outcomes in input order."""
        pending = iter(enumerate(entries))
        held: dict[int, CaseEntry] = {}
        done: dict[int, Outcome] = {}
        next_out = 0
        exhausted = False
        while True:
            for slot in self._slots:
                while slot.job is None and not exhausted:
                    job = next(pending, None)
                    if job is None:
                        exhausted = True
                    elif job[1].case is None:  # invalid input: nothing for a worker to do
                        done[job[0]] = Outcome(job[1], error=job[1].error.line()
                                               if job[1].error else "invalid case")
                    else:
                        slot.job = job
                        held[job[0]] = job[1]
                        slot.conn.send(job)
            busy = [s for s in self._slots if s.job is not None]
            if not busy:
                while next_out in done:
                    yield done.pop(next_out)
                    next_out += 1
                break
            ready = wait([s.conn for s in busy] + [s.process.sentinel for s in busy])
            for i, slot in enumerate(self._slots):
                if slot.job is None or (slot.conn not in ready and
                                        slot.process.sentinel not in ready):
                    continue
                index, entry = slot.job
                try:
                    result: _Result = slot.conn.recv()
                except (EOFError, OSError):
                    slot.process.join()
                    code = slot.process.exitcode
                    case_id = entry.case.id if entry.case else "?"
                    done[index] = Outcome(entry, error=(
                        f"{entry.location()}: case '{case_id}': engine failure: worker process "
                        f"died (exit code {code}); the other cases were still evaluated"),
                        engine_failure=True)
                    self._slots[i] = self._start()
                else:
                    decision = (Decision.model_validate_json(result.decision_json)
                                if result.decision_json is not None else None)
                    done[index] = Outcome(entry, decision, result.error, result.engine_failure)
                    slot.job = None
                del held[index]
            while next_out in done:
                yield done.pop(next_out)
                next_out += 1
        self.close()

    def close(self) -> None:
        for slot in self._slots:
            if slot.process.is_alive():
                with contextlib.suppress(OSError):
                    slot.conn.send(None)
            slot.process.join(timeout=5)
            if slot.process.is_alive():
                slot.process.kill()
