"""A frozen copy of engine/io/yamlload.py as it was before the event builder (main 9cfdaf0).

The differential test (tests/test_yamlload.py) checks the current loader against it on
generated documents; nothing else imports it. Do not edit: it is the reference.
"""

from __future__ import annotations

import codecs
import os
import re
import stat
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any, BinaryIO

import yaml
from chipclear.errors import Location, UserInputError

_BaseLoader: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
"""libyaml's parser when PyYAML was built with it (several times faster); the
constructor stays ours either way."""

Mark = tuple[int, int]

#: Numbers longer than this are refused while parsing: no field needs them, and
#: Python's int() refuses past 4,300 digits with an exception of its own.
MAX_NUMBER_CHARS = 100

#: Nodes that aliases may add by repeating what an anchor already holds, per document.
#: Aliases are cheap to parse and costly to validate (a few KB of nested aliases
#: expand to billions of nodes); a case file that reuses a buyer block in every case
#: stays far below this.
MAX_ALIAS_NODES = 100_000

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


def _mark(node: yaml.Node) -> Mark:
    return (node.start_mark.line + 1, node.start_mark.column + 1)


class _TooManyAliases(Exception):
    def __init__(self, mark: Mark) -> None:
        self.mark = mark


class StrictLoader(_BaseLoader):  # type: ignore[misc]
    """YAML 1.2-style core schema with marks, duplicate-key refusal and bounded aliases.

    ``sizes`` holds how many values each constructed collection expands to; an alias
    (a node met again) adds its size to ``repeated``, which may not pass the bound.
    """

    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        self.sizes: dict[yaml.Node, int] = {}
        self.repeated = 0

    def resolve(self, kind: type[yaml.Node], value: Any, implicit: Any) -> str:
        tag: str = super().resolve(kind, value, implicit)
        return _RESOLVED.get(tag, tag)

    def construct_object(self, node: yaml.Node, deep: bool = False) -> Any:
        if node in self.constructed_objects:
            self.repeated += self.sizes.get(node, 1)
            if self.repeated > MAX_ALIAS_NODES:
                raise _TooManyAliases(_mark(node))
        return super().construct_object(node, deep)


StrictLoader.yaml_implicit_resolvers = {}
for _tag, _regexp, _first in (
    ("tag:yaml.org,2002:bool", r"^(?:true|True|TRUE|false|False|FALSE)$", "tTfF"),
    ("tag:yaml.org,2002:null", r"^(?:~|null|Null|NULL|)$", "~nN\0"),
    ("tag:yaml.org,2002:int", r"^[-+]?(?:0|[1-9][0-9_]*)$", "-+0123456789"),
    (
        "tag:yaml.org,2002:float",
        r"^[-+]?(?:(?:[0-9][0-9_]*)?\.[0-9_]+(?:[eE][-+]?[0-9]+)?|[0-9][0-9_]*[eE][-+]?[0-9]+)$",
        "-+0123456789.",
    ),
):
    StrictLoader.add_implicit_resolver(_tag, re.compile(_regexp), list(_first))


#: Each resolvable tag as a string object of our own, so a tag the resolver assigned
#: can be told from the same tag written explicitly in the file (see _check_implicit).
_RESOLVED: dict[str, str] = {
    tag: "".join(list(tag)) for tag in (
        f"tag:yaml.org,2002:{name}"
        for name in ("map", "seq", "str", "null", "bool", "int", "float"))}


def _short_tag(tag: str) -> str:
    return "!!" + tag.removeprefix("tag:yaml.org,2002:") if tag.startswith("tag:yaml.org") \
        else tag


def _refuse_tag(node: yaml.Node) -> yaml.constructor.ConstructorError:
    return yaml.constructor.ConstructorError(
        None, None, f"explicit tag '{_short_tag(node.tag)}' is not allowed "
        "(remove the tag and write the plain value)", node.start_mark)


def _check_implicit(loader: StrictLoader, node: yaml.Node) -> None:
    """Refuse a node whose tag was written in the file rather than resolved (``!!null x``).

    A resolved tag is one of the :data:`_RESOLVED` string objects (``resolve`` hands
    those out); a tag the parser read from the text is a new string, even when equal.
    """
    if _RESOLVED.get(node.tag) is not node.tag:
        raise _refuse_tag(node)


