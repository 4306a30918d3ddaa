"""Batch throughput: chipclear end to end against raw durable-rules, in one process.

End to end = read a file of N cases (YAML, then the same cases as JSON lines),
validate, evaluate, render JSON lines. Raw = durable-rules asserting the same prepared
facts (one session per case), no validation, no decision building: the floor the
wrapper is measured against. The stage lines say where the rest of the time goes.

    python bench/batch.py [N]
"""

from __future__ import annotations

import datetime as dt
import io
import json
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from chipclear.batch import run as batch
from chipclear.decide.evaluate import Evaluator, prepare
from chipclear.io import render
from chipclear.pack.loader import default_rules_dir, load_pack

from bench.corpus import cases


def main(n: int) -> None:
    pack = load_pack(default_rules_dir())
    with tempfile.TemporaryDirectory() as tmp:
        corpus = cases(n)
        path = Path(tmp) / "corpus.yaml"
        path.write_text(yaml.safe_dump({"cases": corpus}, allow_unicode=True), encoding="utf-8")
        jsonl = Path(tmp) / "corpus.jsonl"
        jsonl.write_text("".join(json.dumps(c, default=str) + "\n" for c in corpus),
                         encoding="utf-8")
        today = dt.date(2026, 11, 22)

        def end_to_end(source: Path) -> tuple[int, float]:
            ev = Evaluator(pack)
            out = io.StringIO()
            start = time.perf_counter()
            count = 0
            for outcome in batch.run(ev, [source], today):
                if outcome.decision is not None:
                    out.write(render.to_jsonl_line(outcome.decision))
                    count += 1
            return count, time.perf_counter() - start

        count, e2e = end_to_end(path)
        count_jsonl, e2e_jsonl = end_to_end(jsonl)

        ev2 = Evaluator(pack)
        prepared = []
        for entry in batch.read_all([path]):
            if entry.case is not None:
                as_of = entry.case.as_of or today
                prepared.append((ev2.compiled(as_of), prepare(entry.case, pack, as_of)))
        facts = [(c, p.engine_facts()) for c, p in prepared]
        ev2.runtime.run(*facts[0])  # register rulesets outside the timing
        start = time.perf_counter()
        firings = [ev2.runtime.run(compiled, f) for compiled, f in facts]
        raw = time.perf_counter() - start
        stages = _stages(ev2, path, today, prepared, firings)

    print(f"cases: {n} ({count} decided from YAML, {count_jsonl} from JSON lines)")
    print(f"end to end from YAML (load, validate, evaluate, render): {count / e2e:,.0f} cases/s")
    print(f"end to end from JSON lines:                            {count_jsonl / e2e_jsonl:,.0f} "
          "cases/s")
    print(f"raw durable-rules on the same prepared facts:          {len(facts) / raw:,.0f} cases/s")
    print(f"ratio end-to-end / raw: YAML {(count / e2e) / (len(facts) / raw):.2f}, "
          f"JSON lines {(count_jsonl / e2e_jsonl) / (len(facts) / raw):.2f}")
    print("per case, ms: " + ", ".join(f"{k} {v * 1000 / n:.3f}" for k, v in stages.items())
          + f", durable {raw * 1000 / n:.3f}")


def _stages(ev: Evaluator, path: Path, today: dt.date, prepared: list[Any],
            firings: list[Any]) -> dict[str, float]:
    """Seconds spent in each stage outside durable-rules, over the whole corpus."""
    start = time.perf_counter()
    entries = list(batch.read_all([path]))
    read = time.perf_counter() - start
    start = time.perf_counter()
    for entry in entries:
        if entry.case is not None:
            prepare(entry.case, ev.pack, entry.case.as_of or today)
    prep = time.perf_counter() - start
    start = time.perf_counter()
    decisions = [ev._decide(p, compiled, f) for (compiled, p), f in zip(prepared, firings,
                                                                        strict=True)]
    decide = time.perf_counter() - start
    start = time.perf_counter()
    for d in decisions:
        render.to_jsonl_line(d)
    rend = time.perf_counter() - start
    return {"read+validate YAML": read, "prepare": prep, "decide": decide, "render": rend}


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 10_000)
