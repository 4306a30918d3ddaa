"""The user's case file, written back the way the user wrote it.

The interview owns only the answers it changes: every save applies the difference
between the answers as last written and the answers now to the file's own document, so
comments (ticket numbers, approvals), key order, quoting, folded text, numbers written
as ``12000`` and the file's mode all survive. YAML goes through ruamel.yaml's round
trip; JSON stays JSON. Nothing is written until an answer changes, and a ``.jsonl``
batch or a read-only file is refused up front instead of being replaced.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import io
import json
import os
import re
import stat
import tempfile
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from chipclear.errors import Location, UserInputError

if TYPE_CHECKING:
    from ruamel.yaml import YAML

#: The comment older interviews kept "don't know" answers in (now the ``unknown`` field).
LEGACY_UNKNOWN = "# unknown:"

#: Indentation styles tried in turn; the one that reproduces the file unchanged is kept.
_INDENTS = ((2, 4, 2), (2, 2, 0), (4, 4, 2), (4, 4, 0), (4, 6, 4), (2, 4, 0), (4, 2, 0),
            (3, 5, 3), (3, 3, 0), (2, 6, 4))

_umask_lock = threading.Lock()


class CaseFileError(UserInputError):
    """A case file the interview must not write to (a batch, read-only, unreadable)."""


@dataclass
class CaseFile:
    """Where the case lives and how it is written: format, indentation, mode, last text."""

    path: Path
    json: bool
    text: str | None  #: the file as last read or written; None while it does not exist
    mode: int | None
    indent: tuple[int, int, int] = _INDENTS[0]
    written: dict[str, Any] = field(default_factory=dict)  #: the answers ``text`` holds

    @classmethod
    def open(cls, path: Path) -> CaseFile:
        """Check the file can be kept as it is; refuse (one line) what the interview can't."""
        if path.suffix == ".jsonl":
            raise CaseFileError(Location(str(path)), "the interview works on one case, not a "
                                ".jsonl batch", "copy the case into a .yaml or .json file")
        if not path.exists():
            return cls(path, path.suffix == ".json", None, None)
        st = path.stat()
        if not stat.S_ISREG(st.st_mode):
            raise CaseFileError(Location(str(path)), "not a regular file")
        if not st.st_mode & (stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH) \
                or not os.access(path, os.W_OK):
            raise CaseFileError(Location(str(path)), "the file is read-only and the interview "
                                "saves every answer to it", "make it writable (chmod u+w) or "
                                "copy it")
        text = path.read_text(encoding="utf-8")
        found = cls(path, path.suffix == ".json", text, stat.S_IMODE(st.st_mode))
        if not found.json:
            found.indent = _guess_indent(text)
        return found

    def baseline(self, data: dict[str, Any]) -> None:
        """Record which answers the file holds now (what later saves are compared to)."""
        self.written = _copy(data)

    def render(self, data: dict[str, Any], header: str | None = None) -> str:
        """The file's text with ``data`` in it: only what changed since the last write moves."""
        if self.json:
            doc: Any = json.loads(self.text) if self.text and self.text.strip() else {}
            doc = _apply(doc if isinstance(doc, dict) else {}, self.written, data, plain=True)
            found = re.search(r"\n( +)\S", self.text or "")
            indent = len(found.group(1)) if found else 2
            return json.dumps(doc, ensure_ascii=False, indent=indent) + "\n"
        from ruamel.yaml.comments import CommentedMap  # with the first write, not at start-up

        yaml = _yaml(self.indent)
        source = self.text or ""
        if LEGACY_UNKNOWN in source:
            source = "".join(line for line in source.splitlines(keepends=True)
                             if not line.startswith(LEGACY_UNKNOWN))
        loaded = yaml.load(source) if source.strip() else None
        doc = loaded if isinstance(loaded, CommentedMap) else CommentedMap()
        if self.text is None and header:
            doc.yaml_set_start_comment(header)
        doc = _apply(doc, self.written, data, plain=False)
        out = io.StringIO()
        yaml.dump(doc, out)
        return out.getvalue()

    def write(self, data: dict[str, Any], header: str | None = None) -> bool:
        """Save ``data`` atomically if it differs from what the file holds; True if written.

        Raises OSError (the caller keeps its previous state and shows the error).
        """
        if self.text is not None and data == self.written:
            return False
        text = self.render(data, header)
        atomic_write(self.path, text, self.mode)
        self.text = text
        self.written = _copy(data)
        if self.mode is None:
            self.mode = stat.S_IMODE(self.path.stat().st_mode)
        return True


