"""How the ``chipclear`` process ends: one exit code per meaning, one line per failure.

Signals become ``Interrupted`` (a BaseException, so no ``except Exception`` swallows
it), raised where the program stands unless it is inside ``deferred_signals()``: there
an output line and its ledger row are written together, and the signal takes effect
right after. Errors map to exit codes here and nowhere else.
"""

from __future__ import annotations

import contextlib
import os
import signal
import sys
import traceback
from collections.abc import Callable, Iterator
from types import FrameType

from chipclear.errors import ChipclearError, ExitCode, OutputFailure

_EXIT_FOR_SIGNAL = {signal.SIGINT: ExitCode.INTERRUPTED, signal.SIGTERM: ExitCode.TERMINATED,
                    signal.SIGHUP: ExitCode.HANGUP}


class Interrupted(BaseException):
    """A signal asked the run to stop; carries its conventional exit code."""

    def __init__(self, signum: int) -> None:
        super().__init__(signal.Signals(signum).name)
        self.signum = signum
        self.code = _EXIT_FOR_SIGNAL.get(signal.Signals(signum), ExitCode.TERMINATED)


_deferring = False
_pending: int | None = None


def _on_signal(signum: int, frame: FrameType | None) -> None:
    global _pending
    if _deferring:
        _pending = signum
        return
    raise Interrupted(signum)


def install_signal_handlers() -> None:
    """SIGINT, SIGTERM and SIGHUP stop the run cleanly (workers die with it)."""
    for sig in _EXIT_FOR_SIGNAL:
        signal.signal(sig, _on_signal)


@contextlib.contextmanager
def deferred_signals() -> Iterator[None]:
    """Hold signals while one decision is delivered and recorded, then act on them."""
    global _deferring, _pending
    outer = _deferring
    _deferring = True
    try:
        yield
    finally:
        _deferring = outer
        if not outer and _pending is not None:
            signum, _pending = _pending, None
            raise Interrupted(signum)


def _quiet_stdout() -> None:
    """After a broken pipe, point stdout at /dev/null so the final flush cannot fail."""
    with contextlib.suppress(OSError, ValueError):
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())


def run(entry: Callable[[], int]) -> int:
    """Run ``entry`` and turn whatever escapes it into an exit code and at most one line."""
    install_signal_handlers()
    try:
        return entry()
    except Interrupted as exc:
        _say(f"chipclear: stopped by {signal.Signals(exc.signum).name}")
        return int(exc.code)
    except KeyboardInterrupt:
        return int(ExitCode.INTERRUPTED)
    except BrokenPipeError:
        _quiet_stdout()
        return int(ExitCode.BROKEN_PIPE)
    except OutputFailure as exc:
        _say(str(exc))
        return int(ExitCode.IO_FAILURE)
    except ChipclearError as exc:
        _say(str(exc))
        return int(ExitCode.INVALID_INPUT)
    except OSError as exc:  # writing stdout or a file failed (full disk, closed terminal)
        where = f"{exc.filename}: " if exc.filename else ""
        _say(f"{where}cannot write: {exc.strerror or exc}")
        return int(ExitCode.IO_FAILURE)
    except Exception as exc:  # a bug: say so, keep the traceback for who asks
        if os.environ.get("CHIPCLEAR_DEBUG") == "1":
            traceback.print_exc()
        _say(f"chipclear: internal error: {type(exc).__name__}: {' '.join(str(exc).split())} "
             "(please report it; CHIPCLEAR_DEBUG=1 shows the traceback)")
        return int(ExitCode.INTERNAL)


def _say(line: str) -> None:
    with contextlib.suppress(OSError, ValueError):
        sys.stderr.write(line + "\n")
        sys.stderr.flush()