def _construct_mapping(loader: StrictLoader, node: yaml.MappingNode) -> MarkedDict:
    _check_implicit(loader, node)
    result = MarkedDict()
    result.mark = _mark(node)
    size = 1
    for key_node, value_node in node.value:
        key = loader.construct_object(key_node, deep=True)
        if not isinstance(key, str):
            key = str(key)
        if key in result:
            raise _DuplicateKey(key, _mark(key_node))
        result[key] = loader.construct_object(value_node, deep=True)
        result.key_marks[key] = _mark(key_node)
        result.value_marks[key] = _mark(value_node)
        size += 1 + loader.sizes.get(value_node, 1)
    loader.sizes[node] = size
    return result


def _construct_sequence(loader: StrictLoader, node: yaml.SequenceNode) -> MarkedList:
    _check_implicit(loader, node)
    result = MarkedList()
    result.mark = _mark(node)
    size = 1
    for child in node.value:
        result.append(loader.construct_object(child, deep=True))
        result.item_marks.append(_mark(child))
        size += loader.sizes.get(child, 1)
    loader.sizes[node] = size
    return result


def _construct_str(loader: StrictLoader, node: yaml.ScalarNode) -> str:
    _check_implicit(loader, node)
    return str(loader.construct_scalar(node))


def _construct_null(loader: StrictLoader, node: yaml.ScalarNode) -> None:
    _check_implicit(loader, node)


def _construct_bool(loader: StrictLoader, node: yaml.ScalarNode) -> bool:
    _check_implicit(loader, node)
    return str(node.value).lower() == "true"


def _number_text(loader: StrictLoader, node: yaml.ScalarNode) -> str:
    _check_implicit(loader, node)
    text = str(node.value)
    if len(text) > MAX_NUMBER_CHARS:
        raise yaml.constructor.ConstructorError(
            None, None, f"a number of {len(text):,} characters is out of range "
            f"(numbers here have at most {MAX_NUMBER_CHARS})", node.start_mark)
    return text.replace("_", "")


def _float(loader: StrictLoader, node: yaml.ScalarNode) -> float:
    return float(_number_text(loader, node))


def _int(loader: StrictLoader, node: yaml.ScalarNode) -> int:
    return int(_number_text(loader, node))


def _refused(loader: StrictLoader, node: yaml.Node) -> Any:
    raise _refuse_tag(node)


for _tag, _constructor in (
    ("tag:yaml.org,2002:map", _construct_mapping),
    ("tag:yaml.org,2002:seq", _construct_sequence),
    ("tag:yaml.org,2002:str", _construct_str),
    ("tag:yaml.org,2002:null", _construct_null),
    ("tag:yaml.org,2002:bool", _construct_bool),
    ("tag:yaml.org,2002:int", _int),
    ("tag:yaml.org,2002:float", _float),
):
    StrictLoader.add_constructor(_tag, _constructor)
for _tag in ("binary", "timestamp", "set", "omap", "pairs", "merge", "value"):
    StrictLoader.add_constructor(f"tag:yaml.org,2002:{_tag}", _refused)
StrictLoader.add_constructor(None, _refused)  # any other tag: !foo, !!python/...


def _as_user_error(text: str | None, filename: str, exc: Exception,
                   path: Path | None = None) -> UserInputError:
    """Word a parser failure as one ``file:line:col`` line."""
    if isinstance(exc, _DuplicateKey):
        return UserInputError(
            Location(filename, *exc.mark), f"duplicate key '{exc.key}'",
            "each key may appear once in a mapping; remove or rename one of them")
    if isinstance(exc, _TooManyAliases):
        return UserInputError(
            Location(filename, *exc.mark),
            f"aliases of the anchor here repeat more than {MAX_ALIAS_NODES:,} values",
            "write the values out, or reuse fewer and smaller anchors")
    if isinstance(exc, yaml.constructor.ConstructorError) and exc.problem_mark is not None:
        at = exc.problem_mark
        problem, _, hint = (exc.problem or "malformed YAML").partition(" (")
        return UserInputError(Location(filename, at.line + 1, at.column + 1), problem,
                              hint.removesuffix(")") or "fix the value there")
    if isinstance(exc, yaml.MarkedYAMLError):
        mark = exc.problem_mark or exc.context_mark
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
            Location(filename, line, col),
            f"character {exc.character!r} is not allowed in YAML", "remove it or save as text")
    if isinstance(exc, RecursionError):
        return UserInputError(
            Location(filename), "the document is nested too deeply", "flatten the structure")
    return UserInputError(Location(filename), f"malformed YAML: {exc}", "fix the syntax")


