"""Citations: every rule, parameter and catalog figure names where it comes from.

A source's confidence tells the user whether a finding rests on published law
(``official``), on chipclear's own reading of an official text (``analysis``), on
press reports of unpublished guidance (``reported``), or on conflicting or estimated
material (``uncertain``).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from enum import StrEnum
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field


class Confidence(StrEnum):
    """How far a claim can be relied on, strongest first."""

    official = "official"
    analysis = "analysis"  # chipclear's own reading of an official text
    reported = "reported"
    uncertain = "uncertain"


def weakest(levels: Iterable[Confidence]) -> Confidence:
    """The weakest of some confidences (a claim is as strong as its weakest support)."""
    order = list(Confidence)
    return max(levels, key=order.index)


SourceId = Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9._-]*$", max_length=80)]


class Source(BaseModel):
    """One cited document: name, date, URL and how far it can be relied on."""

    model_config = ConfigDict(extra="forbid", frozen=True, defer_build=True)  # see StrictModel

    id: SourceId
    name: str = Field(min_length=3)
    date: dt.date
    url: str = Field(pattern=r"^https?://")
    confidence: Confidence
    note: str | None = None


class SourceFile(BaseModel):
    """A ``sources.yaml`` file: the citations one module of the pack uses."""

    model_config = ConfigDict(extra="forbid", defer_build=True)  # see StrictModel

    sources: list[Source]


class OfficialDomain(BaseModel):
    """A domain (and its subdomains) where official texts have their official home."""

    model_config = ConfigDict(extra="forbid", frozen=True, defer_build=True)  # see StrictModel

    domain: Annotated[str, Field(pattern=r"^[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9-]+)+$")]
    note: str | None = None


class OfficialDomainsFile(BaseModel):
    """``official_domains.yaml``: where a source labelled official may live. Company sites
    are official only for the company's own statements."""

    model_config = ConfigDict(extra="forbid", defer_build=True)  # see StrictModel

    government: list[OfficialDomain] = Field(default_factory=list)
    company: list[OfficialDomain] = Field(default_factory=list)

    def domains(self) -> list[str]:
        return [d.domain for d in (*self.government, *self.company)]
