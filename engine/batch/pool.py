"""Evaluating a batch in worker processes, so a crash costs one case, not the run.

durable-rules is a C extension with known segfaults. With ``--jobs N`` cases go to N
worker processes, a few at a time each so no worker waits on the parent; a worker
decides its cases in the order sent, so if it dies, the oldest case it held is the one
it died on: that case is reported as an engine failure with its id, the others it held
go to a fresh worker, and the batch goes on. Results come back in input order through a
reorder buffer. Decisions travel as the JSON lines the workers rendered.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import multiprocessing as mp
import os
from collections import deque
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from multiprocessing.connection import Connection, wait
from multiprocessing.process import BaseProcess
from pathlib import Path
from typing import Any

from chipclear.batch.run import Outcome, evaluate_entry
from chipclear.io.caseio import CaseEntry
from chipclear.model.decision import Verdict

#: Test-only hook: a worker aborts (as a segfault would) when it meets one of these
#: comma-separated case ids.
ABORT_ENV = "CHIPCLEAR_TEST_ABORT_CASE"


#: Cases a worker holds at once: enough to hide the round trip to the parent.
DEPTH = 4


@dataclass
class _Result:
    index: int
    decision_json: str | None
    verdict: str | None
    error: str | None
    engine_failure: bool


def _worker(conn: Connection, rules: Path, today: dt.date, as_of: dt.date | None) -> None:
    from chipclear.decide.evaluate import Evaluator
    from chipclear.io.render import to_jsonl_line
    from chipclear.pack.loader import load_pack

    evaluator = Evaluator(load_pack(rules))
    abort_on = set(filter(None, os.environ.get(ABORT_ENV, "").split(",")))
    while True:
        job = conn.recv()
        if job is None:
            return
        index, entry = job
        if entry.case is not None and entry.case.id in abort_on:
            os.abort()
        outcome = evaluate_entry(evaluator, entry, today, as_of)
        decision = outcome.decision
        line = to_jsonl_line(decision) if decision is not None else None
        verdict = decision.verdict.value if decision is not None else None
        conn.send(_Result(index, line, verdict, outcome.error, outcome.engine_failure))


@dataclass
class _Slot:
    process: BaseProcess
    conn: Connection
    jobs: deque[tuple[int, CaseEntry]] = field(default_factory=deque)
    unsent: set[int] = field(default_factory=set)  # jobs its pipe refused: it never saw them


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
        retry: deque[tuple[int, CaseEntry]] = deque()  # held by a worker that died
        done: dict[int, Outcome] = {}
        next_out = 0
        exhausted = False

        def next_job() -> tuple[int, CaseEntry] | None:
            nonlocal exhausted
            while retry or not exhausted:
                job = retry.popleft() if retry else next(pending, None)
                if job is None:
                    exhausted = True
                elif job[1].case is None:  # invalid input: nothing for a worker to do
                    done[job[0]] = Outcome(job[1], error=job[1].error.line()
                                           if job[1].error else "invalid case")
                else:
                    return job
            return None

        while True:
            for i, slot in enumerate(self._slots):
                if not slot.jobs and not slot.process.is_alive():  # died between cases
                    slot = self._slots[i] = self._start()
                while len(slot.jobs) < DEPTH:
                    job = next_job()
                    if job is None:
                        break
                    slot.jobs.append(job)
                    try:
                        slot.conn.send(job)
                    except OSError:  # it died meanwhile; _collect hands its cases on
                        slot.unsent.add(job[0])
                        break
            busy = [s for s in self._slots if s.jobs]
            if not busy:
                while next_out in done:
                    yield done.pop(next_out)
                    next_out += 1
                break
            ready = wait([s.conn for s in busy] + [s.process.sentinel for s in busy])
            for i, slot in enumerate(self._slots):
                if not slot.jobs or (slot.conn not in ready and
                                     slot.process.sentinel not in ready):
                    continue
                self._collect(i, slot, done, retry)
            while next_out in done:
                yield done.pop(next_out)
                next_out += 1
        self.close()

    def _collect(self, i: int, slot: _Slot, done: dict[int, Outcome],
                 retry: deque[tuple[int, CaseEntry]]) -> None:
        """Take every result the worker has ready; replace it if it died."""
        try:
            while slot.jobs and slot.conn.poll():
                result: _Result = slot.conn.recv()
                index, entry = slot.jobs.popleft()
                assert index == result.index, "worker answered out of order"
                done[index] = Outcome(
                    entry, error=result.error, engine_failure=result.engine_failure,
                    line=result.decision_json,
                    verdict=Verdict(result.verdict) if result.verdict else None)
        except (EOFError, OSError):
            slot.process.join()
            if slot.jobs[0][0] not in slot.unsent:  # it died deciding this one
                code = slot.process.exitcode
                index, entry = slot.jobs.popleft()
                case_id = entry.case.id if entry.case else "?"
                done[index] = Outcome(entry, error=(
                    f"{entry.location()}: case '{case_id}': engine failure: worker process "
                    f"died (exit code {code}); the other cases were still evaluated"),
                    engine_failure=True)
            retry.extendleft(reversed(slot.jobs))
            self._slots[i] = self._start()

    def close(self) -> None:
        for slot in self._slots:
            if slot.process.is_alive():
                with contextlib.suppress(OSError):
                    slot.conn.send(None)
            slot.process.join(timeout=5)
            if slot.process.is_alive():
                slot.process.kill()
