"""Evaluating many cases: read, validate, decide, and keep going past bad cases."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from engine.caseio import CaseEntry, read_all
from engine.decision import Decision, Verdict
from engine.errors import EngineFailure, ExitCode, UserInputError
from engine.evaluate import Evaluator, UnknownChip


@dataclass
class Outcome:
    """One case's result: a decision, or the one-line error that replaced it."""

    entry: CaseEntry
    decision: Decision | None = None
    error: str | None = None
    engine_failure: bool = False


def evaluate_entry(evaluator: Evaluator, entry: CaseEntry, today: dt.date,
                   as_of: dt.date | None = None) -> Outcome:
    if entry.error is not None or entry.case is None:
        return Outcome(entry, error=entry.error.line() if entry.error else "invalid case")
    case = entry.case if as_of is None else entry.case.model_copy(update={"as_of": as_of})
    try:
        return Outcome(entry, decision=evaluator.evaluate(case, today))
    except UnknownChip as exc:
        where = entry.location(["order", "items", exc.index, "chip"])
        return Outcome(entry, error=UserInputError(where, str(exc)).line())
    except EngineFailure as exc:
        return Outcome(entry, error=f"{entry.location()}: case '{case.id}': engine failure: {exc}",
                       engine_failure=True)


def run(evaluator: Evaluator, paths: Iterable[Path], today: dt.date,
        as_of: dt.date | None = None) -> Iterator[Outcome]:
    for entry in read_all(paths):
        yield evaluate_entry(evaluator, entry, today, as_of)


@dataclass
class Tally:
    go: int = 0
    attention: int = 0
    invalid: int = 0
    failed: int = 0

    def add(self, outcome: Outcome) -> None:
        if outcome.decision is not None:
            if outcome.decision.verdict in (Verdict.no_go, Verdict.needs_information):
                self.attention += 1
            else:
                self.go += 1
        elif outcome.engine_failure:
            self.failed += 1
        else:
            self.invalid += 1

    def exit_code(self) -> ExitCode:
        if self.invalid:
            return ExitCode.INVALID_INPUT
        if self.failed:
            return ExitCode.ENGINE_FAILURE
        if self.attention:
            return ExitCode.ATTENTION
        return ExitCode.OK
