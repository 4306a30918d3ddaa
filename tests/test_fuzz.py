"""Property tests: whatever a case file holds, the answer is a decision or one clear line.

The invariant is never a traceback: every input yields either a decision or a user
error naming the file (and, where there is one, line and column). The tests marked
``slow`` run 10,000 examples each (CHIPCLEAR_FUZZ_EXAMPLES changes it) and are part of
the default run and CI; ``-m "not slow"`` leaves them out locally.

Every run draws fresh inputs from a new seed, printed in pytest's header; set
CHIPCLEAR_FUZZ_SEED to that number to replay a run.
"""

from __future__ import annotations

import datetime as dt
import json
import math
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml
from chipclear.batch import run as batch
from chipclear.decide.evaluate import Evaluator
from chipclear.pack.loader import RulePack
from hypothesis import HealthCheck, given, seed, settings
from hypothesis import strategies as st

from tests.conftest import fuzz_seed

TODAY = dt.date(2026, 11, 22)
SLOW_EXAMPLES = int(os.environ.get("CHIPCLEAR_FUZZ_EXAMPLES", "10000"))
FUZZ_SEED = fuzz_seed()

scalars = st.one_of(
    st.none(), st.booleans(), st.integers(min_value=-(10**30), max_value=10**30),
    st.floats(allow_nan=True, allow_infinity=True), st.text(max_size=30),
    st.sampled_from(["NO", "on", "0123", "2026-02-30", "H200", "CN", "government", "nan",
                     "1e999", "-1", "英伟达H200", "\u202e", ""]),
)
keys = st.sampled_from(["id", "as_of", "buyer", "order", "use", "evidence", "items", "chip",
                        "quantity", "country", "kind", "spec", "custom", "cases", "x", "名称"])
values = st.recursive(
    scalars,
    lambda children: st.one_of(st.lists(children, max_size=4),
                               st.dictionaries(keys, children, max_size=5)),
    max_leaves=25,
)

BASE: dict[str, Any] = {
    "id": "fz", "as_of": "2026-02-15",
    "buyer": {"name": "Example GmbH", "country": "CN"},
    "order": {"items": [{"chip": "H200", "quantity": 4, "unit_price_usd": 30000}]},
}
paths = st.sampled_from([
    ("id",), ("as_of",), ("buyer",), ("buyer", "country"), ("buyer", "kind"),
    ("buyer", "name"), ("order", "items"), ("order", "items", 0, "chip"),
    ("order", "items", 0, "quantity"), ("order", "items", 0, "unit_price_usd"),
    ("order", "items", 0, "spec"), ("order", "items", 0, "custom"), ("use",),
    ("evidence", "necessity_justification"), ("evidence", "import_approval"), ("extra",),
])


def mutate(base: dict[str, Any], path: tuple[Any, ...], value: Any) -> dict[str, Any]:
    doc = json.loads(json.dumps(base, default=str))
    node: Any = doc
    for part in path[:-1]:
        node = node.setdefault(part, {}) if isinstance(node, dict) else node[part]
    node[path[-1]] = value
    return doc


def check_file(evaluator: Evaluator, path: Path) -> None:
    for outcome in batch.run(evaluator, [path], TODAY):
        if outcome.decision is None:
            assert outcome.error is not None
            assert outcome.error.strip()
            for line in outcome.error.splitlines():  # one line per problem of the case
                assert line.startswith(str(path)), outcome.error
            assert "Traceback" not in outcome.error
            assert not outcome.engine_failure, outcome.error


def dump(doc: Any) -> str:
    def clean(v: Any) -> Any:
        if isinstance(v, float) and not math.isfinite(v):
            return str(v)
        if isinstance(v, dict):
            return {k: clean(x) for k, x in v.items()}
        if isinstance(v, list):
            return [clean(x) for x in v]
        return v
    return yaml.safe_dump(clean(doc), allow_unicode=True)


def fuzz_settings(n: int) -> Callable[[Callable[..., None]], Callable[..., None]]:
    """n examples from this run's seed (fresh each run, see the module docstring)."""
    chosen = settings(max_examples=n, deadline=None, database=None,
                      suppress_health_check=[HealthCheck.function_scoped_fixture,
                                             HealthCheck.too_slow])

    def apply(test: Callable[..., None]) -> Callable[..., None]:
        return seed(FUZZ_SEED)(chosen(test))  # type: ignore[no-any-return]

    return apply


def _structured(minipack: RulePack, tmp_path: Path, n: int) -> int:
    """Run ``n`` examples; returns how many ran, so the count reported is the count run."""
    evaluator = Evaluator(minipack)
    ran = 0

    @fuzz_settings(n)
    @given(path=paths, value=values)
    def run(path: tuple[Any, ...], value: Any) -> None:
        nonlocal ran
        ran += 1
        target = tmp_path / "case.yaml"
        target.write_text(dump(mutate(BASE, path, value)), encoding="utf-8")
        check_file(evaluator, target)
        as_json = tmp_path / "case.json"
        as_json.write_text(json.dumps(mutate(BASE, path, value), default=str), encoding="utf-8")
        check_file(evaluator, as_json)

    run()
    return ran


