"""End to end with two engine adapters, everything else equal: what an adapter change buys.

Loads an earlier ``engine/decide/runtime.py`` (e.g. ``git show 9cfdaf0:engine/decide/
runtime.py > /tmp/old_runtime.py``) beside the current one and decides the same N
generated cases (``bench/corpus.py``) from JSON lines with each, alternating, ``--rounds``
times. Prints the median CPU time per case of each (CPU, not wall time: the machine is
shared) and checks that both render byte-identical JSON lines.

    python bench/adapter_ab.py OLD_RUNTIME_PY [N] [--rounds R]
"""

from __future__ import annotations

import argparse
import datetime as dt
import importlib.util
import io
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from chipclear.batch import run as batch
from chipclear.decide.evaluate import Evaluator
from chipclear.decide.runtime import Runtime
from chipclear.io import render
from chipclear.pack.loader import default_rules_dir, load_pack

from bench.corpus import cases

TODAY = dt.date(2026, 11, 22)


def _load(path: Path) -> Any:
    spec = importlib.util.spec_from_file_location("old_runtime", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["old_runtime"] = module  # dataclasses look their module up
    spec.loader.exec_module(module)
    return module


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("old", type=Path)
    parser.add_argument("n", nargs="?", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    old = _load(args.old)
    pack = load_pack(default_rules_dir())
    with tempfile.TemporaryDirectory() as tmp:
        source = Path(tmp) / "corpus.jsonl"
        source.write_text("".join(json.dumps(c, default=str) + "\n" for c in cases(args.n)),
                          encoding="utf-8")

        def decide(runtime: Any) -> tuple[float, str]:
            evaluator = Evaluator(pack, runtime)
            out = io.StringIO()
            start = time.process_time()
            for outcome in batch.run(evaluator, [source], TODAY):
                assert outcome.decision is not None, outcome.error
                out.write(render.to_jsonl_line(outcome.decision))
            return time.process_time() - start, out.getvalue()

        cpu: dict[str, list[float]] = {"old": [], "new": []}
        outputs: dict[str, str] = {}
        for _ in range(args.rounds):
            for key, runtime in (("old", old.Runtime()), ("new", Runtime())):
                seconds, text = decide(runtime)
                cpu[key].append(seconds)
                outputs.setdefault(key, text)
    if outputs["old"] != outputs["new"]:
        raise SystemExit("the two adapters rendered different decisions")
    per_case = {k: statistics.median(v) * 1000 / args.n for k, v in cpu.items()}
    print(f"{args.n:,} cases from JSON lines, median CPU of {args.rounds} alternating rounds; "
          "output byte-identical")
    print(f"old adapter ({args.old}): {per_case['old']:.3f} ms/case")
    print(f"current adapter:          {per_case['new']:.3f} ms/case")
    print(f"speed-up end to end: {per_case['old'] / per_case['new']:.2f}x")


if __name__ == "__main__":
    main()
