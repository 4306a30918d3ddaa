"""Batch throughput: chipclear end to end against raw durable-rules, in one process.

End to end = read a YAML file of N cases, validate, evaluate, render JSON lines.
Raw = durable-rules asserting the same prepared facts (one session per case), no
validation, no decision building: the floor the wrapper is measured against.

    python bench/batch.py [N]
"""

from __future__ import annotations

import datetime as dt
import io
import sys
import tempfile
import time
from pathlib import Path

import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.corpus import cases
from engine import batch, render
from engine.evaluate import Evaluator, prepare
from engine.pack import default_rules_dir, load_pack


def main(n: int) -> None:
    pack = load_pack(default_rules_dir())
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "corpus.yaml"
        path.write_text(yaml.safe_dump({"cases": cases(n)}, allow_unicode=True), encoding="utf-8")
        today = dt.date(2026, 11, 22)

        ev = Evaluator(pack)
        out = io.StringIO()
        start = time.perf_counter()
        count = 0
        for outcome in batch.run(ev, [path], today):
            if outcome.decision is not None:
                out.write(render.to_jsonl_line(outcome.decision))
                count += 1
        e2e = time.perf_counter() - start

        ev2 = Evaluator(pack)
        prepared = []
        for entry in batch.read_all([path]):
            if entry.case is not None:
                as_of = entry.case.as_of or today
                prepared.append((ev2.compiled(as_of), prepare(entry.case, pack, as_of)))
        facts = [(c, p.engine_facts()) for c, p in prepared]
        ev2.runtime.run(*facts[0])  # register rulesets outside the timing
        start = time.perf_counter()
        for compiled, f in facts:
            ev2.runtime.run(compiled, f)
        raw = time.perf_counter() - start

    print(f"cases: {n} ({count} decided)")
    print(f"end to end (load, validate, evaluate, render JSONL): {count / e2e:,.0f} cases/s")
    print(f"raw durable-rules on the same prepared facts:        {len(facts) / raw:,.0f} cases/s")
    print(f"ratio end-to-end / raw: {(count / e2e) / (len(facts) / raw):.2f}")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 10_000)
