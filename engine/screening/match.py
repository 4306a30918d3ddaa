"""Screening names against lists (Entity List, approved customers).

Lists are data under ``rules/lists/`` and are matched here, in Python, never as one
rule per name: durable-rules hangs or overflows with hundreds of alpha nodes. Buyers
write the same company many ways ("Co., Ltd." or "有限公司", "(Beijing)", full-width
letters), so both sides are folded to a distinctive core before they are compared, and
short or generic fragments are never enough for a hit: a false hit blocks a lawful
purchase, a missed one lets a listed party through, so each test below is deliberate.
"""

from __future__ import annotations

import builtins
import datetime as dt
import difflib
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum
from functools import cached_property
from typing import Annotated

from chipclear.errors import Location, RulePackError
from chipclear.io.yamlload import locate
from chipclear.pack.sources import SourceId
from pydantic import BaseModel, ConfigDict, Field, ValidationError

EntryId = Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9-]*$", max_length=80)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Jurisdiction(StrEnum):
    US = "US"
    CN = "CN"


class ListHeader(_Strict):
    """Which list this is and who keeps it; the sources say where the list comes from."""

    id: EntryId
    title: str = Field(min_length=1)
    jurisdiction: Jurisdiction
    sources: list[SourceId] = Field(default_factory=list)


class ListEntry(_Strict):
    """One listed party; it is in force from ``since`` (and before ``until`` when set)."""

    id: EntryId
    name: str = Field(min_length=1)
    name_zh: str | None = None
    aliases: list[str] = Field(default_factory=list)
    since: dt.date
    until: dt.date | None = None
    reference: str | None = None
    sources: list[SourceId] = Field(min_length=1)
    note: str | None = None


class ScreeningList(_Strict):
    """A ``rules/lists/*.yaml`` file: a header and dated entries."""

    list: ListHeader
    entries: builtins.list[ListEntry] = Field(default_factory=builtins.list)

    @cached_property
    def index(self) -> _Index:
        """Every entry's names folded once and indexed, so a case costs lookups, not a scan."""
        return _Index.build(self.entries)


@dataclass(frozen=True)
class ListMatch:
    """A hit: which entry, which of the case's names hit it and on which listed name."""

    list_id: str
    entry_id: str
    entry_name: str
    matched_name: str
    matched_on: str
    since: dt.date
    reference: str | None
    sources: tuple[str, ...]
    how: str = "exact"  # exact | contained | similar: how much a reviewer should check


#: Match tiers, best first, as ListMatch.how names them.
TIERS = ("exact", "contained", "similar")


# Legal forms are stripped from the end, longest first, as often as they occur
# ("Inspur Group Co., Ltd." -> "inspur"). ASCII forms must be whole words.
_LEGAL_FORMS_ZH = (
    "股份有限公司", "有限责任公司", "有限責任公司", "集团有限公司", "集團有限公司",
    "有限公司", "集团", "集團", "公司",
)
_LEGAL_FORMS_EN = tuple(sorted((
    "co ltd", "co limited", "company limited", "company ltd", "co", "company", "ltd",
    "limited", "inc", "incorporated", "corporation", "corp", "group", "holdings",
    "holding", "llc", "plc", "gmbh", "pte ltd", "pte", "sdn bhd", "ag", "sa", "bv",
), key=len, reverse=True))
# A leading place name is optional when the rest matches ("北京智谱华章科技" = "智谱华章科技").
_PLACES = (
    "beijing", "shanghai", "shenzhen", "hangzhou", "tianjin", "guangzhou", "chengdu",
    "wuxi", "jinan", "zhengzhou", "changsha", "nanjing", "suzhou", "hefei", "wuhan",
    "chongqing", "qingdao", "xian", "hong kong",
    "北京", "上海", "深圳", "杭州", "天津", "广州", "成都", "无锡", "济南", "郑州", "长沙",
    "南京", "苏州", "合肥", "武汉", "重庆", "青岛", "西安", "香港",
)
# Words too common to tell companies apart; left out only for the fuzzy comparison, so
# "National Supercomputing Center Wuxi" cannot fuzzily hit "... Wuhan".
_GENERIC = frozenset((
    "the", "of", "and", "china", "chinese", "national", "technology", "technologies", "tech",
    "information", "industry", "industries", "electronic", "electronics", "science",
    "sciences", "center", "centre", "supercomputing", "supercomputer", "computing",
    "computer", "research", "institute", "international", "intelligent", "software",
    "systems", "system", "semiconductor", "microelectronics", "integrated", "circuit",
    "design", "development", "trading", "investment", "ai",
))
_GENERIC_ZH = ("科技", "技术", "信息", "产业", "电子", "国家", "中心", "研究院", "研究所", "中国")

