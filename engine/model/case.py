"""The purchase case: what a buyer tells chipclear, validated by pydantic.

Every field is optional unless stated: a field that is absent is *unknown*, not false.
The field names are a public contract (case files, examples, downstream tools).

Fields are strictly typed: a yes/no field takes only ``true`` or ``false`` (not ``yes``,
``NO``, ``on`` or 1), a count only a whole number (not ``true``, ``2.0`` or ``"1,000"``),
a figure only a number, ``as_of`` only a ``YYYY-MM-DD`` date (not a Unix time or a
timestamp). A case file is evidence: a value that needs guessing is refused with a hint.

Every value is bounded, so no input reaches the engine as a number it cannot represent
or a size it cannot handle in time:

=============================  ==============================================================
quantity                       a whole number from 1 to 10,000,000
unit_price_usd                 0.01 (one cent) to 1,000,000,000
dense_tflops (per precision)   0, or 0.001 to 1,000,000 (about 70 times the densest catalog
                               chip; TPP then stays below 64,000,000)
die_area_mm2                   1 to 100,000 (a whole 300 mm wafer is about 70,000), so
                               performance density stays finite
memory_gb, min_memory_gb       0, or 0.001 to 100,000
*_bandwidth_gbs                0, or 0.001 to 100,000,000 (on-wafer SRAM reaches about
                               21,000,000)
min_cluster_size               a whole number from 1 to 10,000,000
names, chip ids, vendors       at most 300 characters, no control characters; the case id
                               at most 200
necessity_justification        at most 20,000 characters; line breaks and tabs, no other
                               control characters
order lines                    at most 1,000 per case
=============================  ==============================================================
"""

from __future__ import annotations

import datetime as dt
import re
from enum import StrEnum
from typing import Annotated

from chipclear.model.strict import StrictModel
from pydantic import (
    AfterValidator,
    BeforeValidator,
    ConfigDict,
    Field,
    Strict,
    WithJsonSchema,
    field_validator,
    model_validator,
)
from pydantic_core import PydanticCustomError


class Precision(StrEnum):
    """Numeric formats whose dense throughput datasheets give."""

    fp64 = "fp64"
    fp32 = "fp32"
    tf32 = "tf32"
    fp16 = "fp16"
    bf16 = "bf16"
    fp8 = "fp8"
    fp6 = "fp6"
    int8 = "int8"
    fp4 = "fp4"


#: Bit length per precision, used for TPP = dense TOPS x bit length.
BIT_LENGTH: dict[str, int] = {
    "fp64": 64, "fp32": 32, "tf32": 32, "fp16": 16, "bf16": 16, "fp8": 8, "fp6": 6, "int8": 8,
    "fp4": 4,
}


class _Strict(StrictModel):
    """Strict, and surrounding blanks of every text field are dropped (users type them)."""

    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)


MAX_QUANTITY = 10_000_000
MAX_PRICE_USD = 1_000_000_000
MAX_DENSE_TFLOPS = 1_000_000
MAX_DIE_AREA_MM2 = 100_000
MAX_MEMORY_GB = 100_000
MAX_BANDWIDTH_GBS = 100_000_000
MAX_NAME_CHARS = 300
MAX_TEXT_CHARS = 20_000
MAX_ORDER_LINES = 1_000

#: The smallest non-zero chip figure: 1 MB, 1 MB/s, 1 GFLOPS. Anything smaller is no
#: accelerator, and keeps every figure in plain decimal notation (Python writes
#: numbers below 1e-4 as 1e-05, which durable-rules' parser does not read).
MIN_FIGURE = 0.001

#: Bidirectional embedding, override and isolate controls: invisible, and they reorder
#: what a reader sees (Trojan-source style), so names and text may not carry them.
_BIDI = "\u202a-\u202e\u2066-\u2069"
_CONTROL = re.compile(f"[\\x00-\\x1f\\x7f-\\x9f{_BIDI}]")
_CONTROL_IN_TEXT = re.compile(f"[\\x00-\\x08\\x0b\\x0c\\x0e-\\x1f\\x7f-\\x9f{_BIDI}]")

#: Fact paths a case may mark unknown: far more than the facts there are.
MAX_UNKNOWN = 1000


def _no_control(value: str) -> str:
    """Names and ids are shown in terminals and memos: no escape sequences, no NUL."""
    if _CONTROL.search(value):
        raise PydanticCustomError("control_character", "contains a control character")
    return value


