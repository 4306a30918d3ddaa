"""Test-only seam: make the engine crash or hang on chosen case ids, in any process.

Tests put this folder on PYTHONPATH of a chipclear subprocess; Python imports
``sitecustomize`` at start-up in that process and in every worker it starts (forked
or spawned). Shipped code knows nothing of it. ``CHIPCLEAR_SEAM_CRASH`` and
``CHIPCLEAR_SEAM_HANG`` hold comma-separated case ids: deciding one of them kills the
process with SIGSEGV (what a durable-rules crash looks like) or sleeps for an hour;
``CHIPCLEAR_SEAM_BUG`` ids raise a RuntimeError (a bug in chipclear).
"""

from __future__ import annotations

import os

_CRASH = set(filter(None, os.environ.get("CHIPCLEAR_SEAM_CRASH", "").split(",")))
_HANG = set(filter(None, os.environ.get("CHIPCLEAR_SEAM_HANG", "").split(",")))
_BUG = set(filter(None, os.environ.get("CHIPCLEAR_SEAM_BUG", "").split(",")))

if _CRASH or _HANG or _BUG:
    import resource
    import signal
    import time
    from typing import Any

    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))  # no core files from the crashes

    from chipclear.decide.evaluate import Evaluator

    _real = Evaluator.trace_case  # every decision and audit goes through it

    def _trace_case(self: Evaluator, case: Any, today: Any = None,
                    prepared: Any = None) -> Any:
        if case.id in _CRASH:
            signal.signal(signal.SIGSEGV, signal.SIG_DFL)
            os.kill(os.getpid(), signal.SIGSEGV)
        if case.id in _HANG:
            time.sleep(3600)
        if case.id in _BUG:
            raise RuntimeError("seam: a bug on purpose")
        return _real(self, case, today, prepared)

    Evaluator.trace_case = _trace_case  # type: ignore[method-assign]
