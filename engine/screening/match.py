"""Screening names against lists: the Entity List (shipped or imported) and allow lists.

Lists are data (``rules/lists/``, or a Consolidated Screening List import) and are matched
here, in Python, never as one rule per name. A false hit blocks a lawful purchase, a missed
one lets a listed party through, so matches come in two tiers with honest consequences:

- **block**: a listed name or alias is the buyer's name once both are folded
  (``normalise.fold``: accents, width, case, punctuation, zero-width characters,
  traditional/simplified Chinese, legal forms, a leading place name).
- **review** (a *possible match*): the name is a look-alike (confusable letters, digits for
  letters), the same words reordered, contains a listed name, or is a near spelling. It
  never passes silently and never blocks by itself: the decision waits for the user to
  confirm or clear it. An exact hit on an alias made only of common words ("Suma",
  "浪潮") is also only a possible match, and such an alias never matches by containment
  or similarity unless everything else in the buyer's name is generic too.

Allow lists (approved customers) match only exactly: the full name with its legal form,
or the entry id. Every lookup goes through an index, so a case costs time linear in the
name's length and a few lookups, however long the list.
"""

from __future__ import annotations

import bisect
import builtins
import datetime as dt
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from functools import cached_property
from typing import Annotated, Generic, TypeVar

from chipclear.errors import Location, RulePackError
from chipclear.io.yamlload import locate
from chipclear.model.strict import StrictModel
from chipclear.pack.sources import SourceId
from chipclear.screening.normalise import (
    Folded,
    fold,
    full_name_key,
    is_cjk,
    not_distinctive,
    only_common,
    split_joined,
)
from pydantic import Field, ValidationError
from rapidfuzz import fuzz, process

_T = TypeVar("_T")

EntryId = Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9-]*$", max_length=80)]




class Jurisdiction(StrEnum):
    US = "US"
    CN = "CN"


class ListHeader(StrictModel):
    """Which list this is and who keeps it; the sources say where the list comes from."""

    id: EntryId
    title: str = Field(min_length=1)
    jurisdiction: Jurisdiction
    sources: list[SourceId] = Field(default_factory=list)


class ListEntry(StrictModel):
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


class Tier(StrEnum):
    """What a match does: block the purchase, or wait for a reviewer."""

    block = "block"
    review = "review"


class How(StrEnum):
    """How the buyer's name matched, closest first."""

    exact = "exact"
    confusable = "confusable"
    reordered = "reordered"
    contained = "contained"
    similar = "similar"


_HOW_ORDER = list(How)
#: Near spellings at or above this rapidfuzz ratio (0-100) are possible matches.
SIMILAR_RATIO = 90.0
_MIN_SIMILAR = 6  # characters of the compact name, both sides
_MIN_ASCII_CONTAINED = 4
_MIN_CJK_CONTAINED = 2
#: Possible matches reported per list, best first.
MAX_REVIEW = 5


@dataclass(frozen=True)
class Citation:
    """Where an imported party's listing is published (it has no pack source id)."""

    name: str
    date: dt.date
    url: str


@dataclass(frozen=True)
class Party:
    """One listed party as screening sees it, from a list file or an import."""

    list_id: str
    entry_id: str
    name: str
    names: tuple[str, ...]  # the full names first, then aliases
    full_names: int  # how many leading ``names`` are full names (an exact hit always blocks)
    since: dt.date | None
    until: dt.date | None = None
    reference: str | None = None
    sources: tuple[str, ...] = ()
    citation: Citation | None = None
    #: False for lists whose listing alone does not block here (e.g. OFAC rows of an
    #: imported CSL): any hit on them is a possible match for review.
    blocks: bool = True
    #: Only the exact and look-alike tiers (individuals: a company name that merely
    #: resembles a person's is no reason to hold a purchase).
    exact_only: bool = False

    @classmethod
    def of(cls, list_id: str, entry: ListEntry) -> Party:
        full = tuple(n for n in (entry.name, entry.name_zh) if n)
        return cls(list_id, entry.id, entry.name, full + tuple(entry.aliases), len(full),
                   entry.since, entry.until, entry.reference, tuple(entry.sources))

    def in_force(self, as_of: dt.date) -> bool:
        return (self.since is None or self.since <= as_of) and (
            self.until is None or as_of < self.until)


@dataclass(frozen=True)
class ListMatch:
    """A hit: which party, which of the buyer's names, on which listed name, and how."""

    list_id: str
    entry_id: str
    entry_name: str
    matched_name: str
    matched_on: str
    since: dt.date | None
    reference: str | None
    sources: tuple[str, ...]
    how: How = How.exact
    tier: Tier = Tier.block
    score: float = 100.0
    citation: Citation | None = None


