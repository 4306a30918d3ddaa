"""Reading case files: one case or many (``cases:``), YAML, JSON or JSON lines, file or folder.

Each case is validated on its own, so one bad case in a batch of thousands is
reported with its ``file:line:col`` (every problem of it at once) and the rest are
still decided. Every file named or found is accounted for: an unreadable folder,
file or dangling link becomes one error entry, never a silent skip. A case id seen
before in the same batch is refused (the first one is decided), so a ledger never
holds two different cases under one id from one run.
"""

from __future__ import annotations

import bisect
import difflib
import json
import math
import os
import re
import stat
from collections.abc import Collection, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from chipclear.errors import ErrorRecord, Location, Problem, UserInputError
from chipclear.io.yamlload import (
    MAX_FILE_BYTES,
    MAX_NUMBER_CHARS,
    MarkedDict,
    MarkedList,
    RawItem,
    decode,
    load_item,
    loads,
    locate,
    open_regular,
    read_bytes,
    stream_cases,
)
from chipclear.model.case import Case
from pydantic import BaseModel, ValidationError

CASE_SUFFIXES = (".yaml", ".yml", ".json", ".jsonl")

#: JSON is parsed whole, and so is a YAML file that is not a ``cases:`` list: past
#: this size such a file is refused with a hint rather than left to run for minutes.
#: A YAML ``cases:`` list streams at any size (each case at most this); so do JSON lines.
MAX_YAML_BYTES = MAX_FILE_BYTES

#: One line of a JSON lines file holds one case; a longer line is refused unread.
MAX_JSONL_LINE_BYTES = 4 * 1024 * 1024

#: Problems listed per case; past this the rest are counted in one more line.
MAX_PROBLEMS_PER_CASE = 50


@dataclass
class CaseEntry:
    """One case read from a file: the validated case, or the error that stopped it."""

    file: str
    index: int | None  # position under ``cases:``; None for a single-case file
    raw: Any
    case: Case | None = None
    error: UserInputError | None = None
    marks: Any = None  # a positioned copy of ``raw`` when ``raw`` has none (JSON)
    line: int | None = None  # where the case starts, when ``raw`` does not say

    def location(self, loc: Iterable[int | str] = (), key: bool = False) -> Location:
        """Where an element of this case sits; ``raw`` is the case mapping itself."""
        tree = self.marks if self.marks is not None else self.raw
        mark = locate(tree, list(loc), key) if tree is not None else None
        if mark is None and self.line is not None:
            mark = (self.line, 1)
        return Location(self.file, *mark) if mark else Location(self.file)

    @property
    def source(self) -> str:
        """``file:line`` where the case starts (``file`` alone when unknown)."""
        where = self.location()
        return f"{where.file}:{where.line}" if where.line is not None else where.file

    def records(self) -> list[ErrorRecord]:
        """The problems of this entry as ``{file, line, col, message, hint}`` (JSON output)."""
        return self.error.records() if self.error is not None else []


# --- validation errors in plain words ---------------------------------------------------


def path_of(loc: Iterable[int | str]) -> str:
    """A field path in the one notation used everywhere: ``order.items[0].quantity``."""
    text = ""
    for part in loc:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text or "case"


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


def _shown(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _number(value: Any) -> str:
    """1,000,000 for a count; 1e+16 or 1e-308 for a float no one would write out."""
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e15:
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int | float):
        return str(value)
    return f"{value:,}" if isinstance(value, int) else f"{value:.15g}"


def _number_hint(value: Any, whole: bool) -> str:
    kind = "a whole number" if whole else "a number"
    if isinstance(value, bool):
        return f"write {kind}, not true or false"
    if isinstance(value, str):
        compact = value.strip()
        if "," in compact and compact.replace(",", "").replace(".", "", 1).isdigit():
            return "drop the thousands separator"
        if compact[:1] in "$¥€" or compact[-1:] in "$¥€":
            return f"write {kind} without a currency sign"
        return f"write {kind} without quotes"
    if isinstance(value, float) and whole:
        return "use a whole number, without a decimal point"
    return f"write {kind}"


