"""The purchase case: what a buyer tells chipclear, validated by pydantic.

Every field is optional unless stated: a field that is absent is *unknown*, not false.
The field names are a public contract (case files, examples, downstream tools).
"""

from __future__ import annotations

import datetime as dt
from enum import StrEnum
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator


class Precision(StrEnum):
    """Numeric formats whose dense throughput datasheets give."""

    fp64 = "fp64"
    fp32 = "fp32"
    tf32 = "tf32"
    fp16 = "fp16"
    bf16 = "bf16"
    fp8 = "fp8"
    int8 = "int8"
    fp4 = "fp4"


#: Bit length per precision, used for TPP = dense TOPS x bit length.
BIT_LENGTH: dict[str, int] = {
    "fp64": 64, "fp32": 32, "tf32": 32, "fp16": 16, "bf16": 16, "fp8": 8, "int8": 8, "fp4": 4,
}


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)


CountryCode = Annotated[str, Field(pattern=r"^[A-Z]{2}$", description="ISO 3166-1 alpha-2")]
NonNegative = Annotated[float, Field(ge=0, allow_inf_nan=False)]


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
    name: str | None = None
    name_zh: str | None = None
    country: CountryCode | None = Field(None, description="Where the consignee is located.")
    headquarters: CountryCode | None = Field(
        None, description="Where the buyer or its ultimate parent is headquartered."
    )
    kind: BuyerKind | None = None
    state_owned: bool | None = None
    state_funded_project: bool | None = None
    critical_infrastructure: bool | None = None
    us_approved_customer: bool | None = None

    @field_validator("country", "headquarters", mode="before")
    @classmethod
    def _upper(cls, value: object) -> object:
        return value.upper() if isinstance(value, str) else value


class ChipSpec(_Strict):
    """An accelerator that is not in the catalog, described by its datasheet figures."""

    name: str
    vendor: str | None = None
    vendor_country: CountryCode | None = None
    family: str | None = None
    datacenter: bool | None = None
    dense_tflops: dict[Precision, NonNegative] = Field(default_factory=dict)
    die_area_mm2: Annotated[float, Field(gt=0, allow_inf_nan=False)] | None = None
    memory_gb: NonNegative | None = None
    memory_bandwidth_gbs: NonNegative | None = None
    io_bandwidth_gbs: NonNegative | None = Field(
        None, description="Aggregate interconnect bandwidth (the October 2022 3A090 test)."
    )


class OrderItem(_Strict):
    chip: str | None = Field(None, description="Catalog id or alias, e.g. H200 or nvidia-h200.")
    custom: bool = False
    spec: ChipSpec | None = None
    quantity: Annotated[int, Field(ge=1, le=10_000_000)] | None = None
    unit_price_usd: NonNegative | None = None

    @model_validator(mode="after")
    def _chip_or_spec(self) -> OrderItem:
        if self.custom and self.spec is None:
            raise ValueError("custom: true needs a spec with the chip's figures")
        if not self.custom and self.spec is not None:
            raise ValueError("a spec is only used with custom: true")
        if not self.custom and not self.chip:
            raise ValueError("give the chip (catalog id or alias), or custom: true with a spec")
        return self


class Order(_Strict):
    seller: str | None = None
    ship_from: CountryCode | None = Field(None, description="Country the goods are exported from.")
    items: list[OrderItem] | None = None

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
    min_memory_gb: NonNegative | None = None
    min_memory_bandwidth_gbs: NonNegative | None = None
    min_cluster_size: Annotated[int, Field(ge=1)] | None = None
    needs_fp8: bool | None = None
    needs_cuda_ecosystem: bool | None = None


class DataOnCluster(_Strict):
    personal_information: bool | None = None
    important_data: bool | None = None


class Use(_Strict):
    purpose: Purpose | None = None
    end_use: EndUse | None = None
    workload: Workload = Field(default_factory=Workload)
    data: DataOnCluster = Field(default_factory=DataOnCluster)


class Deployment(_Strict):
    air_gapped: bool | None = None
    outbound_telemetry_blocked: bool | None = None
    remote_access_controls: bool | None = None


class VendorAttestation(_Strict):
    no_backdoor: bool | None = None
    no_remote_shutdown: bool | None = None
    no_location_tracking: bool | None = None
    firmware_hashes: bool | None = None
    network_components_inventory: bool | None = None
    no_illegal_data_collection: bool | None = None
    no_illegal_control: bool | None = None
    no_unreasonable_supply_cutoff: bool | None = None


class ExporterCertifications(_Strict):
    us_supply_sufficient: bool | None = None
    china_volume_within_cap: bool | None = None
    third_party_testing_in_us: bool | None = None
    kyc_and_remote_access_screening: bool | None = None
    no_prohibited_end_use: bool | None = None


class ImportApproval(StrEnum):
    granted = "granted"
    pending = "pending"
    denied = "denied"
    none = "none"


class Evidence(_Strict):
    necessity_justification: str | None = None
    vendor_attestation: VendorAttestation = Field(default_factory=VendorAttestation)
    exporter_certifications: ExporterCertifications = Field(
        default_factory=ExporterCertifications
    )
    cybersecurity_review_filed: bool | None = None
    import_approval: ImportApproval | None = None


class Case(_Strict):
    """One purchase to decide."""

    id: Annotated[str, Field(min_length=1, max_length=200)]
    as_of: dt.date | None = Field(
        None, description="Date the rules are evaluated at; today if absent."
    )
    buyer: Buyer = Field(default_factory=Buyer)
    order: Order = Field(default_factory=Order)
    use: Use = Field(default_factory=Use)
    deployment: Deployment = Field(default_factory=Deployment)
    evidence: Evidence = Field(default_factory=Evidence)
    unknown: list[str] = Field(
        default_factory=list,
        description="Fact paths the buyer answered \"don't know\" (e.g. buyer.kind): they stay "
        "unknown and the interview does not ask them again.",
    )

    @field_validator("id", mode="before")
    @classmethod
    def _id_as_text(cls, value: object) -> object:
        return str(value) if isinstance(value, int) and not isinstance(value, bool) else value