@dataclass(frozen=True)
class _Target:
    party: int
    name: int
    folded: Folded
    words: tuple[str, ...]  # skeleton words
    generic: bool  # nothing distinctive once generic words, places and legal forms go
    full: bool  # a full name of the party, not an alias
    anchor: int = 0  # the word containment looks up: the first distinctive one


def _rank(how: How, tier: Tier, score: float, name: int, given: int) -> tuple[int, int, float,
                                                                             int, int]:
    return (0 if tier is Tier.block else 1, _HOW_ORDER.index(how), -score, name, given)


@dataclass
class _ByLength:
    """Keys grouped by (length, first letter) and (length, last letter): a near spelling
    keeps one end of the name (one changed letter cannot change both), and only lengths a
    ratio of ``SIMILAR_RATIO`` can reach are visited."""

    keys: dict[tuple[int, str, str], tuple[list[str], list[int]]] = field(default_factory=dict)
    lengths: list[int] = field(default_factory=list)

    def add(self, key: str, pos: int) -> None:
        if len(key) < _MIN_SIMILAR:
            return
        if len(key) not in self.lengths:
            bisect.insort(self.lengths, len(key))
        for end in (("^", key[0]), ("$", key[-1])):
            keys, positions = self.keys.setdefault((len(key), *end), ([], []))
            keys.append(key)
            positions.append(pos)

    def near(self, key: str) -> Iterable[int]:
        """Positions of keys at or above ``SIMILAR_RATIO`` (rapidfuzz ratio) to ``key``."""
        n = len(key)
        if n < _MIN_SIMILAR:
            return
        # ratio = 2*matches/(n+m) >= r needs r/(2-r)*n <= m <= (2-r)/r*n
        r = SIMILAR_RATIO / 100
        lo = bisect.bisect_left(self.lengths, r / (2 - r) * n)
        hi = bisect.bisect_right(self.lengths, (2 - r) / r * n)
        seen: set[int] = set()
        for length in self.lengths[lo:hi]:
            for end in (("^", key[0]), ("$", key[-1])):
                keys, positions = self.keys.get((length, *end), ((), ()))
                for _, _, i in process.extract(key, keys, scorer=fuzz.ratio,
                                               score_cutoff=SIMILAR_RATIO, limit=None):
                    if positions[i] not in seen:
                        seen.add(positions[i])
                        yield positions[i]


_MemoKey = tuple[tuple[str | None, ...], dt.date]


class _Memo(Generic[_T]):
    """Screening answers per (names, date), bounded: a list's answer to the same names on
    the same day never changes, and a batch asks about the same few buyers again and
    again. Cleared whole when full (a long batch of distinct names just recomputes)."""

    LIMIT = 4096

    def __init__(self) -> None:
        self._answers: dict[_MemoKey, _T] = {}

    def __contains__(self, key: _MemoKey) -> bool:
        return key in self._answers

    def get(self, key: _MemoKey) -> _T | None:
        return self._answers.get(key)

    def put(self, key: _MemoKey, answer: _T) -> _T:
        if len(self._answers) >= self.LIMIT:
            self._answers.clear()
        self._answers[key] = answer
        return answer


