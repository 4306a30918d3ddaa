"""Safe YAML loading that keeps positions and refuses YAML 1.1 surprises.

PyYAML's SafeLoader turns ``NO`` into ``False``, ``0123`` into 83 and silently keeps
the last of two duplicate keys. Case files and rule packs are compliance evidence, so
this loader only resolves ``true``/``false``/``null``, decimal ints and floats, keeps
dates as strings (pydantic parses them), refuses duplicate keys, and records where
every mapping key and list item sits so validation errors can name ``file:line:col``.

It also refuses what would let a small file cost a lot or say something it does not
show: explicit tags (``!!null Huawei`` would silently drop a name), numbers hundreds of
digits long, aliases that expand past a bound (billion laughs), nesting past a bound,
and files that are not regular files or exceed the size cap.

Values are built straight from libyaml's events (``_Builder``): no node graph, no
PyYAML constructor or resolver calls per scalar, a ``(line, col)`` tuple per value
rather than a mark object per node; a plain scalar is matched against the core-schema
patterns only when its first character could start a number, a boolean or a null.
Errors keep PyYAML's order: a syntax error anywhere in a document (or a streamed case)
is reported before a value error earlier in it.

``stream_cases`` reads a file whose top level is a ``cases:`` list one case at a time,
so a file of any number of cases is decided in the memory of one; the size cap then
applies to each case (and to whatever sits outside the list), not to the file. With
``split`` it hands back the text of each plain block-style case unparsed (``RawItem``),
for a worker process to parse with ``load_item``.
"""

from __future__ import annotations

import codecs
import os
import re
import stat
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from itertools import chain
from pathlib import Path
from typing import Any, BinaryIO

import yaml
from chipclear.errors import Location, UserInputError

_Parser: Any = getattr(getattr(yaml, "cyaml", None), "CParser", None)
"""libyaml's event parser when PyYAML was built with it (several times faster)."""

Mark = tuple[int, int]

#: Numbers longer than this are refused while parsing: no field needs them, and
#: Python's int() refuses past 4,300 digits with an exception of its own.
MAX_NUMBER_CHARS = 100

#: Nodes that aliases may add by repeating what an anchor already holds, per document.
#: Aliases are cheap to parse and costly to validate (a few KB of nested aliases
#: expand to billions of nodes); a case file that reuses a buyer block in every case
#: stays far below this.
MAX_ALIAS_NODES = 100_000

#: Collections nested deeper than this are refused (a case nests about six levels).
MAX_DEPTH = 200

#: Files larger than this are refused; they are read in chunks up to it, so a device
#: or a file that keeps growing never exhausts memory. A file streamed by
#: ``stream_cases`` may be larger: there the cap bounds each case of its ``cases:``
#: list, and the text outside the list.
MAX_FILE_BYTES = 20 * 1024 * 1024
_CHUNK = 1024 * 1024


class MarkedDict(dict[str, Any]):
    """A mapping that remembers the 1-based (line, col) of each key."""

    __slots__ = ("key_marks", "mark", "value_marks")

    def __init__(self) -> None:
        super().__init__()
        self.key_marks: dict[str, Mark] = {}
        self.value_marks: dict[str, Mark] = {}
        self.mark: Mark = (1, 1)


class MarkedList(list[Any]):
    """A sequence that remembers the 1-based (line, col) of each item."""

    __slots__ = ("item_marks", "mark")

    def __init__(self) -> None:
        super().__init__()
        self.item_marks: list[Mark] = []
        self.mark: Mark = (1, 1)


class _DuplicateKey(Exception):
    def __init__(self, key: str, mark: Mark) -> None:
        self.key = key
        self.mark = mark


class _TooManyAliases(Exception):
    def __init__(self, mark: Mark) -> None:
        self.mark = mark


class _TooDeep(Exception):
    def __init__(self, mark: Mark) -> None:
        self.mark = mark


# --- the YAML 1.2 core schema, without PyYAML's resolver ----------------------------------

