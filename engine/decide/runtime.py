"""The one module that talks to durable-rules.

durable-rules has traps this adapter closes (see docs/engine.md):

* the default Host runs a background dispatcher that races the caller and can
  segfault: ``_QuietHost`` disables it, so rules run synchronously inside the call;
* facts no rule matches raise, and derived facts nobody consumes vanish: the
  compiler adds catch-all "keep" rules;
* exceptions in actions are swallowed into the session state: they are raised here;
* at most 1,024 live sessions: each case gets one session, deleted in ``finally``;
* ruleset names cannot be registered twice: compiled packs are registered once by
  content-derived name;
* its JSON reader cannot read some numbers Python writes (``1e-05``, ``4e+16``,
  ``Infinity``) and, inside one batch, silently drops the fact holding one and every
  fact after it; it reads ``NaN`` as null, compares only the first 65,535 bytes of a
  string modulo 65,536 (``'x' * 65537 == 'x'``) and refuses lone surrogates. So every
  value reaches it in a form it reads exactly (``engine_value``), on both sides of every
  comparison, and after each batch the adapter checks that every fact it asserted is
  stored, as asserted.
"""

from __future__ import annotations

import contextlib
import copy
import hashlib
import itertools
import math
import struct
from dataclasses import dataclass
from typing import Any

from chipclear.decide.compile import CompiledPack
from chipclear.errors import EngineFailure
from durable import engine as _durable


class Unrepresentable(EngineFailure):
    """A value the rule engine cannot be given exactly (not finite, or not a float)."""


#: Keys the adapter writes into facts and patterns itself; their values pass unchanged.
STRUCTURAL = frozenset({"t", "id", "sid", "idx", "k", "rule"})
_MAGNITUDE = 0x7FFF_FFFF_FFFF_FFFF


def engine_number(value: int | float) -> int:
    """A finite float as a 64-bit integer with the same order: the engine's form of numbers.

    An IEEE-754 double's bit pattern, read as a signed integer, grows with the value
    for positive numbers; negating the magnitude bits does the same for negative ones.
    So ``a < b`` exactly when ``engine_number(a) < engine_number(b)``, and equal values
    (``0.0`` and ``-0.0`` included) map to one integer. durable-rules reads integers
    of up to 19 digits exactly (``atoll``) and compares two integers as integers, so
    every comparison it makes on these is the comparison Python makes on the floats.
    An integer that is not exactly a float, and anything not finite, is refused.
    """
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise Unrepresentable(f"{value!r} is not a number")
    try:
        number = float(value)
    except OverflowError:
        raise Unrepresentable(f"{value} is too large for the rule engine") from None
    if not math.isfinite(number):
        raise Unrepresentable(f"{value} is not a finite number")
    if isinstance(value, int) and int(number) != value:
        raise Unrepresentable(f"{value} is not exactly representable (at most 2**53)")
    bits: int = struct.unpack("<q", struct.pack("<d", number))[0]
    return bits if bits >= 0 else -(bits & _MAGNITUDE)


def engine_text(value: str) -> str:
    """Text as a fixed-length ASCII token: equal exactly when the texts are equal.

    Rules compare text only for (in)equality, so a 128-bit BLAKE2b digest keeps every
    comparison (a collision is a 2**-64 event per pair) and removes the engine's limits
    on string length, escapes and unpaired surrogates.
    """
    digest = hashlib.blake2b(value.encode("utf-8", "surrogatepass"), digest_size=16)
    return "s" + digest.hexdigest()


def engine_value(value: Any) -> Any:
    """The form in which a fact value or rule literal reaches durable-rules."""
    if isinstance(value, bool):
        return value
    if isinstance(value, int | float):
        return engine_number(value)
    if isinstance(value, str):
        return engine_text(value)
    raise Unrepresentable(f"{value!r} ({type(value).__name__}) is not a fact value")


def engine_fact(fact: dict[str, Any]) -> dict[str, Any]:
    """A fact with every value but the adapter's own keys in engine form."""
    out: dict[str, Any] = {}
    for key, value in fact.items():
        if key in STRUCTURAL:
            out[key] = value
            continue
        try:
            out[key] = engine_value(value)
        except Unrepresentable as exc:
            raise Unrepresentable(f"fact {key.replace('__', '.')}: {exc}") from None
    return out


def _engine_pattern(node: Any) -> Any:
    """A compiled pattern with every literal in engine form (joins and types unchanged)."""
    if isinstance(node, list):
        return [_engine_pattern(n) for n in node]
    if not isinstance(node, dict):
        return node
    return {key: value if key in STRUCTURAL
            else _engine_pattern(value) if isinstance(value, dict | list)
            else engine_value(value)
            for key, value in node.items()}


