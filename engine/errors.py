"""User-facing errors and exit codes.

A user error is one line, ``file:line:col: what is wrong (hint)``, never a traceback.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum


class ExitCode(IntEnum):
    """Process exit codes; documented in the README."""

    OK = 0
    ATTENTION = 1  # some decision is no_go or needs_information, or an audit found changes
    INVALID_INPUT = 2  # a user error: bad file, bad field, unknown chip
    INTEGRITY = 3  # ledger verification failed
    ENGINE_FAILURE = 4  # the rule engine failed on some case; the others were decided


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


class ChipclearError(Exception):
    """Base class of every error chipclear reports to a user."""


class UserInputError(ChipclearError):
    """Bad input from the user: printed as one line and exit code 2."""

    def __init__(self, location: Location, message: str, hint: str | None = None) -> None:
        self.location = location
        self.message = message
        self.hint = hint
        super().__init__(self.line())

    def __reduce__(self) -> tuple[type[UserInputError], tuple[Location, str, str | None]]:
        return (type(self), (self.location, self.message, self.hint))

    def line(self) -> str:
        text = f"{self.location}: {self.message}"
        if self.hint:
            text += f" ({self.hint})"
        return " ".join(text.split())  # always exactly one line


class RulePackError(UserInputError):
    """A rule pack that does not load or does not check; also exit code 2."""


class EngineFailure(ChipclearError):
    """The rule engine itself failed on a case (an action raised, the library errored)."""