_STR = "tag:yaml.org,2002:str"
_NULL = "tag:yaml.org,2002:null"
_BOOL = "tag:yaml.org,2002:bool"
_INT = "tag:yaml.org,2002:int"
_FLOAT = "tag:yaml.org,2002:float"

#: The patterns a plain scalar may match, by its first character; a scalar whose first
#: character is none of these (most text) is a string without any pattern tried.
_PLAIN: dict[str, list[tuple[str, re.Pattern[str]]]] = {}
for _tag, _regexp, _first in (
    (_BOOL, r"^(?:true|True|TRUE|false|False|FALSE)$", "tTfF"),
    (_NULL, r"^(?:~|null|Null|NULL|)$", "~nN\0"),
    (_INT, r"^[-+]?(?:0|[1-9][0-9_]*)$", "-+0123456789"),
    (
        _FLOAT,
        r"^[-+]?(?:(?:[0-9][0-9_]*)?\.[0-9_]+(?:[eE][-+]?[0-9]+)?|[0-9][0-9_]*[eE][-+]?[0-9]+)$",
        "-+0123456789.",
    ),
):
    for _char in _first:
        _PLAIN.setdefault(_char, []).append((_tag, re.compile(_regexp)))


def _short_tag(tag: str) -> str:
    return "!!" + tag.removeprefix("tag:yaml.org,2002:") if tag.startswith("tag:yaml.org") \
        else tag


def _refuse_tag(tag: str, mark: Any) -> yaml.constructor.ConstructorError:
    return yaml.constructor.ConstructorError(
        None, None, f"explicit tag '{_short_tag(tag)}' is not allowed "
        "(remove the tag and write the plain value)", mark)


def _number_text(text: str, mark: Any) -> str:
    if len(text) > MAX_NUMBER_CHARS:
        raise yaml.constructor.ConstructorError(
            None, None, f"a number of {len(text):,} characters is out of range "
            f"(numbers here have at most {MAX_NUMBER_CHARS})", mark)
    return text.replace("_", "")


def _typed(tag: str, text: str, mark: Any) -> Any:
    """A plain scalar that matched ``tag``'s pattern, as its value."""
    if tag is _NULL:
        return None
    if tag is _BOOL:
        return text.lower() == "true"
    if tag is _INT:
        return int(_number_text(text, mark))
    digits = _number_text(text, mark)
    try:
        return float(digits)
    except ValueError:  # '._': the pattern allows underscores where digits belong
        raise yaml.constructor.ConstructorError(
            None, None, f"'{text}' is not a number (write digits, e.g. 0.5)", mark) from None


class _Open:
    """A mapping or list being built: its value so far and what it expands to."""

    __slots__ = ("anchor", "is_map", "key", "key_mark", "mark", "size", "value")

    def __init__(self, value: MarkedDict | MarkedList, mark: Mark, anchor: str | None) -> None:
        self.value = value
        self.mark = mark
        self.anchor = anchor
        self.is_map = isinstance(value, MarkedDict)
        self.size = 1
        self.key: str | None = None  # a mapping's key waiting for its value
        self.key_mark: Mark = mark


_Built = tuple[Any, int, Mark]  # a value, how many values it expands to, where it starts