def engine_ruleset(ruleset: dict[str, Any]) -> dict[str, Any]:
    """A compiled ruleset with its literals encoded as ``engine_fact`` encodes facts."""
    return {name: {**rule, "all": _engine_pattern(rule["all"])} for name, rule in ruleset.items()}


@dataclass(frozen=True)
class Firing:
    """One activation: which branch fired, on which fact, using which derived facts."""

    action: str
    idx: int
    derived_ids: tuple[str, ...]


class _Session:
    __slots__ = ("asserted", "derived", "firings", "opened")

    def __init__(self) -> None:
        self.firings: list[Firing] = []
        self.asserted: set[str] = set()
        self.derived: list[dict[str, Any]] = []  # derived facts, in engine form
        self.opened = False  # the __open rule fired: deleting the session is safe


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
        if action_name == "__open":
            return self._opened
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
                    fact = {"t": "d", "id": fid, "k": key, "v": engine_value(value),
                            "idx": idx, "rule": spec.rule_id}
                    c.assert_fact(fact)
                    state.derived.append({**fact, "sid": c.s.sid})

        return run

    def _opened(self, c: Any) -> None:
        self.sessions[c.s.sid].opened = True


def _noop(c: Any) -> None:
    return None


class Runtime:
    """Evaluates prepared facts against compiled packs, one session per case.

    ``_submit`` and ``_check_accepted`` are the two steps between the facts a case
    has and the facts the engine holds; tests subclass them to lose a fact on purpose.
    """

    def __init__(self) -> None:
        self._host = _QuietHost()
        self._sid = itertools.count(1)

    def _register(self, pack: CompiledPack) -> None:
        if pack.name in self._host.packs:
            return
        try:
            ruleset = engine_ruleset(copy.deepcopy(pack.ruleset))  # durable deletes 'run'
        except Unrepresentable as exc:
            raise EngineFailure(f"rule pack compiled for {pack.as_of}: {exc}") from None
        for rule in ruleset.values():
            if rule["run"] not in ("__noop", "__open"):
                rule["run"] = f"{pack.name}/{rule['run']}"
        self._host.packs[pack.name] = pack
        try:
            self._host.register_rulesets({pack.name: ruleset})
        except Exception as exc:  # the library raises bare Exceptions
            del self._host.packs[pack.name]
            detail = " ".join(str(exc).split())[:200]
            raise EngineFailure(f"the rule engine refused the compiled pack: {detail}") from None

    def _submit(self, pack_name: str, facts: list[dict[str, Any]]) -> Any:
        """Hand a batch of engine-form facts to durable-rules."""
        return self._host.assert_facts(pack_name, facts)

    def _check_accepted(self, pack_name: str, sid: str, facts: list[dict[str, Any]]) -> None:
        """Every fact asserted (and derived) is stored in the session exactly as asserted.

        durable-rules stops reading a batch at a fact it cannot parse without raising;
        the facts after it never reach a rule. That must fail the case, not decide it.
        """
        stored = {str(f.get("id")): f for f in self._host.get_facts(pack_name, sid)}
        expected = [*facts, *self._host.sessions[sid].derived]
        for n, fact in enumerate(expected):
            if stored.get(str(fact["id"])) != fact:
                raise EngineFailure(
                    f"the rule engine did not accept fact '{fact['id']}' ({n} of "
                    f"{len(expected)} facts were accepted before it)")

    def run(self, pack: CompiledPack, facts: list[dict[str, Any]]) -> list[Firing]:
        """Assert all of a case's facts at once and return the activations, in firing order."""
        self._register(pack)
        sid = str(next(self._sid))
        session = self._host.sessions[sid] = _Session()
        try:
            batch = [{**engine_fact(fact), "sid": sid} for fact in facts]
            state = self._submit(pack.name, batch)
            if isinstance(state, dict) and state.get("exception"):
                raise EngineFailure(f"rule action failed: {state['exception']}")
            self._check_accepted(pack.name, sid, batch)
            return session.firings
        except EngineFailure:
            raise
        except Exception as exc:  # the library raises bare Exceptions and its own errors
            raise EngineFailure(f"rule engine error: {exc}") from exc
        finally:
            self._close(pack.name, sid)

    def _close(self, pack_name: str, sid: str) -> None:
        """Delete a session; open it first if no rule fired (deleting it would segfault)."""
        session = self._host.sessions[sid]
        with contextlib.suppress(Exception):
            if not session.opened:
                self._host.assert_fact(pack_name, {"t": "case", "id": "__open", "idx": -1,
                                                   "sid": sid})
            if session.opened:
                self._host.delete_state(pack_name, sid)
        del self._host.sessions[sid]
