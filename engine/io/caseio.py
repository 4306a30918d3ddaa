"""Reading case files: one case or many (``cases:``), YAML or JSON, file or folder.

Each case is validated on its own, so one bad case in a batch of thousands is
reported with its ``file:line:col`` and the rest are still evaluated.
"""

from __future__ import annotations

import difflib
import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from chipclear.errors import Location, UserInputError
from chipclear.io.yamlload import load_file, locate
from chipclear.model.case import Case
from pydantic import BaseModel, ValidationError

CASE_SUFFIXES = (".yaml", ".yml", ".json", ".jsonl")


@dataclass
class CaseEntry:
    """One case read from a file: the validated case, or the error that stopped it."""

    file: str
    index: int | None  # position under ``cases:``; None for a single-case file
    raw: Any
    case: Case | None = None
    error: UserInputError | None = None

    def location(self, loc: Iterable[int | str] = (), key: bool = False) -> Location:
        """Where an element of this case sits; ``raw`` is the case mapping itself."""
        mark = locate(self.raw, list(loc), key) if self.raw is not None else None
        return Location(self.file, *mark) if mark else Location(self.file)


def _field_names(model: type[BaseModel], at: list[int | str]) -> list[str]:
    """Allowed keys of the model at a location, for did-you-mean hints."""
    current: Any = model
    for part in at:
        if isinstance(part, int):
            continue
        field = getattr(current, "model_fields", {}).get(part)
        if field is None:
            return []
        current = _model_in(field.annotation)
        if current is None:
            return []
    return list(getattr(current, "model_fields", {}))


def _model_in(annotation: Any) -> type[BaseModel] | None:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in getattr(annotation, "__args__", ()):
        found = _model_in(arg)
        if found is not None:
            return found
    return None


def describe(exc: ValidationError) -> tuple[list[int | str], str, str | None, bool]:
    """The first validation error as (location, message, hint, points-at-key)."""
    err = exc.errors()[0]
    loc = [p for p in err["loc"] if not (isinstance(p, str) and p.startswith("function-"))]
    dotted = ".".join(str(p) for p in loc) or "case"
    hint: str | None = None
    if err["type"] == "extra_forbidden":
        name = str(loc[-1])
        allowed = _field_names(Case, loc[:-1])
        close = difflib.get_close_matches(name, allowed, n=1)
        message = f"unknown field '{dotted}'"
        hint = f"did you mean '{close[0]}'?" if close else (
            f"allowed here: {', '.join(allowed)}" if allowed else "remove it")
    elif err["type"] == "enum":
        expected = err.get("ctx", {}).get("expected", "")
        message = f"{dotted}: {err['input']!r} is not allowed"
        options = [o.strip(" '") for o in str(expected).replace(" or ", ",").split(",")]
        close = difflib.get_close_matches(str(err["input"]), options, n=1)
        hint = f"did you mean '{close[0]}'?" if close else f"use one of {expected}"
    elif err["type"] == "missing":
        message = f"{dotted} is required"
    else:
        message = f"{dotted}: {err['msg']}"
    extra = len(exc.errors()) - 1
    if extra:
        message += f" (and {extra} more problem{'s' if extra > 1 else ''} in this case)"
    return loc, message, hint, err["type"] == "extra_forbidden"


def _entry(file: str, index: int | None, raw: Any) -> CaseEntry:
    entry = CaseEntry(file, index, raw)
    if not isinstance(raw, dict):
        entry.error = UserInputError(entry.location(), "a case is a mapping with id, buyer, order…")
        return entry
    try:
        entry.case = Case.model_validate(raw)
    except ValidationError as exc:
        loc, message, hint, at_key = describe(exc)
        entry.error = UserInputError(entry.location(loc, at_key), message, hint)
    return entry


#: YAML is parsed whole and in Python; past this size a file is refused with a hint
#: rather than left to run for minutes. JSON lines stream at any size.
MAX_YAML_BYTES = 20 * 1024 * 1024


class _Duplicate(ValueError):
    pass


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in pairs:
        if key in out:
            raise _Duplicate(key)
        out[key] = value
    return out


