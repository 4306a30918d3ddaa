"""Folding a party name to the forms screening compares, so spelling tricks change nothing.

A listed party evades a name screen by writing its name another way: a Cyrillic ``а`` in
``Huawei``, an accent, full-width letters, a zero-width space, traditional characters,
``S0phgo``, ``BirenTech``, words in another order. Each name is therefore folded once,
on both sides, into:

- ``core``: NFKD with combining marks and format characters (zero-width joiners) dropped,
  case folded, traditional Chinese converted to simplified (OpenCC ``t2s``),
  apostrophes and dots removed, other punctuation made a space, place-only parentheses
  and trailing legal forms dropped. Equal cores are the *same name*.
- ``skeleton``: the core of the name after every non-ASCII letter that looks like an ASCII
  one is replaced by it (Unicode TR39 confusables, from ``confusable-homoglyphs``), with
  digits read as the letters they imitate. Equal skeletons are *look-alike* names.
- ``sorted``: the core's words in order, to find reordered names.

Every step is linear in the name's length. The word lists are data
(``vocabulary.yaml``).
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import cache, cached_property, lru_cache
from importlib.resources import files
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from opencc import OpenCC

_CJK = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")
_NON_WORD = re.compile(r"[^\w]+|_")
_PAREN = re.compile(r"\(([^()]*)\)")
_IDEOGRAPHIC = frozenset(("HAN", "HIRAGANA", "KATAKANA", "HANGUL", "BOPOMOFO"))


@dataclass(frozen=True)
class Vocabulary:
    """The word lists of ``vocabulary.yaml``, as sets and longest-first tuples."""

    legal_en: tuple[str, ...]
    legal_zh: tuple[str, ...]
    legal_synonyms: dict[str, str]
    places: frozenset[str]
    places_zh: tuple[str, ...]
    generic_en: frozenset[str]
    generic_zh: tuple[str, ...]
    common: frozenset[str]
    digits: dict[str, str]
    apostrophes: str

    @cached_property
    def legal_en_set(self) -> frozenset[str]:
        return frozenset(self.legal_en)

    @cached_property
    def legal_zh_set(self) -> frozenset[str]:
        return frozenset(self.legal_zh)

    @cached_property
    def longest_place_zh(self) -> int:
        return max(map(len, self.places_zh), default=0)

    @cached_property
    def not_distinctive(self) -> frozenset[str]:
        """Words that never identify a party on their own."""
        return self.generic_en | self.common | self.places | frozenset(self.legal_en) | \
            frozenset(self.generic_zh) | frozenset(self.legal_zh)

    @cached_property
    def dropped(self) -> frozenset[str]:
        """Words left out of a name's distinctive residue (common names stay in it)."""
        return self.generic_en | self.places | frozenset(self.legal_en)

    @cached_property
    def cjk_not_distinctive(self) -> tuple[str, ...]:
        """Chinese words removed, longest first, when testing a CJK word for distinctiveness."""
        common = sorted((w for w in self.common if _CJK.search(w)), key=len, reverse=True)
        return (*self.generic_zh, *self.places_zh, *self.legal_zh, *common)


@dataclass(frozen=True)
class Tables:
    """What folding needs that is slow to build (a YAML file, the Unicode confusables),
    picklable: the pack cache keeps them with the indexes they folded."""

    vocabulary: Vocabulary
    skeleton: dict[int, str]
    pre_skeleton: dict[int, str]
    scripts: dict[int, str]


_given: Tables | None = None


def tables() -> Tables:
    """The tables folding uses now (built on first use)."""
    return Tables(vocabulary(), _skeleton_map(), _pre_skeleton_map(), _script_table())


def use_tables(given: Tables) -> None:
    """Fold with ``given`` from now on (tables built earlier from the same vocabulary and
    confusables data), instead of building them again."""
    global _given
    _given = given
    for cached in (vocabulary, _skeleton_map, _pre_skeleton_map, _script_table, _script, fold):
        cached.cache_clear()