def _field_loc(err: Any) -> tuple[list[int | str], bool]:
    """A pydantic error's field path, and whether it points at a key rather than a value."""
    # pydantic's own steps ("function-after[...]", "[key]" for a mapping key) are no field
    loc = [p for p in err["loc"]
           if not (isinstance(p, str) and (p.startswith("function-") or p == "[key]"))]
    return loc, err["type"] == "extra_forbidden" or "[key]" in err["loc"]


def _problem(err: Any) -> tuple[list[int | str], str, str | None, bool]:
    """One pydantic error as (location, message, hint, points-at-key), in plain words.

    Long on purpose: one flat branch per pydantic error kind is a table from kind to
    message and hint, read top to bottom; splitting it would scatter that table.
    """
    loc, at_key = _field_loc(err)
    where = path_of(loc)
    kind: str = err["type"]
    value = err.get("input")
    ctx = err.get("ctx") or {}
    hint: str | None = None
    if kind == "extra_forbidden":
        name = str(loc[-1])
        allowed = _field_names(Case, loc[:-1])
        close = difflib.get_close_matches(name, allowed, n=1)
        message = f"unknown field '{where}'"
        hint = f"did you mean '{close[0]}'?" if close else (
            f"allowed here: {', '.join(allowed)}" if allowed else "remove it")
    elif kind == "enum":
        expected = str(ctx.get("expected", ""))
        message = f"{where}: {_shown(value)} is not allowed"
        options = [o.strip(" '") for o in expected.replace(" or ", ",").split(",")]
        close = difflib.get_close_matches(str(value), options, n=1)
        hint = f"did you mean '{close[0]}'?" if close else f"use one of {expected}"
    elif kind == "missing":
        message = f"{where} is required"
        hint = "add it"
    elif kind in ("bool_type", "bool_parsing"):
        message = f"{where}: {_shown(value)} is not true or false"
        hint = "use true or false" + (", or leave the field out if unknown"
                                       if isinstance(value, str) else "")
    elif kind in ("int_type", "int_parsing", "int_from_float"):
        message = f"{where}: {_shown(value)} is not a whole number"
        hint = _number_hint(value, whole=True)
    elif kind in ("float_type", "float_parsing"):
        message = f"{where}: {_shown(value)} is not a number"
        hint = _number_hint(value, whole=False)
    elif kind == "finite_number":
        message = f"{where}: {_shown(value)} is not a finite number"
        hint = "write an ordinary number"
    elif kind in ("greater_than_equal", "greater_than"):
        bound = ctx.get("ge", ctx.get("gt"))
        message = f"{where}: {_number(value)} is too small"
        hint = f"use at least {_number(bound)}" if kind == "greater_than_equal" else \
            f"use more than {_number(bound)}"
    elif kind in ("less_than_equal", "less_than"):
        bound = ctx.get("le", ctx.get("lt"))
        message = f"{where}: {_number(value)} is too large"
        hint = f"use at most {_number(bound)}"
    elif kind == "string_too_long":
        message = f"{where}: {len(str(value)):,} characters, more than " \
                  f"{ctx.get('max_length', 0):,}"
        hint = "shorten it"
    elif kind == "string_too_short":
        message = f"{where} is empty"
        hint = "write a value, or leave the field out"
    elif kind == "too_long":
        count = ctx.get("actual_length") or (len(value) if hasattr(value, "__len__") else 0)
        message = f"{where}: {count:,} entries, more than {ctx.get('max_length', 0):,}"
        hint = "split the order into several cases" if where.endswith("items") else \
            "shorten the list"
    elif kind == "string_type":
        message = f"{where}: {_shown(value)} is not text"
        hint = "put the text in quotes"
    elif kind == "string_pattern_mismatch":
        message = f"{where}: {_shown(value)} is not a two-letter country code"
        hint = "use an ISO 3166 code such as CN, US or MY"
    elif kind == "figure_too_small":
        message = f"{where}: {_number(value)} is too small for a chip figure"
        hint = f"use 0 if it has none, or at least {_number(ctx.get('minimum'))}"
    elif kind == "control_character":
        message = f"{where}: {_shown(value)} contains a control character"
        hint = "remove it; write plain text"
    elif kind in ("date_format", "date_value"):
        message = f"{where}: {_shown(value)}: {err['msg']}"
        hint = "write the date as YYYY-MM-DD, e.g. 2026-02-15"
    elif kind in ("model_type", "model_attributes_type", "dict_type"):
        message = f"{where}: {_shown(value)} is not a mapping of fields"
        hint = "write key: value pairs under it"
    elif kind == "list_type":
        message = f"{where}: {_shown(value)} is not a list"
        hint = "write one entry per line, each starting with '- '"
    elif kind == "value_error":
        message = f"{where}: {str(err['msg']).removeprefix('Value error, ')}" \
            if loc else str(err["msg"]).removeprefix("Value error, ")
    else:
        message = f"{where}: {str(err['msg'])[:1].lower()}{str(err['msg'])[1:]}"
    return loc, message, hint, at_key


