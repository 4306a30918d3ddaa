"""Deciding many cases: in this process or in worker processes that confine crashes."""

from __future__ import annotations

from typing import TYPE_CHECKING

from chipclear.faces import lazy

#: Seconds one case may take before its worker is killed (a normal case takes
#: milliseconds; a golden-heavy timeline a few seconds). Here rather than in ``pool`` so
#: the command line reads it without importing multiprocessing.
DEFAULT_TIMEOUT = 60.0

if TYPE_CHECKING:
    from chipclear.batch.isolated import auto_jobs, case_pool, decide_entries
    from chipclear.batch.pool import Lost, WorkerPool
    from chipclear.batch.run import Outcome

#: The package's public face; everything else is internal to it.
__all__ = [
    "DEFAULT_TIMEOUT",
    "Lost",
    "Outcome",
    "WorkerPool",
    "auto_jobs",
    "case_pool",
    "decide_entries",
]

__getattr__ = lazy(__name__, {
    "Lost": "chipclear.batch.pool",
    "Outcome": "chipclear.batch.run",
    "WorkerPool": "chipclear.batch.pool",
    "auto_jobs": "chipclear.batch.isolated",
    "case_pool": "chipclear.batch.isolated",
    "decide_entries": "chipclear.batch.isolated",
})