class _Builder:
    """Values, with positions, from a stream of libyaml events.

    Refuses what the strict schema refuses. A value error (a duplicate key, a tag, a
    number out of range, an alias too many, nesting too deep) is kept in ``error``
    while the rest of the unit is still parsed, so a syntax error further on is
    reported first, as PyYAML's compose-then-construct did; the caller raises it with
    ``raise_error`` at the end of the unit. Syntax errors and undefined or repeated
    anchors raise at once. ``lines`` is added to every line (text cut from a file).
    """

    def __init__(self, next_event: Callable[[], Any], lines: int = 0) -> None:
        self.next_event = next_event
        self.lines = lines
        self.anchors: dict[str, _Built | None] = {}  # None while its node is open
        self.anchor_marks: dict[str, Any] = {}
        self.repeated = 0
        self.error: Exception | None = None
        self.end: Any = None  # end mark of the last node built

    def fail(self, exc: Exception) -> None:
        if self.error is None:
            self.error = exc

    def raise_error(self) -> None:
        if self.error is not None:
            exc, self.error = self.error, None
            raise exc

    def _anchor(self, event: Any) -> None:
        anchor: str = event.anchor
        if anchor in self.anchors:
            raise yaml.composer.ComposerError(
                f"found duplicate anchor {anchor!r}; first occurrence",
                self.anchor_marks[anchor], "second occurrence", event.start_mark)
        self.anchors[anchor] = None
        self.anchor_marks[anchor] = event.start_mark

    def open(self, event: Any, depth: int) -> _Open:
        """A collection from its start event."""
        start = event.start_mark
        mark = (start.line + self.lines + 1, start.column + 1)
        tag = event.tag
        if tag is not None and tag != "!":
            self.fail(_refuse_tag(tag, start))
        if depth >= MAX_DEPTH:
            self.fail(_TooDeep(mark))
        if event.anchor is not None:
            self._anchor(event)
        value: MarkedDict | MarkedList = MarkedDict() if type(event) is _MAP_START \
            else MarkedList()
        value.mark = mark
        return _Open(value, mark, event.anchor)

    def deliver(self, frame: _Open, value: Any, size: int, mark: Mark) -> None:
        """A finished value into the collection that holds it."""
        if not frame.is_map:
            items: MarkedList = frame.value  # type: ignore[assignment]
            items.append(value)
            items.item_marks.append(mark)
            frame.size += size
            return
        mapping: MarkedDict = frame.value  # type: ignore[assignment]
        key = frame.key
        if key is None:
            key = value if type(value) is str else str(value)
            if key in mapping:
                self.fail(_DuplicateKey(key, mark))
            frame.key = key
            frame.key_mark = mark
            return
        mapping[key] = value
        mapping.key_marks[key] = frame.key_mark
        mapping.value_marks[key] = mark
        frame.size += 1 + size
        frame.key = None

    def node(self, stack: list[_Open] | None = None) -> _Built:
        """The next node's value (or, given open collections, the outermost one's).

        One loop over libyaml's events with an explicit stack (no recursion, so nesting
        is bounded by ``_TooDeep``, not by Python's stack): the hot path of every YAML
        read, kept in one frame on purpose."""
        next_event = self.next_event
        lines = self.lines + 1
        stack = stack if stack is not None else []
        while True:
            event = next_event()
            kind = type(event)
            if kind is _SCALAR:
                start = event.start_mark
                mark = (start.line + lines, start.column + 1)
                size = 1
                value = event.value
                tag = event.tag
                if tag is not None and tag != "!":
                    self.fail(_refuse_tag(tag, start))
                elif event.implicit[0]:
                    for resolved, pattern in _PLAIN.get(value[:1], ()):
                        if pattern.match(value):
                            try:
                                value = _typed(resolved, value, start)
                            except yaml.constructor.ConstructorError as exc:
                                self.fail(exc)
                            break
                if event.anchor is not None:
                    self._anchor(event)
                    self.anchors[event.anchor] = (value, 1, mark)
                self.end = event.end_mark
            elif kind is _MAP_START or kind is _SEQ_START:
                stack.append(self.open(event, len(stack)))
                continue
            elif kind is _MAP_END or kind is _SEQ_END:
                frame = stack.pop()
                value, size, mark = frame.value, frame.size, frame.mark
                if frame.anchor is not None:
                    self.anchors[frame.anchor] = (value, size, mark)
                self.end = event.end_mark
            elif kind is _ALIAS:
                name = event.anchor
                if name not in self.anchors:
                    raise yaml.composer.ComposerError(
                        None, None, f"found undefined alias {name!r}", event.start_mark)
                built = self.anchors[name]
                if built is None:  # inside the node it names
                    self.fail(yaml.constructor.ConstructorError(
                        None, None, "found unconstructable recursive node",
                        self.anchor_marks[name]))
                    start = self.anchor_marks[name]
                    value, size, mark = None, 1, (start.line + lines, start.column + 1)
                else:
                    value, size, mark = built
                    self.repeated += size
                    if self.repeated > MAX_ALIAS_NODES:
                        self.fail(_TooManyAliases(mark))
                self.end = event.end_mark
            else:
                raise yaml.composer.ComposerError(
                    None, None, f"unexpected {kind.__name__}", event.start_mark)
            if not stack:
                return value, size, mark
            self.deliver(stack[-1], value, size, mark)


