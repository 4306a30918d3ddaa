"""The adapter drives durable-rules' C engine itself; these tests pin down what that owes.

The same activations in the same order as durable's own Python wrapper; a failing
action, a lost batch or a refused derived fact is an ``EngineFailure`` and never leaks a
session (the engine holds at most 1,024); the compiled pack is left as it was given.
"""

from __future__ import annotations

import copy
import dataclasses
import datetime as dt
from typing import Any

import pytest
from chipclear.decide.compile import ActionSpec, CompiledPack
from chipclear.decide.evaluate import Evaluator, prepare
from chipclear.decide.runtime import Runtime, engine_fact, engine_value
from chipclear.errors import EngineFailure
from chipclear.model.case import Case
from chipclear.pack.facts import Scope
from chipclear.pack.golden import golden_files, load_golden
from chipclear.pack.loader import RulePack

from bench import reference_runtime
from bench.corpus import cases as generated
from tests.conftest import fuzz_seed

TODAY = dt.date(2026, 11, 22)
SESSIONS_THE_ENGINE_HOLDS = 1024


def _prepared(evaluator: Evaluator, cases: list[Case]) -> list[tuple[CompiledPack, Any]]:
    out = []
    for c in cases:
        as_of = c.as_of or TODAY
        out.append((evaluator.compiled(as_of), prepare(c, evaluator.pack, as_of).engine_facts()))
    return out


def _for_wrapper(compiled: CompiledPack) -> CompiledPack:
    """The pack for the frozen wrapper-driven runtime (its ``__open`` runs a no-op)."""
    ruleset = {k: ({**v, "run": "__noop"} if k == "__open" else v)
               for k, v in compiled.ruleset.items()}
    return dataclasses.replace(compiled, name=compiled.name + "-wrapper", ruleset=ruleset)


def test_activations_come_in_the_order_durable_s_wrapper_runs_them(evaluator: Evaluator) -> None:
    """Golden cases and freshly generated ones: the same firings, in the same order, as
    the library's own action loop gives (``bench/reference_runtime.py``, frozen)."""
    cases = [g.case for path in golden_files(evaluator.pack) for g, _ in load_golden(path)]
    cases += [Case.model_validate(raw) for raw in generated(300, seed=fuzz_seed())]
    wrapper = reference_runtime.Runtime()
    chained = 0
    for compiled, facts in _prepared(evaluator, cases):
        expected = wrapper.run(_for_wrapper(compiled), [dict(f) for f in facts])
        got = evaluator.runtime.run(compiled, facts)
        assert [(f.action, f.idx, f.derived_ids) for f in got] == \
               [(f.action, f.idx, f.derived_ids) for f in expected]
        chained += any(f.derived_ids for f in got)
    assert chained > 50  # derived facts were consumed, not only asserted


def _probe(name: str, *, keep_derived: bool = True,
           derive: tuple[tuple[str, Any], ...] = ()) -> CompiledPack:
    """One rule on every order line, optionally deriving facts; the compiler's helper rules."""
    ruleset: dict[str, Any] = {
        "line": {"all": [{"m": {"t": "item"}}], "run": "line"},
        "__open": {"all": [{"m": {"t": "case"}}], "run": "__open"},
        "__keep_item": {"all": [{"m": {"t": "item"}}, {"never": {"t": "__never__"}}],
                        "run": "__noop"},
    }
    if keep_derived:
        ruleset["__keep_d"] = {"all": [{"m": {"t": "d"}}, {"never": {"t": "__never__"}}],
                               "run": "__noop"}
    actions = {"line": ActionSpec("PROBE-LINE", 0, Scope.item, derive, ())}
    return CompiledPack(name, dt.date(2026, 1, 1), ruleset, actions, (), {}, {})


FACTS = [{"t": "case", "id": "case", "idx": -1, "buyer__country": "CN"},
         {"t": "item", "id": "item-0", "idx": 0, "item__tpp": 6400.0},
         {"t": "item", "id": "item-1", "idx": 1, "item__tpp": 100.0}]


class FailingRuntime(Runtime):
    """Its branch actions raise while ``failing`` is set (a test seam)."""

    failing = True

    def _act(self, ruleset: Any, session: Any, message: str) -> None:
        if self.failing and '"m":{"t":"item"' in message:
            raise RuntimeError("seam: an action fails")
        super()._act(ruleset, session, message)


def test_a_failing_action_fails_the_case_and_frees_its_session() -> None:
    runtime = FailingRuntime()
    pack = _probe("probe_failing_action")
    for _ in range(SESSIONS_THE_ENGINE_HOLDS + 76):
        with pytest.raises(EngineFailure, match="seam: an action fails"):
            runtime.run(pack, FACTS)
    runtime.failing = False  # every session above was deleted, or this one cannot start
    assert sorted((f.action, f.idx) for f in runtime.run(pack, FACTS)) == [("line", 0),
                                                                          ("line", 1)]


