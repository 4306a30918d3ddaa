"""The pool's pipe protocol: large tasks with large results never deadlock parent and
worker (each blocked writing to the other), and the per-task timeout still holds.

Each check runs in a subprocess with a timeout, so a regression fails instead of hanging.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap

from tests.conftest import ROOT

BIG = textwrap.dedent("""
    from chipclear.batch.pool import WorkerPool, Lost

    def setup():
        def echo(task):
            return task * 4  # a result larger than the task, as a decision is
        return echo

    tasks = ["x" * 300_000 for _ in range(6)] + ["y" * 10 for _ in range(20)]
    with WorkerPool({jobs}, setup, timeout=60) as pool:
        out = list(pool.map(tasks))
    assert not any(isinstance(r, Lost) for r in out), out
    assert [len(r) for r in out] == [len(t) * 4 for t in tasks]
    print("ok")
""")

SLOW = textwrap.dedent("""
    import time
    from chipclear.batch.pool import WorkerPool, Lost

    def setup():
        def work(task):
            if task == "hang":
                time.sleep(3600)
            return task * 4
        return work

    tasks = ["x" * 300_000, "hang", "y" * 300_000]
    with WorkerPool(1, setup, timeout=2) as pool:
        out = list(pool.map(tasks))
    assert isinstance(out[1], Lost) and out[1].timed_out, out[1]
    assert out[0] == tasks[0] * 4 and out[2] == tasks[2] * 4
    print("ok")
""")


def run_script(source: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-c", source], cwd=ROOT, capture_output=True,
                          text=True, timeout=60)


def test_large_tasks_and_results_do_not_deadlock_one_worker() -> None:
    done = run_script(BIG.format(jobs=1))
    assert done.returncode == 0 and done.stdout.strip() == "ok", done.stderr


def test_large_tasks_and_results_do_not_deadlock_two_workers() -> None:
    done = run_script(BIG.format(jobs=2))
    assert done.returncode == 0 and done.stdout.strip() == "ok", done.stderr


def test_the_timeout_holds_between_large_tasks() -> None:
    done = run_script(SLOW)
    assert done.returncode == 0 and done.stdout.strip() == "ok", done.stderr
