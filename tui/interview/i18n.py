"""Interface strings in English and Chinese; rule texts come bilingual from the pack.

The words themselves live in the core's one label table (chipclear/io/labels.yaml), shared
with the table and Markdown renderers; this module gives the widgets their lookups, so one
key switches every label at once, and picks the default from the user's locale.
"""

from __future__ import annotations

import os
from collections.abc import Mapping

from chipclear.io import labels
from chipclear.pack.loader import Text

LANGS = labels.LANGS

_S: dict[str, tuple[str, str]] = labels.pairs("interface")

#: Footer and command-palette labels by binding id.
ACTIONS: dict[str, tuple[str, str]] = labels.pairs("actions")

ACTION_HELP: dict[str, tuple[str, str]] = labels.pairs("action_help")

#: Readable labels for choice values (the stored value stays the enum value).
CHOICES: dict[str, tuple[str, str]] = labels.pairs("choice")

#: The verdict line: symbol, English, Chinese.
VERDICTS: dict[str, tuple[str, str, str]] = {
    key: (entry["symbol"], entry["en"], entry["zh"])
    for key, entry in labels.table()["verdict_banner"].items()}

#: Who must act on a condition (the decision's ``owner`` values).
OWNERS: dict[str, tuple[str, str]] = labels.pairs("owner")


def t(key: str, lang: str, **kw: object) -> str:
    """The interface string ``key`` in ``lang``, formatted with ``kw``."""
    en, zh = _S[key]
    return (zh if lang == "zh" else en).format(**kw)


def pick(pair: tuple[str, str] | Mapping[str, str], lang: str) -> str:
    if isinstance(pair, tuple):
        return pair[1] if lang == "zh" else pair[0]
    return pair.get(lang) or pair.get("en", "")


def text(value: Text | None, lang: str) -> str:
    """A bilingual pack text in ``lang``."""
    if value is None:
        return ""
    return value.zh if lang == "zh" else value.en


def choice(value: str, lang: str) -> str:
    label = CHOICES.get(value)
    return f"{pick(label, lang)} ({value})" if label else value


def status(group: str, value: str, lang: str) -> str:
    """A status or verdict value for the reader (the value itself in English)."""
    return labels.value(group, value, lang)


def choice_word(value: str, lang: str) -> str:
    """An owner's name in ``lang`` (the value itself when unknown)."""
    label = OWNERS.get(value)
    return pick(label, lang) if label else value


def default_lang(env: Mapping[str, str] | None = None) -> str:
    """zh when the locale says Chinese (LC_ALL, then LANG), else en."""
    env = os.environ if env is None else env
    for var in ("LC_ALL", "LC_MESSAGES", "LANG"):
        value = env.get(var, "")
        if value:
            return "zh" if value.lower().startswith("zh") else "en"
    return "en"