def _split(name: str, data: Any) -> Iterator[CaseEntry]:
    if isinstance(data, dict) and "cases" in data:
        if set(data) - {"cases"}:
            extra = sorted(set(data) - {"cases"})[0]
            mark = data.key_marks.get(extra) if hasattr(data, "key_marks") else None
            yield CaseEntry(name, None, data, error=UserInputError(
                Location(name, *(mark or (None, None))),
                f"unknown top-level key '{extra}' beside 'cases'", "put it inside a case"))
            return
        cases = data["cases"]
        if not isinstance(cases, list):
            yield CaseEntry(name, None, data, error=UserInputError(
                Location(name), "'cases' must be a list of cases"))
            return
        for i, raw in enumerate(cases):
            yield _entry(name, i, raw)
    elif data is None:
        yield CaseEntry(name, None, None, error=UserInputError(
            Location(name), "empty file", "write a case with id, buyer and order"))
    else:
        yield _entry(name, None, data)


def _read_json(path: Path) -> Iterator[CaseEntry]:
    """JSON parses fast in C; positions come from a second, YAML, parse only on error."""
    name = str(path)
    try:
        text = path.read_text(encoding="utf-8-sig")
        data = json.loads(text, object_pairs_hook=_no_duplicates)
    except (json.JSONDecodeError, _Duplicate, UnicodeDecodeError):
        yield from _read_yaml(path)  # the YAML loader words the error with its position
        return
    except RecursionError:
        yield CaseEntry(name, None, None, error=UserInputError(
            Location(name), "the document is nested too deeply", "flatten the structure"))
        return
    except OSError as exc:
        yield CaseEntry(name, None, None, error=UserInputError(
            Location(name), f"cannot read file: {exc.strerror}"))
        return
    entries = list(_split(name, data))
    if any(e.error for e in entries) and len(text) <= MAX_YAML_BYTES:
        yield from _read_yaml(path)  # re-validate with positions
        return
    yield from entries


def _read_jsonl(path: Path) -> Iterator[CaseEntry]:
    """One case per line, streamed: memory stays flat however many cases there are."""
    name = str(path)
    try:
        stream = path.open("rb")
    except OSError as exc:
        yield CaseEntry(name, None, None, error=UserInputError(
            Location(name), f"cannot read file: {exc.strerror}"))
        return
    with stream:
        for lineno, data in enumerate(stream, 1):
            try:
                line = data.decode("utf-8-sig" if lineno == 1 else "utf-8")
            except UnicodeDecodeError as exc:
                yield CaseEntry(name, None, None, error=UserInputError(
                    Location(name, lineno, exc.start + 1), "not UTF-8 text",
                    "save the file as UTF-8"))
                continue
            if not line.strip():
                continue
            try:
                raw = json.loads(line, object_pairs_hook=_no_duplicates)
            except json.JSONDecodeError as exc:
                yield CaseEntry(name, None, None, error=UserInputError(
                    Location(name, lineno, exc.colno), f"malformed JSON: {exc.msg}"))
                continue
            except _Duplicate as exc:
                yield CaseEntry(name, None, None, error=UserInputError(
                    Location(name, lineno, 1), f"duplicate key '{exc}'"))
                continue
            except RecursionError:
                yield CaseEntry(name, None, None, error=UserInputError(
                    Location(name, lineno, 1), "the document is nested too deeply"))
                continue
            entry = _entry(name, None, raw)
            if entry.error is not None:
                entry.error = UserInputError(Location(name, lineno, 1), entry.error.message,
                                             entry.error.hint)
            yield entry


def _read_yaml(path: Path) -> Iterator[CaseEntry]:
    name = str(path)
    try:
        size = path.stat().st_size
    except OSError:
        size = 0
    if size > MAX_YAML_BYTES:
        yield CaseEntry(name, None, None, error=UserInputError(
            Location(name), f"file is {size / 1048576:.0f} MB; YAML case files over "
            f"{MAX_YAML_BYTES // 1048576} MB are refused",
            "split it, or write one JSON case per line in a .jsonl file, which streams"))
        return
    try:
        data = load_file(path)
    except UserInputError as exc:
        yield CaseEntry(name, None, None, error=exc)
        return
    yield from _split(name, data)


def read_file(path: Path) -> Iterator[CaseEntry]:
    """Cases in one file; a file that does not parse yields one failed entry."""
    if path.suffix == ".jsonl":
        return _read_jsonl(path)
    if path.suffix == ".json":
        return _read_json(path)
    return _read_yaml(path)


def expand(paths: Iterable[Path]) -> Iterator[Path]:
    """Files named, and case files under folders named, in a stable order."""
    for path in paths:
        if path.is_dir():
            yield from sorted(p for p in path.rglob("*") if p.suffix in CASE_SUFFIXES
                              and p.is_file())
        else:
            yield path


def read_all(paths: Iterable[Path]) -> Iterator[CaseEntry]:
    for path in expand(paths):
        yield from read_file(path)