_SCALAR = yaml.events.ScalarEvent
_MAP_START = yaml.events.MappingStartEvent
_MAP_END = yaml.events.MappingEndEvent
_SEQ_START = yaml.events.SequenceStartEvent
_SEQ_END = yaml.events.SequenceEndEvent
_ALIAS = yaml.events.AliasEvent


class _PyParser(yaml.reader.Reader, yaml.scanner.Scanner, yaml.parser.Parser):
    """PyYAML's pure-Python parser, where libyaml is missing."""

    def __init__(self, stream: Any) -> None:
        yaml.reader.Reader.__init__(self, stream)
        yaml.scanner.Scanner.__init__(self)
        yaml.parser.Parser.__init__(self)


def _parser(stream: Any) -> Any:
    return _Parser(stream) if _Parser is not None else _PyParser(stream)


def _shift(mark: Any, lines: int) -> Any:
    return mark if not lines or mark is None else yaml.error.Mark(
        mark.name, mark.index, mark.line + lines, mark.column, None, None)  # type: ignore[arg-type]


def _as_user_error(text: str | None, filename: str, exc: Exception,
                   path: Path | None = None, lines: int = 0) -> UserInputError:
    """Word a parser failure as one ``file:line:col`` line (``lines`` down the file)."""
    if isinstance(exc, _DuplicateKey):
        return UserInputError(
            Location(filename, *exc.mark), f"duplicate key '{exc.key}'",
            "each key may appear once in a mapping; remove or rename one of them")
    if isinstance(exc, _TooManyAliases):
        return UserInputError(
            Location(filename, *exc.mark),
            f"aliases of the anchor here repeat more than {MAX_ALIAS_NODES:,} values",
            "write the values out, or reuse fewer and smaller anchors")
    if isinstance(exc, _TooDeep):
        return UserInputError(
            Location(filename, *exc.mark),
            f"the document is nested too deeply (more than {MAX_DEPTH} levels)",
            "flatten the structure")
    if isinstance(exc, yaml.constructor.ConstructorError) and exc.problem_mark is not None:
        at = _shift(exc.problem_mark, lines)
        problem, _, hint = (exc.problem or "malformed YAML").partition(" (")
        return UserInputError(Location(filename, at.line + 1, at.column + 1), problem,
                              hint.removesuffix(")") or "fix the value there")
    if isinstance(exc, yaml.MarkedYAMLError):
        mark = _shift(exc.problem_mark or exc.context_mark, lines)
        where = (
            Location(filename, mark.line + 1, mark.column + 1) if mark else Location(filename)
        )
        problem = exc.problem or exc.context or "malformed YAML"
        return UserInputError(where, f"malformed YAML: {problem}", "fix the syntax there")
    if isinstance(exc, yaml.reader.ReaderError):
        if text is None:  # streamed: read back just what precedes the character
            text = _prefix(path, exc.position) if path is not None else ""
        before = text[: exc.position]
        line, col = before.count("\n") + 1, exc.position - (before.rfind("\n") + 1) + 1
        return UserInputError(
            Location(filename, line + lines, col),
            f"character {exc.character!r} is not allowed in YAML", "remove it or save as text")
    if isinstance(exc, RecursionError):
        return UserInputError(
            Location(filename), "the document is nested too deeply", "flatten the structure")
    return UserInputError(Location(filename), f"malformed YAML: {exc}", "fix the syntax")


_ERRORS = (_DuplicateKey, _TooManyAliases, _TooDeep, yaml.YAMLError, RecursionError)


def _finish(parser: Any, start: Any) -> None:
    """The end of the one document, and of the stream (a second document is refused)."""
    parser.get_event()  # DocumentEnd
    if not parser.check_event(yaml.StreamEndEvent):
        raise yaml.composer.ComposerError(
            "expected a single document in the stream", start.start_mark,
            "but found another document", parser.get_event().start_mark)


