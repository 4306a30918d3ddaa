"""FROZEN reference for bench/batch.py: the durable-rules adapter exactly as chipclear
2026.11.1 (commit 62a870a, engine/runtime.py) drove it, one ``assert_facts`` per case
through the library's public Python wrapper and its actions.

Do not optimise this file: the speed goals are stated against it, so a faster adapter
in chipclear.decide.runtime must not make them easier to reach. Only the imports were
changed to the chipclear package.

Original docstring follows.

The one module that talks to durable-rules.

durable-rules has traps this adapter closes (see docs/engine.md):

* the default Host runs a background dispatcher that races the caller and can
  segfault: ``_QuietHost`` disables it, so rules run synchronously inside the call;
* facts no rule matches raise, and derived facts nobody consumes vanish: the
  compiler adds catch-all "keep" rules;
* exceptions in actions are swallowed into the session state: they are raised here;
* at most 1,024 live sessions: each case gets one session, deleted in ``finally``;
* ruleset names cannot be registered twice: compiled packs are registered once by
  content-derived name.
"""

from __future__ import annotations

import contextlib
import copy
import itertools
from dataclasses import dataclass
from typing import Any

from chipclear.decide.compile import CompiledPack
from chipclear.errors import EngineFailure
from durable import engine as _durable


@dataclass(frozen=True)
class Firing:
    """One activation: which branch fired, on which fact, using which derived facts."""

    action: str
    idx: int
    derived_ids: tuple[str, ...]


class _Session:
    __slots__ = ("asserted", "firings")

    def __init__(self) -> None:
        self.firings: list[Firing] = []
        self.asserted: set[str] = set()


class _QuietHost(_durable.Host):  # type: ignore[misc]
    """A Host without the background timer threads; actions resolved by name."""

    def __init__(self) -> None:
        self.packs: dict[str, CompiledPack] = {}
        self.sessions: dict[str, _Session] = {}
        super().__init__()

    def _run(self) -> None:  # no dispatcher or timer threads
        return None

    def get_action(self, action_name: str) -> Any:
        if action_name == "__noop":
            return _noop
        pack_name, _, name = action_name.partition("/")
        spec = self.packs[pack_name].actions[name]
        sessions = self.sessions

        def run(c: Any) -> None:
            state = sessions[c.s.sid]
            m = c.m
            idx = int(m["idx"])
            used = tuple(str(getattr(c, a)["id"]) for a in spec.derived_aliases)
            state.firings.append(Firing(name, idx, used))
            for key, value in spec.derive:
                fid = f"{key}={value}@{idx}"
                if fid not in state.asserted:
                    state.asserted.add(fid)
                    c.assert_fact({"t": "d", "id": fid, "k": key, "v": value, "idx": idx,
                                   "rule": spec.rule_id})

        return run


def _noop(c: Any) -> None:
    return None


class Runtime:
    """Evaluates prepared facts against compiled packs, one session per case."""

    def __init__(self) -> None:
        self._host = _QuietHost()
        self._sid = itertools.count(1)

    def _register(self, pack: CompiledPack) -> None:
        if pack.name in self._host.packs:
            return
        ruleset = copy.deepcopy(pack.ruleset)  # durable deletes 'run' from what it is given
        for rule in ruleset.values():
            if rule["run"] != "__noop":
                rule["run"] = f"{pack.name}/{rule['run']}"
        self._host.packs[pack.name] = pack
        self._host.register_rulesets({pack.name: ruleset})

    def run(self, pack: CompiledPack, facts: list[dict[str, Any]]) -> list[Firing]:
        """Assert all of a case's facts at once and return the activations, in firing order."""
        self._register(pack)
        sid = str(next(self._sid))
        session = self._host.sessions[sid] = _Session()
        try:
            for fact in facts:
                fact["sid"] = sid
            state = self._host.assert_facts(pack.name, facts)
            if isinstance(state, dict) and state.get("exception"):
                raise EngineFailure(f"rule action failed: {state['exception']}")
            return session.firings
        except EngineFailure:
            raise
        except Exception as exc:  # the library raises bare Exceptions and its own errors
            raise EngineFailure(f"rule engine error: {exc}") from exc
        finally:
            del self._host.sessions[sid]
            with contextlib.suppress(Exception):  # a session that never got created
                self._host.delete_state(pack.name, sid)
