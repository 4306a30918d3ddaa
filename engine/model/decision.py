"""The decision: chipclear's answer for one case. Its JSON form is a public contract."""

from __future__ import annotations

import datetime as dt
from enum import StrEnum

from chipclear.pack.loader import CnStatus, Jurisdiction, Severity, Text, UsStatus
from chipclear.pack.sources import Confidence
from pydantic import BaseModel, ConfigDict, Field

SCHEMA_ID = "https://chipclear.invalid/schema/decision-1.json"


class Verdict(StrEnum):
    go = "go"
    go_with_conditions = "go_with_conditions"
    no_go = "no_go"
    needs_information = "needs_information"


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class RulePackRef(_Model):
    id: str
    version: str
    sha256: str


class UsOutcome(_Model):
    status: UsStatus
    revenue_share_pct: float | None = None
    revenue_share_usd: float | None = None


class CnOutcome(_Model):
    status: CnStatus


class ItemOutcome(_Model):
    index: int
    chip: str
    chip_name: str
    eccn: str | None
    tpp: float | None
    performance_density: float | None
    us_status: UsStatus
    cn_status: CnStatus
    revenue_share_pct: float | None = None
    revenue_share_usd: float | None = None
    uncertain_figures: list[str] = Field(default_factory=list)
    figure_sources: list[str] = Field(default_factory=list)


class SourceRef(_Model):
    id: str
    name: str
    date: dt.date
    url: str
    confidence: Confidence


class ListHit(_Model):
    """Which list entry a buyer name matched, so the reviewer can check the match."""

    fact: str = Field(description="The screening fact it set, e.g. screen.entity_list.")
    list_id: str
    entry_id: str
    entry_name: str
    matched_name: str = Field(description="The buyer's name as given in the case.")
    matched_on: str = Field(description="The listed name or alias it matched.")
    how: str = Field(description="exact (same name once folded), confusable (look-alike "
                                 "letters or digits), reordered, contained (the listed name "
                                 "inside the buyer's) or similar (a near spelling).")
    tier: str = Field("block", description="block: the match decides; review: a possible "
                                           "match the user must confirm or clear "
                                           "(screening.confirmed / screening.cleared).")
    score: float | None = Field(None, description="Similarity of the folded names, 0-100.")
    since: dt.date | None = None
    reference: str | None = None
    sources: list[SourceRef]


class Finding(_Model):
    rule: str
    jurisdiction: Jurisdiction
    severity: Severity
    title: Text
    summary: Text | None = None
    items: list[int] = Field(default_factory=list, description="Order lines it concerns.")
    sources: list[SourceRef]
    confidence: Confidence
    because: list[str]
    derived_from: list[str] = Field(default_factory=list, description="Rules whose facts it used.")
    valid_from: dt.date
    valid_to: dt.date | None = None
    list_match: ListHit | None = Field(
        None, description="For a finding on a list match: the entry that matched, its listed "
                          "name, the buyer's name and the tier; its sources come first.")


class ConditionItem(_Model):
    rule: str
    text: Text


class Missing(_Model):
    fact: str
    question: Text
    rules: list[str]
    owner: str | None = Field(None, description="Who must answer, when not the buyer "
                                                "(exporter).")


class AlternativeCheck(_Model):
    requirement: str
    needed: str
    offered: str | None
    meets: bool | None


class DomesticAlternative(_Model):
    chip: str
    chip_name: str
    status: str
    meets_all: bool | None
    checks: list[AlternativeCheck]
    uncertain_figures: list[str] = Field(default_factory=list)


class ListSourceStamp(_Model):
    """One source inside an imported list, stamped with its own last-updated date."""

    source: str
    last_updated: dt.date | None = Field(
        None, description="As the snapshot stated it; null when the file does not say.")
    entries: int


class ScreenedList(_Model):
    """A list the buyer's names were screened against, and which copy of it."""

    list_id: str
    title: str
    kind: str = Field(description="shipped_sample (the pack's subset), imported (a "
                                  "Consolidated Screening List snapshot) or user_maintained.")
    entries: int
    version: str | None = Field(None, description="Rule-pack version of a shipped list.")
    imported_on: dt.date | None = None
    sha256: str | None = Field(None, description="SHA-256 of the imported snapshot file.")
    source_file: str | None = None
    sources: list[ListSourceStamp] = Field(default_factory=list)


class ClearedMatch(_Model):
    """A possible match the user cleared in the case, as recorded."""

    entry_id: str
    list_id: str
    entry_name: str
    matched_name: str
    matched_on: str
    how: str
    reason: str
    applied: bool = Field(description="False when the match was exact: an exact match "
                                      "cannot be cleared and still blocks.")


class ScreeningReport(_Model):
    """What the name screen covered and what the user decided about possible matches."""

    lists: list[ScreenedList]
    note: Text
    cleared: list[ClearedMatch] = Field(default_factory=list)
    confirmed: list[str] = Field(default_factory=list)
    red_flags: list[Text] = Field(default_factory=list)


class Decision(_Model):
    case_id: str
    as_of: dt.date
    rule_pack: RulePackRef
    verdict: Verdict
    us: UsOutcome
    cn: CnOutcome
    items: list[ItemOutcome]
    findings: list[Finding]
    conditions: list[ConditionItem]
    missing: list[Missing]
    domestic_alternatives: list[DomesticAlternative] = Field(default_factory=list)
    reported_only: list[str] = Field(
        default_factory=list, description="Findings whose sources are press reports or uncertain."
    )
    uncertain_figures: list[str] = Field(default_factory=list)
    list_matches: list[ListHit] = Field(
        default_factory=list, description="Screening-list entries the buyer's names matched.")
    screening: ScreeningReport | None = Field(
        None, description="Which lists were screened (and which copy), cleared or confirmed "
                          "possible matches, and red flags such as mixed-script names.")