def _single(parser: Any, builder: _Builder) -> Any:
    """The one document of a stream (None for an empty stream)."""
    parser.get_event()  # StreamStart
    if parser.check_event(yaml.StreamEndEvent):
        return None
    start = parser.get_event()  # DocumentStart
    value = builder.node()[0]
    _finish(parser, start)
    builder.raise_error()
    return value


def loads(text: str, filename: str) -> Any:
    """Parse one YAML (or JSON) document; raise UserInputError with a position."""
    parser = _parser(text)
    try:
        return _single(parser, _Builder(parser.get_event))
    except _ERRORS as exc:
        raise _as_user_error(text, filename, exc) from None
    finally:
        parser.dispose()


@dataclass(frozen=True)
class RawItem:
    """One item of a streamed ``cases:`` list, not parsed: its text, from its first
    character (0-based ``line`` and ``column`` in the file) to its end."""

    line: int
    column: int
    text: str
    case_id: str | None = None  # the text of its id, to name it if it is never parsed


def load_item(item: RawItem, filename: str) -> Any:
    """The value of a ``RawItem``, with its positions in the file it was cut from.

    The text is parsed after as many spaces as its first line was indented, so columns
    and the block structure are the file's; lines are shifted by ``item.line``. Raises
    ``UserInputError`` as ``stream_cases`` would for that item.
    """
    text = " " * item.column + item.text
    parser = _parser(text)
    builder = _Builder(parser.get_event, item.line)
    try:
        value = _single(parser, builder)
    except _ERRORS as exc:
        raise _as_user_error(text, filename, exc, lines=item.line) from None
    finally:
        parser.dispose()
    return value


def open_regular(path: Path) -> BinaryIO:
    """Open a regular file for reading; anything else is a one-line error.

    Devices (``/dev/zero``), FIFOs and sockets are refused before they are read: the
    first never ends and the second may never start. The file is opened without
    blocking and checked through its descriptor, so a path swapped for a FIFO after a
    check cannot hang the run.
    """
    name = str(path)
    try:
        if path.is_dir():
            raise UserInputError(Location(name), "is a directory, not a file",
                                 "name the case files, or the folder to read them all")
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0)
                     | getattr(os, "O_CLOEXEC", 0))
    except FileNotFoundError:
        hint = "the link points nowhere; fix or remove it" if path.is_symlink() \
            else "check the path"
        raise UserInputError(Location(name), "file not found", hint) from None
    except PermissionError:
        raise UserInputError(Location(name), "cannot read file: permission denied",
                             "check the file's permissions") from None
    except OSError as exc:
        raise UserInputError(Location(name), f"cannot read file: {exc.strerror}",
                             "check the file and the disk it is on") from None
    mode = os.fstat(fd).st_mode
    if not stat.S_ISREG(mode):
        os.close(fd)
        raise UserInputError(Location(name), f"not a regular file ({_kind(mode)})",
                             "name a YAML, JSON or JSON lines file")
    return os.fdopen(fd, "rb")


def read_bytes(path: Path, limit: int = MAX_FILE_BYTES) -> bytes:
    """A regular file's bytes, read in chunks and refused past ``limit``."""
    name = str(path)
    with open_regular(path) as stream:
        chunks: list[bytes] = []
        total = 0
        try:
            while chunk := stream.read(_CHUNK):
                total += len(chunk)
                if total > limit:
                    raise UserInputError(Location(name), _too_big(path, limit), _TOO_BIG_HINT)
                chunks.append(chunk)
        except OSError as exc:
            raise UserInputError(Location(name), f"cannot read file: {exc.strerror}",
                                 "check the file and the disk it is on") from None
    return b"".join(chunks)


_TOO_BIG_HINT = "split it, or write one JSON case per line in a .jsonl file, which streams"


def _too_big(path: Path, limit: int) -> str:
    try:
        size = f"{path.stat().st_size / 1048576:.0f} MB"
    except OSError:
        size = "too large"
    return f"file is {size}; files over {limit // 1048576} MB are refused"


