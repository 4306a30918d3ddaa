"""Test-only seams: runtimes that lose a fact or a firing on purpose.

Installed by tests (passed to ``Evaluator`` or patched over
``chipclear.decide.evaluate.Runtime`` in a subprocess); nothing in the shipped code
looks for them.
"""

from __future__ import annotations

from typing import Any

from chipclear.decide.compile import CompiledPack
from chipclear.decide.runtime import Firing, Runtime


class DroppingRuntime(Runtime):
    """Loses the last fact of every batch on the way to the engine (a test seam)."""

    def _submit(self, pack_name: str, facts: list[dict[str, Any]]) -> Any:
        return super()._submit(pack_name, facts[:-1])


class SilentlyDroppingRuntime(DroppingRuntime):
    """Loses a fact and skips the acceptance check: only the cross-check is left."""

    def _check_accepted(self, pack_name: str, sid: str, facts: list[dict[str, Any]]) -> None:
        return None


class ForgettingRuntime(Runtime):
    """Forgets the firings of the rule that fired last (a test seam)."""

    def run(self, pack: CompiledPack, facts: list[dict[str, Any]]) -> list[Firing]:
        firings = super().run(pack, facts)
        return [f for f in firings if f.action != firings[-1].action]