@cache
def vocabulary() -> Vocabulary:
    if _given is not None:
        return _given.vocabulary
    import yaml  # here, not at import: a pack from the cache brings the parsed tables

    raw: dict[str, Any] = yaml.load(
        files("chipclear.screening").joinpath("vocabulary.yaml").read_text(encoding="utf-8"),
        Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))  # our data file: libyaml

    def longest_first(words: list[str]) -> tuple[str, ...]:
        return tuple(sorted(words, key=len, reverse=True))

    places = [str(p) for p in raw["places"]]
    return Vocabulary(
        legal_en=longest_first(raw["legal_forms"]["en"]),
        legal_zh=longest_first(raw["legal_forms"]["zh"]),
        legal_synonyms={str(k): str(v) for k, v in raw["legal_form_synonyms"].items()},
        places=frozenset(places),
        places_zh=longest_first([p for p in places if _CJK.search(p)]),
        generic_en=frozenset(raw["generic"]["en"]),
        generic_zh=longest_first(raw["generic"]["zh"]),
        common=frozenset(str(w) for w in raw["generic"]["common_names"]),
        digits={str(k): str(v) for k, v in raw["digits_for_letters"].items()},
        apostrophes=str(raw["apostrophes"]),
    )


@cache
def _t2s() -> OpenCC:
    from opencc import OpenCC  # only names with Chinese characters need it

    return OpenCC("t2s")


@cache
def _skeleton_map() -> dict[int, str]:
    """Non-ASCII characters that look like an ASCII letter or digit, to that character.

    Built from the Unicode confusables data ``confusable-homoglyphs`` ships (TR39); only
    mappings onto ASCII are kept, since the listed names screened here are ASCII or CJK.
    """
    if _given is not None:
        return _given.skeleton
    from confusable_homoglyphs import categories, confusables  # ~40 ms of JSON: when used

    table: dict[int, str] = {}
    for char, glyphs in confusables.confusables_data.items():
        if len(char) != 1 or char.isascii() or categories.alias(char) in _IDEOGRAPHIC:
            continue
        for glyph in glyphs:
            target = glyph["c"].replace("\u200e", "")
            if len(target) == 1 and target.isascii() and target.isalnum():
                table[ord(char)] = target
                break
    return table


@cache
def _pre_skeleton_map() -> dict[int, str]:
    """Look-alikes that NFKD would turn into something else that is not ASCII (Greek "ϲ"),
    mapped before decomposition; those NFKD reads as an ASCII letter keep that reading."""
    if _given is not None:
        return _given.pre_skeleton
    return {k: v for k, v in _skeleton_map().items()
            if not unicodedata.normalize("NFKD", chr(k)).isascii()}


def _strip_marks(text: str) -> str:
    """NFKD, then drop combining marks (accents) and format characters (zero-width)."""
    decomposed = unicodedata.normalize("NFKD", text)
    kept = "".join(c for c in decomposed if unicodedata.category(c) not in ("Mn", "Me", "Cf"))
    return unicodedata.normalize("NFC", kept)


def to_simplified(text: str) -> str:
    """Traditional Chinese to simplified; other text is returned unchanged."""
    return _t2s().convert(text) if _CJK.search(text) else text


@lru_cache(maxsize=4096)  # a batch screens the same few buyer names again and again
def mixed_script(text: str) -> bool:
    """Latin letters mixed with Cyrillic or Greek ones: a classic look-alike disguise."""
    scripts = {"LATIN" if c.isascii() else _script(c) for c in set(text) if c.isalpha()}
    return "LATIN" in scripts and bool(scripts & {"CYRILLIC", "GREEK"})


#: The scripts ``mixed_script`` tells apart; any other letter is "OTHER" to it.
_MIXED_SCRIPTS = frozenset(("LATIN", "CYRILLIC", "GREEK"))


@lru_cache(maxsize=4096)
def _script(char: str) -> str:
    """The Unicode script of a non-ASCII letter if it is Latin, Cyrillic or Greek, else
    "OTHER" (all ``mixed_script`` asks)."""
    return _script_table().get(ord(char), "OTHER")