def _kind(mode: int) -> str:
    if stat.S_ISFIFO(mode):
        return "a named pipe"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    if stat.S_ISSOCK(mode):
        return "a socket"
    return "not a plain file"


def decode(raw: bytes, filename: str) -> str:
    """UTF-8 text (a byte-order mark is dropped); binary data is refused."""
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise UserInputError(
            Location(filename, *_byte_position(raw, exc.start)),
            f"not UTF-8 text (byte {exc.start})", "save the file as UTF-8"
        ) from None
    if "\0" in text:
        raise UserInputError(Location(filename, *_byte_position(raw, raw.index(b"\0"))),
                             "binary data, not a YAML or JSON text file",
                             "name a case file written as text")
    return text


def _byte_position(raw: bytes, offset: int) -> tuple[int, int]:
    """Line and column (in bytes) of an offset, for text that would not decode."""
    return raw.count(b"\n", 0, offset) + 1, offset - (raw.rfind(b"\n", 0, offset) + 1) + 1


def load_file(path: Path, limit: int = MAX_FILE_BYTES) -> Any:
    """Read and parse a YAML or JSON file, with clear errors for missing or binary files."""
    return loads(decode(read_bytes(path, limit), str(path)), str(path))


def locate(data: Any, loc: Sequence[int | str], key: bool = False) -> Mark | None:
    """Find the (line, col) of the element at a pydantic error location, or its nearest parent.

    Points at the value (where a wrong value is), or with ``key`` at the last key (where
    an unknown field is).
    """
    best: Mark | None = getattr(data, "mark", None)
    node = data
    for i, part in enumerate(loc):
        if isinstance(node, MarkedDict) and isinstance(part, str) and part in node:
            last = i == len(loc) - 1
            marks = node.key_marks if key and last else node.value_marks
            best = marks.get(part, best)
            node = node[part]
        elif isinstance(node, MarkedList) and isinstance(part, int) and 0 <= part < len(node):
            best = node.item_marks[part]
            node = node[part]
        else:
            break
    return best


# --- streaming a cases: list -------------------------------------------------------------


class _TooBig(Exception):
    """More than the cap was read since the last restart."""


