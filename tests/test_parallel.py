"""Batches in worker processes: same bytes as in-process, input order, crash isolation."""

from __future__ import annotations

import datetime as dt
import json
import os
import random
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import yaml
from chipclear.io.caseio import CaseEntry

from tests.conftest import MINIPACK, ROOT


def run(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "chipclear", *args], cwd=ROOT,
                          capture_output=True, text=True, timeout=300,
                          env={**os.environ, **(env or {})})


def corpus(n: int) -> list[dict[str, object]]:
    rng = random.Random(3)
    out: list[dict[str, object]] = []
    for i in range(n):
        out.append({
            "id": f"c{i:03d}", "as_of": rng.choice(["2023-01-10", "2026-02-15"]),
            "buyer": {"name": rng.choice(["Example GmbH", "Zhipu AI"]),
                      "country": rng.choice(["CN", "DE"]), "headquarters": "DE"},
            "order": {"items": [{"chip": rng.choice(["H200", "huawei-ascend-910c"])}]},
            "evidence": {"necessity_justification": rng.choice(["", "needed"])},
        })
    return out


def write_cases(path: Path, cases: list[dict[str, object]]) -> Path:
    path.write_text(yaml.safe_dump({"cases": cases}), encoding="utf-8")
    return path


def by_id(stdout: str) -> dict[str, str]:
    """Decisions by case id, without ``source`` (where the case sat in its file)."""
    out = {}
    for line in stdout.splitlines():
        decision = json.loads(line)
        assert decision.pop("source").rsplit(":", 1)[1].isdigit()
        out[decision["case_id"]] = json.dumps(decision, sort_keys=True)
    return out


def test_jobs_give_the_same_bytes_in_input_order(tmp_path: Path) -> None:
    cases = corpus(40)
    path = write_cases(tmp_path / "c.yaml", cases)
    serial = run("evaluate", str(path), "--rules", str(MINIPACK), "--format", "jsonl")
    four = run("evaluate", str(path), "--rules", str(MINIPACK), "--format", "jsonl",
               "--jobs", "4")
    assert serial.stdout == four.stdout
    assert [json.loads(x)["case_id"] for x in four.stdout.splitlines()] == [
        c["id"] for c in cases]
    shuffled = list(cases)
    random.Random(9).shuffle(shuffled)
    other = run("evaluate", str(write_cases(tmp_path / "s.yaml", shuffled)), "--rules",
                str(MINIPACK), "--format", "jsonl", "--jobs", "2")
    assert by_id(other.stdout) == by_id(serial.stdout)


def test_a_crashing_worker_costs_one_case(tmp_path: Path) -> None:
    cases = corpus(12)
    path = write_cases(tmp_path / "c.yaml", cases)
    ledger = tmp_path / "ledger.sqlite"
    result = run("evaluate", str(path), "--rules", str(MINIPACK), "--format", "jsonl",
                 "--jobs", "2", "--ledger", str(ledger),
                 env={"CHIPCLEAR_TEST_ABORT_CASE": "c005"})
    assert result.returncode == 4, result.stderr
    ids = [json.loads(line)["case_id"] for line in result.stdout.splitlines()]
    assert ids == [c["id"] for c in cases if c["id"] != "c005"]
    assert "case 'c005': engine failure: worker process died" in result.stderr
    assert "Traceback" not in result.stderr
    # The ledger holds exactly the decisions that were printed, and still verifies.
    with sqlite3.connect(ledger) as db:
        rows = db.execute("select case_id from decisions order by seq").fetchall()
    assert [r[0] for r in rows] == ids
    check = run("ledger", "verify", str(ledger))
    assert check.returncode == 0, check.stdout + check.stderr


def test_neighbouring_crashes_are_each_blamed_on_their_own_case(tmp_path: Path) -> None:
    """Workers hold several cases at once: the cases queued behind a crash are decided
    by the replacement worker, and each crash is pinned on the case that caused it."""
    cases = corpus(20)
    path = write_cases(tmp_path / "c.yaml", cases)
    result = run("evaluate", str(path), "--rules", str(MINIPACK), "--format", "jsonl",
                 "--jobs", "2", env={"CHIPCLEAR_TEST_ABORT_CASE": "c004,c005,c013"})
    assert result.returncode == 4, result.stderr
    ids = [json.loads(line)["case_id"] for line in result.stdout.splitlines()]
    assert ids == [c["id"] for c in cases if c["id"] not in ("c004", "c005", "c013")]
    for bad in ("c004", "c005", "c013"):
        assert f"case '{bad}': engine failure: worker process died" in result.stderr
    assert result.stderr.count("engine failure") == 3


def test_a_worker_that_dies_between_cases_costs_nothing(tmp_path: Path) -> None:
    """A worker killed before it is sent anything (as the OOM killer might): its pipe
    refuses the case, which goes to a fresh worker; nothing is blamed or lost. Before
    this was handled, the refused send escaped as BrokenPipeError, which the command
    line turned into a silent exit 1 after a few cases."""
    from chipclear.batch.pool import WorkerPool
    from chipclear.io.caseio import read_all

    cases = corpus(10)
    path = write_cases(tmp_path / "c.yaml", cases)
    pool = WorkerPool(2, MINIPACK, dt.date(2026, 11, 22), None)
    victim = pool._slots[1].process

    def entries() -> Iterator[CaseEntry]:
        for i, entry in enumerate(read_all([path])):
            if i == 4:  # the second worker's first case is about to be sent
                victim.kill()
                victim.join()
            yield entry

    outcomes = list(pool.run(entries()))
    assert [o.entry.case.id for o in outcomes if o.entry.case] == [c["id"] for c in cases]
    assert [o.error for o in outcomes if o.error] == []
    assert all(o.final_verdict() is not None for o in outcomes)
