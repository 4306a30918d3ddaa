"""Batch throughput against a fixed yardstick, in one process and one run.

Prints, on the same compiled rulesets and the same prepared facts of N generated cases
(``bench/corpus.py``):

(a) the reference: durable-rules driven through its public Python wrapper exactly as
    chipclear 2026.11.1 did (``bench/reference_runtime.py``, a frozen copy: one
    ``assert_facts`` per case, the wrapper's actions);
(b) the current adapter alone (``chipclear.decide.runtime.Runtime``: encoding, the
    read-back check, the session opener);
(c) end to end: read the file, validate, prepare, run, cross-check, decide, render one
    JSON line per case; from JSON lines and from YAML;

in cases/s and ms per case, and the ratios (c)/(a). The measurements are interleaved
(a, b, c-jsonl, c-yaml, then again) and each figure is the median over ``--rounds``,
because the machine is shared.

How (a) stays comparable: the compiled ruleset holds plain literals (the current
adapter encodes them, and the facts, when it registers and asserts), so (a) gets the
same ruleset and ``Prepared.engine_facts()`` unencoded, exactly what 2026.11.1's adapter
got. One rule 2026.11.1 did not compile, ``__open`` (it fires once per case, so no
session is deleted before something fired, which segfaults durable-rules, and it also
keeps the case fact when no other rule matches it), runs the wrapper's no-op action in
(a)'s copy: (a) pays the same one activation per case and needs no action of the new
adapter. The bench checks that (a) and (b) fire the same branches on every case before
timing anything.

    python bench/batch.py [N] [--rounds R] [--gc-freeze]
"""

from __future__ import annotations

import argparse
import copy
import dataclasses
import datetime as dt
import gc
import io
import json
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from chipclear.batch import run as batch
from chipclear.decide.compile import CompiledPack
from chipclear.decide.evaluate import Evaluator, prepare
from chipclear.decide.runtime import Runtime
from chipclear.io import render
from chipclear.pack.loader import default_rules_dir, load_pack

from bench import reference_runtime
from bench.corpus import cases

TODAY = dt.date(2026, 11, 22)


def _for_reference(compiled: CompiledPack) -> CompiledPack:
    """The compiled pack for the frozen adapter: ``__open`` runs the wrapper's no-op."""
    ruleset = {k: ({**v, "run": "__noop"} if k == "__open" else v)
               for k, v in compiled.ruleset.items()}
    return dataclasses.replace(compiled, name=compiled.name + "-ref", ruleset=ruleset)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("n", nargs="?", type=int, default=10_000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--gc-freeze", action="store_true",
                        help="gc.freeze() after the pack is loaded (as the CLI does)")
    args = parser.parse_args()
    n = args.n
    pack = load_pack(default_rules_dir())
    if args.gc_freeze:
        gc.collect()
        gc.freeze()
    with tempfile.TemporaryDirectory() as tmp:
        corpus = cases(n)
        yaml_path = Path(tmp) / "corpus.yaml"
        yaml_path.write_text(yaml.safe_dump({"cases": corpus}, allow_unicode=True),
                             encoding="utf-8")
        jsonl_path = Path(tmp) / "corpus.jsonl"
        jsonl_path.write_text("".join(json.dumps(c, default=str) + "\n" for c in corpus),
                              encoding="utf-8")
        del corpus

        ev = Evaluator(pack)
        prepared = []
        for entry in batch.read_all([jsonl_path]):
            assert entry.case is not None, entry.error
            as_of = entry.case.as_of or TODAY
            prepared.append((ev.compiled(as_of), prepare(entry.case, pack, as_of)))
        facts = [(c, p.engine_facts()) for c, p in prepared]
        ref_packs = {c.name: _for_reference(c) for c, _ in facts}
        reference = reference_runtime.Runtime()
        adapter = Runtime()
        _same_firings(reference, adapter, facts, ref_packs)

        def run_reference() -> None:
            batches = [(ref_packs[c.name], copy.deepcopy(f)) for c, f in facts]
            start = time.perf_counter()
            for compiled, f in batches:
                reference.run(compiled, f)
            timings["a"].append(time.perf_counter() - start)

        def run_adapter() -> None:
            start = time.perf_counter()
            for compiled, f in facts:
                adapter.run(compiled, f)
            timings["b"].append(time.perf_counter() - start)

        def end_to_end(key: str, source: Path) -> Callable[[], None]:
            def go() -> None:
                evaluator = Evaluator(pack)
                out = io.StringIO()
                start = time.perf_counter()
                count = 0
                for outcome in batch.run(evaluator, [source], TODAY):
                    assert outcome.decision is not None, outcome.error
                    out.write(render.to_jsonl_line(outcome.decision))
                    count += 1
                timings[key].append(time.perf_counter() - start)
                assert count == n
            return go

        timings: dict[str, list[float]] = {"a": [], "b": [], "jsonl": [], "yaml": []}
        for _ in range(args.rounds):
            for step in (run_reference, run_adapter, end_to_end("jsonl", jsonl_path),
                         end_to_end("yaml", yaml_path)):
                step()

    secs = {k: statistics.median(v) for k, v in timings.items()}
    rate = {k: n / s for k, s in secs.items()}
    print(f"{n:,} cases, {len(ref_packs)} compiled rulesets, median of {args.rounds} "
          f"interleaved rounds{', gc.freeze() after the pack loads' if args.gc_freeze else ''}")
    print("(a) and (b) fire the same branches on every case; (a) gets the ruleset and facts"
          " unencoded, as 2026.11.1 did (its __open rule runs the no-op action)")
    print(f"{'':58} {'cases/s':>9} {'ms/case':>8} {'/(a)':>6}")
    for key, label in (("a", "(a) reference: durable through its wrapper, 2026.11.1"),
                       ("b", "(b) current adapter alone (encode, check, open)"),
                       ("jsonl", "(c) end to end from JSON lines"),
                       ("yaml", "(c) end to end from YAML (one cases: file)")):
        print(f"{label:58} {rate[key]:>9,.0f} {secs[key] * 1000 / n:>8.3f} "
              f"{rate[key] / rate['a']:>6.2f}")


def _same_firings(reference: Any, adapter: Runtime, facts: list[Any],
                  ref_packs: dict[str, CompiledPack]) -> None:
    """(a) and (b) must answer the same question: the same branches fire on every case."""
    for compiled, f in facts:
        old = reference.run(ref_packs[compiled.name], copy.deepcopy(f))
        new = adapter.run(compiled, f)
        key = sorted((x.action, x.idx, x.derived_ids) for x in old)
        if key != sorted((x.action, x.idx, x.derived_ids) for x in new):
            raise SystemExit(f"reference and adapter disagree on a case of {compiled.as_of}")


if __name__ == "__main__":
    main()