@dataclass
class Index:
    """Listed names by the key each tier looks up; built once per list."""

    parties: list[Party]
    targets: list[_Target] = field(default_factory=list)
    exact: dict[str, list[int]] = field(default_factory=lambda: defaultdict(list))
    exact_bare: dict[str, list[int]] = field(default_factory=lambda: defaultdict(list))
    look: dict[str, list[int]] = field(default_factory=lambda: defaultdict(list))
    look_bare: dict[str, list[int]] = field(default_factory=lambda: defaultdict(list))
    reordered: dict[str, list[int]] = field(default_factory=lambda: defaultdict(list))
    first_word: dict[str, list[int]] = field(  # by anchor word
        default_factory=lambda: defaultdict(list))
    cjk_prefix: dict[str, list[int]] = field(default_factory=lambda: defaultdict(list))
    #: for the similarity tier: distinctive residues of the look-alike folds and, for names
    #: whose residue is only a common word, the whole folded name
    similar_distinctive: _ByLength = field(default_factory=lambda: _ByLength())
    similar_full: _ByLength = field(default_factory=lambda: _ByLength())
    #: Answers already given: a batch screens the same few buyers again and again.
    memo: _Memo[builtins.tuple[ListMatch, ...]] = field(
        default_factory=lambda: _Memo(), repr=False, compare=False)

    @classmethod
    def build(cls, parties: Sequence[Party]) -> Index:
        index = cls(list(parties))
        fuzzy, full = index.similar_distinctive, index.similar_full
        for p, party in enumerate(index.parties):
            for n, text in enumerate(party.names):
                folded = fold(text)
                if not folded.core:
                    continue
                pos = len(index.targets)
                words = tuple(folded.skeleton.split(" "))
                anchor = next((i for i, w in enumerate(words) if not not_distinctive(w)), 0)
                target = _Target(p, n, folded, words, folded.generic, n < party.full_names,
                                 anchor)
                index.targets.append(target)
                index.exact[folded.compact].append(pos)
                if folded.bare:
                    index.exact_bare[folded.bare].append(pos)
                index.look[folded.skeleton_compact].append(pos)
                if folded.skeleton_bare:
                    index.look_bare[folded.skeleton_bare].append(pos)
                if party.exact_only:
                    continue
                if target.generic:
                    # Only containment with an otherwise generic name can reach it.
                    index._index_contained(pos, target)
                    continue
                if len(words) > 1:
                    index.reordered[" ".join(sorted(words))].append(pos)
                index._index_contained(pos, target)
                key = folded.distinctive
                if len(key) >= _MIN_SIMILAR and not only_common(key):
                    fuzzy.add(key, pos)
                elif key:  # "Sunway Microelectronics": compare the whole name, not "sunway"
                    full.add(folded.skeleton_compact, pos)
                # Nothing but generic words and a place ("Wuxi National Supercomputing
                # Center"): the place is what tells it apart, so no near spelling of it.
        return index

    def _index_contained(self, pos: int, target: _Target) -> None:
        compact = target.folded.skeleton_compact
        if is_cjk(compact):
            if len(compact) >= _MIN_CJK_CONTAINED:
                self.cjk_prefix[compact[:2]].append(pos)
        elif len(compact) >= _MIN_ASCII_CONTAINED:
            self.first_word[target.words[target.anchor]].append(pos)

    def hits(self, given: Folded) -> dict[int, tuple[How, Tier, float]]:
        """Every listed name this buyer name hits, with how and the tier it earns."""
        found: dict[int, tuple[How, Tier, float]] = {}

        def add(pos: int, how: How, tier: Tier | None = None,
                score: float | None = None) -> None:
            if pos in found:
                return
            target = self.targets[pos]
            if tier is None:
                tier = Tier.block if how is How.exact and (target.full or not target.generic) \
                    else Tier.review
            if score is None:
                score = 100.0 if how is How.exact else fuzz.ratio(
                    given.skeleton_compact, target.folded.skeleton_compact)
            found[pos] = (how, tier, round(score, 1))

        for pos in self.exact.get(given.compact, ()):
            add(pos, How.exact)
        # Equal once a leading place name is dropped from either side: same tier, and
        # scored just below so a literal equal name is the one reported.
        bare = (*self.exact_bare.get(given.compact, ()),
                *(self.exact.get(given.bare, ()) if given.bare else ()))
        for pos in bare:
            add(pos, How.exact, score=99.0)
        look = (*self.look.get(given.skeleton_compact, ()),
                *self.look_bare.get(given.skeleton_compact, ()))
        if given.skeleton_bare:
            look = (*look, *self.look.get(given.skeleton_bare, ()))
        for pos in look:
            add(pos, How.confusable, Tier.review)
        words = given.skeleton.split(" ")
        for pos in self.reordered.get(" ".join(sorted(words)), ()):
            add(pos, How.reordered, Tier.review)
        for skeleton in dict.fromkeys((given.skeleton, split_joined(given.skeleton))):
            for pos in self._contained(skeleton):
                add(pos, How.contained, Tier.review)
        for pos in self.similar_distinctive.near(given.distinctive):
            add(pos, How.similar, Tier.review)
        for key in dict.fromkeys((given.skeleton_compact, given.skeleton_bare or "")):
            for pos in self.similar_full.near(key):
                add(pos, How.similar, Tier.review)
        return found

    def _contained(self, skeleton: str) -> Iterable[int]:
        """Listed names whole inside the buyer's name (ASCII at word boundaries).

        A listed name made only of common words ("Suma", "浪潮") counts only when the
        rest of the buyer's name is generic too; since its own words are all generic,
        that is whether the buyer's whole name is, decided once (linear time).
        """
        generic_name: list[bool] = []

        def allowed(target: _Target) -> bool:
            if not target.generic:
                return True
            if not generic_name:
                generic_name.append(not_distinctive(skeleton))
            return generic_name[0]

        words = skeleton.split(" ")
        for i, word in enumerate(words):
            for pos in self.first_word.get(word, ()):
                target = self.targets[pos]
                start = i - target.anchor
                if start >= 0 and tuple(words[start:start + len(target.words)]) == \
                        target.words and allowed(target):
                    yield pos
        compact = skeleton.replace(" ", "")
        if not is_cjk(compact):
            return
        for j in range(len(compact) - 1):
            for pos in self.cjk_prefix.get(compact[j:j + 2], ()):
                target = self.targets[pos]
                if compact.startswith(target.folded.skeleton_compact, j) and allowed(target):
                    yield pos

    def screen(self, names: Iterable[str | None], as_of: dt.date) -> builtins.list[ListMatch]:
        """The best hit per party in force on ``as_of``: blocks first, then possible matches
        (at most ``MAX_REVIEW``), each with the buyer's name and the listed name it hit."""
        key = (builtins.tuple(names), as_of)
        found = self.memo.get(key)
        if found is None:
            found = self.memo.put(key, builtins.tuple(self._screen(key[0], as_of)))
        return builtins.list(found)

    def _screen(self, names: Iterable[str | None], as_of: dt.date) -> builtins.list[ListMatch]:
        given = [fold(n) for n in names if n and n.strip()]
        best: dict[int, tuple[tuple[int, int, float, int, int], int, int, How, Tier, float]] = {}
        for g, name in enumerate(given):
            if not name.core:
                continue
            for pos, (how, tier, score) in self.hits(name).items():
                target = self.targets[pos]
                party = self.parties[target.party]
                if not party.in_force(as_of):
                    continue
                if not party.blocks:
                    tier = Tier.review
                rank = _rank(how, tier, score, target.name, g)
                if target.party not in best or rank < best[target.party][0]:
                    best[target.party] = (rank, pos, g, how, tier, score)
        ordered = sorted(best.items(), key=lambda kv: (kv[1][0], kv[0]))
        out: builtins.list[ListMatch] = []
        reviews = 0
        for p, (_, pos, g, how, tier, score) in ordered:
            if tier is Tier.review:
                reviews += 1
                if reviews > MAX_REVIEW:
                    break
            party = self.parties[p]
            target = self.targets[pos]
            out.append(ListMatch(
                party.list_id, party.entry_id, party.name, given[g].text,
                party.names[target.name], party.since, party.reference, party.sources,
                how, tier, score, party.citation))
        return out