def atomic_write(path: Path, text: str, mode: int | None = None) -> None:
    """Temp file + fsync + ``os.replace``: a kill leaves the old file or the new, never half.

    The new file gets ``mode`` (the old file's), or the mode a plain ``open`` would give.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, mode if mode is not None else 0o666 & ~_umask())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def _umask() -> int:
    with _umask_lock:
        current = os.umask(0o022)
        os.umask(current)
    return current


def _yaml(indent: tuple[int, int, int]) -> YAML:
    from ruamel.yaml import YAML

    yaml = YAML(typ="rt")
    yaml.preserve_quotes = True
    yaml.allow_unicode = True
    yaml.width = 100
    mapping, sequence, offset = indent
    yaml.indent(mapping=mapping, sequence=sequence, offset=offset)
    return yaml


def _guess_indent(text: str) -> tuple[int, int, int]:
    """The indentation that dumps the file back byte for byte (the first style otherwise)."""
    for indent in _INDENTS:
        yaml = _yaml(indent)
        try:
            doc = yaml.load(text)
            out = io.StringIO()
            yaml.dump(doc, out)
        except Exception:  # an unreadable file keeps the default style
            return _INDENTS[0]
        if out.getvalue() == text:
            return indent
    return _INDENTS[0]


def _copy(data: Any) -> Any:
    return json.loads(json.dumps(data))


def _scalar(key: str | int, value: Any, plain: bool) -> Any:
    """A value as the file should hold it: ``as_of`` bare, 32000.0 as 32000."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if not plain and key == "as_of" and isinstance(value, str):
        with contextlib.suppress(ValueError):
            return dt.date.fromisoformat(value)
    if isinstance(value, dict):
        return {k: _scalar(k, v, plain) for k, v in value.items()}
    if isinstance(value, list):
        return [_scalar(i, v, plain) for i, v in enumerate(value)]
    return value


def _apply(doc: Any, old: Any, new: Any, *, plain: bool, key: str | int = "") -> Any:
    """Change ``doc`` (the file's document) by the difference between ``old`` and ``new``."""
    from ruamel.yaml.comments import CommentedMap, CommentedSeq
    if isinstance(new, dict) and isinstance(doc, dict):
        old = old if isinstance(old, dict) else {}
        for key in [k for k in old if k not in new]:
            doc.pop(key, None)
        keys = list(new)
        for pos, key in enumerate(keys):
            if key in old and old[key] == new[key] and key in doc:
                continue
            if key in doc:
                doc[key] = _apply(doc[key], old.get(key), new[key], plain=plain, key=key)
                continue
            value = _scalar(key, new[key], plain)
            before = [k for k in keys[:pos] if k in doc]
            if isinstance(doc, CommentedMap) and before:
                doc.insert(list(doc).index(before[-1]) + 1, key, value)
            elif isinstance(doc, CommentedMap):
                doc.insert(0, key, value)
            else:
                doc[key] = value
        return doc
    if isinstance(new, list) and isinstance(old, list) and isinstance(doc, list) \
            and len(new) >= len(old) == len(doc):
        # Line by line, lines added at the end: the others keep their comments.
        for i, value in enumerate(new[:len(old)]):
            doc[i] = _apply(doc[i], old[i], value, plain=plain, key=i)
        doc.extend(_scalar(i, v, plain) for i, v in enumerate(new[len(old):], len(old)))
        return doc
    if isinstance(new, list) and isinstance(doc, CommentedSeq) and len(doc) > len(new) \
            and isinstance(old, list) and len(old) == len(doc):
        # A line removed: keep the others (and their comments), drop the one that went.
        gone = next((i for i, v in enumerate(old) if i >= len(new) or new[i] != v),
                    len(new))
        del doc[gone]
        return _apply(doc, old[:gone] + old[gone + 1:], new, plain=plain, key=key)
    if old == new and doc is not None:
        return doc
    return _scalar(key, new, plain)
