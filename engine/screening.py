"""Screening names against lists (Entity List, approved customers).

Lists are data under ``rules/lists/`` and are matched here, in Python, never as one
rule per name: durable-rules hangs or overflows with hundreds of alpha nodes. Names
are folded (case, width, punctuation, legal forms such as "Co., Ltd." or "有限公司")
before they are compared, so the variants a buyer writes still hit.
"""

from __future__ import annotations

import datetime as dt
import difflib
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from engine.errors import Location, RulePackError
from engine.sources import SourceId
from engine.yamlload import locate


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ListHeader(_Strict):
    id: str
    title: str
    jurisdiction: str
    sources: list[SourceId] = Field(default_factory=list)


class ListEntry(_Strict):
    id: str
    name: str
    name_zh: str | None = None
    aliases: list[str] = Field(default_factory=list)
    since: dt.date
    until: dt.date | None = None
    reference: str | None = None
    sources: list[SourceId] = Field(min_length=1)
    note: str | None = None


class ScreeningList(_Strict):
    list: ListHeader
    entries: list[ListEntry] = Field(default_factory=list)


@dataclass(frozen=True)
class ListMatch:
    list_id: str
    entry_id: str
    entry_name: str
    matched_name: str
    matched_on: str
    since: dt.date
    reference: str | None
    sources: tuple[str, ...]


_LEGAL_FORMS = (
    "股份有限公司", "有限责任公司", "有限公司", "集团", "公司",
    "co ltd", "company limited", "co", "ltd", "limited", "inc", "incorporated",
    "corporation", "corp", "group", "llc", "plc", "gmbh", "sdn bhd", "holdings",
)
_PLACES = ("beijing", "shanghai", "shenzhen", "hangzhou", "北京", "上海", "深圳", "杭州")


def normalise_name(text: str) -> str:
    """Fold a company name to its distinctive core."""
    folded = unicodedata.normalize("NFKC", text).casefold()
    folded = re.sub(r"[（(][^)）]*[)）]", " ", folded)
    folded = re.sub(r"[^\w\s]", " ", folded)
    folded = re.sub(r"\s+", " ", folded).strip()
    changed = True
    while changed:
        changed = False
        for form in _LEGAL_FORMS:
            if folded.endswith(" " + form) or (folded.endswith(form) and not form.isascii()):
                folded = folded[: -len(form)].strip()
                changed = True
    return folded


def _variants(core: str) -> set[str]:
    out = {core}
    for place in _PLACES:
        if core.startswith(place) and len(core) > len(place) + 1:
            out.add(core[len(place):].strip())
    return out


def _contains(haystack: str, needle: str) -> bool:
    if not needle.isascii():
        return len(needle) >= 2 and needle in haystack
    pattern = rf"(?<!\w){re.escape(needle)}(?!\w)"
    return len(needle) >= 4 and re.search(pattern, haystack) is not None


def parse_list(data: Any, filename: str) -> ScreeningList:
    try:
        return ScreeningList.model_validate(data)
    except ValidationError as exc:
        err = exc.errors()[0]
        mark = locate(data, err["loc"])
        where = Location(filename, *mark) if mark else Location(filename)
        loc = ".".join(str(p) for p in err["loc"])
        raise RulePackError(where, f"{loc}: {err['msg']}") from None


def screen(names: Iterable[str | None], screening_list: ScreeningList,
           as_of: dt.date) -> ListMatch | None:
    """The first list entry in force on ``as_of`` that one of the names hits."""
    cores = [(n, normalise_name(n)) for n in names if n and n.strip()]
    for entry in screening_list.entries:
        if entry.since > as_of or (entry.until is not None and as_of >= entry.until):
            continue
        for listed in (entry.name, entry.name_zh, *entry.aliases):
            if not listed:
                continue
            target = normalise_name(listed)
            if not target:
                continue
            for given, core in cores:
                hit = (
                    bool(_variants(core) & _variants(target))
                    or _contains(core, target)
                    or (len(core) >= 6 and len(target) >= 6
                        and difflib.SequenceMatcher(None, core, target).ratio() >= 0.92)
                )
                if hit:
                    return ListMatch(screening_list.list.id, entry.id, entry.name, given, listed,
                                     entry.since, entry.reference, tuple(entry.sources))
    return None