class _TextReader:
    """A regular file's bytes as text for the parser, a chunk at a time.

    Refuses what :func:`decode` refuses (bytes that are not UTF-8, NUL), with the same
    positions, and counts the bytes read since ``restart()`` against ``limit``. With
    ``keep`` it keeps the text not yet taken, so an item's text can be cut out of it.
    """

    def __init__(self, raw: BinaryIO, name: str, limit: int, keep: bool = False) -> None:
        self.raw = raw
        self.name = name
        self.limit = limit
        self.keep = keep
        self.decoder = codecs.getincrementaldecoder("utf-8-sig")()
        self.offset = 0  # bytes read so far
        self.counted = 0  # bytes read since restart()
        self.lines = 0  # newlines in the bytes read so far
        self.line_start = 0  # offset just after the last of them
        self.chars = 0  # characters handed to the parser so far
        self.kept: list[tuple[int, str]] = []  # (index of its first character, text)

    def restart(self) -> None:
        self.counted = 0

    def read(self, size: int) -> str:
        try:
            data = self.raw.read(max(size, _CHUNK // 16))
        except OSError as exc:
            raise UserInputError(Location(self.name), f"cannot read file: {exc.strerror}",
                                 "check the file and the disk it is on") from None
        self.counted += len(data)
        if self.counted > self.limit:
            raise _TooBig
        try:
            text: str = self.decoder.decode(data, final=not data)
        except UnicodeDecodeError as exc:
            at = self.offset + max(0, exc.start)
            raise UserInputError(Location(self.name, *self._position(data, exc.start)),
                                 f"not UTF-8 text (byte {at})", "save the file as UTF-8") from None
        if "\0" in text:
            raise UserInputError(Location(self.name, *self._position(data, data.index(b"\0"))),
                                 "binary data, not a YAML or JSON text file",
                                 "name a case file written as text")
        newlines = data.count(b"\n")
        if newlines:
            self.lines += newlines
            self.line_start = self.offset + data.rindex(b"\n") + 1
        self.offset += len(data)
        if self.keep and text:
            self.kept.append((self.chars, text))
        self.chars += len(text)
        return text

    def take(self, start: int, end: int) -> str:
        """The text from character ``start`` to ``end``; what precedes ``end`` is let go."""
        parts = [text[max(0, start - first):end - first] for first, text in self.kept
                 if first < end and first + len(text) > start]
        self.drop(end)
        return "".join(parts)

    def drop(self, end: int) -> None:
        """Let go of the kept text that ends before character ``end``."""
        gone = 0
        for first, text in self.kept:
            if first + len(text) > end:
                break
            gone += 1
        del self.kept[:gone]

    def _position(self, data: bytes, index: int) -> tuple[int, int]:
        index = max(0, index)
        before = data.count(b"\n", 0, index)
        if before:
            return self.lines + before + 1, index - data.rindex(b"\n", 0, index)
        return self.lines + 1, self.offset + index - self.line_start + 1


def _cut(parser: Any) -> tuple[list[Any], bool, str | None]:
    """The events of the next node, whether they are plain (no anchor, alias or tag, so
    its text parses on its own to the same value), and the text of its ``id`` when it
    is a mapping with a plain ``id`` (to name a case whose worker never answered).

    Stops at the first event that is not plain: the caller builds the node from there
    on, so an anchor problem is reported before a syntax error further on, as when
    building it whole.
    """
    first = parser.get_event()
    events = [first]
    kind = type(first)
    if kind is _ALIAS or kind is _SCALAR or first.anchor is not None or first.tag is not None:
        return events, False, None  # a scalar is no case: not worth a worker (nor empty text)
    depth = 1
    in_map = kind is _MAP_START
    slot = 0  # children of the item begun so far: keys at even slots, values at odd
    id_slot = -1
    case_id: str | None = None
    while depth:
        event = parser.get_event()
        events.append(event)
        kind = type(event)
        if kind is _MAP_END or kind is _SEQ_END:
            depth -= 1
            continue
        if depth == 1 and in_map:
            if kind is _SCALAR:
                if slot == id_slot:
                    case_id = event.value
                elif slot % 2 == 0 and event.value == "id":
                    id_slot = slot + 1
            slot += 1
        if kind is _MAP_START or kind is _SEQ_START:
            depth += 1
        if kind is _ALIAS or event.anchor is not None or event.tag is not None:
            return events, False, None
    return events, True, case_id


#: Errors of one value, not of the syntax: the case that holds them is refused, the
#: cases after it are still read.
_VALUE_ERRORS = (_DuplicateKey, _TooManyAliases, _TooDeep, yaml.constructor.ConstructorError)


def _documents(parser: Any, builder: _Builder, reader: _TextReader, limit: int,
               path: Path, split: bool) -> Iterator[tuple[int | None, Any]]:
    """The file's values: one whole document (index None), or each item of a leading
    ``cases:`` list as it is read (built here, or cut as raw text for a worker), then a
    check that nothing follows the list.

    Long on purpose: a single pass over libyaml's event stream (head, items, tail), whose
    parser, reader and builder state would otherwise be threaded through three functions
    that only make sense in this order."""
    parser.get_event()  # StreamStart
    if parser.check_event(yaml.StreamEndEvent):
        yield None, None
        return
    start = parser.get_event()  # DocumentStart
    head = parser.peek_event()
    if type(head) is not _MAP_START:
        value = builder.node()[0]
        _finish(parser, start)
        builder.raise_error()
        yield None, value
        return
    parser.get_event()
    top = builder.open(head, 0)
    if parser.check_event(_MAP_END):
        value = builder.node([top])[0]
        _finish(parser, start)
        builder.raise_error()
        yield None, value
        return
    key_event = parser.peek_event()
    key, size, key_mark = builder.node()
    list_start = parser.peek_event()
    if not (key == "cases" and type(key_event) is _SCALAR and key_event.tag in (None, "!")
            and type(list_start) is _SEQ_START and list_start.anchor is None):
        builder.deliver(top, key, size, key_mark)
        value = builder.node([top])[0]
        _finish(parser, start)
        builder.raise_error()
        yield None, value
        return
    builder.raise_error()  # a tag on the top mapping
    parser.get_event()
    if list_start.tag not in (None, "!"):
        raise _refuse_tag(list_start.tag, list_start.start_mark)
    cut = split and not list_start.flow_style
    if not cut:  # a flow list is built here: keeping its text would grow with the file
        reader.keep = False
        reader.kept.clear()
    index = 0
    after: Any = list_start.end_mark  # where the next case starts, at the latest
    while True:
        reader.restart()
        try:
            if parser.check_event(_SEQ_END):
                break
            plain = False
            if cut:
                events, plain, case_id = _cut(parser)
                if not plain:  # built here, from its first events on
                    builder.next_event = chain(events, iter(parser.get_event, None)).__next__
                    try:
                        value = builder.node()[0]
                    finally:
                        builder.next_event = parser.get_event
            else:
                value = builder.node()[0]
        except _TooBig:
            raise UserInputError(
                Location(reader.name, after.line + 1, after.column + 1),
                f"case {index} of 'cases' (from here) is over {limit // 1048576} MB",
                "shorten it, or split it into several cases") from None
        if plain:
            first, after = events[0].start_mark, events[-1].end_mark
            yield index, RawItem(first.line, first.column,
                                 reader.take(first.index, after.index), case_id)
            index += 1
            continue
        after = builder.end
        if cut:
            reader.drop(after.index)
        try:
            builder.raise_error()
        except _VALUE_ERRORS as exc:
            value = _as_user_error(None, reader.name, exc, path)
        yield index, value
        index += 1
    parser.get_event()
    reader.restart()
    while not parser.check_event(_MAP_END):  # nothing may follow: its cases are decided
        key, _, key_mark = builder.node()
        builder.raise_error()
        if key == "cases":
            raise _DuplicateKey("cases", key_mark)
        raise UserInputError(Location(reader.name, *key_mark),
                             f"unknown top-level key '{key}' beside 'cases'",
                             "put it inside a case")
    parser.get_event()
    _finish(parser, start)


def stream_cases(path: Path, limit: int = MAX_FILE_BYTES,
                 split: bool = False) -> Iterator[tuple[int | None, Any]]:
    """The cases of a YAML (or JSON) file as they are parsed.

    When the document is a mapping whose first key is ``cases`` holding a list, yields
    ``(index, case)`` for each item as soon as it is parsed (each item, and the text
    outside the list, at most ``limit`` bytes); otherwise yields ``(None, document)``
    once (the whole file at most ``limit`` bytes). A case whose value is refused (a
    duplicate key, a tag, a number out of range, too many aliases) comes as
    ``(index, UserInputError)`` and the cases after it still come; a syntax error
    raises ``UserInputError`` after the cases before it were yielded.

    With ``split``, an item of a block-style list without anchors, aliases or tags
    comes as ``(index, RawItem)``: its text, checked by the parser but not built, for
    ``load_item`` to build (in a worker process); anything else is built here. Same
    safety as :func:`loads`: YAML 1.2 scalars, duplicate keys and tags refused,
    aliases bounded over the whole document.
    """
    name = str(path)
    with open_regular(path) as raw:
        reader = _TextReader(raw, name, limit, keep=split)
        parser = _parser(reader)
        try:
            yield from _documents(parser, _Builder(parser.get_event), reader, limit, path, split)
        except _TooBig:
            raise UserInputError(Location(name), _too_big(path, limit).replace(
                "files over", "YAML files over") + " unless they hold a 'cases:' list "
                f"(then each case may have up to {limit // 1048576} MB)", _TOO_BIG_HINT) from None
        except _ERRORS as exc:
            raise _as_user_error(None, name, exc, path) from None
        finally:
            parser.dispose()


def _prefix(path: Path, chars: int) -> str:
    """The first ``chars`` characters of a file, to place a character the parser refused."""
    with open_regular(path) as stream:
        return stream.read(4 * chars + 4).decode("utf-8-sig", errors="replace")[:chars]