@cache
def _script_table() -> dict[int, str]:
    """Every non-ASCII letter of the Latin, Cyrillic and Greek scripts, to its script,
    from the Unicode Scripts data ``confusable-homoglyphs`` ships (a few thousand)."""
    if _given is not None:
        return _given.scripts
    from confusable_homoglyphs import categories

    data = categories.categories_data
    table: dict[int, str] = {}
    for first, last, script, _ in data["code_points_ranges"]:
        alias = data["iso_15924_aliases"][script]
        if alias in _MIXED_SCRIPTS:
            table.update((c, alias) for c in range(max(first, 0x80), last + 1)
                         if chr(c).isalpha())
    return table


def _words(text: str, *, keep_parens: bool) -> str:
    """Case-folded, simplified, punctuation-free text, words separated by one space."""
    vocab = vocabulary()
    folded = to_simplified(text.casefold())
    folded = unicodedata.normalize("NFKC", folded)  # "（北京）" -> "(北京)"
    for mark in vocab.apostrophes:
        folded = folded.replace(mark, "")
    folded = folded.replace(".", "")

    def paren(m: re.Match[str]) -> str:
        inner = " ".join(_NON_WORD.sub(" ", m.group(1)).split())
        return " " if not keep_parens and inner in vocab.places else f" {inner} "

    folded = _PAREN.sub(paren, folded)
    folded = _NON_WORD.sub(" ", folded)
    # CJK next to Latin is a word boundary ("智谱AI" -> "智谱 ai").
    folded = re.sub(r"(?<=[\u3400-\u9fff])(?=[a-z0-9])|(?<=[a-z0-9])(?=[\u3400-\u9fff])",
                    " ", folded)
    return " ".join(folded.split())


def strip_legal_forms(core: str) -> str:
    """Drop legal forms from the end of a name as often as they occur (set lookups on the
    last words or characters, so the cost does not grow with the vocabulary)."""
    vocab = vocabulary()
    if core.startswith("the "):
        core = core[4:]
    en, zh = vocab.legal_en_set, vocab.legal_zh_set
    longest_zh = max(map(len, zh), default=0)
    changed = True
    while changed and core:
        changed = False
        words = core.rsplit(" ", 3)
        for n in (3, 2, 1):
            if len(words) > n and " ".join(words[-n:]) in en:
                core, changed = " ".join(words[:-n]), True
                break
        if changed or not is_cjk(core[-1:]):
            continue
        for k in range(min(longest_zh, len(core) - 1), 1, -1):
            if core[-k:] in zh:
                core, changed = core[:-k].rstrip(), True
                break
    return core


def without_place(core: str) -> str | None:
    """The core without a leading place name, or None when there is none to drop."""
    vocab = vocabulary()
    head, _, rest = core.partition(" ")
    if rest and head in vocab.places:
        return rest
    if is_cjk(core[:1]):
        for k in range(min(vocab.longest_place_zh, len(core) - 2), 1, -1):
            if core[:k] in vocab.places:
                return core[k:].lstrip()
    return None


def loose(compact: str) -> str:
    """Digits read as the letters they imitate, inside words that also have letters."""
    if not any(c.isdigit() for c in compact):
        return compact
    table = vocabulary().digits
    return "".join(table.get(c, c) for c in compact)


def _loose_words(core: str) -> str:
    """``loose`` applied per word: "360 s0phgo" keeps the number, reads "s0phgo" as "sophgo"."""
    out = []
    for word in core.split(" "):
        if any(c.isalpha() for c in word):
            out.append(loose(word))
        else:
            out.append(word)
    return " ".join(out)


def is_cjk(text: str) -> bool:
    return _CJK.search(text) is not None


def not_distinctive(core: str) -> bool:
    """A name made only of generic words, common names, places and legal forms."""
    vocab = vocabulary()
    stop = vocab.not_distinctive
    for word in core.split(" "):
        if word in stop or not word:
            continue
        if is_cjk(word):
            rest = word
            for zh in vocab.cjk_not_distinctive:
                if zh in rest:
                    rest = rest.replace(zh, "")
            if rest:
                return False
            continue
        return False
    return True