def describe(exc: ValidationError) -> tuple[list[int | str], str, str | None, bool]:
    """The first validation error as (location, message, hint, points-at-key)."""
    return _problem(exc.errors()[0])


def describe_all(exc: ValidationError) -> list[tuple[list[int | str], str, str | None, bool]]:
    """Every validation error, in the order pydantic found them, one per field."""
    return [_problem(err) for err in _one_per_field(exc.errors())]


def _one_per_field(errors: list[Any]) -> list[Any]:
    seen: set[tuple[str, ...]] = set()
    out = []
    for err in errors:
        key = tuple(str(p) for p in _field_loc(err)[0])
        if key not in seen:  # a field reported twice (a union tries each branch) once
            seen.add(key)
            out.append(err)
    return out


def validation_error(entry: CaseEntry, exc: ValidationError) -> UserInputError:
    """Every problem of a case as one error, each with its own position, in reading order.

    Positions are cheap and found for every error, to sort; the wording (did-you-mean
    hints compare strings) only for the problems shown, so a file of 300,000 unknown
    keys is refused in seconds.
    """
    errors = _one_per_field(exc.errors(include_url=False))
    located = sorted(
        ((entry.location(*_field_loc(err)), i) for i, err in enumerate(errors)),
        key=lambda pair: (pair[0].line or 0, pair[0].col or 0, pair[1]))
    problems = []
    for where, i in located[:MAX_PROBLEMS_PER_CASE]:
        _, message, hint, _ = _problem(errors[i])
        problems.append(Problem(where, message, hint))
    if len(located) > MAX_PROBLEMS_PER_CASE:
        extra = len(located) - MAX_PROBLEMS_PER_CASE
        problems.append(Problem(entry.location(), f"{extra:,} more problems in this case",
                                "fix the ones above and run again"))
    return UserInputError.of(problems)


def _entry(file: str, index: int | None, raw: Any, line: int | None = None,
           marks: Any = None) -> CaseEntry:
    entry = CaseEntry(file, index, raw, marks=marks, line=line)
    if not isinstance(raw, dict):
        entry.error = UserInputError(entry.location(), "a case is a mapping with id, buyer, order…",
                                     "write key: value pairs such as id: my-case")
        return entry
    try:
        entry.case = Case.model_validate(raw)
    except ValidationError as exc:
        entry.error = validation_error(entry, exc)
    return entry


