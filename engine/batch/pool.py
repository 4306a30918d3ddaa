"""Deciding in worker processes, so an engine crash or hang costs one task, not the run.

durable-rules is a C extension: a bad input has segfaulted it before, and nothing in
Python can catch that. Every command that decides cases can hand them to a
``WorkerPool``: N processes, each holding a few tasks at a time (so none waits on the
parent) and answering them in the order sent. When a worker dies, the oldest task it
held is the one it died on: that task comes back as ``Lost`` and the others go to a fresh
worker. When a worker's oldest task has run longer than ``timeout`` seconds, the worker
is killed and that task comes back as ``Lost`` too. Results come back in input order.

A worker dies with its parent (``PR_SET_PDEATHSIG`` on Linux, and a check of the parent
id), ignores Ctrl+C (the parent reports it and stops the workers), and never prints a
traceback: whatever goes wrong in it is the parent's to report, in one line.

The hand-written pool was kept over ``pebble``: pebble confines a crash and has
timeouts, but a task there is one call, so a per-process evaluator (compiled rule
packs, a durable host) would need its own initializer plumbing, and orphan handling on
SIGKILL of the parent would still be ours to add. This module is that, and no more.
"""

from __future__ import annotations

import contextlib
import multiprocessing as mp
import os
import signal
import sys
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from multiprocessing.connection import Connection, wait
from multiprocessing.process import BaseProcess
from multiprocessing.reduction import ForkingPickler
from typing import Any, Generic, TypeVar

from chipclear.batch import DEFAULT_TIMEOUT

T = TypeVar("T")
R = TypeVar("R")

#: Tasks a worker holds at once: enough to hide the round trip to the parent.
DEPTH = 4

#: Bytes of unanswered tasks a busy worker may hold. A worker blocked writing a large
#: result reads nothing, so the parent must never write more to it than the pipe
#: buffers (Linux: ~200 KB); past this a task waits until the worker is idle. An idle
#: worker is reading, so a task of any size reaches it.
PREFETCH_BYTES = 32 * 1024

#: Setup runs once in each worker and returns the function it applies to every task.
Setup = Callable[[], Callable[[Any], Any]]


@dataclass(frozen=True)
class Lost:
    """A task its worker never answered: why, in words for the one-line report."""

    reason: str
    timed_out: bool = False


def _die_with_parent(parent: int) -> None:
    """Ask Linux to SIGKILL this process when its parent goes; elsewhere poll nothing."""
    if sys.platform.startswith("linux"):
        import ctypes

        with contextlib.suppress(OSError, AttributeError):
            libc = ctypes.CDLL(None, use_errno=True)
            libc.prctl(1, signal.SIGKILL, 0, 0, 0)  # PR_SET_PDEATHSIG
    if os.getppid() != parent:  # the parent died before the line above took effect
        os._exit(1)


def _worker(conn: Connection, setup: Setup, parent: int) -> None:
    try:
        signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl+C is the parent's to handle
        for sig in (signal.SIGTERM, signal.SIGHUP):
            signal.signal(sig, signal.SIG_DFL)  # a forked child inherits the parent's handlers
        _die_with_parent(parent)
        apply = setup()
        while True:
            task = conn.recv()
            if task is None:
                break
            try:
                result: Any = apply(task)
            except Exception as exc:  # a bug, not a crash: say what it was
                text = " ".join(f"{type(exc).__name__}: {exc}".split())
                result = Lost(f"internal error in the worker: {text} (please report it)")
            conn.send(result)
    except BaseException:  # the parent reports a silent death as Lost
        os._exit(70)
    os._exit(0)


@dataclass
class _Slot:
    process: BaseProcess
    conn: Connection
    jobs: deque[tuple[int, Any]] = field(default_factory=deque)
    sizes: deque[int] = field(default_factory=deque)  # pickled bytes of each job, same order
    unsent: set[int] = field(default_factory=set)  # jobs its pipe refused: it never saw them
    since: float = 0.0  # when its oldest job became the one it works on


