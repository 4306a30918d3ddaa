"""The one module that talks to durable-rules.

It drives durable-rules' C engine (``durable_rules_engine``) directly, not through the
library's Python wrapper: the wrapper parsed and re-serialised the whole session state
and frame as JSON and read the clock several times per activation, which cost more than
the matching. durable-rules has traps this adapter closes (see docs/engine.md):

* the wrapper's default Host runs a background dispatcher that races the caller and can
  segfault: there is no Host here; a case's activations run in this call, in the
  engine's own order, until none is left;
* facts no rule matches raise, and derived facts nobody consumes vanish: the
  compiler adds catch-all "keep" rules;
* the wrapper swallowed exceptions in actions into the session state; here an action
  that fails abandons its activation (releasing the engine's lease) and raises;
* the engine returns a session's handle only for a fact it could parse, and an
  uninitialised one for a batch whose first fact it could not: the first fact of a
  case is asserted alone, and its handle is the one used;
* deleting a session in which no activation ever started frees uninitialised memory:
  such a session is opened first (``Runtime._close``);
* at most 1,024 live sessions: each case gets one session, deleted in ``finally``;
* compiled packs are registered once per Runtime, by content-derived name;
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
import functools
import hashlib
import itertools
import json
import math
import re
import struct
from dataclasses import dataclass
from typing import Any

import durable_rules_engine as _engine
import orjson
from chipclear.decide.compile import ActionSpec, CompiledPack
from chipclear.errors import EngineFailure


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


@functools.lru_cache(maxsize=4096, typed=True)
def _remembered(value: Any) -> Any:
    """``engine_value``, remembered: most values (enums, countries, figures) recur per case.

    Keyed by type as well as value, so ``True`` and ``1`` stay apart.
    """
    return engine_value(value)


def engine_fact(fact: dict[str, Any]) -> dict[str, Any]:
    """A fact with every value but the adapter's own keys in engine form."""
    try:
        return {key: value if key in STRUCTURAL else _remembered(value)
                for key, value in fact.items()}
    except (Unrepresentable, TypeError):  # TypeError: unhashable, so not a fact value
        pass
    for key, value in fact.items():  # again, to say which fact cannot be encoded
        if key not in STRUCTURAL:
            try:
                engine_value(value)
            except Unrepresentable as exc:
                raise Unrepresentable(f"fact {key.replace('__', '.')}: {exc}") from None
    raise Unrepresentable("a fact value could not be encoded")  # not reached: see above


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


#: Actions that do nothing: ``__open`` only has to fire (see ``Runtime._close``), the
#: "keep" rules never do.
_NOTHING = frozenset({"__open", "__noop"})
_PLAIN_NAME = re.compile(r"[\w#.|=@-]+")
#: The keys every fact the adapter asserts starts with, in this order (see ``_alias``).
_LEADING = ("t", "id", "idx")


@functools.cache
def _alias(name: str) -> re.Pattern[str]:
    """Where a frame holds the fact bound to ``name``, and that fact's id and idx.

    The engine serialises an activation as ``{"rule":{"alias":fact,...}}`` with each fact
    as the exact text the adapter asserted, which starts ``{"t":…,"id":…,"idx":…``. Facts
    are flat and JSON escapes every quote inside a string, so ``"alias":{`` occurs only
    where the frame binds that alias. A frame with an escape, or one this does not
    match, is parsed in full instead.
    """
    return re.compile(rf'"{re.escape(name)}":\{{"t":"[^"\\]*","id":"([^"\\]*)","idx":(-?\d+)[,}}]')


@dataclass(frozen=True)
class _Ruleset:
    """A compiled pack as the engine holds it: its handle and each rule's action."""

    handle: int
    actions: dict[str, tuple[str, ActionSpec] | None]  # rule -> (action name, spec)


class _Session:
    __slots__ = ("asserted", "derived", "firings", "sid", "started")

    def __init__(self, sid: str) -> None:
        self.sid = sid
        self.firings: list[Firing] = []
        self.asserted: set[str] = set()
        self.derived: list[dict[str, Any]] = []  # derived facts, in engine form
        self.started = False  # an activation has started: deleting the session is safe


