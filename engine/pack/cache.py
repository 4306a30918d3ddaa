"""A validated rule pack kept on disk between runs, so a command does not re-read its YAML.

Parsing and checking the shipped pack takes about a tenth of a second and building its
screening indexes half as much again: more than a one-case ``chipclear evaluate`` should
spend. The command line therefore keeps the loaded pack (indexes built, with the
folding tables they were built with; the user's imported list left out: that is loaded
fresh every time) as a pickle in ``$XDG_CACHE_HOME/chipclear`` (default
``~/.cache/chipclear``).

Never a wrong pack:

- the file is used only when its key matches: the SHA-256 of every file under the pack
  directory, read now (and every symbolic link's target name), the directory as named,
  the Python version, and the name, size and modification time of every file of
  chipclear's core and of the libraries whose output the pack holds (an edit, a
  checkout or an upgrade rewrites them; the version number alone would miss an edit);
- its payload carries its own SHA-256, checked before unpickling, so a truncated or
  corrupted file is ignored;
- any error at all (unreadable, foreign, corrupt, another format) means the pack is loaded
  from its YAML as if there were no cache, and the cache is rewritten.

Trust: unpickling runs code, so the cache is read only from a directory that is owned by
the user and writable by nobody else, and only a regular file (not a link) owned by the
user and writable by nobody else; the directory is created 0700, files 0600 (a private
temporary file renamed into place, so a reader never sees half a file). Anyone who can
write there can already run code as the user. ``CHIPCLEAR_NO_CACHE=1`` turns the cache
off (neither read nor written).
"""

from __future__ import annotations

import gc
import hashlib
import os
import pickle
import stat
import sys
import tempfile
from collections.abc import Callable
from importlib.util import find_spec
from pathlib import Path
from typing import Any, TypeVar

from chipclear.screening import normalise
from chipclear.screening.normalise import Tables

#: What is cached: a loaded ``RulePack`` (passed in, so this module needs no loader).
Pack = TypeVar("Pack")

#: Bumped when the file layout changes.
_MAGIC = b"chipclear-pack-cache-2\n"
#: A pack directory holding more bytes than this (a pack kept beside other data, a
#: repository's history) is read from its YAML every time: hashing it would cost more.
MAX_TREE_BYTES = 32 * 1024 * 1024
#: Cache files kept (each a pack directory as named, under one version of the code).
KEEP = 16
#: Libraries whose results end up inside a loaded pack (validated models, folded names).
_LIBRARIES = ("pydantic", "pydantic_core", "yaml", "rapidfuzz", "opencc",
              "confusable_homoglyphs")


def enabled() -> bool:
    """False when ``CHIPCLEAR_NO_CACHE`` is set to anything but empty or 0, or off POSIX."""
    return os.environ.get("CHIPCLEAR_NO_CACHE", "") in ("", "0") and hasattr(os, "getuid")


def cache_dir() -> Path | None:
    """``$XDG_CACHE_HOME/chipclear``, else ``~/.cache/chipclear``; None when neither is an
    absolute path (the XDG rule: a relative one is ignored, never created in the cwd)."""
    base = os.environ.get("XDG_CACHE_HOME", "")
    if not os.path.isabs(base):
        home = os.path.expanduser("~")
        base = os.path.join(home, ".cache") if os.path.isabs(home) else ""
    return Path(base) / "chipclear" if base else None


def _tree_digest(root: Path) -> bytes:
    """SHA-256 over every file (path and content) and link (path and target) under root."""
    digest = hashlib.sha256()
    size = [0]

    def walk(directory: str, rel: str) -> None:
        with os.scandir(directory) as found:
            entries = sorted(found, key=lambda e: e.name)
        for entry in entries:
            name = f"{rel}{entry.name}"
            if entry.is_symlink():
                digest.update(b"L" + name.encode() + b"\0" + os.readlink(entry.path).encode()
                              + b"\0")
                if entry.is_dir():
                    continue  # its target is walked where it lives (or not at all)
            if entry.is_dir():
                walk(entry.path, f"{name}/")
            elif entry.is_file():
                size[0] += entry.stat().st_size
                if size[0] > MAX_TREE_BYTES:
                    raise _TooLarge
                with open(entry.path, "rb") as handle:
                    digest.update(b"F" + name.encode() + b"\0"
                                  + hashlib.sha256(handle.read()).digest())
            else:  # a socket, fifo or dangling link: its name still counts
                digest.update(b"O" + name.encode() + b"\0")

    walk(os.fspath(root), "")
    return digest.digest()


class _TooLarge(Exception):
    """The pack directory holds more than ``MAX_TREE_BYTES``: not worth hashing each run."""


