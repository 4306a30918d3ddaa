"""The decision: chipclear's answer for one case. Its JSON form is a public contract."""

from __future__ import annotations

import datetime as dt
from enum import StrEnum
from typing import Literal

from chipclear.model.strict import StrictModel
from chipclear.pack.loader import CnStatus, Jurisdiction, Owner, Severity, Text, UsStatus
from chipclear.pack.sources import Confidence
from pydantic import Field

SCHEMA_ID = "https://chipclear.invalid/schema/decision-1.json"


class Verdict(StrEnum):
    go = "go"
    go_with_conditions = "go_with_conditions"
    no_go = "no_go"
    needs_information = "needs_information"




class RulePackRef(StrictModel):
    id: str
    version: str
    sha256: str


class Impact(StrEnum):
    """What answering a missing fact could do, most serious first."""

    could_block = "could_block"
    could_change_status = "could_change_status"
    condition_only = "condition_only"


class Classification(StrEnum):
    """An item's 3A090 classification; ``undetermined`` while a classifying rule waits."""

    a = "3A090.a"
    b = "3A090.b"
    not_3a090 = "not_3A090"
    undetermined = "undetermined"


_UNDECIDED_DOC = ("Rules still undecided that could set a worse status than the one reached; "
                  "while any is listed the status is `undetermined`.")
_BASIS_DOC = ("What the dollar amount estimates (stated by the rule pack); amounts are "
              "estimates, never shown once a block fired.")


class UsOutcome(StrictModel):
    status: UsStatus
    revenue_share_pct: float | None = None
    revenue_share_usd: float | None = None
    revenue_share_basis: list[Text] = Field(default_factory=list, description=_BASIS_DOC)
    undecided_rules: list[str] = Field(default_factory=list, description=_UNDECIDED_DOC)


class CnOutcome(StrictModel):
    status: CnStatus
    undecided_rules: list[str] = Field(default_factory=list, description=_UNDECIDED_DOC)


class SourceRef(StrictModel):
    id: str
    name: str
    date: dt.date
    url: str
    confidence: Confidence


class ItemOutcome(StrictModel):
    index: int
    chip: str
    chip_name: str
    eccn: str | None
    classification: Classification = Classification.undetermined
    classification_reason: str | None = Field(
        None, description="For not_3A090, why (e.g. below_thresholds, note_2); for "
                          "undetermined, what it waits for.")
    tpp: float | None
    performance_density: float | None
    us_status: UsStatus
    cn_status: CnStatus
    revenue_share_pct: float | None = None
    revenue_share_usd: float | None = None
    revenue_share_basis: Text | None = Field(None, description=_BASIS_DOC)
    uncertain_figures: list[str] = Field(default_factory=list)
    figure_sources: list[str] = Field(default_factory=list)
    figure_source_refs: list[SourceRef] = Field(
        default_factory=list, description="The catalog sources of its figures, cited by name "
                                          "and URL (figure_sources keeps their ids and the "
                                          "'case: figure' marks of figures the case gave).")
    undecided_rules: list[str] = Field(default_factory=list, description=_UNDECIDED_DOC)


class ListHit(StrictModel):
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



#: A value as the decision shows it: dates as ISO text, whole numbers without ".0".
PlainValue = str | bool | int | float

#: The test a leaf passed: the pack's operators, with ``empty`` the negation of
#: ``nonempty`` (a test under ``not`` is recorded as the test that held).
BecauseTest = Literal["eq", "ne", "gt", "gte", "lt", "lte", "in", "not_in", "nonempty",
                      "empty"]


class Because(StrictModel):
    """One leaf of a fired rule's condition that held: the fact, its value, the test it
    passed and what it was compared with. Structured so readers never parse text; the
    renderers write it as a line such as ``chip.tpp = 5120 (≥ 4800, parameter
    us.tpp_3a090a)``."""

    fact: str = Field(description="The fact path (e.g. chip.tpp), or the derived fact's "
                                  "key when `derived` is true.")
    derived: bool = Field(False, description="A fact an earlier rule derived (the rules "
                                             "are in `derived_from`), not a case fact.")
    value: PlainValue | None = Field(None, description="The fact's value in this case "
                                                       "(none for nonempty / empty).")
    test: BecauseTest = Field("eq", description="The test the value passed; under `not` "
                                                "the negated test (lt for not gte).")
    against: PlainValue | list[PlainValue] | None = Field(
        None, description="What the value was compared with, parameters resolved; a list "
                          "for in / not_in; none for nonempty / empty and derived facts.")
    parameters: list[str] = Field(default_factory=list, description=(
        "Pack parameters that supplied `against` (their values are `against`)."))