def _text(value: Any) -> str:
    """JSON text the engine reads: compact, UTF-8, integers and ASCII tokens only."""
    return orjson.dumps(value).decode()


class Runtime:
    """Evaluates prepared facts against compiled packs, one session per case.

    ``_submit`` and ``_check_accepted`` are the two steps between the facts a case
    has and the facts the engine holds; tests subclass them to lose a fact on purpose.
    One Runtime serves one process (or one worker); sessions are keyed by their own id.
    """

    def __init__(self) -> None:
        self._rulesets: dict[str, _Ruleset] = {}
        self._sessions: dict[str, _Session] = {}
        self._sid = itertools.count(1)

    def _register(self, pack: CompiledPack) -> _Ruleset:
        known = self._rulesets.get(pack.name)
        if known is not None:
            return known
        try:
            ruleset = engine_ruleset(pack.ruleset)
        except Unrepresentable as exc:
            raise EngineFailure(f"rule pack compiled for {pack.as_of}: {exc}") from None
        actions: dict[str, tuple[str, ActionSpec] | None] = {}
        definition: dict[str, Any] = {}
        for name, rule in ruleset.items():
            run = rule["run"]
            if not _PLAIN_NAME.fullmatch(name):  # activations are read by their name
                raise EngineFailure(f"the rule engine refused the compiled pack: rule name "
                                    f"{name!r} has characters JSON would escape")
            if run in _NOTHING:
                actions[name] = None
            elif run in pack.actions:
                actions[name] = (run, pack.actions[run])
            else:
                raise EngineFailure(f"the rule engine refused the compiled pack: rule {name!r} "
                                    f"runs {run!r}, which the pack does not define")
            definition[name] = {k: v for k, v in rule.items() if k != "run"}
        try:
            handle = _engine.create_ruleset(pack.name, json.dumps(definition, ensure_ascii=False))
        except Exception as exc:  # the library raises its own bare error
            detail = " ".join(str(exc).split())[:200]
            raise EngineFailure(f"the rule engine refused the compiled pack: {detail}") from None
        registered = self._rulesets[pack.name] = _Ruleset(handle, actions)
        return registered

    def _submit(self, pack_name: str, facts: list[dict[str, Any]]) -> Any:
        """Hand a batch of engine-form facts to durable-rules and run its activations."""
        if not facts:
            return None
        ruleset = self._rulesets[pack_name]
        state = _assert_one(ruleset.handle, facts[0])
        if len(facts) > 1:
            code, _ = _engine.assert_facts(ruleset.handle, _text(facts[1:]))
            if code != 0:
                raise EngineFailure(f"the rule engine refused a fact of the case (code {code})")
        self._quiesce(ruleset, self._sessions[str(facts[0]["sid"])], state)
        return state

    def _quiesce(self, ruleset: _Ruleset, session: _Session, state: int) -> None:
        """Run the session's activations, one at a time in the engine's order, until none is left.

        The engine leases a session while one of its activations runs; a failing action
        abandons the activation (releasing the lease) before the error propagates.
        """
        handle = ruleset.handle
        started = _engine.start_action_for_state(handle, state)
        if started is None:
            return
        session.started = True
        message: str | None = started[1]
        try:
            while message is not None:
                self._act(ruleset, session, message)
                message = _engine.complete_and_start_action(handle, state)
        except BaseException:
            with contextlib.suppress(Exception):
                _engine.abandon_action(handle, state)
            raise

    def _act(self, ruleset: _Ruleset, session: _Session, message: str) -> None:
        """One activation: ``{"rule":{"alias":fact,...}}`` as the engine serialises it.

        Rule names are plain (checked at registration), so the name is the text up to
        the next quote; the frame is parsed only when the action reads it.
        """
        what = ruleset.actions[message[2:message.index('"', 2)]]
        if what is None:
            return
        name, action = what
        idx, used = _bound(message, action.derived_aliases)
        session.firings.append(Firing(name, idx, used))
        for key, value in action.derive:
            fid = f"{key}={value}@{idx}"
            if fid not in session.asserted:
                session.asserted.add(fid)
                fact = {"t": "d", "id": fid, "idx": idx, "k": key, "v": engine_value(value),
                        "rule": action.rule_id, "sid": session.sid}
                _assert_one(ruleset.handle, fact)
                session.derived.append(fact)

    def _check_accepted(self, pack_name: str, sid: str, facts: list[dict[str, Any]]) -> None:
        """Every fact asserted (and derived) is stored in the session exactly as asserted.

        durable-rules stops reading a batch at a fact it cannot parse without raising;
        the facts after it never reach a rule. That must fail the case, not decide it.
        """
        handle = self._rulesets[pack_name].handle
        stored = {str(f.get("id")): f for f in orjson.loads(_engine.get_facts(handle, sid))}
        expected = [*facts, *self._sessions[sid].derived]
        for n, fact in enumerate(expected):
            if stored.get(str(fact["id"])) != fact:
                raise EngineFailure(
                    f"the rule engine did not accept fact '{fact['id']}' ({n} of "
                    f"{len(expected)} facts were accepted before it)")

    def run(self, pack: CompiledPack, facts: list[dict[str, Any]]) -> list[Firing]:
        """Assert all of a case's facts at once and return the activations, in firing order."""
        self._register(pack)
        sid = str(next(self._sid))
        session = self._sessions[sid] = _Session(sid)
        try:
            batch = [_engine_form(fact, sid) for fact in facts]
            self._submit(pack.name, batch)
            self._check_accepted(pack.name, sid, batch)
            return session.firings
        except EngineFailure:
            raise
        except Exception as exc:  # the library raises bare Exceptions and its own errors
            raise EngineFailure(f"rule engine error: {exc}") from exc
        finally:
            self._close(pack.name, sid)

    def _close(self, pack_name: str, sid: str) -> None:
        """Delete a session; start an activation in it first if none has started.

        The engine allocates a session without initialising the buffers of its current
        activation, and frees them on delete; they are set when an activation starts
        and emptied when it completes or is abandoned. Deleting a session in which no
        activation ever started frees garbage (a segfault), so such a session gets a
        case fact, on which the ``__open`` rule fires, before it is deleted.
        """
        session = self._sessions.pop(sid)
        ruleset = self._rulesets[pack_name]
        with contextlib.suppress(Exception):
            if not session.started:
                opener = {"t": "case", "id": "__open", "idx": -1, "sid": sid}
                self._quiesce(ruleset, session, _assert_one(ruleset.handle, opener))
            if session.started:
                _engine.delete_state(ruleset.handle, sid)


