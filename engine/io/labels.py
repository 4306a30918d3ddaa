"""The one bilingual label table (labels.yaml) behind every rendering for people.

The renderers and the Textual interface read their words from here, so ``--lang zh``
translates the same label the same way everywhere and a missing translation is a data
error caught by the tests, not a stray English word in a Chinese memo.
"""

from __future__ import annotations

import re
from functools import cache
from importlib.resources import files
from typing import Any

import yaml

LANGS = ("en", "zh")

#: libyaml's safe loader where PyYAML was built with it: the same safe constructors, a
#: tenth of the time (the interview's first screen waits for this table). Our own data
#: file, not user input: user files go through ``yamlload`` with positions.
SAFE_LOADER: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


@cache
def table() -> dict[str, Any]:
    """The parsed label table (read once)."""
    text = files("chipclear.io").joinpath("labels.yaml").read_text(encoding="utf-8")
    loaded: dict[str, Any] = yaml.load(text, Loader=SAFE_LOADER)
    return loaded


def pairs(section: str) -> dict[str, tuple[str, str]]:
    """A section as ``key -> (en, zh)``."""
    return {key: (entry["en"], entry["zh"]) for key, entry in table()[section].items()}


def label(key: str, lang: str, section: str = "render", **fields: object) -> str:
    """The label ``key`` of ``section`` in ``lang``, formatted with ``fields``."""
    entry = table()[section][key]
    return str(entry["zh" if lang == "zh" else "en"]).format(**fields)


def value(group: str, raw: str, lang: str) -> str:
    """An enum value for a reader: in English the value itself (it is what JSON, the
    ledger and the docs use), in Chinese its translation; an unknown value stays as is."""
    if lang != "zh":
        return raw
    entry = table()["values"].get(group, {}).get(raw)
    return str(entry["zh"]) if entry else raw


def value_words(group: str, raw: str, lang: str) -> str:
    """An enum value as words in ``lang`` (``no_go`` -> "no go" / "不能采购")."""
    entry = table()["values"].get(group, {}).get(raw)
    if entry is None:
        return raw.replace("_", " ")
    return str(entry["zh" if lang == "zh" else "en"])


@cache
def _phrases() -> list[tuple[re.Pattern[str], str]]:
    return [(re.compile(p["en"]), p["zh"]) for p in table()["phrases"]]


def phrase(text: str, lang: str) -> str:
    """An explanation the engine generated in English (``"x: rules out R"``), in ``lang``."""
    if lang != "zh":
        return text
    for pattern, replacement in _phrases():
        text = pattern.sub(replacement, text)
    return text


def english_labels() -> set[str]:
    """Every English label of the table (for tests that check a Chinese rendering)."""
    out: set[str] = set()
    for section in ("render", "owner"):
        out.update(entry["en"] for entry in table()[section].values())
    for group in table()["values"].values():
        out.update(entry["en"] for entry in group.values())
    return out
