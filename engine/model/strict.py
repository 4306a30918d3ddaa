"""The one base model for every file format and contract: unknown keys are errors and
values are frozen, so a typo in a case or a pack never passes silently."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class StrictModel(BaseModel):
    """Refuses unknown keys (a misspelt field is an error, not ignored) and is immutable."""

    model_config = ConfigDict(extra="forbid", frozen=True)