def loads(text: str, filename: str) -> Any:
    """Parse one YAML (or JSON) document; raise UserInputError with a position."""
    try:
        return yaml.load(text, Loader=StrictLoader)
    except (_DuplicateKey, _TooManyAliases, yaml.YAMLError, RecursionError) as exc:
        raise _as_user_error(text, filename, exc) from None


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
    positions, and counts the bytes read since ``restart()`` against ``limit``.
    """

    def __init__(self, raw: BinaryIO, name: str, limit: int) -> None:
        self.raw = raw
        self.name = name
        self.limit = limit
        self.decoder = codecs.getincrementaldecoder("utf-8-sig")()
        self.offset = 0  # bytes read so far
        self.counted = 0  # bytes read since restart()
        self.lines = 0  # newlines in the bytes read so far
        self.line_start = 0  # offset just after the last of them

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
        return text

    def _position(self, data: bytes, index: int) -> tuple[int, int]:
        index = max(0, index)
        before = data.count(b"\n", 0, index)
        if before:
            return self.lines + before + 1, index - data.rindex(b"\n", 0, index)
        return self.lines + 1, self.offset + index - self.line_start + 1


class _StreamLoader(StrictLoader):
    """The strict loader composing node by node in Python from libyaml's events, so the
    items of a list can be constructed and let go one at a time."""

    compose_node = yaml.composer.Composer.compose_node
    compose_scalar_node = yaml.composer.Composer.compose_scalar_node
    compose_sequence_node = yaml.composer.Composer.compose_sequence_node
    compose_mapping_node = yaml.composer.Composer.compose_mapping_node
    constructed_objects: dict[yaml.Node, Any]

    def __init__(self, stream: Any) -> None:
        super().__init__(stream)
        self.anchors: dict[str, yaml.Node] = {}

    def forget(self) -> None:
        """Drop what was built for the last item, except what an alias may name again."""
        anchored = set(self.anchors.values())
        built: dict[yaml.Node, Any] = self.constructed_objects
        self.constructed_objects = {n: v for n, v in built.items() if n in anchored}
        self.sizes = {n: v for n, v in self.sizes.items() if n in anchored}


def _compose(loader: _StreamLoader, parent: yaml.Node | None, index: Any) -> yaml.Node:
    """The next node of the stream (the stubs allow None, which a started node never is)."""
    node = loader.compose_node(parent, index)
    assert node is not None, "compose_node is only called where a node starts"
    return node


def _collection_tag(loader: _StreamLoader, kind: type[yaml.Node], event: Any) -> str:
    tag: str | None = event.tag
    if tag is None or tag == "!":
        tag = loader.resolve(kind, None, event.implicit)
    return tag


def _any(value: Any) -> Any:
    """libyaml's marks for the stubs' (pure-Python) mark type."""
    return value


def _finish(loader: _StreamLoader, start: Any) -> None:
    """The end of the one document, and of the stream (a second document is refused)."""
    loader.get_event()  # DocumentEnd
    if not loader.check_event(yaml.StreamEndEvent):
        raise yaml.composer.ComposerError(
            "expected a single document in the stream", start.start_mark,
            "but found another document", loader.get_event().start_mark)


def _documents(loader: _StreamLoader, reader: _TextReader,
               limit: int) -> Iterator[tuple[int | None, Any]]:
    E = yaml.events
    loader.get_event()  # StreamStart
    if loader.check_event(E.StreamEndEvent):
        yield None, None
        return
    start = loader.get_event()  # DocumentStart
    head = loader.peek_event()
    if not isinstance(head, E.MappingStartEvent):
        node = _compose(loader, None, None)
        _finish(loader, start)
        yield None, loader.construct_document(node)
        return
    loader.get_event()
    top = yaml.MappingNode(_collection_tag(loader, yaml.MappingNode, head), [],
                           _any(head.start_mark), None, flow_style=head.flow_style)
    if head.anchor is not None:
        loader.anchors[head.anchor] = top
    streamed = False
    if not loader.check_event(E.MappingEndEvent):
        key_node = _compose(loader, top, None)
        first = isinstance(key_node, yaml.ScalarNode) and key_node.value == "cases" \
            and _RESOLVED.get(key_node.tag) is key_node.tag
        list_start = loader.peek_event()
        if first and isinstance(list_start, E.SequenceStartEvent) and list_start.anchor is None:
            _check_implicit(loader, top)
            loader.get_event()
            _check_implicit(loader, yaml.SequenceNode(
                _collection_tag(loader, yaml.SequenceNode, list_start), [],
                _any(list_start.start_mark), None))
            streamed = True
            index = 0
            after: Any = list_start.end_mark  # where the next case starts, at the latest
            while True:
                reader.restart()
                try:
                    if loader.check_event(E.SequenceEndEvent):
                        break
                    item = _compose(loader, None, None)
                except _TooBig:
                    raise UserInputError(
                        Location(reader.name, after.line + 1, after.column + 1),
                        f"case {index} of 'cases' (from here) is over {limit // 1048576} MB",
                        "shorten it, or split it into several cases") from None
                after = item.end_mark
                value = loader.construct_object(item, deep=True)
                loader.forget()
                yield index, value
                index += 1
            loader.get_event()
            reader.restart()
        else:
            top.value.append((key_node, _compose(loader, top, key_node)))
    while not loader.check_event(E.MappingEndEvent):
        key_node = _compose(loader, top, None)
        if streamed:  # nothing may follow the list: its cases are already decided
            key = loader.construct_object(key_node, deep=True)
            if key == "cases":
                raise _DuplicateKey("cases", _mark(key_node))
            raise UserInputError(Location(reader.name, *_mark(key_node)),
                                 f"unknown top-level key '{key}' beside 'cases'",
                                 "put it inside a case")
        top.value.append((key_node, _compose(loader, top, key_node)))
    top.end_mark = loader.get_event().end_mark
    _finish(loader, start)
    if not streamed:
        yield None, loader.construct_document(top)


def stream_cases(path: Path, limit: int = MAX_FILE_BYTES) -> Iterator[tuple[int | None, Any]]:
    """The cases of a YAML (or JSON) file as they are parsed.

    When the document is a mapping whose first key is ``cases`` holding a list, yields
    ``(index, case)`` for each item as soon as it is parsed (each item, and the text
    outside the list, at most ``limit`` bytes); otherwise yields ``(None, document)``
    once (the whole file at most ``limit`` bytes). A problem raises ``UserInputError``
    after the cases before it were yielded. Same safety as :func:`loads`: YAML 1.2
    scalars, duplicate keys and tags refused, aliases bounded over the whole document.
    """
    name = str(path)
    with open_regular(path) as raw:
        reader = _TextReader(raw, name, limit)
        loader = _StreamLoader(reader)
        try:
            yield from _documents(loader, reader, limit)
        except _TooBig:
            raise UserInputError(Location(name), _too_big(path, limit).replace(
                "files over", "YAML files over") + " unless they hold a 'cases:' list "
                f"(then each case may have up to {limit // 1048576} MB)", _TOO_BIG_HINT) from None
        except (_DuplicateKey, _TooManyAliases, yaml.YAMLError, RecursionError) as exc:
            raise _as_user_error(None, name, exc, path) from None
        finally:
            loader.dispose()


def _prefix(path: Path, chars: int) -> str:
    """The first ``chars`` characters of a file, to place a character the parser refused."""
    with open_regular(path) as stream:
        return stream.read(4 * chars + 4).decode("utf-8-sig", errors="replace")[:chars]
