"""Evaluating many cases: read, validate, decide, and keep going past bad cases."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from chipclear.decide.evaluate import Evaluator, OutsideCoverage, UnknownChip
from chipclear.errors import EngineFailure, ExitCode, RulePackError, UserInputError
from chipclear.io.caseio import CaseEntry, read_all
from chipclear.io.render import to_jsonl_line
from chipclear.model.decision import Decision, Verdict


@dataclass
class Outcome:
    """One case's result: a decision, or the one-line error that replaced it.

    A worker process sends its decision as the JSON line it rendered (``line``, with the
    ``verdict``); parsing that back costs more than deciding, so it happens only when
    something asks for the Decision.
    """

    entry: CaseEntry
    decision: Decision | None = None
    error: str | None = None
    engine_failure: bool = False
    line: str | None = None
    verdict: Verdict | None = None

    def decided(self) -> Decision | None:
        """The decision, parsed from the worker's line on first use."""
        if self.decision is None and self.line is not None:
            self.decision = Decision.model_validate_json(self.line)
        return self.decision

    def jsonl(self) -> str:
        """The decision as one JSON line (the worker's rendering when there is one)."""
        if self.line is not None:
            return self.line
        decision = self.decided()
        assert decision is not None, "jsonl() of an outcome without a decision"
        return to_jsonl_line(decision)

    def final_verdict(self) -> Verdict | None:
        return self.decision.verdict if self.decision is not None else self.verdict


def evaluate_entry(evaluator: Evaluator, entry: CaseEntry, today: dt.date,
                   as_of: dt.date | None = None) -> Outcome:
    if entry.error is not None or entry.case is None:
        return Outcome(entry, error=entry.error.line() if entry.error else "invalid case")
    case = entry.case if as_of is None else entry.case.model_copy(update={"as_of": as_of})
    try:
        decision = evaluator.evaluate(case, today)
        return Outcome(entry, decision=decision.model_copy(update={"source": entry.source}))
    except UnknownChip as exc:
        where = entry.location(["as_of"] if isinstance(exc, OutsideCoverage)
                               else ["order", "items", exc.index, *exc.field])
        return Outcome(entry, error=UserInputError(where, str(exc)).line())
    except RulePackError as exc:  # the pack's fault (e.g. a parameter with no value then)
        return Outcome(entry, error=exc.line())
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
        verdict = outcome.final_verdict()
        if verdict is not None:
            if verdict in (Verdict.no_go, Verdict.needs_information):
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
