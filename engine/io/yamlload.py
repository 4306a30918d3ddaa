"""Safe YAML loading that keeps positions and refuses YAML 1.1 surprises.

PyYAML's SafeLoader turns ``NO`` into ``False``, ``0123`` into 83 and silently keeps
the last of two duplicate keys. Case files and rule packs are compliance evidence, so
this loader only resolves ``true``/``false``/``null``, decimal ints and floats, keeps
dates as strings (pydantic parses them), refuses duplicate keys, and records where
every mapping key and list item sits so validation errors can name ``file:line:col``.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import yaml
from chipclear.errors import Location, UserInputError

_BaseLoader: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
"""libyaml's parser when PyYAML was built with it (several times faster); the
constructor stays ours either way."""

Mark = tuple[int, int]


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


class StrictLoader(_BaseLoader):  # type: ignore[misc]
    """YAML 1.2-style core schema with marks and duplicate-key refusal."""


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


def _construct_mapping(loader: StrictLoader, node: yaml.MappingNode) -> MarkedDict:
    result = MarkedDict()
    result.mark = _mark(node)
    loader.flatten_mapping(node)
    for key_node, value_node in node.value:
        key = loader.construct_object(key_node, deep=True)
        if not isinstance(key, str):
            key = str(key)
        if key in result:
            raise _DuplicateKey(key, _mark(key_node))
        result[key] = loader.construct_object(value_node, deep=True)
        result.key_marks[key] = _mark(key_node)
        result.value_marks[key] = _mark(value_node)
    return result


def _construct_sequence(loader: StrictLoader, node: yaml.SequenceNode) -> MarkedList:
    result = MarkedList()
    result.mark = _mark(node)
    for child in node.value:
        result.append(loader.construct_object(child, deep=True))
        result.item_marks.append(_mark(child))
    return result


def _construct_str(loader: StrictLoader, node: yaml.ScalarNode) -> str:
    return str(loader.construct_scalar(node))


StrictLoader.add_constructor("tag:yaml.org,2002:map", _construct_mapping)
StrictLoader.add_constructor("tag:yaml.org,2002:seq", _construct_sequence)
StrictLoader.add_constructor("tag:yaml.org,2002:timestamp", _construct_str)
StrictLoader.add_constructor("tag:yaml.org,2002:binary", _construct_str)


def _float_or_error(loader: StrictLoader, node: yaml.ScalarNode) -> float:
    return float(str(loader.construct_scalar(node)).replace("_", ""))


def _int(loader: StrictLoader, node: yaml.ScalarNode) -> int:
    return int(str(loader.construct_scalar(node)).replace("_", ""))


StrictLoader.add_constructor("tag:yaml.org,2002:float", _float_or_error)
StrictLoader.add_constructor("tag:yaml.org,2002:int", _int)


def loads(text: str, filename: str) -> Any:
    """Parse one YAML (or JSON) document; raise UserInputError with a position."""
    try:
        return yaml.load(text, Loader=StrictLoader)
    except _DuplicateKey as exc:
        raise UserInputError(
            Location(filename, *exc.mark),
            f"duplicate key '{exc.key}'",
            "each key may appear once in a mapping; remove or rename one of them",
        ) from None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = (
            Location(filename, mark.line + 1, mark.column + 1) if mark else Location(filename)
        )
        problem = exc.problem or exc.context or "malformed YAML"
        raise UserInputError(where, f"malformed YAML: {problem}", "fix the syntax there") from None
    except yaml.reader.ReaderError as exc:
        before = text[: exc.position]
        line, col = before.count("\n") + 1, exc.position - (before.rfind("\n") + 1) + 1
        raise UserInputError(
            Location(filename, line, col),
            f"character {exc.character!r} is not allowed in YAML", "remove it or save as text",
        ) from None
    except yaml.YAMLError as exc:
        raise UserInputError(Location(filename), f"malformed YAML: {exc}") from None
    except RecursionError:
        raise UserInputError(
            Location(filename), "the document is nested too deeply", "flatten the structure"
        ) from None


def load_file(path: Path) -> Any:
    """Read and parse a YAML or JSON file, with clear errors for missing or binary files."""
    name = str(path)
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise UserInputError(Location(name), "file not found", "check the path") from None
    except IsADirectoryError:
        raise UserInputError(Location(name), "is a directory, not a file") from None
    except OSError as exc:
        raise UserInputError(Location(name), f"cannot read file: {exc.strerror}") from None
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise UserInputError(
            Location(name), f"not UTF-8 text (byte {exc.start})", "save the file as UTF-8"
        ) from None
    if "\0" in text:
        raise UserInputError(Location(name), "binary data, not a YAML or JSON text file")
    return loads(text, name)


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