def _stamp(directory: str, digest: Any, skip: tuple[str, ...] = (), deep: bool = True) -> None:
    """Add each file's name, size and modification time under ``directory`` to ``digest``
    (installers and editors rewrite files, so a changed file changes its stamp)."""
    with os.scandir(directory) as found:
        entries = sorted(found, key=lambda e: e.name)
    for entry in entries:
        if entry.name in skip or entry.name == "__pycache__":
            continue
        if entry.is_dir():
            if deep:
                digest.update(f"D{entry.name}\0".encode())
                _stamp(entry.path, digest)
                digest.update(b"U")
        elif entry.name.endswith((".py", ".yaml", ".json", ".so", ".txt", ".ocd2")):
            info = entry.stat()
            digest.update(f"{entry.name}\0{info.st_size}\0{info.st_mtime_ns}\0".encode())


def _code_key() -> bytes:
    """What the in-memory form of a pack depends on besides the pack: chipclear's core
    (not its command line or TUI), the Python version, and the libraries in
    ``_LIBRARIES``, each by its files' names, sizes and modification times."""
    digest = hashlib.sha256(_MAGIC + sys.version.encode() + b"\0")
    _stamp(os.fspath(Path(__file__).resolve().parent.parent), digest, skip=("tui", "rules"))
    for library in _LIBRARIES:
        spec = find_spec(library)
        digest.update(f"{library}\0".encode())
        if spec is not None and spec.origin is not None:
            _stamp(os.path.dirname(spec.origin), digest, deep=False)
    return digest.digest()


def _private(info: os.stat_result) -> bool:
    """Owned by this user and writable by nobody else."""
    return info.st_uid == os.getuid() and not info.st_mode & (stat.S_IWGRP | stat.S_IWOTH)


def _usable_dir(directory: Path) -> bool:
    try:
        directory.mkdir(mode=0o700, parents=True, exist_ok=True)
        info = os.lstat(directory)
    except OSError:
        return False
    return stat.S_ISDIR(info.st_mode) and _private(info)


def _read(path: Path, tree: bytes, kind: type[Pack]) -> tuple[Pack, Tables] | None:
    """The pack in ``path`` (and the folding tables of its screening indexes) if the file
    is private, whole, for this tree and holds a ``kind``; else None."""
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0))
    except OSError:
        return None
    with os.fdopen(fd, "rb") as handle:
        info = os.fstat(handle.fileno())
        if not stat.S_ISREG(info.st_mode) or not _private(info):
            return None
        data = handle.read()
    head = len(_MAGIC)
    if data[:head] != _MAGIC or data[head:head + 32] != tree:
        return None
    payload = data[head + 64:]
    if hashlib.sha256(payload).digest() != data[head + 32:head + 64]:
        return None  # truncated or corrupted
    collecting = gc.isenabled()
    gc.disable()  # a pack is ~100,000 long-lived objects: scanning them while they arrive
    try:          # tripled the time to unpickle
        found = pickle.loads(payload)
    finally:
        if collecting:
            gc.enable()
    if isinstance(found, tuple) and len(found) == 2 and isinstance(found[0], kind) \
            and isinstance(found[1], Tables):
        return found[0], found[1]
    return None


def _write(directory: Path, path: Path, tree: bytes, pack: object) -> None:
    payload = pickle.dumps((pack, normalise.tables()), protocol=pickle.HIGHEST_PROTOCOL)
    fd, temp = tempfile.mkstemp(dir=directory, prefix=".pack-", suffix=".tmp")  # 0600
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(_MAGIC + tree + hashlib.sha256(payload).digest() + payload)
        os.replace(temp, path)
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise
    _prune(directory)


def _prune(directory: Path) -> None:
    """Keep the ``KEEP`` most recently written cache files (temporary packs, such as those
    an audit reads from git revisions, would otherwise pile up)."""
    files = sorted(directory.glob("pack-*.pickle"), key=lambda p: p.stat().st_mtime_ns,
                   reverse=True)
    for old in files[KEEP:]:
        old.unlink(missing_ok=True)


def cached(root: Path, load: Callable[[Path], Pack], kind: type[Pack]) -> Pack:
    """``load(root)``, or the same pack from the cache when nothing it depends on changed.

    ``load`` must return the pack without the user's imported list. Errors of ``load``
    (a broken pack) propagate; a broken pack is never cached.
    """
    directory = cache_dir()
    if directory is None or not (root / "pack.yaml").is_file():
        return load(root)  # the loader says what is wrong with the directory
    try:
        tree = _tree_digest(root)
        name = hashlib.sha256(_code_key() + os.fsencode(str(root))).hexdigest()[:32]
        usable = _usable_dir(directory)
    except (OSError, ValueError, _TooLarge):
        return load(root)
    path = directory / f"pack-{name}.pickle"
    if usable:
        try:
            found = _read(path, tree, kind)
        except Exception:  # any failure (unpickling runs arbitrary code paths): the YAML
            found = None
        if found is not None:
            normalise.use_tables(found[1])
            return found[0]
    pack = load(root)
    if usable:
        try:
            if _tree_digest(root) != tree:  # changed while it was read: keep nothing
                return pack
            _write(directory, path, tree, pack)
        except (OSError, pickle.PicklingError, TypeError, AttributeError, _TooLarge):
            pass  # a full disk or read-only home costs the next run its speed, nothing else
    return pack