class Finding(StrictModel):
    rule: str
    jurisdiction: Jurisdiction
    severity: Severity
    title: Text
    summary: Text | None = None
    items: list[int] = Field(default_factory=list, description="Order lines it concerns.")
    sources: list[SourceRef]
    confidence: Confidence
    context_sources: list[SourceRef] = Field(
        default_factory=list, description="Cited for background; the claim does not rest on them.")
    later_sources: list[SourceRef] = Field(
        default_factory=list, description="Published after the decision's as_of: not known on "
                                          "that date, so not counted as support.")
    because: list[Because] = Field(description=(
        "The leaves of the rule's condition that held, at the first instance it fired."))
    derived_from: list[str] = Field(default_factory=list, description="Rules whose facts it used.")
    valid_from: dt.date
    valid_to: dt.date | None = None
    list_match: ListHit | None = Field(
        None, description="For a finding on a list match: the entry that matched, its listed "
                          "name, the buyer's name and the tier; its sources come first.")


class ConditionItem(StrictModel):
    rule: str
    text: Text


class Missing(StrictModel):
    fact: str
    question: Text
    rules: list[str]
    owner: Owner = Field(Owner.buyer, description="Who can answer it.")
    impact: Impact = Field(Impact.could_change_status,
                           description="The most an answer could do to the outcome.")


class ConditionToConfirm(StrictModel):
    """A checklist entry that applies only if a fact not yet known turns out so."""

    rule: str
    text: Text
    applies_if: list[str] = Field(description="The tests still open, e.g. "
                                              "use.data.personal_information = true.")
    facts: list[str]


class ChangeOption(StrictModel):
    """What would lift one blocking finding, or settle one decisive fact."""

    subject: str = Field(description="A blocking rule id, or a missing fact path.")
    kind: str = Field(description="block (a fired blocking rule) or fact (a decisive fact).")
    changes: list[str] = Field(description="Each line one smallest change, e.g. "
                                           "'buyer.country not in [CN, MO, HK]'.")


class Notice(StrictModel):
    code: str
    text: Text


class AlternativeCheck(StrictModel):
    requirement: str
    needed: str
    offered: str | None
    meets: bool | None


class DomesticAlternative(StrictModel):
    chip: str
    chip_name: str
    status: str
    meets_all: bool | None
    checks: list[AlternativeCheck]
    uncertain_figures: list[str] = Field(default_factory=list)


class ListSourceStamp(StrictModel):
    """One source inside an imported list, stamped with its own last-updated date."""

    source: str
    last_updated: dt.date | None = Field(
        None, description="As the snapshot stated it; null when the file does not say.")
    entries: int


class ScreenedList(StrictModel):
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


class ClearedMatch(StrictModel):
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


class ScreeningReport(StrictModel):
    """What the name screen covered and what the user decided about possible matches."""

    lists: list[ScreenedList]
    note: Text
    cleared: list[ClearedMatch] = Field(default_factory=list)
    confirmed: list[str] = Field(default_factory=list)
    red_flags: list[Text] = Field(default_factory=list)


class Decision(StrictModel):
    case_id: str
    as_of: dt.date
    rule_pack: RulePackRef
    verdict: Verdict
    us: UsOutcome
    cn: CnOutcome
    items: list[ItemOutcome]
    findings: list[Finding]
    conditions: list[ConditionItem]
    missing: list[Missing] = Field(description="Decisive facts only (impact could_block or "
                                               "could_change_status): the needs_information.")
    domestic_alternatives: list[DomesticAlternative] = Field(default_factory=list)
    reported_only: list[str] = Field(
        default_factory=list, description="Findings whose sources are press reports or uncertain."
    )
    uncertain_figures: list[str] = Field(default_factory=list)
    list_matches: list[ListHit] = Field(
        default_factory=list, description="Screening-list entries the buyer's names matched.")
    conditions_to_confirm: list[ConditionToConfirm] = Field(
        default_factory=list, description="Checklist entries that apply only if an unknown fact "
                                          "turns out so; never on their own needs_information.")
    optional_facts: list[Missing] = Field(
        default_factory=list, description="Facts only conditions to confirm wait for "
                                          "(impact condition_only): worth asking, not decisive.")
    what_would_change: list[ChangeOption] = Field(
        default_factory=list, description="For no_go and needs_information: per blocking "
                                          "finding and decisive fact, the smallest changes.")
    reviewed_until: dt.date | None = Field(
        None, description="The rule pack's sources were reviewed up to this date.")
    warnings: list[Notice] = Field(default_factory=list)
    screening: ScreeningReport | None = Field(
        None, description="Which lists were screened (and which copy), cleared or confirmed "
                          "possible matches, and red flags such as mixed-script names.")
    source: str | None = Field(
        None, exclude_if=lambda value: value is None,
        description="Where the case was read, file:line; absent when it came from no file.")