# --- YAML ---------------------------------------------------------------------------------


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
                Location(name), "'cases' must be a list of cases",
                "write one case per entry, each starting with '- '"))
            return
        for i, raw in enumerate(cases):
            yield _entry(name, i, raw)
    elif data is None:
        yield CaseEntry(name, None, None, error=UserInputError(
            Location(name), "empty file", "write a case with id, buyer and order"))
    else:
        yield _entry(name, None, data)


def _read_yaml(path: Path) -> Iterator[CaseEntry]:
    for item in _yaml_items(path, split=False):
        assert isinstance(item, CaseEntry), "unsplit reading parses every case"
        yield item


def _yaml_items(path: Path, split: bool) -> Iterator[CaseEntry | RawCase]:
    """Streamed: the cases of a ``cases:`` list are validated (and decided) one at a time;
    a problem further down the file is one more error entry after them. With ``split``,
    plain cases come unparsed (``RawCase``) for a worker process to parse."""
    name = str(path)
    try:
        for index, data in stream_cases(path, MAX_YAML_BYTES, split):
            if index is None:
                yield from _split(name, data)
            elif isinstance(data, RawItem):
                yield RawCase(name, index, data)
            elif isinstance(data, UserInputError):  # this case's value was refused
                yield CaseEntry(name, index, None, error=data)
            else:
                yield _entry(name, index, data)
    except UserInputError as exc:
        yield CaseEntry(name, None, None, error=exc)


@dataclass(frozen=True)
class RawCase:
    """One case of a YAML ``cases:`` list, its text cut out but not parsed: a worker
    process parses it (``parse_case``), so the reading process never builds it."""

    file: str
    index: int
    item: RawItem

    def placed(self) -> CaseEntry:
        """An entry that only says where the case starts (for a case never answered)."""
        marks = MarkedDict()
        marks.mark = (self.item.line + 1, self.item.column + 1)
        return CaseEntry(self.file, self.index, None, marks=marks)


def parse_case(raw: RawCase) -> CaseEntry:
    """The case in a ``RawCase``, validated (or its error), as ``read_all`` gives it."""
    try:
        data = load_item(raw.item, raw.file)
    except UserInputError as exc:
        return CaseEntry(raw.file, raw.index, None, error=exc)
    return _entry(raw.file, raw.index, data)


def where_only(entry: CaseEntry) -> CaseEntry:
    """The entry without its raw data, keeping what ``Ids`` and error lines need:
    where the case and its id sit (what a worker sends back with a decision)."""
    tree = entry.marks if entry.marks is not None else entry.raw
    marks = None
    if isinstance(tree, MarkedDict):
        marks = MarkedDict()
        marks.mark = tree.mark
        if "id" in tree:
            marks["id"] = tree["id"]
            marks.key_marks["id"] = tree.key_marks["id"]
            marks.value_marks["id"] = tree.value_marks["id"]
    return CaseEntry(entry.file, entry.index, None, case=entry.case, marks=marks,
                     line=entry.line)


# --- JSON ---------------------------------------------------------------------------------