_MIN_ASCII_CONTAINED = 4
_MIN_CJK_CONTAINED = 2
_MIN_FUZZY = 6
_FUZZY_RATIO = 0.92


def normalise_name(text: str) -> str:
    """Fold a company name to its core: width, case, punctuation and legal forms removed.

    Words stay separated by single spaces so containment can respect word boundaries.
    """
    folded = unicodedata.normalize("NFKC", text).casefold()
    folded = re.sub(r"\([^)]*\)", " ", folded)  # "(Beijing)"; NFKC made "（北京）" ASCII too
    folded = folded.replace("'", "").replace("’", "")
    folded = re.sub(r"[^\w]+|_", " ", folded)
    folded = re.sub(r"\s+", " ", folded).strip()
    folded = re.sub(r"^the ", "", folded)
    changed = True
    while changed and folded:
        changed = False
        for zh in _LEGAL_FORMS_ZH:
            if folded.endswith(zh) and len(folded) > len(zh):
                folded, changed = folded[: -len(zh)].rstrip(), True
        for en in _LEGAL_FORMS_EN:
            if folded.endswith(" " + en):
                folded, changed = folded[: -len(en) - 1].rstrip(), True
    return folded


def _compact(core: str) -> str:
    return core.replace(" ", "")


def _without_place(core: str) -> str | None:
    """The core without a leading place name, or None when there is none to drop."""
    for place in _PLACES:
        if place.isascii():
            if core.startswith(place + " ") and len(core) > len(place) + 1:
                return core[len(place) + 1:]
        elif core.startswith(place) and len(core) > len(place) + 1:
            return core[len(place):].lstrip()
    return None


def _distinctive(core: str) -> str:
    core = _without_place(core) or core
    words = [w for w in core.split(" ") if w not in _GENERIC]
    text = "".join(words)
    for zh in _GENERIC_ZH:
        text = text.replace(zh, "")
    return text


def _contains(haystack: str, needle: str) -> bool:
    """A whole listed name inside the case's name, never a fragment of a word."""
    if needle.isascii():
        if len(_compact(needle)) < _MIN_ASCII_CONTAINED:
            return False
        pattern = rf"(?<![a-z0-9]){re.escape(needle)}(?![a-z0-9])"
        return re.search(pattern, haystack) is not None
    needle = _compact(needle)
    return len(needle) >= _MIN_CJK_CONTAINED and needle in _compact(haystack)


@dataclass(frozen=True)
class _Target:
    """One name folded every way the tiers compare it."""

    text: str
    core: str
    compact: str
    bare: str | None  # compact, without a leading place name
    distinctive: str

    @classmethod
    def of(cls, text: str) -> _Target:
        core = normalise_name(text)
        bare = _without_place(core)
        return cls(text, core, _compact(core), None if bare is None else _compact(bare),
                   _distinctive(core))


def _fuzzy(given: str, listed: str) -> bool:
    """Near-identical distinctive words; lengths are compared first, as the ratio needs it."""
    if len(given) < _MIN_FUZZY or len(listed) < _MIN_FUZZY:
        return False
    if 2 * min(len(given), len(listed)) < _FUZZY_RATIO * (len(given) + len(listed)):
        return False
    matcher = difflib.SequenceMatcher(None, given, listed)
    return matcher.quick_ratio() >= _FUZZY_RATIO and matcher.ratio() >= _FUZZY_RATIO


def _boundaries(core: str) -> Iterable[int]:
    """Where an ASCII listed name may start inside a case name: not inside a word."""
    for i, ch in enumerate(core):
        after_word = i > 0 and core[i - 1].isascii() and core[i - 1].isalnum()
        if not after_word and ch.isascii() and ch.isalnum():
            yield i