@dataclass
class AllowIndex:
    """An allow list's parties by exact full-name key and by entry id."""

    parties: list[Party]
    by_key: dict[str, list[int]] = field(default_factory=lambda: defaultdict(list))
    by_id: dict[str, int] = field(default_factory=dict)
    memo: _Memo[ListMatch | None] = field(default_factory=lambda: _Memo(), repr=False,
                                          compare=False)

    @classmethod
    def build(cls, parties: Sequence[Party]) -> AllowIndex:
        index = cls(list(parties))
        for p, party in enumerate(index.parties):
            index.by_id[party.entry_id] = p
            for text in party.names:
                key = full_name_key(text)
                if key:
                    index.by_key[key].append(p)
        return index

    def screen(self, names: Iterable[str | None], as_of: dt.date) -> ListMatch | None:
        """The approved party whose full name (or id) the buyer's name is, exactly."""
        key = (builtins.tuple(names), as_of)
        if key in self.memo:
            return self.memo.get(key)
        return self.memo.put(key, self._screen(key[0], as_of))

    def _screen(self, names: Iterable[str | None], as_of: dt.date) -> ListMatch | None:
        ids = self.by_id
        for text in (n.strip() for n in names if n and n.strip()):
            candidates = list(self.by_key.get(full_name_key(text), ()))
            if text in ids:
                candidates.append(ids[text])
            for p in sorted(set(candidates)):
                party = self.parties[p]
                if party.in_force(as_of):
                    on = next((n for n in party.names if full_name_key(n) == full_name_key(text)),
                              party.entry_id)
                    return ListMatch(party.list_id, party.entry_id, party.name, text, on,
                                     party.since, party.reference, party.sources)
        return None


class ScreeningList(StrictModel):
    """A ``rules/lists/*.yaml`` file: a header and dated entries."""

    list: ListHeader
    entries: builtins.list[ListEntry] = Field(default_factory=builtins.list)

    @cached_property
    def parties(self) -> builtins.list[Party]:
        return [Party.of(self.list.id, e) for e in self.entries]

    @cached_property
    def index(self) -> Index:
        """Every entry's names folded once and indexed, so a case costs lookups, not a scan."""
        return Index.build(self.parties)

    @cached_property
    def allow_index(self) -> AllowIndex:
        return AllowIndex.build(self.parties)


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
           as_of: dt.date) -> builtins.list[ListMatch]:
    """Block-tier hits first, then possible matches, against one list in force on ``as_of``."""
    return screening_list.index.screen(names, as_of)


def screen_allowed(names: Iterable[str | None], allow_list: ScreeningList,
                   as_of: dt.date) -> ListMatch | None:
    """An exact hit on an allow list (approved customers), or None."""
    return allow_list.allow_index.screen(names, as_of)