def _engine_form(fact: dict[str, Any], sid: str) -> dict[str, Any]:
    """A prepared fact as asserted: ``t``, ``id``, ``idx`` first, values encoded, the session."""
    out = {key: fact[key] for key in _LEADING if key in fact}
    out.update(engine_fact(fact))
    out["sid"] = sid
    return out


def _bound(message: str, derived: tuple[str, ...]) -> tuple[int, tuple[str, ...]]:
    """The ``idx`` of the fact an activation fired on and the ids of the derived facts it used.

    Read from the frame's text where each alias is bound (``_alias``); a frame that does
    not look as expected is parsed in full (``_bound_parsed``).
    """
    found = None if "\\" in message else _alias("m").search(message)
    if found is None:
        return _bound_parsed(message, derived)
    ids: list[str] = []
    for name in derived:
        hit = _alias(name).search(message)
        if hit is None:
            return _bound_parsed(message, derived)
        ids.append(hit[1])
    return int(found[2]), tuple(ids)


def _bound_parsed(message: str, derived: tuple[str, ...]) -> tuple[int, tuple[str, ...]]:
    """``_bound`` for any frame: the whole activation parsed as JSON."""
    ((_, frame),) = orjson.loads(message).items()
    return int(frame["m"]["idx"]), tuple(str(frame[a]["id"]) for a in derived)


def _assert_one(handle: int, fact: dict[str, Any]) -> int:
    """Assert one fact; return its session's handle (the engine parsed it, so it is valid)."""
    code, state = _engine.assert_fact(handle, _text(fact))
    if code != 0:
        reason = {1: "no rule takes it", 2: "it was asserted before"}.get(code, f"code {code}")
        raise EngineFailure(f"the rule engine refused fact '{fact.get('id')}': {reason}")
    return int(state)
