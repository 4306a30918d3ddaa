"""Engine time per interview answer: from an answer to the new decision.

Simulates a few hundred interviews against the shipped pack (answers drawn from the
example cases, with varied chips, buyers and dates; unknown facts answered "don't
know") and prints p50/p95 of ``Interview.answer`` without autosave. Goal: p95 <= 5 ms,
so the decision panel keeps up with typing.

    python -m bench.interview [--interviews 300] [--rules DIR] [--seed 7]
"""

from __future__ import annotations

import argparse
import random
import statistics
import time
from pathlib import Path
from typing import Any

from chipclear.decide.evaluate import Evaluator
from chipclear.interview.session import UNKNOWN, Interview
from chipclear.io.caseio import read_file
from chipclear.pack.loader import RulePack, default_rules_dir, load_pack

ROOT = Path(__file__).resolve().parent.parent


def _leaves(value: Any, prefix: str, out: dict[str, Any]) -> None:
    if isinstance(value, dict) and not prefix.endswith("dense_tflops"):
        for k, v in value.items():
            _leaves(v, f"{prefix}.{k}" if prefix else k, out)
    elif isinstance(value, list):
        for i, v in enumerate(value):
            _leaves(v, f"{prefix}[{i}]", out)
    else:
        out[prefix] = value


def scripts(pack: RulePack, n: int, seed: int) -> list[tuple[str, dict[str, Any]]]:
    """``n`` answer sets: example cases with a random chip, buyer kind and date."""
    rng = random.Random(seed)
    base = [e.case.model_dump(mode="json", exclude_none=True, exclude_defaults=True)
            for p in sorted((ROOT / "examples" / "cases").glob("*.yaml"))
            for e in read_file(p) if e.case is not None]
    chips = sorted(pack.catalog.chips)
    kinds = ["internet_platform", "cloud_provider", "startup", "university",
             "government_cloud", "state_owned_enterprise"]
    dates = ["2025-06-01", "2025-09-01", "2026-02-15", "2026-06-01"]
    out = []
    for i in range(n):
        data = dict(rng.choice(base))
        answers: dict[str, Any] = {}
        _leaves(data, "", answers)
        items = [dict(x) for x in data.get("order", {}).get("items", [])] or [{"quantity": 8}]
        items[0]["chip"] = rng.choice(chips)
        answers["order.items"] = items
        answers["buyer.kind"] = rng.choice(kinds)
        if rng.random() < 0.3:
            answers["buyer.country"] = rng.choice(["CN", "MY", "HK", "DE"])
        out.append((f"bench-{i}", {"as_of": rng.choice(dates), "answers": answers}))
    return out


def run(pack: RulePack, n: int, seed: int) -> list[float]:
    evaluator = Evaluator(pack)
    times: list[float] = []
    for case_id, script in scripts(pack, n, seed):
        iv = Interview(pack, {"id": case_id, "as_of": script["as_of"]}, None,
                       evaluator=evaluator)
        answers = script["answers"]
        for _ in range(80):
            q = iv.next_question()
            if q is None:
                break
            start = time.perf_counter()
            iv.answer(q.fact, answers.get(q.fact, UNKNOWN))
            times.append((time.perf_counter() - start) * 1000)
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--interviews", type=int, default=300)
    parser.add_argument("--rules", type=Path, default=None)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    pack = load_pack(args.rules or default_rules_dir())
    times = run(pack, args.interviews, args.seed)
    q = statistics.quantiles(times, n=100)
    print(f"{args.interviews} interviews, {len(times)} answers: "
          f"p50 {q[49]:.2f} ms, p95 {q[94]:.2f} ms, max {max(times):.2f} ms "
          f"(goal p95 <= 5 ms)")


if __name__ == "__main__":
    main()