def _raw(minipack: RulePack, tmp_path: Path, n: int) -> int:
    evaluator = Evaluator(minipack)
    ran = 0

    @fuzz_settings(n)
    @given(blob=st.one_of(st.binary(max_size=200), st.text(max_size=200).map(str.encode),
                          st.sampled_from([b"", b"---\n", b"[" * 5000, b"a: &x [*x]\n",
                                           b"a: 1\na: 2\n", b"{\"a\":1,\"a\":2}",
                                           b"cases: 3\n", b"- 1\n- 2\n",
                                           b"!!python/object:os.system x"])),
           suffix=st.sampled_from([".yaml", ".json", ".jsonl"]))
    def run(blob: bytes, suffix: str) -> None:
        nonlocal ran
        ran += 1
        target = tmp_path / f"raw{suffix}"
        target.write_bytes(blob)
        check_file(evaluator, target)

    run()
    return ran


def test_structured_mutations_never_crash(minipack: RulePack, tmp_path: Path) -> None:
    assert _structured(minipack, tmp_path, 150) >= 150


def test_raw_bytes_never_crash(minipack: RulePack, tmp_path: Path) -> None:
    assert _raw(minipack, tmp_path, 150) >= 150


@pytest.mark.slow
def test_structured_mutations_long(minipack: RulePack, tmp_path: Path) -> None:
    assert _structured(minipack, tmp_path, SLOW_EXAMPLES) >= SLOW_EXAMPLES


@pytest.mark.slow
def test_raw_bytes_long(minipack: RulePack, tmp_path: Path) -> None:
    assert _raw(minipack, tmp_path, SLOW_EXAMPLES) >= SLOW_EXAMPLES


# --- rule packs ---------------------------------------------------------------------------

RULE_PATHS = st.sampled_from([
    ("rules", 0, "id"), ("rules", 0, "severity"), ("rules", 0, "valid_from"),
    ("rules", 0, "valid_to"), ("rules", 0, "sources"), ("rules", 0, "when"),
    ("rules", 0, "when", "all", 0), ("rules", 0, "when", "all", 1, "gte"),
    ("rules", 0, "then"), ("rules", 0, "then", "derive"), ("rules", 1, "then", "us_status"),
    ("rules", 1, "when", "all", 0, "derived"), ("rules", 2, "title"), ("rules", 2, "extra"),
    ("module",), ("module", "jurisdiction"), ("module", "applies_when"), ("rules",),
])
WHEN_LIKE = st.one_of(values, st.fixed_dictionaries({"fact": st.sampled_from(
    ["chip.tpp", "buyer.country", "nope.nothing", "chip.datacenter"]),
    "eq": scalars}), st.fixed_dictionaries({"derived": st.sampled_from(["eccn", "nobody"])}))


def _pack_copy(minipack: RulePack, tmp_path: Path) -> Path:
    import shutil

    target = tmp_path / "pack"
    if target.exists():
        shutil.rmtree(target)
    shutil.copytree(minipack.root, target)
    return target


def check_pack(root: Path) -> None:
    """A mutated pack loads, or fails with one line naming a file under the pack."""
    from chipclear.errors import UserInputError
    from chipclear.pack.loader import load_pack

    try:
        load_pack(root)
    except UserInputError as exc:
        line = exc.line()
        assert line.startswith(str(root)), line
        assert "\n" not in line and "Traceback" not in line


def _packs(minipack: RulePack, tmp_path: Path, n: int) -> int:
    ran = 0
    original = yaml.safe_load((minipack.root / "core" / "rules.yaml").read_text("utf-8"))

    @fuzz_settings(n)
    @given(path=RULE_PATHS, value=WHEN_LIKE, raw=st.one_of(st.none(), st.binary(max_size=120)))
    def run(path: tuple[Any, ...], value: Any, raw: bytes | None) -> None:
        nonlocal ran
        ran += 1
        root = _pack_copy(minipack, tmp_path)
        rules = root / "core" / "rules.yaml"
        if raw is not None:
            rules.write_bytes(raw)
        else:
            rules.write_text(dump(mutate(original, path, value)), encoding="utf-8")
        check_pack(root)

    run()
    return ran


def test_mutated_rule_packs_never_crash(minipack: RulePack, tmp_path: Path) -> None:
    assert _packs(minipack, tmp_path, 200) >= 200


@pytest.mark.slow
def test_mutated_rule_packs_long(minipack: RulePack, tmp_path: Path) -> None:
    assert _packs(minipack, tmp_path, SLOW_EXAMPLES // 5) >= SLOW_EXAMPLES // 5
