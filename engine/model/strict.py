"""The one base model for every file format and contract: unknown keys are errors and
values are frozen, so a typo in a case or a pack never passes silently."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class StrictModel(BaseModel):
    """Refuses unknown keys (a misspelt field is an error, not ignored) and is immutable.

    ``defer_build``: a model's validator is built when it first validates, not when its
    module is imported: a pack read from the cache (``chipclear.pack.cache``) never
    validates, and a command pays only for the models it uses."""

    model_config = ConfigDict(extra="forbid", frozen=True, defer_build=True)