def distinctive(core: str) -> str:
    """What tells a name apart, run together: no leading place, generic words, legal forms.

    Near spellings are compared on this, so "National Supercomputing Center Hefei" is not
    "near" "... Wuxi" merely because the common words agree.
    """
    vocab = vocabulary()
    core = without_place(core) or core
    text = "".join(w for w in core.split(" ") if w not in vocab.dropped)
    if is_cjk(text):
        for zh in (*vocab.generic_zh, *vocab.legal_zh):
            text = text.replace(zh, "")
    return text


def only_common(text: str) -> bool:
    """Whether a distinctive residue is nothing but common names ("sunway", "浪潮")."""
    common = vocabulary().common
    rest = text
    for word in sorted(common, key=len, reverse=True):
        rest = rest.replace(word, "")
    return not rest


def split_joined(core: str) -> str:
    """Words run together split where a vocabulary word starts or ends them ("birentech")."""
    vocab = vocabulary()
    joiners = sorted((w for w in vocab.generic_en | vocab.places | vocab.common
                      if " " not in w and len(w) >= 3 and w.isascii()), key=len, reverse=True)
    out: list[str] = []
    for word in core.split(" "):
        if not word.isascii() or len(word) < 7:
            out.append(word)
            continue
        for j in joiners:
            if word.endswith(j) and len(word) - len(j) >= 3:
                word = f"{word[: -len(j)]} {j}"
                break
            if word.startswith(j) and len(word) - len(j) >= 3:
                word = f"{j} {word[len(j):]}"
                break
        out.append(word)
    return " ".join(out)


@dataclass(frozen=True)
class Folded:
    """One name folded every way the screening tiers compare it."""

    text: str
    core: str
    skeleton: str  # core of the look-alike fold, digits read as letters
    mixed_script: bool

    @cached_property
    def compact(self) -> str:
        return self.core.replace(" ", "")

    @cached_property
    def bare(self) -> str | None:
        """Compact core without a leading place name."""
        rest = without_place(self.core)
        return None if rest is None else rest.replace(" ", "")

    @cached_property
    def skeleton_compact(self) -> str:
        return self.skeleton.replace(" ", "")

    @cached_property
    def skeleton_bare(self) -> str | None:
        rest = without_place(self.skeleton)
        return None if rest is None else rest.replace(" ", "")

    @cached_property
    def distinctive(self) -> str:
        """The look-alike fold's distinctive residue (see ``distinctive``)."""
        return distinctive(self.skeleton)

    @cached_property
    def sorted_words(self) -> str:
        return " ".join(sorted(self.core.split(" ")))

    @cached_property
    def generic(self) -> bool:
        """One or two words that name no party on their own ("Suma", "浪潮", "Dawning Co");
        a longer phrase of common words ("Harbin Institute of Technology") is a name."""
        return len(self.core.split(" ")) <= 2 and not_distinctive(self.core)


@lru_cache(maxsize=65536)
def fold(text: str) -> Folded:
    """Fold a party name for screening (see the module docstring)."""
    if text.isascii():  # no marks, format characters or look-alikes to resolve
        core = strip_legal_forms(_words(text, keep_parens=False))
        return Folded(text, core, _loose_words(core), False)
    plain = _strip_marks(text)
    core = strip_legal_forms(_words(plain, keep_parens=False))
    look = _strip_marks(text.translate(_pre_skeleton_map())).translate(_skeleton_map())
    skeleton = _loose_words(strip_legal_forms(_words(look, keep_parens=False)))
    return Folded(text, core, skeleton, mixed_script(text))


def full_name_key(text: str) -> str:
    """A name's exact identity for allow lists: folded, legal form kept (Inc. is not Ltd.)."""
    words = _words(_strip_marks(text), keep_parens=True).split(" ")
    synonyms = vocabulary().legal_synonyms
    return "".join(synonyms.get(w, w) for w in words)