def _no_control_in_text(value: str) -> str:
    """Free text may have line breaks and tabs, nothing else invisible."""
    if _CONTROL_IN_TEXT.search(value):
        raise PydanticCustomError("control_character", "contains a control character")
    return value


def _zero_or_plausible(value: float) -> float:
    if 0 < value < MIN_FIGURE:
        raise PydanticCustomError("figure_too_small", "is neither 0 nor a plausible figure",
                                  {"minimum": MIN_FIGURE})
    return value


Flag = Annotated[bool, Strict()]
CountryCode = Annotated[
    str, Strict(), Field(pattern=r"^[A-Z]{2}$", description="ISO 3166-1 alpha-2")]
Name = Annotated[str, Strict(), Field(max_length=MAX_NAME_CHARS), AfterValidator(_no_control)]
Text = Annotated[str, Strict(), Field(max_length=MAX_TEXT_CHARS),
                 AfterValidator(_no_control_in_text)]
Count = Annotated[int, Strict(), Field(ge=1, le=MAX_QUANTITY)]
Price = Annotated[float, Strict(), Field(ge=0.01, le=MAX_PRICE_USD, allow_inf_nan=False)]
Tflops = Annotated[float, Strict(), Field(ge=0, le=MAX_DENSE_TFLOPS, allow_inf_nan=False),
                   AfterValidator(_zero_or_plausible)]
DieArea = Annotated[float, Strict(), Field(ge=1, le=MAX_DIE_AREA_MM2, allow_inf_nan=False)]
MemoryGb = Annotated[float, Strict(), Field(ge=0, le=MAX_MEMORY_GB, allow_inf_nan=False),
                     AfterValidator(_zero_or_plausible)]
Bandwidth = Annotated[float, Strict(), Field(ge=0, le=MAX_BANDWIDTH_GBS, allow_inf_nan=False),
                      AfterValidator(_zero_or_plausible)]

_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


def _iso_date(value: object) -> object:
    """Only a calendar date: an integer would be read as a Unix time, a timestamp cut."""
    if isinstance(value, dt.date) and not isinstance(value, dt.datetime):
        return value
    if isinstance(value, str) and _ISO_DATE.fullmatch(value):
        try:
            return dt.date.fromisoformat(value)
        except ValueError:
            raise PydanticCustomError("date_value", "there is no such day") from None
    raise PydanticCustomError("date_format", "not a date written as YYYY-MM-DD")


IsoDate = Annotated[dt.date, BeforeValidator(_iso_date)]


class BuyerKind(StrEnum):
    internet_platform = "internet_platform"
    cloud_provider = "cloud_provider"
    enterprise = "enterprise"
    startup = "startup"
    university = "university"
    research_institute = "research_institute"
    government = "government"
    government_cloud = "government_cloud"
    state_owned_enterprise = "state_owned_enterprise"
    server_assembler = "server_assembler"
    distributor = "distributor"
    military = "military"


class Buyer(_Strict):
    name: Name | None = None
    name_zh: Name | None = None
    country: CountryCode | None = Field(None, description="Where the consignee is located.")
    headquarters: CountryCode | None = Field(
        None, description="Where the buyer or its ultimate parent is headquartered."
    )
    kind: BuyerKind | None = None
    state_owned: Flag | None = None
    state_funded_project: Flag | None = None
    state_funded_project_completion_pct: Annotated[
        float, Strict(), Field(ge=0, le=100, allow_inf_nan=False)
    ] | None = Field(
        None, description="How far the state-funded data-centre project is built, in percent "
                          "(the November 2025 guidance splits at 30%).")
    critical_infrastructure: Flag | None = None
    us_approved_customer: Flag | None = None
    owned_by_listed_parties: Flag | None = Field(
        None, description="Owned 50% or more, directly or indirectly, alone or together, by "
                          "parties on the Entity List or the Military End-User List (the "
                          "Affiliates rule, FR Doc 2025-19001).")

    @field_validator("country", "headquarters", mode="before")
    @classmethod
    def _upper(cls, value: object) -> object:
        return value.upper() if isinstance(value, str) else value