class _Refused(ValueError):
    """A JSON value refused while parsing: a duplicate key or an unusable number."""

    def __init__(self, message: str, hint: str, text: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint
        self.text = text  # the offending text, to find its position


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in pairs:
        if key in out:
            raise _Refused(f"duplicate key '{key}'",
                           "each key may appear once in a mapping; remove or rename one",
                           json.dumps(key))
        out[key] = value
    return out


def _bounded_int(text: str) -> int:
    if len(text) > MAX_NUMBER_CHARS:
        raise _Refused(f"a number of {len(text):,} characters is out of range",
                       f"numbers here have at most {MAX_NUMBER_CHARS}", text)
    return int(text)


def _finite_float(text: str) -> float:
    if len(text) > MAX_NUMBER_CHARS:
        raise _Refused(f"a number of {len(text):,} characters is out of range",
                       f"numbers here have at most {MAX_NUMBER_CHARS}", text)
    value = float(text)
    if not math.isfinite(value):
        raise _Refused(f"{text} is too large to be a number here", "write a smaller number",
                       text)
    return value


def _no_constant(text: str) -> Any:
    raise _Refused(f"{text} is not a number in JSON", "write an ordinary number", text)


_DECODER = json.JSONDecoder(object_pairs_hook=_no_duplicates, parse_int=_bounded_int,
                            parse_float=_finite_float, parse_constant=_no_constant)
_SPACE = " \t\n\r"


def _position(text: str, pos: int) -> tuple[int, int]:
    line = text.count("\n", 0, pos) + 1
    return line, pos - (text.rfind("\n", 0, pos) + 1) + 1


class _Lines:
    """Line and column of offsets into one text, in O(log n) each after one O(n) pass
    (counting newlines from the start for every case of a big file was quadratic)."""

    def __init__(self, text: str) -> None:
        self.starts = [0] + [m.end() for m in re.finditer("\n", text)]

    def position(self, pos: int) -> tuple[int, int]:
        index = bisect.bisect_right(self.starts, pos) - 1
        return index + 1, pos - self.starts[index] + 1


def _skip(text: str, pos: int) -> int:
    while pos < len(text) and text[pos] in _SPACE:
        pos += 1
    return pos


class _JsonSyntax(ValueError):
    def __init__(self, pos: int, message: str) -> None:
        super().__init__(message)
        self.pos = pos
        self.message = message


def _expect(text: str, pos: int, char: str) -> int:
    pos = _skip(text, pos)
    if not text.startswith(char, pos):
        found = repr(text[pos]) if pos < len(text) else "the end of the file"
        raise _JsonSyntax(pos, f"expected '{char}' but found {found}")
    return pos + 1


def _decode_at(text: str, pos: int) -> tuple[Any, int]:
    try:
        return _DECODER.raw_decode(text, pos)
    except json.JSONDecodeError as exc:
        raise _JsonSyntax(exc.pos, exc.msg) from None


def _scan_json(text: str) -> tuple[Any, list[tuple[Any, int, int]] | None]:
    """Parse a JSON document; for ``{"cases": [...]}`` also where each case starts and ends.

    Returns (document, cases) where cases is None for a single-case document. The case
    bodies are parsed by the C decoder; only the outer object is walked here, so the
    positions cost nothing extra.
    """
    pos = _skip(text, 0)
    if not text.startswith("{", pos):
        value, end = _decode_at(text, pos)
        _at_end(text, end)
        return value, None
    # walk the top-level object by hand to see where each element of "cases" sits
    start = pos
    pos = _skip(text, pos + 1)
    members: list[tuple[str, Any]] = []
    cases: list[tuple[Any, int, int]] | None = None
    if text.startswith("}", pos):
        pos += 1
    else:
        while True:
            pos = _skip(text, pos)
            if not text.startswith('"', pos):
                raise _JsonSyntax(pos, "expected a key in double quotes")
            key, pos = _decode_at(text, pos)
            pos = _expect(text, pos, ":")
            pos = _skip(text, pos)
            if key == "cases" and text.startswith("[", pos):
                cases, pos = _scan_array(text, pos)
                members.append((key, [c[0] for c in cases]))
            else:
                value, pos = _decode_at(text, pos)
                members.append((key, value))
            pos = _skip(text, pos)
            if text.startswith(",", pos):
                pos += 1
                continue
            pos = _expect(text, pos, "}")
            break
    _at_end(text, pos)
    document = _no_duplicates(members)
    if "cases" not in document:
        return document, [(document, start, pos)]
    return document, cases


def _scan_array(text: str, pos: int) -> tuple[list[tuple[Any, int, int]], int]:
    out: list[tuple[Any, int, int]] = []
    pos = _skip(text, pos + 1)
    if text.startswith("]", pos):
        return out, pos + 1
    while True:
        pos = _skip(text, pos)
        value, end = _decode_at(text, pos)
        out.append((value, pos, end))
        pos = _skip(text, end)
        if text.startswith(",", pos):
            pos += 1
            if text.startswith("]", _skip(text, pos)):
                raise _JsonSyntax(_skip(text, pos), "a comma before ']' (JSON allows none)")
            continue
        return out, _expect(text, pos, "]")


def _at_end(text: str, pos: int) -> None:
    pos = _skip(text, pos)
    if pos < len(text):
        raise _JsonSyntax(pos, "extra data after the JSON document")


def _json_marks(text: str, start: int, end: int, name: str,
                where: tuple[int, int] = (1, 1)) -> Any:
    """Positions inside one JSON case (starting at line, col ``where``), from a YAML
    parse of just its text.

    Only called for a case that failed validation; the values themselves always come
    from the JSON parser.
    """
    try:
        tree = loads(text[start:end], name)
    except UserInputError:
        return None
    line, col = where
    _shift(tree, line - 1, col - 1)
    return tree


def _shift(node: Any, lines: int, cols: int) -> None:
    """Move marks parsed from a slice to where the slice sits in the file."""

    def moved(mark: tuple[int, int]) -> tuple[int, int]:
        return (mark[0] + lines, mark[1] + (cols if mark[0] == 1 else 0))

    if isinstance(node, MarkedDict):
        node.mark = moved(node.mark)
        node.key_marks = {k: moved(m) for k, m in node.key_marks.items()}
        node.value_marks = {k: moved(m) for k, m in node.value_marks.items()}
        for value in node.values():
            _shift(value, lines, cols)
    elif isinstance(node, MarkedList):
        node.mark = moved(node.mark)
        node.item_marks = [moved(m) for m in node.item_marks]
        for value in node:
            _shift(value, lines, cols)


def _read_json(path: Path) -> Iterator[CaseEntry]:
    """JSON only (no YAML leniency such as trailing commas); positions from the text."""
    name = str(path)
    try:
        text = decode(read_bytes(path, MAX_YAML_BYTES), name)
    except UserInputError as exc:
        yield CaseEntry(name, None, None, error=exc)
        return
    try:
        document, cases = _scan_json(text)
    except _JsonSyntax as exc:
        yield CaseEntry(name, None, None, error=UserInputError(
            Location(name, *_position(text, exc.pos)), f"malformed JSON: {exc.message}",
            "fix the syntax there"))
        return
    except _Refused as exc:
        found = text.find(exc.text) if exc.text else -1
        where = Location(name, *_position(text, found)) if found >= 0 else Location(name)
        yield CaseEntry(name, None, None, error=UserInputError(where, exc.message, exc.hint))
        return
    except RecursionError:
        yield CaseEntry(name, None, None, error=UserInputError(
            Location(name), "the document is nested too deeply", "flatten the structure"))
        return
    if cases is None:
        yield from _split(name, document)
        return
    if isinstance(document, dict) and set(document) - {"cases"}:
        yield from _split(name, document)  # words the stray top-level key
        return
    lines = _Lines(text)
    for i, (raw, start, end) in enumerate(cases):
        index = i if "cases" in document else None
        starts_at = lines.position(start)
        entry = _entry(name, index, raw, line=starts_at[0])
        if entry.error is not None:
            marks = _json_marks(text, start, end, name, starts_at)
            if marks is not None:
                entry = _entry(name, index, raw, line=entry.line, marks=marks)
        yield entry


# --- JSON lines ------------------------------------------------------------------------------


@dataclass(frozen=True)
class RawLine:
    """One line of a JSON lines file, read but not parsed: a worker process parses it,
    so the reading process never parses a case twice (see ``read_raw``)."""

    file: str
    line: int
    data: bytes


def _read_jsonl(path: Path) -> Iterator[CaseEntry]:
    """One case per line, streamed: memory stays flat however many cases there are."""
    for item in _jsonl_lines(path):
        if isinstance(item, RawLine):
            yield from _jsonl_line(item.file, item.line, item.data)
        else:
            yield item


def _jsonl_lines(path: Path) -> Iterator[CaseEntry | RawLine]:
    """The lines of a JSON lines file, unparsed; an unreadable file or an over-long line
    as an error entry in its place."""
    name = str(path)
    try:
        stream = open_regular(path)
    except UserInputError as exc:
        yield CaseEntry(name, None, None, error=exc)
        return
    with stream:
        lineno = 0
        while data := stream.readline(MAX_JSONL_LINE_BYTES + 1):
            lineno += 1
            if len(data) > MAX_JSONL_LINE_BYTES and not data.endswith(b"\n"):
                yield CaseEntry(name, None, None, line=lineno, error=UserInputError(
                    Location(name, lineno, 1), f"line longer than "
                    f"{MAX_JSONL_LINE_BYTES // 1048576} MB", "write one case per line"))
                while data and not data.endswith(b"\n"):  # skip the rest of that line
                    data = stream.readline(MAX_JSONL_LINE_BYTES)
                continue
            yield RawLine(name, lineno, data)


def parse_line(raw: RawLine) -> CaseEntry | None:
    """The case on one raw JSON line (validated, or its error); None for a blank line."""
    return next(_jsonl_line(raw.file, raw.line, raw.data), None)


def _jsonl_line(name: str, lineno: int, data: bytes) -> Iterator[CaseEntry]:
    try:
        line = data.decode("utf-8-sig" if lineno == 1 else "utf-8")
    except UnicodeDecodeError as exc:
        yield CaseEntry(name, None, None, line=lineno, error=UserInputError(
            Location(name, lineno, exc.start + 1), "not UTF-8 text", "save the file as UTF-8"))
        return
    if not line.strip():
        return
    try:
        raw, end = _DECODER.raw_decode(line, _skip(line, 0))
        _at_end(line, end)
    except json.JSONDecodeError as exc:
        yield CaseEntry(name, None, None, line=lineno, error=UserInputError(
            Location(name, lineno, exc.colno), f"malformed JSON: {exc.msg}",
            "write one JSON object per line"))
        return
    except _JsonSyntax as exc:
        yield CaseEntry(name, None, None, line=lineno, error=UserInputError(
            Location(name, lineno, exc.pos + 1), f"malformed JSON: {exc.message}",
            "write one JSON object per line"))
        return
    except _Refused as exc:
        col = line.find(exc.text) + 1 if exc.text and exc.text in line else 1
        yield CaseEntry(name, None, None, line=lineno, error=UserInputError(
            Location(name, lineno, col), exc.message, exc.hint))
        return
    except RecursionError:
        yield CaseEntry(name, None, None, line=lineno, error=UserInputError(
            Location(name, lineno, 1), "the document is nested too deeply",
            "flatten the structure"))
        return
    entry = _entry(name, None, raw, line=lineno)
    if entry.error is not None:
        marks = _json_marks(line, 0, len(line), name, (lineno, 1))
        if marks is not None:
            entry = _entry(name, None, raw, line=lineno, marks=marks)
    yield entry


# --- files and folders -----------------------------------------------------------------------


def read_file(path: Path) -> Iterator[CaseEntry]:
    """Cases in one file; a file that does not parse yields one failed entry."""
    if path.suffix == ".jsonl":
        return _read_jsonl(path)
    if path.suffix == ".json":
        return _read_json(path)
    return _read_yaml(path)


def _unreadable(path: Path, what: str, hint: str) -> CaseEntry:
    return CaseEntry(str(path), None, None, error=UserInputError(Location(str(path)), what, hint))


def _walk(folder: Path, skip: Collection[Path],
          seen: set[tuple[int, int]]) -> Iterator[Path | CaseEntry]:
    """Case files under a folder in a stable order; whatever cannot be read, as an error.

    Links to folders are followed once each (a loop of links is reported, not walked
    forever); files of other suffixes are left alone.
    """
    try:
        info = folder.stat()
    except OSError as exc:
        yield _unreadable(folder, f"cannot read folder: {exc.strerror}", "check the path")
        return
    if (info.st_dev, info.st_ino) in seen:
        yield _unreadable(folder, "a link back to a folder already read",
                          "remove the link, or name each folder once")
        return
    seen.add((info.st_dev, info.st_ino))
    try:
        names = sorted(os.listdir(folder))
    except OSError as exc:
        yield _unreadable(folder, f"cannot read folder: {exc.strerror}",
                          "check its permissions, or leave it out")
        return
    for child_name in names:
        child = folder / child_name
        try:
            mode = child.stat().st_mode
        except FileNotFoundError:
            if child.is_symlink():
                yield _unreadable(child, "a link that points nowhere", "fix or remove the link")
            continue  # else removed while we read the folder
        except OSError as exc:
            yield _unreadable(child, f"cannot read: {exc.strerror}", "check its permissions")
            continue
        if stat.S_ISDIR(mode):
            yield from _walk(child, skip, seen)
        elif child.suffix in CASE_SUFFIXES and not (skip and _resolved(child) in skip):
            yield child


def _resolved(path: Path) -> Path:
    try:
        return path.resolve()
    except OSError:
        return path.absolute()


def expand(paths: Iterable[Path], skip: Collection[Path] = ()) -> Iterator[Path | CaseEntry]:
    """Files named, and case files under folders named, in a stable order.

    A folder, file or link that cannot be read comes out as a failed :class:`CaseEntry`
    in its place, so it is reported and the rest still decided. ``skip`` holds resolved
    paths never to read as cases (the run's own output and ledger).
    """
    seen: set[tuple[int, int]] = set()
    resolved_skip = {_resolved(p) for p in skip}
    for path in paths:
        if path.is_dir():
            yield from _walk(path, resolved_skip, seen)
        else:
            yield path


class Ids:
    """The case ids of one batch: a later case under an id already used is refused.

    Refused rather than decided with a flag: two decisions under one id would be two
    ledger rows that look like one case decided twice, and which file a reader meant is
    a question only the user can answer.
    """

    def __init__(self) -> None:
        self.first: dict[str, str] = {}  # id -> "file:line" where it was first seen

    def check(self, entry: CaseEntry) -> CaseEntry:
        if entry.case is None:
            return entry
        case_id = entry.case.id
        earlier = self.first.get(case_id)
        if earlier is None:
            self.first[case_id] = entry.source
            return entry
        return CaseEntry(entry.file, entry.index, entry.raw, error=UserInputError(
            entry.location(["id"]), f"case id '{case_id}' is used again (first at {earlier})",
            "give each case its own id; this one was not decided"),
            marks=entry.marks, line=entry.line)


def read_all(paths: Iterable[Path], skip: Collection[Path] = ()) -> Iterator[CaseEntry]:
    """Every case under ``paths``; bad files, bad cases and repeated ids as error entries."""
    ids = Ids()
    for item in expand(paths, skip):
        if isinstance(item, CaseEntry):
            yield item
            continue
        for entry in read_file(item):
            yield ids.check(entry)


def read_raw(paths: Iterable[Path],
             skip: Collection[Path] = ()) -> Iterator[CaseEntry | RawLine | RawCase]:
    """Like ``read_all``, for worker processes: lines of JSON lines and plain cases of a
    YAML ``cases:`` list come out unparsed for the workers to parse, the rest as entries
    parsed here, and repeated ids are left for the caller to refuse, in order, with
    ``Ids`` once the workers parsed them."""
    for item in expand(paths, skip):
        if isinstance(item, CaseEntry):
            yield item
        elif item.suffix == ".jsonl":
            yield from _jsonl_lines(item)
        elif item.suffix == ".json":
            yield from read_file(item)
        else:
            yield from _yaml_items(item, split=True)
