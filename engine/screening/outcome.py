"""One case's name screen: every list, the user's dispositions, and what the rules see.

The rules see two booleans. ``screen.entity_list`` is true on a block-tier hit or a
possible match the user confirmed, *unknown* while a possible match is neither
confirmed nor cleared (so the verdict is needs_information and the decision says which
entry to check), and false otherwise. ``screen.approved_customer_list`` is true only on
an exact allow-list hit. The report says which lists (and which copy of each) were
screened, and says plainly when only the shipped sample was.
"""

from __future__ import annotations

import datetime as dt
import weakref
from dataclasses import dataclass, field

from chipclear.model.case import Case
from chipclear.model.decision import (
    ClearedMatch,
    ListSourceStamp,
    ScreenedList,
    ScreeningReport,
)
from chipclear.pack.loader import RulePack, Text
from chipclear.screening.match import ListMatch, Tier, screen, screen_allowed
from chipclear.screening.normalise import mixed_script


@dataclass
class CaseScreening:
    """The outcome of screening one case's buyer names."""

    entity_list: bool | None  # the value of screen.entity_list; None = unknown
    approved: ListMatch | None
    hits: list[ListMatch] = field(default_factory=list)  # block tier, then open reviews
    confirmed: list[ListMatch] = field(default_factory=list)
    report: ScreeningReport | None = None

    @property
    def open_reviews(self) -> list[ListMatch]:
        return [m for m in self.hits if m.tier is Tier.review and m not in self.confirmed]

    @property
    def deciding(self) -> ListMatch | None:
        """The match that makes screen.entity_list true, if any."""
        blocks = [m for m in self.hits if m.tier is Tier.block] + self.confirmed
        return blocks[0] if blocks else None


def _lists(pack: RulePack) -> list[ScreenedList]:
    shipped = ScreenedList(
        list_id=pack.entity_list.list.id, title=pack.entity_list.list.title,
        kind="shipped_sample", entries=len(pack.entity_list.entries),
        version=pack.manifest.version)
    approved = ScreenedList(
        list_id=pack.approved_customers.list.id, title=pack.approved_customers.list.title,
        kind="user_maintained", entries=len(pack.approved_customers.entries),
        version=pack.manifest.version)
    out = [shipped]
    imported = pack.imported_list
    if imported is not None:
        out.append(ScreenedList(
            list_id="us-csl", title="US Consolidated Screening List (trade.gov), imported",
            kind="imported", entries=len(imported.parties), imported_on=imported.imported_on,
            sha256=imported.sha256, source_file=imported.source_file,
            sources=[ListSourceStamp(source=s.source, last_updated=s.last_updated,
                                     entries=s.entries) for s in imported.sources]))
    return [*out, approved]


def _note(pack: RulePack) -> Text:
    n = len(pack.entity_list.entries)
    imported = pack.imported_list
    if imported is None:
        return Text(
            en=f"Screened only against the shipped SAMPLE of the Entity List ({n} entries), "
               "not the full list: import the Consolidated Screening List with "
               "`chipclear lists import consolidated.json` to screen every listed party.",
            zh=f"仅对照随附的实体清单样本（{n}条）筛查，并非完整清单：请用 "
               "`chipclear lists import consolidated.json` 导入综合筛查清单以筛查全部主体。")
    undated = [s.source for s in imported.sources if s.last_updated is None]
    stale = "; the file gives no last-updated date for " + ", ".join(undated) if undated else ""
    stale_zh = "；文件未注明以下来源的更新日期：" + "、".join(undated) if undated else ""
    return Text(
        en=f"Screened against the Consolidated Screening List imported on "
           f"{imported.imported_on} ({len(imported.parties)} entries, snapshot sha256 "
           f"{imported.sha256[:12]}…){stale}, and the shipped Entity List sample ({n} entries).",
        zh=f"已对照{imported.imported_on}导入的综合筛查清单（{len(imported.parties)}条，快照 "
           f"sha256 {imported.sha256[:12]}…）{stale_zh}及随附实体清单样本（{n}条）筛查。")


#: Each live pack's screened lists and note, built once: they depend on the pack alone.
#: Keyed by the pack's identity (a pack is not hashable); the weak reference tells a
#: pack that died from a new one that took its address.
_PER_PACK: dict[int, tuple[weakref.ref[RulePack], list[ScreenedList], Text]] = {}


def _lists_and_note(pack: RulePack) -> tuple[list[ScreenedList], Text]:
    known = _PER_PACK.get(id(pack))
    if known is None or known[0]() is not pack:
        for key in [k for k, (ref, _, _) in _PER_PACK.items() if ref() is None]:
            del _PER_PACK[key]
        known = _PER_PACK[id(pack)] = (weakref.ref(pack), _lists(pack), _note(pack))
    return known[1], known[2]


def screen_case(case: Case, pack: RulePack, as_of: dt.date) -> CaseScreening | None:
    """Screen the buyer's names; None when the case names no buyer yet."""
    names = [case.buyer.name, case.buyer.name_zh]
    if not any(n and n.strip() for n in names):
        return None
    hits = screen(names, pack.entity_list, as_of)
    if pack.imported_list is not None:
        hits += pack.imported_list.index.screen(names, as_of)
    hits.sort(key=lambda m: (m.tier is not Tier.block, m.list_id != "us-entity-list"))
    review = case.screening
    confirmed = [m for m in hits if m.tier is Tier.review and m.entry_id in review.confirmed]
    cleared: list[ClearedMatch] = []
    kept: list[ListMatch] = []
    for m in hits:
        if m.entry_id in review.cleared:
            cleared.append(ClearedMatch(
                entry_id=m.entry_id, list_id=m.list_id, entry_name=m.entry_name,
                matched_name=m.matched_name, matched_on=m.matched_on, how=m.how.value,
                reason=review.reason or "", applied=m.tier is Tier.review))
            if m.tier is Tier.review:
                continue
        kept.append(m)
    result = CaseScreening(None, screen_allowed(names, pack.approved_customers, as_of), kept,
                           confirmed)
    if result.deciding is not None:
        result.entity_list = True
    elif not result.open_reviews:
        result.entity_list = False
    flags = [Text(en=f"The name '{n}' mixes Latin with Cyrillic or Greek letters, a common "
                     "way to disguise a listed name.",
                  zh=f"名称“{n}”混用拉丁字母与西里尔或希腊字母，这是伪装受限名称的常见手法。")
             for n in names if n and mixed_script(n)]
    lists, note = _lists_and_note(pack)
    result.report = ScreeningReport(
        lists=lists, note=note, cleared=cleared,
        confirmed=[m.entry_id for m in confirmed], red_flags=flags)
    return result