@dataclass
class _Index:
    """Listed names by the keys each tier can hit: exact forms, name prefixes, all fuzzy.

    A hit is ranked (tier, entry, name, case name): the same order a plain scan of the
    list would report, exact before contained before fuzzy, earlier entries first.
    """

    targets: builtins.list[tuple[int, int, ListEntry, _Target]]
    exact: dict[str, builtins.list[int]]  # by compact form
    exact_bare: dict[str, builtins.list[int]]  # by compact form without a leading place
    ascii_prefix: dict[str, builtins.list[int]]
    cjk_prefix: dict[str, builtins.list[int]]
    fuzzy: builtins.list[int]

    @classmethod
    def build(cls, entries: Iterable[ListEntry]) -> _Index:
        index = cls([], {}, {}, {}, {}, [])
        for e, entry in enumerate(entries):
            names = [n for n in (entry.name, entry.name_zh, *entry.aliases) if n]
            for t, text in enumerate(names):
                target = _Target.of(text)
                if not target.core:
                    continue
                pos = len(index.targets)
                index.targets.append((e, t, entry, target))
                index.exact.setdefault(target.compact, []).append(pos)
                if target.bare:
                    index.exact_bare.setdefault(target.bare, []).append(pos)
                if target.core.isascii():
                    if len(target.compact) >= _MIN_ASCII_CONTAINED:
                        index.ascii_prefix.setdefault(target.core[:3], []).append(pos)
                elif len(target.compact) >= _MIN_CJK_CONTAINED:
                    index.cjk_prefix.setdefault(target.compact[:2], []).append(pos)
                if len(target.distinctive) >= _MIN_FUZZY:
                    index.fuzzy.append(pos)
        return index

    def hits(self, given: _Target) -> Iterable[tuple[int, int]]:
        """(tier, target position) for every listed name this case name hits."""
        # Equal, or equal once a leading place name is dropped from either side.
        exact = set(self.exact.get(given.compact, ()))
        exact.update(self.exact_bare.get(given.compact, ()))
        if given.bare:
            exact.update(self.exact.get(given.bare, ()))
        for pos in exact:
            yield 0, pos
        contained: set[int] = set()
        for i in _boundaries(given.core):
            for pos in self.ascii_prefix.get(given.core[i:i + 3], ()):
                if pos not in exact and _contains(given.core, self.targets[pos][3].core):
                    contained.add(pos)
        compact = given.compact
        for i in range(len(compact) - 1):
            for pos in self.cjk_prefix.get(compact[i:i + 2], ()):
                if pos not in exact and _contains(given.core, self.targets[pos][3].core):
                    contained.add(pos)
        for pos in contained:
            yield 1, pos
        for pos in self.fuzzy:
            if pos not in exact and pos not in contained and _fuzzy(
                    given.distinctive, self.targets[pos][3].distinctive):
                yield 2, pos


def in_force(entry: ListEntry, as_of: dt.date) -> bool:
    return entry.since <= as_of and (entry.until is None or as_of < entry.until)


def parse_list(data: object, filename: str) -> ScreeningList:
    """Validate a list file; errors point at the offending line like every pack error."""
    try:
        parsed = ScreeningList.model_validate(data)
    except ValidationError as exc:
        err = exc.errors()[0]
        loc = [p for p in err["loc"] if isinstance(p, (str, int))]
        mark = locate(data, loc)
        where = Location(filename, *mark) if mark else Location(filename)
        path = ".".join(str(p) for p in loc) or "(top level)"
        raise RulePackError(
            where, f"{path}: {err['msg']}",
            "a list file is {list: {id, title, jurisdiction: US|CN}, entries: [{id, name, "
            "since, sources, ...}]}",
        ) from None
    seen: set[str] = set()
    for i, entry in enumerate(parsed.entries):
        if entry.id in seen:
            mark = locate(data, ["entries", i])
            raise RulePackError(
                Location(filename, *mark) if mark else Location(filename),
                f"entry id '{entry.id}' appears twice", "give each entry its own id",
            )
        seen.add(entry.id)
        if entry.until is not None and entry.until <= entry.since:
            mark = locate(data, ["entries", i, "until"])
            raise RulePackError(
                Location(filename, *mark) if mark else Location(filename),
                f"entry '{entry.id}': until {entry.until} is not after since {entry.since}",
            )
    return parsed


def screen(names: Iterable[str | None], screening_list: ScreeningList,
           as_of: dt.date) -> ListMatch | None:
    """The best hit among entries in force on ``as_of``: exact before contained before fuzzy."""
    given = [_Target.of(n) for n in names if n and n.strip()]
    index = screening_list.index
    best: tuple[int, int, int, int] | None = None
    for g, name in enumerate(given):
        if not name.core:
            continue
        for tier, pos in index.hits(name):
            e, t, entry, _ = index.targets[pos]
            rank = (tier, e, t, g)
            if (best is None or rank < best) and in_force(entry, as_of):
                best = rank
    if best is None:
        return None
    tier, e, t, g = best
    entry, target = next((en, tg) for ei, ti, en, tg in index.targets if (ei, ti) == (e, t))
    return ListMatch(screening_list.list.id, entry.id, entry.name, given[g].text, target.text,
                     entry.since, entry.reference, tuple(entry.sources), TIERS[tier])