class ChipSpec(_Strict):
    """An accelerator described by its datasheet figures.

    With ``custom: true`` it is a chip the catalog lacks (``name`` required); with a
    catalog ``chip`` it overrides only the figures it gives (e.g. an ``io_bandwidth_gbs``
    the catalog has no source for), so a question about a missing figure can be answered.
    """

    name: Name | None = None
    vendor: Name | None = None
    vendor_country: CountryCode | None = None
    family: Name | None = None
    datacenter: Flag | None = None
    dense_tflops: dict[Precision, Tflops] = Field(default_factory=dict)
    die_area_mm2: DieArea | None = None
    memory_gb: MemoryGb | None = None
    memory_bandwidth_gbs: Bandwidth | None = None
    io_bandwidth_gbs: Bandwidth | None = Field(
        None, description="Aggregate interconnect bandwidth (the October 2022 3A090 test)."
    )
    us_commercially_available_2026_01_15: Flag | None = Field(
        None, description="Commercially available in the US when 91 FR 1684 was published "
                          "(15 January 2026); the proviso of its case-by-case review.")


#: ChipSpec fields a case may give for a catalog chip (figures, not identity).
OVERRIDABLE_FIGURES = frozenset({
    "dense_tflops", "die_area_mm2", "memory_gb", "memory_bandwidth_gbs", "io_bandwidth_gbs",
    "us_commercially_available_2026_01_15",
})


class OrderItem(_Strict):
    chip: Name | None = Field(None, description="Catalog id or alias, e.g. H200 or nvidia-h200.")
    custom: Flag = False
    spec: ChipSpec | None = None
    quantity: Count | None = None
    unit_price_usd: Price | None = None
    made_with_us_technology: Flag | None = Field(
        None, description="Whether US technology, software or tools were used to design or "
                          "make this (foreign-made) item: the foreign direct product rules.")

    @model_validator(mode="after")
    def _chip_or_spec(self) -> OrderItem:
        if self.custom and self.spec is None:
            raise ValueError("custom: true needs a spec with the chip's figures")
        if self.custom and self.spec is not None and not self.spec.name:
            raise ValueError("a custom spec needs the chip's name")
        if not self.custom and not self.chip:
            raise ValueError("give the chip (catalog id or alias), or custom: true with a spec")
        if not self.custom and self.spec is not None:
            extra = sorted(self.spec.model_fields_set - OVERRIDABLE_FIGURES)
            if extra:
                raise ValueError(
                    f"with a catalog chip, a spec may only override figures "
                    f"({', '.join(sorted(OVERRIDABLE_FIGURES))}), not {', '.join(extra)}")
        return self


class Order(_Strict):
    seller: Name | None = None
    ship_from: CountryCode | None = Field(None, description="Country the goods are exported from.")
    parties_include_distributor: Flag | None = Field(
        None, description="Whether a distributor or reseller is a party to the export "
                          "(License Exception NAC is then unavailable).")
    single_end_user: Flag | None = Field(
        None, description="Whether the order has one ultimate consignee and one end user.")
    items: Annotated[list[OrderItem], Field(max_length=MAX_ORDER_LINES)] | None = None

    @field_validator("ship_from", mode="before")
    @classmethod
    def _upper(cls, value: object) -> object:
        return value.upper() if isinstance(value, str) else value


class Purpose(StrEnum):
    training = "training"
    inference = "inference"
    research = "research"
    resale = "resale"
    other = "other"


class EndUse(StrEnum):
    commercial = "commercial"
    government = "government"
    military = "military"
    supercomputer = "supercomputer"


class Workload(_Strict):
    min_memory_gb: MemoryGb | None = None
    min_memory_bandwidth_gbs: Bandwidth | None = None
    min_cluster_size: Count | None = None
    needs_fp8: Flag | None = None
    needs_cuda_ecosystem: Flag | None = None


class DataOnCluster(_Strict):
    personal_information: Flag | None = None
    important_data: Flag | None = None


class Use(_Strict):
    purpose: Purpose | None = None
    end_use: EndUse | None = None
    workload: Workload = Field(default_factory=Workload)
    data: DataOnCluster = Field(default_factory=DataOnCluster)


class Deployment(_Strict):
    air_gapped: Flag | None = None
    outbound_telemetry_blocked: Flag | None = None
    remote_access_controls: Flag | None = None


