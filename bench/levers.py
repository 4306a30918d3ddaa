"""The per-case levers outside the engine adapter, each against what it replaced, in one
process, interleaved (the machine is shared: only ratios from one run mean anything).

For N generated cases (``bench/corpus.py``) decided once, times per case:

- rendering one JSON line: pydantic's writer (``render.to_jsonl_line``) against
  ``json.dumps`` of ``model_dump(mode="json")`` (what it replaced, still its fallback);
- screening the buyer: ``screen_case`` with the per-list memo and per-pack report parts
  against the same work done afresh (the memo bypassed, the report parts rebuilt);
- a catalog chip's engine facts: the per-catalog table against normalising them again;
- the source references findings cite: built once per pack against per citation;

and the end-to-end time per case (read JSON lines, decide, render) to set each saving
against. Process CPU time, median over ``--rounds``.

    python bench/levers.py [N] [--rounds R]
"""

from __future__ import annotations

import argparse
import datetime as dt
import io
import json
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from chipclear.batch import run as batch
from chipclear.decide import evaluate
from chipclear.io import render
from chipclear.io.caseio import read_all
from chipclear.model.decision import ScreenedList, SourceRef
from chipclear.pack.loader import RulePack, Text, default_rules_dir, load_pack
from chipclear.screening import outcome
from chipclear.screening.match import Index

from bench.corpus import cases

TODAY = dt.date(2026, 11, 22)


def _afresh(pack: RulePack) -> tuple[list[ScreenedList], Text]:
    return outcome._lists(pack), outcome._note(pack)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("n", nargs="?", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    pack = load_pack(default_rules_dir())
    with tempfile.TemporaryDirectory() as tmp:
        source = Path(tmp) / "corpus.jsonl"
        source.write_text("".join(json.dumps(c, default=str) + "\n" for c in cases(args.n)),
                          encoding="utf-8")
        entries = [e.case for e in read_all([source]) if e.case is not None]
        decisions = [o.decision for o in batch.run(evaluate.Evaluator(pack), [source], TODAY)
                     if o.decision is not None]
        chip_ids = [pack.catalog.resolve(i.chip).id for c in entries  # type: ignore[union-attr]
                    for i in c.order.items or [] if i.chip and not i.custom and i.spec is None
                    and pack.catalog.resolve(i.chip) is not None]

        def end_to_end() -> None:
            out = io.StringIO()
            for o in batch.run(evaluate.Evaluator(pack), [source], TODAY):
                if o.decision is not None:
                    out.write(render.to_jsonl_line(o.decision))

        def render_new() -> None:
            for d in decisions:
                render.to_jsonl_line(d)

        def render_old() -> None:
            for d in decisions:
                json.dumps(render.decision_dict(d), ensure_ascii=False, allow_nan=False,
                           separators=(",", ":"))

        def screen_new() -> None:
            for c in entries:
                outcome.screen_case(c, pack, c.as_of or TODAY)

        def screen_old() -> None:
            memo_screen, per_pack = Index.screen, outcome._lists_and_note
            Index.screen = Index._screen  # type: ignore[method-assign]
            outcome._lists_and_note = _afresh
            try:
                for c in entries:
                    outcome.screen_case(c, pack, c.as_of or TODAY)
            finally:
                Index.screen = memo_screen  # type: ignore[method-assign]
                outcome._lists_and_note = per_pack

        def chips_new() -> None:
            for chip_id in chip_ids:
                evaluate._listed_chip_facts(pack.catalog, chip_id)

        def chips_old() -> None:
            for chip_id in chip_ids:
                evaluate._chip_facts(pack.catalog.facts(chip_id))

        cited = [r.id for d in decisions for refs in
                 [*(it.figure_source_refs for it in d.items),
                  *(f.sources + f.context_sources + f.later_sources for f in d.findings)]
                 for r in refs if r.id in pack.sources]

        def sources_new() -> None:
            for sid in cited:
                evaluate._source_ref(pack, sid)

        def sources_old() -> None:
            for sid in cited:
                s = pack.sources[sid]
                SourceRef(id=s.id, name=s.name, date=s.date, url=s.url, confidence=s.confidence)

        steps: dict[str, Callable[[], None]] = {
            "end to end from JSON lines": end_to_end, "render (json.dumps)": render_old,
            "render (pydantic)": render_new, "screen (afresh)": screen_old,
            "screen (memo)": screen_new, "chip facts (afresh)": chips_old,
            "chip facts (table)": chips_new, "source refs (afresh)": sources_old,
            "source refs (per pack)": sources_new}
        times: dict[str, list[float]] = {k: [] for k in steps}
        for _ in range(args.rounds):
            for key, step in steps.items():
                start = time.process_time()
                step()
                times[key].append(time.process_time() - start)
    ms = {k: statistics.median(v) * 1000 / len(entries) for k, v in times.items()}
    total = ms["end to end from JSON lines"]
    print(f"{len(entries):,} cases, process CPU ms per case, median of {args.rounds} "
          f"interleaved rounds; end to end {total:.3f} ms")
    for old, new in (("render (json.dumps)", "render (pydantic)"),
                     ("screen (afresh)", "screen (memo)"),
                     ("chip facts (afresh)", "chip facts (table)"),
                     ("source refs (afresh)", "source refs (per pack)")):
        saved = ms[old] - ms[new]
        print(f"{old:22} {ms[old]:7.3f}  {new:20} {ms[new]:7.3f}  saves {saved:6.3f} ms "
              f"= {saved / total:5.1%} of end to end")


if __name__ == "__main__":
    main()
