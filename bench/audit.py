"""How long ``chipclear audit diff`` takes over a large corpus.

Generates N cases (``bench/corpus.py``), copies the pack, raises one threshold in the
copy, and times the whole audit in one process: load both packs, read and validate
the corpus, decide the corpus (each case once where both packs provably agree on it,
else under both packs), diff the packs, render the report. With ``--plain`` the same
audit also runs deciding every case under both packs (the path before the fast one),
interleaved round by round, and the two reports must be byte-identical.

    python bench/audit.py [N] [--rules DIR] [--param ID] [--plain] [--rounds R]
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from chipclear.audit.impact import AuditReport, PackSpec, audit_diff, render_report
from chipclear.pack.loader import default_rules_dir, load_pack

from bench.corpus import cases


def raise_threshold(root: Path, wanted: str | None) -> tuple[str, Any, Any]:
    """Raise one numeric parameter's latest value by half, in the copy at ``root``."""
    pack = load_pack(root)
    for module in pack.manifest.modules:
        path = root / module / "parameters.yaml"
        if not path.is_file():
            continue
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        for param in data["parameters"]:
            last = param["values"][-1]
            numeric = isinstance(last["value"], int | float) and not isinstance(last["value"], bool)
            if numeric and (wanted is None or param["id"] == wanted):
                old = last["value"]
                last["value"] = old * 1.5
                path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False),
                                encoding="utf-8")
                return param["id"], old, last["value"]
    raise SystemExit(f"no numeric parameter {wanted or ''} to change")


def _timed(base: Path, head: Path, corpus: Path, jobs: int,
           fast: bool) -> tuple[float, float, AuditReport, str]:
    start, cpu = time.perf_counter(), time.process_time()
    report = audit_diff(PackSpec(str(base), base), PackSpec("head", head), [corpus],
                        dt.date(2026, 11, 22), jobs, fast)
    text = render_report(report, "table") + render_report(report, "json")
    return time.perf_counter() - start, time.process_time() - cpu, report, text


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("n", nargs="?", type=int, default=10_000)
    parser.add_argument("--rules", type=Path, default=default_rules_dir())
    parser.add_argument("--param", default="us.tpp_3a090a")
    parser.add_argument("--jobs", type=int, default=0, help="worker processes (0: none)")
    parser.add_argument("--plain", action="store_true",
                        help="also time deciding every case under both packs, interleaved")
    parser.add_argument("--rounds", type=int, default=1)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        head = Path(tmp) / "head"
        shutil.copytree(args.rules, head)
        wanted = args.param if args.param in load_pack(head).parameters else None
        name, old, new = raise_threshold(head, wanted)
        corpus = Path(tmp) / "corpus.jsonl"  # large corpora stream as JSON lines
        corpus.write_text("".join(json.dumps(c, ensure_ascii=False) + "\n"
                                  for c in cases(args.n)), encoding="utf-8")
        took: dict[bool, list[float]] = {True: [], False: []}
        cpu: dict[bool, list[float]] = {True: [], False: []}
        texts: dict[bool, str] = {}
        for _ in range(args.rounds):
            for fast in (True, False) if args.plain else (True,):
                seconds, used, report, texts[fast] = _timed(args.rules, head, corpus,
                                                            args.jobs, fast)
                took[fast].append(seconds)
                cpu[fast].append(used)
    print(f"cases: {report.cases} ({len(report.errors)} not decidable)")
    print(f"change: {name} {old} -> {new}; decisions changed: {len(report.impacts)}")
    print(f"totals: {report.totals}")
    for fast in (True, False) if args.plain else (True,):
        best = min(took[fast])
        how = "fast (once where provably alike)" if fast else "plain (every case twice)"
        print(f"audit diff over {report.cases:,} cases, jobs={args.jobs}, {how}: "
              f"{best:.2f} s best of {args.rounds} ({report.cases / best:,.0f} cases/s; "
              f"rounds: {', '.join(f'{t:.2f}' for t in took[fast])}; CPU of this process "
              f"{min(cpu[fast]):.2f} s)")
    if args.plain:
        print(f"fast / plain: {min(took[True]) / min(took[False]):.2f} of the time "
              f"({min(cpu[True]) / min(cpu[False]):.2f} of the CPU); "
              f"reports byte-identical: {texts[True] == texts[False]}")
        if texts[True] != texts[False]:
            raise SystemExit("the fast and the plain audit reports differ")


if __name__ == "__main__":
    main()