class VendorAttestation(_Strict):
    no_backdoor: Flag | None = None
    no_remote_shutdown: Flag | None = None
    no_location_tracking: Flag | None = None
    firmware_hashes: Flag | None = None
    network_components_inventory: Flag | None = None
    no_illegal_data_collection: Flag | None = None
    no_illegal_control: Flag | None = None
    no_unreasonable_supply_cutoff: Flag | None = None
    vendor_refused: Flag | None = Field(
        None, description="The vendor has refused the security attestations or contractual "
                          "commitments (not merely: not yet provided).")


class CertificationState(StrEnum):
    """Where an exporter stands on one 91 FR 1684 certification."""

    certified = "certified"
    not_yet = "not_yet"
    cannot = "cannot"


#: Case files written before the three states may still say true (certified) or false (not yet).
Certification = Annotated[CertificationState, WithJsonSchema({
    "anyOf": [{"enum": [s.value for s in CertificationState]}, {"type": "boolean"}],
    "description": "certified, not_yet or cannot; true/false read as certified/not_yet.",
})]


class ExporterCertifications(_Strict):
    """The exporter's certifications; ``true``/``false`` read as certified / not yet."""

    us_supply_sufficient: Certification | None = None
    china_volume_within_cap: Certification | None = None
    third_party_testing_in_us: Certification | None = None
    kyc_and_remote_access_screening: Certification | None = None
    no_prohibited_end_use: Certification | None = None

    @field_validator("*", mode="before")
    @classmethod
    def _from_bool(cls, value: object) -> object:
        if isinstance(value, bool):
            return CertificationState.certified if value else CertificationState.not_yet
        return value


class ImportApproval(StrEnum):
    granted = "granted"
    pending = "pending"
    denied = "denied"
    none = "none"


class Evidence(_Strict):
    necessity_justification: Text | None = None
    vendor_attestation: VendorAttestation = Field(default_factory=VendorAttestation)
    exporter_certifications: ExporterCertifications = Field(
        default_factory=ExporterCertifications
    )
    cybersecurity_review_required: Flag | None = Field(
        None, description="The CII operator's own pre-judgment (预判): the purchase affects or "
                          "may affect national security, so it must be filed for review.")
    cybersecurity_review_filed: Flag | None = None
    import_approval: ImportApproval | None = None


ScreeningEntryId = Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9-]*$", max_length=80)]


class ScreeningReview(_Strict):
    """The user's disposition of possible list matches, recorded in the decision.

    A possible match (a look-alike, reordered, containing or near name) keeps the verdict
    at needs_information until its entry id is listed here: ``confirmed`` (it is that
    party: the match blocks) or ``cleared`` (it is not, with the reason why). An exact
    match cannot be cleared.
    """

    cleared: list[ScreeningEntryId] = Field(default_factory=list, max_length=100)
    confirmed: list[ScreeningEntryId] = Field(default_factory=list, max_length=100)
    reason: str | None = Field(None, max_length=4000,
                               description="Why the cleared matches are not the buyer.")

    @model_validator(mode="after")
    def _reason_for_clearing(self) -> ScreeningReview:
        if self.cleared and not (self.reason and self.reason.strip()):
            raise ValueError("clearing a possible match needs a reason (screening.reason)")
        both = set(self.cleared) & set(self.confirmed)
        if both:
            raise ValueError(f"{', '.join(sorted(both))}: both cleared and confirmed")
        return self


class Case(_Strict):
    """One purchase to decide."""

    id: Annotated[str, Strict(), Field(min_length=1, max_length=200),
                  AfterValidator(_no_control)]
    as_of: IsoDate | None = Field(
        None, description="Date the rules are evaluated at; today if absent."
    )
    buyer: Buyer = Field(default_factory=Buyer)
    order: Order = Field(default_factory=Order)
    use: Use = Field(default_factory=Use)
    deployment: Deployment = Field(default_factory=Deployment)
    evidence: Evidence = Field(default_factory=Evidence)
    screening: ScreeningReview = Field(default_factory=ScreeningReview)
    unknown: list[Annotated[str, Strict(), Field(min_length=1, max_length=200),
                            AfterValidator(_no_control)]] = Field(
        default_factory=list, max_length=MAX_UNKNOWN,
        description="Fact paths the buyer answered \"don't know\" (e.g. buyer.kind): they stay "
        "unknown and the interview does not ask them again.",
    )

    @field_validator("id", mode="before")
    @classmethod
    def _id_as_text(cls, value: object) -> object:
        return str(value) if isinstance(value, int) and not isinstance(value, bool) else value
