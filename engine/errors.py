"""User-facing errors and exit codes.

A user error is one line per problem, ``file:line:col: what is wrong (hint)``, never a
traceback; the same problems are available as records for JSON output.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from enum import IntEnum
from typing import Any


class ExitCode(IntEnum):
    """Process exit codes; documented in the README."""

    OK = 0
    ATTENTION = 1  # some decision is no_go or needs_information, or an audit found changes
    INVALID_INPUT = 2  # a user error: bad file, bad field, unknown chip
    INTEGRITY = 3  # ledger verification failed
    ENGINE_FAILURE = 4  # the rule engine failed on some case; the others were decided
    INTERNAL = 70  # a bug in chipclear (sysexits EX_SOFTWARE): please report it
    IO_FAILURE = 74  # the output or the ledger could not be written (sysexits EX_IOERR)
    HANGUP = 129  # 128 + SIGHUP
    INTERRUPTED = 130  # 128 + SIGINT (Ctrl+C)
    BROKEN_PIPE = 141  # 128 + SIGPIPE: the reader went away (`| head`)
    TERMINATED = 143  # 128 + SIGTERM


@dataclass(frozen=True)
class Location:
    """Where in a file a problem is; line and column are 1-based."""

    file: str
    line: int | None = None
    col: int | None = None

    def __str__(self) -> str:
        if self.line is None:
            return self.file
        return f"{self.file}:{self.line}:{self.col or 1}"


ErrorRecord = dict[str, str | int | None]
"""One problem for machine output: ``{file, line, col, message, hint}``."""


@dataclass(frozen=True)
class Problem:
    """One thing wrong with the input, where it is, and what to do about it."""

    location: Location
    message: str
    hint: str | None = None

    def line(self) -> str:
        """``file:line:col: what is wrong (hint)``, always exactly one line."""
        text = f"{self.location}: {self.message}"
        if self.hint:
            text += f" ({self.hint})"
        return " ".join(text.split())

    def record(self) -> ErrorRecord:
        """The structured form, for JSON output; line and col are null when unknown."""
        loc = self.location
        return {"file": loc.file, "line": loc.line,
                "col": (loc.col or 1) if loc.line is not None else None,
                "message": " ".join(self.message.split()),
                "hint": " ".join(self.hint.split()) if self.hint else None}


class ChipclearError(Exception):
    """Base class of every error chipclear reports to a user."""


class UserInputError(ChipclearError):
    """Bad input from the user: one line per problem, exit code 2.

    Usually one problem; a case with several gets them all at once (``more``), so the
    user fixes the file in one pass instead of one error per run.
    """

    def __init__(self, location: Location, message: str, hint: str | None = None,
                 more: Sequence[Problem] = ()) -> None:
        self.location = location
        self.message = message
        self.hint = hint
        self.problems: tuple[Problem, ...] = (Problem(location, message, hint), *more)
        super().__init__(self.line())

    @classmethod
    def of(cls, problems: Sequence[Problem]) -> UserInputError:
        """One error carrying several problems (at least one)."""
        first, *rest = problems
        return cls(first.location, first.message, first.hint, rest)

    def __reduce__(self) -> tuple[Any, ...]:
        return (type(self), (self.location, self.message, self.hint, self.problems[1:]))

    def lines(self) -> list[str]:
        """One line per problem, each ``file:line:col: what is wrong (hint)``."""
        return [p.line() for p in self.problems]

    def line(self) -> str:
        """The report to print: one line per problem (a single problem is one line)."""
        return "\n".join(self.lines())

    def records(self) -> list[ErrorRecord]:
        """Every problem as ``{file, line, col, message, hint}``, for JSON output."""
        return [p.record() for p in self.problems]


class RulePackError(UserInputError):
    """A rule pack that does not load or does not check; also exit code 2."""


class OutputFailure(ChipclearError):
    """The output or the ledger could not be written (missing folder, full disk, locked
    file): one line and exit code 74; no decision is lost silently."""


class EngineFailure(ChipclearError):
    """The rule engine itself failed on a case (an action raised, the library errored)."""


_LINE = re.compile(r"^(?P<file>.+?)(?::(?P<line>\d+)(?::(?P<col>\d+))?)?: (?P<message>.*)$", re.S)


def error_record(error: str | UserInputError) -> dict[str, str | int | None]:
    """An error as the ``{file, line, col, message, hint}`` object of JSON output.

    Bridges the one-line strings the batch still carries to the structured errors being
    built for case input: ``file:line:col: message (hint)``; a trailing parenthesis is
    the hint, a line without a location keeps its text as the message. A
    ``UserInputError`` gives its fields as they are.
    """
    if isinstance(error, UserInputError):
        where = error.location
        return {"file": where.file, "line": where.line, "col": where.col,
                "message": error.message, "hint": error.hint}
    line = error
    match = _LINE.match(line)
    if match is None or (match["line"] is None and " " in match["file"]):  # "x y: ..." prose
        return {"file": None, "line": None, "col": None, "message": line, "hint": None}
    message, hint = match["message"], None
    if message.endswith(")") and " (" in message:
        depth = 0
        for i in range(len(message) - 1, -1, -1):
            depth += {")": 1, "(": -1}.get(message[i], 0)
            if depth == 0:
                if i > 0 and message[i - 1] == " ":
                    message, hint = message[:i - 1], message[i + 1:-1]
                break
    return {"file": match["file"], "line": int(match["line"]) if match["line"] else None,
            "col": int(match["col"]) if match["col"] else None, "message": message,
            "hint": hint}
