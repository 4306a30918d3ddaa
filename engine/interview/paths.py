"""Fact paths inside case data: ``order.items[0].chip`` to read, set and remove answers.

Plain dicts and lists only (the case as JSON data), so the interview can try an
answer on a copy and keep the original when the answer is refused.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterator
from typing import Any

_TOKEN = re.compile(r"([A-Za-z_][A-Za-z0-9_]*)|\[(\d+)\]")


def parse_path(path: str) -> list[str | int]:
    """Split a dotted path with ``[i]`` indexes into keys and list positions."""
    parts: list[str | int] = []
    for chunk in path.split("."):
        for m in _TOKEN.finditer(chunk):
            parts.append(m.group(1) if m.group(1) else int(m.group(2)))
        if not chunk or _TOKEN.sub("", chunk):
            raise ValueError(f"'{path}' is not a fact path")
    return parts


def get_path(data: Any, path: str) -> Any:
    """The value at a path, or None when any step is absent."""
    cur = data
    for part in parse_path(path):
        if isinstance(part, int):
            if not isinstance(cur, list) or part >= len(cur):
                return None
            cur = cur[part]
        else:
            if not isinstance(cur, dict) or part not in cur:
                return None
            cur = cur[part]
    return cur


def set_path(data: dict[str, Any], path: str, value: Any) -> None:
    """Set a value, creating the mappings on the way (list positions must exist)."""
    parts = parse_path(path)
    cur: Any = data
    for part, nxt in itertools.pairwise(parts):
        if isinstance(part, int):
            if not isinstance(cur, list) or part >= len(cur):
                raise ValueError(f"order line {part + 1} does not exist")
            cur = cur[part]
        else:
            if not isinstance(cur.get(part), dict | list):
                cur[part] = [] if isinstance(nxt, int) else {}
            cur = cur[part]
    last = parts[-1]
    if isinstance(last, int):
        if not isinstance(cur, list) or last >= len(cur):
            raise ValueError(f"order line {last + 1} does not exist")
        cur[last] = value
    else:
        cur[last] = value


def unset_path(data: dict[str, Any], path: str) -> None:
    """Remove a value and any mapping left empty (empty mappings are noise in a case file)."""
    parts = parse_path(path)
    trail: list[tuple[Any, str | int]] = []
    cur: Any = data
    for part in parts[:-1]:
        try:
            nxt = cur[part]
        except (KeyError, IndexError, TypeError):
            return
        trail.append((cur, part))
        cur = nxt
    last = parts[-1]
    if isinstance(cur, dict):
        cur.pop(last, None)
    elif isinstance(cur, list) and isinstance(last, int) and last < len(cur):
        del cur[last]
    for parent, key in reversed(trail):
        child = parent[key]
        if child in ({}, []) and isinstance(key, str) and isinstance(parent, dict):
            del parent[key]


def generic(path: str) -> str:
    """``order.items[3].quantity`` -> ``order.items[].quantity`` (the question bank's key)."""
    return re.sub(r"\[\d+\]", "[]", path)


def item_index(path: str) -> int | None:
    m = re.match(r"order\.items\[(\d+)\]", path)
    return int(m.group(1)) if m else None


def leaves(data: Any, prefix: str = "") -> Iterator[tuple[str, Any]]:
    """Every answered leaf; a chip's dense-TFLOPS table counts as one answer."""
    if isinstance(data, dict) and not prefix.endswith("dense_tflops"):
        for key, value in data.items():
            yield from leaves(value, f"{prefix}.{key}" if prefix else key)
    elif isinstance(data, list):
        for i, value in enumerate(data):
            yield from leaves(value, f"{prefix}[{i}]")
    elif data is not None:
        yield prefix, data
