"""Where a command's output goes, without ever damaging a file.

Output to a file is written to a temporary file beside it and renamed over it at the
end, so a failed or interrupted run never leaves half a file where a good one was
(an interrupted run still delivers what it decided: see ``commit``). ``-`` means
stdout. A target that resolves to one of the inputs or to the ledger is refused
before anything is read.
"""

from __future__ import annotations

import contextlib
import os
import sys
import tempfile
from collections.abc import Iterable
from pathlib import Path
from typing import TextIO

from chipclear.errors import Location, OutputFailure, UserInputError


def _same(a: Path, b: Path) -> bool:
    try:
        return a.resolve() == b.resolve() or (a.exists() and b.exists() and a.samefile(b))
    except OSError:
        return False


def _inside(path: Path, folder: Path) -> bool:
    try:
        return path.resolve().is_relative_to(folder.resolve())
    except OSError:
        return False


def _is_case_file(path: Path) -> bool:
    """A file folder expansion would read as cases and that is not an earlier output of
    chipclear (decisions carry ``rule_pack``; a case never does)."""
    from chipclear.io.caseio import CASE_SUFFIXES

    if path.suffix not in CASE_SUFFIXES or not path.is_file():
        return False
    try:
        with path.open("rb") as f:
            head = f.read(4096)
    except OSError:
        return True
    return b'"rule_pack"' not in head and b'"schema"' not in head


#: The first bytes of every SQLite database (a chipclear ledger is one).
SQLITE_HEADER = b"SQLite format 3\x00"


def _foreign(path: Path) -> str | None:
    """What an existing file is, when it is not something an earlier run wrote: a
    database (a ledger) or a case file. Such a file is never overwritten by ``-o``."""
    try:
        with path.open("rb") as f:
            head = f.read(4096)
    except OSError:
        return None
    if head.startswith(SQLITE_HEADER):
        return "an SQLite database (a ledger?)"
    if _is_case_file(path) and (b"buyer" in head or b"order" in head):
        return "a case file"
    return None


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


class Output:
    """The output stream of one run: stdout, or a file replaced atomically at the end."""

    def __init__(self, target: Path | None) -> None:
        self.target = None if target is None or str(target) == "-" else target
        self._tmp: Path | None = None
        self._real: Path | None = None
        self._direct = False  # writing straight into a device or pipe
        self.stream: TextIO = sys.stdout

    def check(self, inputs: Iterable[Path], ledger: Path | None) -> None:
        """Refuse a target that is an input, inside nothing writable, or the ledger."""
        target = self.target
        if target is None:
            return
        if ledger is not None and _same(target, ledger):
            raise UserInputError(Location(str(target)), "-o is the ledger file",
                                 "write the output somewhere else")
        for path in inputs:
            if _same(target, path) or (path.is_dir() and _inside(target, path)
                                       and _is_case_file(target)):
                raise UserInputError(Location(str(target)), "-o is one of the input files",
                                     "write the output somewhere else")
        if target.is_file():
            kind = _foreign(target)
            if kind is not None:
                raise UserInputError(Location(str(target)), f"-o would overwrite {kind}",
                                     "write the output somewhere else, or remove it first")
        if target.is_dir():
            raise OutputFailure(f"{target}: cannot write the output: it is a folder "
                                "(name a file)")
        if not target.parent.is_dir():
            raise OutputFailure(f"{target}: cannot write the output: folder "
                                f"{target.parent} does not exist (create it first)")
        if target.exists() and not os.access(target, os.W_OK):
            raise OutputFailure(f"{target}: cannot write the output: the file is read-only")

    def skips(self, path: Path) -> bool:
        """Whether a file found while expanding input folders is this run's own output."""
        if self.target is None:
            return False
        return _same(path, self.target) or (self._tmp is not None and _same(path, self._tmp))

    def own_files(self) -> list[Path]:
        """This run's output and its temporary twin: never read back as cases."""
        return [p for p in (self.target, self._tmp) if p is not None]

    def open(self) -> TextIO:
        if self.target is None:
            return self.stream
        real = self.target.resolve()  # a link is followed, never replaced by a file
        if real.exists() and not real.is_file():  # a device or a pipe: write into it
            try:
                self.stream = real.open("w", encoding="utf-8")
            except OSError as exc:
                raise OutputFailure(f"{self.target}: cannot write the output: "
                                    f"{exc.strerror or exc}") from None
            self._direct = True
            return self.stream
        self._real = real
        try:
            fd, name = tempfile.mkstemp(prefix=f".{real.name}.", suffix=".partial",
                                        dir=real.parent)
        except OSError as exc:
            raise OutputFailure(f"{self.target}: cannot write the output: "
                                f"{exc.strerror or exc}") from None
        self._tmp = Path(name)
        self.stream = os.fdopen(fd, "w", encoding="utf-8")
        return self.stream

    def flush(self) -> None:
        """Push what was written so far to the file (or the pipe)."""
        try:
            self.stream.flush()
        except BrokenPipeError:
            raise
        except OSError as exc:
            raise OutputFailure(f"{self.target or 'stdout'}: cannot write the output: "
                                f"{exc.strerror or exc}") from None

    def commit(self) -> None:
        """Make the output final: flush, sync, rename the temporary file over the target."""
        if self.target is None or self._tmp is None:
            self.flush()
            if self._direct:
                try:
                    self.stream.close()
                except OSError as exc:
                    raise OutputFailure(f"{self.target}: cannot write the output: "
                                        f"{exc.strerror or exc}") from None
            return
        try:
            self.stream.flush()
            os.fsync(self.stream.fileno())
            self.stream.close()
            real = self._real
            assert real is not None
            mode = real.stat().st_mode & 0o777 if real.exists() else 0o666 & ~_umask()
            os.chmod(self._tmp, mode)
            os.replace(self._tmp, real)
            self._tmp = None
        except OSError as exc:
            self.discard()
            raise OutputFailure(f"{self.target}: cannot write the output: "
                                f"{exc.strerror or exc} (the previous file is unchanged)"
                                ) from None

    def discard(self) -> None:
        """Drop the temporary file; the target stays as it was."""
        if self._tmp is not None:
            with contextlib.suppress(OSError, ValueError):
                self.stream.close()
            with contextlib.suppress(OSError):
                self._tmp.unlink()
            self._tmp = None