class WorkerPool(Generic[T, R]):
    """``jobs`` worker processes applying ``setup()``'s function to tasks, in order.

    ``start`` is a multiprocessing start method: ``fork`` (fast, the default where it
    exists) or ``spawn`` (for a parent that runs threads, such as the interview; then
    ``setup`` must be picklable).
    """

    def __init__(self, jobs: int, setup: Callable[[], Callable[[T], R]],
                 timeout: float | None = DEFAULT_TIMEOUT, start: str | None = None) -> None:
        if start is None:
            start = "fork" if "fork" in mp.get_all_start_methods() else "spawn"
        self._ctx: Any = mp.get_context(start)
        self._setup = setup
        self.timeout = timeout
        self._slots = [self._start() for _ in range(max(1, jobs))]

    def _start(self) -> _Slot:
        parent, child = self._ctx.Pipe()
        process = self._ctx.Process(target=_worker, args=(child, self._setup, os.getpid()),
                                    daemon=True)
        process.start()
        child.close()
        return _Slot(process, parent)

    @property
    def pids(self) -> list[int]:
        """The workers' process ids (for tests and diagnostics)."""
        return [s.process.pid for s in self._slots if s.process.pid is not None]

    def map(self, tasks: Iterable[T]) -> Iterator[R | Lost]:
        """Each task's result, or ``Lost``, in input order. The workers stay up for the
        next call; ``close()`` (or the ``with`` block) stops them.

        Long on purpose: one loop holds the whole scheduling state (drawn, held, retried,
        done, in flight) so that a worker's death, a timeout and the output order are
        handled in one place; split, that state would travel between functions."""
        pending = iter(enumerate(tasks))
        retry: deque[tuple[int, Any]] = deque()  # held by a worker that died
        done: dict[int, Any] = {}
        next_out = 0
        exhausted = False
        held: tuple[int, Any, bytes] | None = None  # drawn, but too big for a busy worker

        def next_job() -> tuple[int, Any, bytes] | None:
            nonlocal exhausted, held
            if held is not None:
                job, held = held, None
                return job
            if retry:
                index, task = retry.popleft()
            elif exhausted:
                return None
            else:
                drawn = next(pending, None)
                if drawn is None:
                    exhausted = True
                    return None
                index, task = drawn
            return index, task, bytes(ForkingPickler.dumps(task))

        while True:
            for i, slot in enumerate(self._slots):
                if not slot.jobs and not slot.process.is_alive():  # died between tasks
                    slot = self._slots[i] = self._start()
                while len(slot.jobs) < DEPTH:
                    job = next_job()
                    if job is None:
                        break
                    index, task, data = job
                    if slot.jobs and sum(slot.sizes) + len(data) > PREFETCH_BYTES:
                        held = job  # writing it could block on a worker blocked writing
                        break
                    if not slot.jobs:
                        slot.since = time.monotonic()
                    slot.jobs.append((index, task))
                    slot.sizes.append(len(data))
                    try:
                        slot.conn.send_bytes(data)  # the worker's recv() unpickles it
                    except OSError:  # it died meanwhile; _collect hands its tasks on
                        slot.unsent.add(index)
                        break
            if held is not None:  # no worker could take it: back in line, first
                retry.appendleft(held[:2])
                held = None
            busy = [s for s in self._slots if s.jobs]
            if not busy:
                while next_out in done:
                    yield done.pop(next_out)
                    next_out += 1
                break
            wait_for = None
            if self.timeout is not None:
                deadline = min(s.since for s in busy) + self.timeout
                wait_for = max(0.0, deadline - time.monotonic())
            ready = wait([s.conn for s in busy] + [s.process.sentinel for s in busy],
                         timeout=wait_for)
            now = time.monotonic()
            for i, slot in enumerate(self._slots):
                if not slot.jobs:
                    continue
                if slot.conn in ready or slot.process.sentinel in ready:
                    self._collect(i, slot, done, retry)
                elif self.timeout is not None and now - slot.since >= self.timeout:
                    self._expire(i, slot, done, retry)
            while next_out in done:
                yield done.pop(next_out)
                next_out += 1

    def _collect(self, i: int, slot: _Slot, done: dict[int, Any],
                 retry: deque[tuple[int, Any]]) -> None:
        """Take every result the worker has ready; replace it if it died."""
        try:
            while slot.jobs and slot.conn.poll():
                result = slot.conn.recv()
                index, _ = slot.jobs.popleft()
                slot.sizes.popleft()
                done[index] = result
                slot.since = time.monotonic()
        except (EOFError, OSError):
            slot.process.join()
            if slot.jobs[0][0] not in slot.unsent:  # it died on this one
                index, _ = slot.jobs.popleft()
                done[index] = Lost(f"worker process died (exit code {slot.process.exitcode})")
            retry.extendleft(reversed(slot.jobs))
            self._slots[i] = self._start()

    def _expire(self, i: int, slot: _Slot, done: dict[int, Any],
                retry: deque[tuple[int, Any]]) -> None:
        """The worker's oldest task ran out of time: kill it, blame that task only."""
        slot.process.kill()
        slot.process.join()
        slot.conn.close()
        index, _ = slot.jobs.popleft()
        done[index] = Lost(f"no answer within {self.timeout:g} s; the worker was stopped",
                           timed_out=True)
        retry.extendleft(reversed(slot.jobs))
        self._slots[i] = self._start()

    def close(self) -> None:
        """Stop every worker: politely if idle, at once if busy (an interrupted run)."""
        for slot in self._slots:
            if slot.process.is_alive():
                if slot.jobs:
                    slot.process.kill()
                else:
                    with contextlib.suppress(OSError):
                        slot.conn.send(None)
            slot.process.join(timeout=5)
            if slot.process.is_alive():
                slot.process.kill()
                slot.process.join()
            slot.conn.close()
            slot.jobs.clear()

    def __enter__(self) -> WorkerPool[T, R]:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