def test_a_case_whose_facts_never_arrive_fails_and_frees_its_session() -> None:
    """An empty batch never reaches the engine (it would hand back no valid session)."""

    class Losing(Runtime):
        losing = True

        def _submit(self, pack_name: str, facts: list[dict[str, Any]]) -> Any:
            return super()._submit(pack_name, [] if self.losing else facts)

    runtime = Losing()
    pack = _probe("probe_nothing_arrives")
    for _ in range(SESSIONS_THE_ENGINE_HOLDS + 76):
        with pytest.raises(EngineFailure):
            runtime.run(pack, FACTS)
    runtime.losing = False
    assert len(runtime.run(pack, FACTS)) == 2


def test_a_derived_fact_the_engine_refuses_fails_the_case() -> None:
    """Without a rule that keeps derived facts the engine refuses them: never a decision."""
    pack = _probe("probe_unkept_derived", keep_derived=False, derive=(("line.seen", True),))
    with pytest.raises(EngineFailure, match=r"refused fact 'line\.seen=True@[01]': no rule"):
        Runtime().run(pack, FACTS)
    kept = _probe("probe_kept_derived", derive=(("line.seen", True),))
    assert len(Runtime().run(kept, FACTS)) == 2


def test_registering_leaves_the_compiled_pack_as_it_was(pack: RulePack) -> None:
    """Evaluators share compiled packs between runtimes (audit, ledger): none may alter one."""
    evaluator = Evaluator(pack)
    ((compiled, facts),) = _prepared(evaluator, [Case.model_validate(generated(1)[0])])
    before = copy.deepcopy(compiled.ruleset)
    first = Runtime().run(compiled, facts)
    second = Runtime().run(compiled, facts)
    assert compiled.ruleset == before
    assert first == second


def test_a_rule_name_json_would_escape_is_refused_in_one_line() -> None:
    pack = _probe("probe_quoted_name")
    pack.ruleset['li"ne'] = pack.ruleset.pop("line")
    with pytest.raises(EngineFailure) as failure:
        Runtime().run(pack, FACTS)
    message = str(failure.value)
    assert message.startswith("the rule engine refused the compiled pack: ")
    assert "\n" not in message


@pytest.mark.parametrize(("first", "then"), [(1, True), (True, 1), (0.0, False), (1.0, 1)])
def test_remembered_encodings_keep_booleans_and_numbers_apart(first: Any, then: Any) -> None:
    for value in (first, then, first):
        assert engine_fact({"x": value})["x"] == engine_value(value)
        assert type(engine_fact({"x": value})["x"]) is type(engine_value(value))


def test_frames_are_read_from_their_text_and_read_as_a_json_parser_reads_them(
        evaluator: Evaluator, monkeypatch: pytest.MonkeyPatch) -> None:
    """Every activation of every golden case takes the fast path, and it agrees with
    parsing the frame; frames the fast path cannot vouch for are parsed."""
    from chipclear.decide import runtime as adapter

    frames: list[tuple[str, tuple[str, ...]]] = []
    parse = adapter._bound_parsed
    parsed: list[str] = []

    def spy_parse(message: str, derived: tuple[str, ...]) -> tuple[int, tuple[str, ...]]:
        parsed.append(message)
        return parse(message, derived)

    class Spying(Runtime):
        def _act(self, ruleset: Any, session: Any, message: str) -> None:
            what = ruleset.actions[message[2:message.index('"', 2)]]
            if what is not None:
                frames.append((message, what[1].derived_aliases))
            super()._act(ruleset, session, message)

    monkeypatch.setattr(adapter, "_bound_parsed", spy_parse)
    runtime = Spying()
    cases = [g.case for path in golden_files(evaluator.pack) for g, _ in load_golden(path)]
    for compiled, facts in _prepared(evaluator, cases):
        runtime.run(compiled, facts)
    assert parsed == []
    assert sum(1 for _, derived in frames if derived) > 20
    for message, derived in frames:
        assert adapter._bound(message, derived) == parse(message, derived)

    escaped = '{"r":{"d0":{"t":"d","id":"a\\"b=1@0","idx":0},"m":{"t":"item","id":"i","idx":3}}}'
    reordered = '{"r":{"m":{"id":"item-0","t":"item","idx":3,"x":1}}}'
    assert adapter._bound(escaped, ("d0",)) == (3, ('a"b=1@0',))
    assert adapter._bound(reordered, ()) == (3, ())
    assert parsed == [escaped, reordered]
