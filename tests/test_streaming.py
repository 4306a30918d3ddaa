"""Batches stream: memory does not grow with the number of cases.

JSON lines are read one case at a time and decisions written as they are made (as JSON
lines, one JSON document, or Markdown), so a batch of 10,000 cases peaks at about the
memory of one of 1,000. Peak resident memory of a child process is read from the
operating system (``ru_maxrss``), not timed.
"""

from __future__ import annotations

import io
import json
import subprocess
import sys
from pathlib import Path

import pytest
from chipclear.decide.evaluate import Evaluator
from chipclear.io.caseio import read_all
from chipclear.io.render import JsonStream, to_json

from tests.conftest import MINIPACK, ROOT

CASE = {"buyer": {"name": "Example GmbH", "country": "CN", "headquarters": "CN"},
        "order": {"items": [{"chip": "H200", "quantity": 8, "unit_price_usd": 30000}]},
        "evidence": {"necessity_justification": "FP8 training"}}

PEAK = """
import resource, subprocess, sys
done = subprocess.run(sys.argv[1:], stdout=subprocess.PIPE, check=False)
print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss, done.returncode,
      done.stdout.count(b"\\n"))
"""


def _peak_kib(path: Path, n: int, fmt: str = "jsonl") -> int:
    """Peak RSS of one evaluate run, measured in a fresh parent so runs do not mix."""
    cli = [sys.executable, "-m", "chipclear", "evaluate", str(path), "--rules", str(MINIPACK),
           "--format", fmt, "--as-of", "2026-02-15"]
    done = subprocess.run([sys.executable, "-c", PEAK, *cli], capture_output=True, text=True,
                          check=True)
    peak, code, lines = (int(v) for v in done.stdout.split())
    assert code in (0, 1) and lines >= n, done.stdout  # it ran and decided every case
    return peak


def _write(path: Path, n: int) -> Path:
    with path.open("w", encoding="utf-8") as out:
        for i in range(n):
            out.write(json.dumps({"id": f"s{i:06d}", **CASE}) + "\n")
    return path


@pytest.mark.parametrize("fmt", ["jsonl", "json", "markdown"])
def test_memory_stays_flat_from_1000_to_10000_cases(tmp_path: Path, fmt: str) -> None:
    small = _peak_kib(_write(tmp_path / "small.jsonl", 1_000), 1_000, fmt)
    large = _peak_kib(_write(tmp_path / "large.jsonl", 10_000), 10_000, fmt)
    # Holding 9,000 more decisions would cost far more than 8 MiB (each is kilobytes).
    assert large - small < 8 * 1024, (small, large)


def test_streamed_json_is_byte_identical_to_the_whole_document(evaluator: Evaluator) -> None:
    entries = [e for e in read_all([ROOT / "examples" / "cases"]) if e.case is not None]
    decisions = [evaluator.evaluate(e.case) for e in entries if e.case is not None]
    assert len(decisions) >= 5
    for n in (0, 1, len(decisions)):
        for errors in ([], ["a.yaml:1:1: bad"], ["x", 'y "q" 中文']):
            out = io.StringIO()
            stream = JsonStream(out)
            for decision in decisions[:n]:
                stream.add(decision)
            stream.close(errors)
            assert out.getvalue() == to_json(decisions[:n], errors)


def test_the_large_batch_really_decided_every_case(tmp_path: Path) -> None:
    path = _write(tmp_path / "cases.jsonl", 3_000)
    out = subprocess.run([sys.executable, "-m", "chipclear", "evaluate", str(path), "--rules",
                          str(MINIPACK), "--format", "jsonl", "--as-of", "2026-02-15"],
                         capture_output=True, text=True, check=False)
    assert out.returncode in (0, 1), out.stderr
    ids = [json.loads(line)["case_id"] for line in out.stdout.splitlines()]
    assert ids == [f"s{i:06d}" for i in range(3_000)]


def _write_yaml(path: Path, n: int) -> Path:
    """One YAML file holding ``n`` cases under ``cases:``, written block style."""
    with path.open("w", encoding="utf-8") as out:
        out.write("cases:\n")
        for i in range(n):
            out.write(f"- id: s{i:06d}\n  buyer: {{name: Example GmbH, country: CN, "
                      "headquarters: CN}\n  order:\n    items:\n    - {chip: H200, quantity: 8, "
                      "unit_price_usd: 30000}\n  evidence: {necessity_justification: FP8 "
                      "training}\n")
    return path


def test_a_single_large_yaml_file_streams(tmp_path: Path) -> None:
    """A ``cases:`` list is read one case at a time: 20,000 cases in one YAML file peak
    about as low as 1,000 (loaded whole, they took 340 MiB more: 414 against 72 MiB)."""
    small = _peak_kib(_write_yaml(tmp_path / "small.yaml", 1_000), 1_000)
    large = _peak_kib(_write_yaml(tmp_path / "large.yaml", 20_000), 20_000)
    assert large - small < 12 * 1024, (small, large)
