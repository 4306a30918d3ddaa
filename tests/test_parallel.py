"""Deciding in worker processes: same bytes as in-process, input order, and a crash or a
hang costs one case, whatever the command; workers die with their parent.

Crashes and hangs come from a test-only seam (tests/seams/sitecustomize.py, put on
PYTHONPATH of the subprocess): deciding a chosen case id kills the deciding process with
SIGSEGV, as a durable-rules crash does, or sleeps for an hour. Shipped code has no hook.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import random
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml
from chipclear.batch.isolated import WorkerEvaluator, case_pool, decide_entries
from chipclear.errors import EngineFailure
from chipclear.io.caseio import CaseEntry, read_all
from chipclear.model.case import Case
from chipclear.pack.loader import load_pack

from tests.conftest import MINIPACK, ROOT
from tests.seams import seam_env


def run(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "chipclear", *args], cwd=ROOT,
                          capture_output=True, text=True, timeout=300,
                          env={**os.environ, **(env or {})})


def corpus(n: int, seed: int | None = None) -> list[dict[str, object]]:
    rng = random.Random(seed)
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


def ids(stdout: str) -> list[str]:
    return [json.loads(line)["case_id"] for line in stdout.splitlines()]


def test_workers_give_the_same_bytes_in_input_order(tmp_path: Path) -> None:
    cases = corpus(40)
    path = write_cases(tmp_path / "c.yaml", cases)
    serial = run("evaluate", str(path), "--rules", str(MINIPACK), "--format", "jsonl",
                 "--jobs", "0")
    default = run("evaluate", str(path), "--rules", str(MINIPACK), "--format", "jsonl")
    four = run("evaluate", str(path), "--rules", str(MINIPACK), "--format", "jsonl",
               "--jobs", "4")
    assert serial.stdout == default.stdout == four.stdout
    assert ids(four.stdout) == [c["id"] for c in cases]
    shuffled = list(cases)
    random.shuffle(shuffled)
    other = run("evaluate", str(write_cases(tmp_path / "s.yaml", shuffled)), "--rules",
                str(MINIPACK), "--format", "jsonl", "--jobs", "2")
    assert by_id(other.stdout) == by_id(serial.stdout)


def test_workers_parse_json_lines_and_give_the_same_bytes_and_errors(tmp_path: Path) -> None:
    """Lines reach the workers unparsed; what comes out (decisions, one-line errors for a
    malformed line, an invalid case and a repeated id, blank lines skipped, the exit
    code) is what the parent parsing them gives."""
    cases = corpus(30)
    lines = [json.dumps(c) for c in cases]
    lines[5] = '{"id": "broken", '
    lines[9] = json.dumps({**cases[9], "buyer": {"country": "CN", "kind": "nonsense"}})
    lines[12] = json.dumps({**cases[12], "id": cases[3]["id"]})  # a repeated id
    lines.insert(20, "")
    path = tmp_path / "c.jsonl"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    serial = run("evaluate", str(path), "--rules", str(MINIPACK), "--format", "jsonl",
                 "--jobs", "0")
    two = run("evaluate", str(path), "--rules", str(MINIPACK), "--format", "jsonl",
              "--jobs", "2")
    assert serial.returncode == two.returncode == 2
    assert serial.stdout == two.stdout
    assert serial.stderr == two.stderr
    assert len(serial.stderr.splitlines()) == 3, serial.stderr
    assert f":13:1: case id '{cases[3]['id']}' is used again" in two.stderr


def test_workers_parse_yaml_cases_and_give_the_same_bytes_and_errors(tmp_path: Path) -> None:
    """The plain cases of a YAML ``cases:`` list reach the workers as text; cases with
    anchors or aliases are built by the reader. Decisions, every one-line error (a
    duplicate key, a tag, an invalid case, a repeated id at its id, a syntax error that
    ends the file) and the exit code are those of reading in one process."""
    from chipclear.io.caseio import RawCase, read_raw

    cases = corpus(24)
    items = [yaml.safe_dump([c]) for c in cases]
    items[3] = items[3].replace("- as_of:", "- as_of: '2026-02-15'\n  as_of:", 1)
    items[6] = items[6].replace("id: c006", "id: !!str c006")
    items[9] = items[9].replace("country: CN", "country: Mars").replace(
        "country: DE", "country: Mars")
    items[12] = items[12].replace("id: c012", f"id: {cases[2]['id']}")
    items[15] = items[15].replace("buyer:", "buyer: &buyer").replace("- as_of", "- as_of", 1)
    items[16] = "- {id: c016, as_of: '2026-02-15', buyer: *buyer, " \
        "order: {items: [{chip: H200}]}}\n"
    text = "cases:\n" + "".join(items) + "- {id: broken\n"
    path = tmp_path / "c.yaml"
    path.write_text(text, encoding="utf-8")
    kinds = [type(task).__name__ for task in read_raw([path])]
    assert kinds.count(RawCase.__name__) == 21  # 15 and 16 built here, 2 errors at the end
    serial = run("evaluate", str(path), "--rules", str(MINIPACK), "--format", "jsonl",
                 "--jobs", "0")
    two = run("evaluate", str(path), "--rules", str(MINIPACK), "--format", "jsonl",
              "--jobs", "2")
    assert serial.returncode == two.returncode == 2
    assert serial.stdout == two.stdout
    assert serial.stderr == two.stderr
    errors = two.stderr.splitlines()
    assert len(errors) == 5, two.stderr
    assert "duplicate key 'as_of'" in errors[0] and "explicit tag '!!str'" in errors[1]
    line = text[:text.index(f"id: {cases[2]['id']}\n", text.index("c011"))].count("\n") + 1
    assert f"c.yaml:{line}:7: case id '{cases[2]['id']}' is used again" in errors[3]
    assert "malformed YAML" in errors[4]
    assert "c016" in ids(two.stdout) and "c023" in ids(two.stdout)


def test_any_executor_decides_the_same_as_the_worker_pool(tmp_path: Path) -> None:
    """The batch API takes a concurrent.futures executor: same outcomes, same order."""
    from concurrent.futures import ProcessPoolExecutor

    from chipclear.batch.isolated import ExecutorMapper, init_worker
    from chipclear.batch.run import Outcome
    from chipclear.io.caseio import read_raw

    cases = corpus(24)
    lines = [json.dumps(c) for c in cases]
    lines[4] = json.dumps({**cases[4], "id": cases[1]["id"]})
    path = tmp_path / "c.jsonl"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    today = dt.date(2026, 11, 22)

    def shape(outcomes: Iterator[Outcome]) -> list[tuple[object, ...]]:
        return [(o.line, o.error, o.final_verdict()) for o in outcomes]

    with case_pool(2, load_pack(MINIPACK), today, None) as pool:
        ours = shape(decide_entries(pool, read_raw([path])))
    with ProcessPoolExecutor(2, initializer=init_worker,
                             initargs=(MINIPACK, today, None)) as executor:
        theirs = shape(decide_entries(ExecutorMapper(executor, chunksize=5), read_raw([path])))
    assert theirs == ours
    assert sum(1 for line, _, _ in ours if line) == 23
    errors = [e for _, e, _ in ours if e]
    assert len(errors) == 1 and f"case id '{cases[1]['id']}' is used again" in str(errors[0])


def test_a_crash_costs_one_case_by_default(tmp_path: Path) -> None:
    """No --jobs: a batch is decided in workers anyway; the crash is one line, exit 4,
    and the ledger holds exactly the decisions that were printed."""
    cases = corpus(12)
    path = write_cases(tmp_path / "c.yaml", cases)
    ledger = tmp_path / "ledger.sqlite"
    result = run("evaluate", str(path), "--rules", str(MINIPACK), "--format", "jsonl",
                 "--ledger", str(ledger), env=seam_env(crash="c005"))
    assert result.returncode == 4, result.stderr
    assert ids(result.stdout) == [c["id"] for c in cases if c["id"] != "c005"]
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "case 'c005': engine failure: worker process died" in lines[0]
    assert "exit code -11" in lines[0]
    with sqlite3.connect(ledger) as db:
        rows = db.execute("select case_id from decisions order by seq").fetchall()
    assert [r[0] for r in rows] == ids(result.stdout)
    check = run("ledger", "verify", str(ledger))
    assert check.returncode == 0, check.stdout + check.stderr


def test_a_single_case_survives_an_engine_crash(tmp_path: Path) -> None:
    path = write_cases(tmp_path / "one.yaml", corpus(1))
    for fmt in ("table", "json"):
        result = run("evaluate", str(path), "--rules", str(MINIPACK), "--format", fmt,
                     env=seam_env(crash="c000"))
        assert result.returncode == 4, result.stderr
        assert result.stderr.count("\n") == 1, result.stderr
        assert "case 'c000': engine failure" in result.stderr
        assert "Traceback" not in result.stderr + result.stdout
    body = json.loads(result.stdout)  # the JSON document is whole, the error structured
    assert body["decisions"] == []
    assert body["errors"][0]["file"] == str(path)
    assert "engine failure" in body["errors"][0]["message"]


def test_in_process_decisions_are_what_the_workers_protect_against(tmp_path: Path) -> None:
    """The control: with --jobs 0 the same crash takes the whole run down, which is why
    workers are the default."""
    path = write_cases(tmp_path / "c.yaml", corpus(3))
    result = run("evaluate", str(path), "--rules", str(MINIPACK), "--format", "jsonl",
                 "--jobs", "0", env=seam_env(crash="c001"))
    assert result.returncode == -signal.SIGSEGV


def test_neighbouring_crashes_are_each_blamed_on_their_own_case(tmp_path: Path) -> None:
    """Workers hold several cases at once: the cases queued behind a crash are decided
    by the replacement worker, and each crash is pinned on the case that caused it."""
    cases = corpus(20)
    path = write_cases(tmp_path / "c.yaml", cases)
    bad = ("c004", "c005", "c013")
    result = run("evaluate", str(path), "--rules", str(MINIPACK), "--format", "jsonl",
                 "--jobs", "2", env=seam_env(crash=",".join(bad)))
    assert result.returncode == 4, result.stderr
    assert ids(result.stdout) == [c["id"] for c in cases if c["id"] not in bad]
    for case_id in bad:
        assert f"case '{case_id}': engine failure: worker process died" in result.stderr
    assert result.stderr.count("engine failure") == 3


def test_a_hung_case_is_reported_and_the_batch_goes_on(tmp_path: Path) -> None:
    cases = corpus(12)
    path = write_cases(tmp_path / "c.yaml", cases)
    start = time.monotonic()
    result = run("evaluate", str(path), "--rules", str(MINIPACK), "--format", "jsonl",
                 "--timeout", "3", env=seam_env(hang="c002", crash="c009"))
    assert time.monotonic() - start < 60
    assert result.returncode == 4, result.stderr
    assert ids(result.stdout) == [c["id"] for c in cases if c["id"] not in ("c002", "c009")]
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 2, result.stderr
    assert "case 'c002': engine failure: no answer within 3 s" in lines[0]
    assert "case 'c009': engine failure: worker process died" in lines[1]


def test_a_worker_that_dies_between_cases_costs_nothing(tmp_path: Path) -> None:
    """A worker killed before it is sent anything (as the OOM killer might): its pipe
    refuses the case, which goes to a fresh worker; nothing is blamed or lost."""
    cases = corpus(10)
    path = write_cases(tmp_path / "c.yaml", cases)
    with case_pool(2, load_pack(MINIPACK), dt.date(2026, 11, 22), None) as pool:
        victim = pool._slots[1].process

        def entries() -> Iterator[CaseEntry]:
            for i, entry in enumerate(read_all([path])):
                if i == 4:  # the second worker's first case is about to be sent
                    victim.kill()
                    victim.join()
                yield entry

        outcomes = list(decide_entries(pool, entries()))
    assert [o.entry.case.id for o in outcomes if o.entry.case] == [c["id"] for c in cases]
    assert [o.error for o in outcomes if o.error] == []
    assert all(o.final_verdict() is not None for o in outcomes)


# --- the other commands that decide cases ------------------------------------------------


def test_rules_coverage_survives_a_crash(tmp_path: Path) -> None:
    path = write_cases(tmp_path / "c.yaml", corpus(12))
    clean = run("rules", "coverage", "--cases", str(path), "--rules", str(MINIPACK))
    hit = run("rules", "coverage", "--cases", str(path), "--rules", str(MINIPACK),
              env=seam_env(crash="c003"))
    assert clean.returncode == 0, clean.stderr
    assert hit.returncode == 4, hit.stderr
    lines = hit.stderr.strip().splitlines()
    assert len(lines) == 1 and "case 'c003': engine failure" in lines[0]
    assert "Traceback" not in hit.stderr
    assert " over 12 cases" in clean.stdout.splitlines()[0]
    assert " over 11 cases" in hit.stdout.splitlines()[0]  # the one lost is not counted


def test_audit_diff_survives_a_crash(tmp_path: Path) -> None:
    import shutil

    head = tmp_path / "head"
    shutil.copytree(MINIPACK, head)
    with (head / "pack.yaml").open("a", encoding="utf-8") as f:
        f.write("# a changed pack: every corpus case is decided under both\n")
    path = write_cases(tmp_path / "c.yaml", corpus(12))
    result = run("audit", "diff", "--base", str(MINIPACK), "--head", str(head), "--cases",
                 str(path), env=seam_env(crash="c007"))
    assert result.returncode == 4, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "case 'c007': engine failure" in lines[0]
    assert "unchanged 11" in result.stdout


def test_audit_timeline_survives_a_crash(tmp_path: Path) -> None:
    path = write_cases(tmp_path / "one.yaml", corpus(1))
    result = run("audit", "timeline", str(path), "--rules", str(MINIPACK),
                 env=seam_env(crash="c000"))
    assert result.returncode == 4, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "case 'c000': engine failure" in lines[0]
    assert "Traceback" not in result.stderr


def test_worker_evaluator_reports_a_crash_and_carries_on(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """The interview's evaluator: a crash is an EngineFailure with one line, and the next
    evaluation (in a fresh worker) gives the same decision as in-process."""
    from chipclear.decide.evaluate import Evaluator

    for key, value in seam_env(crash="c001", hang="c002").items():
        monkeypatch.setenv(key, value)
    pack = load_pack(MINIPACK)
    good, bad, stuck = (Case.model_validate(c) for c in corpus(3))
    with WorkerEvaluator(pack, timeout=3) as evaluator:
        with pytest.raises(EngineFailure) as failure:
            evaluator.evaluate(bad)
        assert "\n" not in str(failure.value) and "case 'c001'" in str(failure.value)
        assert evaluator.evaluate(good) == Evaluator(pack).evaluate(good)
        with pytest.raises(EngineFailure, match="case 'c002': no answer within 3 s"):
            evaluator.evaluate(stuck)
        assert evaluator.evaluate(good) == Evaluator(pack).evaluate(good)


# --- no orphans --------------------------------------------------------------------------


def children(pid: int) -> set[int]:
    """Live (not zombie) processes whose parent is ``pid``."""
    found = set()
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        fields = stat.rsplit(")", 1)[1].split()
        if int(fields[1]) == pid and fields[0] != "Z":
            found.add(int(entry.name))
    return found


def alive(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
@pytest.mark.parametrize(("sig", "code"), [(signal.SIGTERM, 143), (signal.SIGHUP, 129),
                                           (signal.SIGINT, 130), (signal.SIGKILL, -9)])
def test_workers_die_with_their_parent(tmp_path: Path, sig: signal.Signals,
                                       code: int) -> None:
    """Every worker is hung: the parent is signalled mid-batch; it exits with the
    signal's code and one line, and no worker outlives it (not even after SIGKILL)."""
    cases = corpus(12)
    path = write_cases(tmp_path / "c.yaml", cases)
    proc = subprocess.Popen(
        [sys.executable, "-m", "chipclear", "evaluate", str(path), "--rules", str(MINIPACK),
         "--format", "jsonl", "--jobs", "2"], cwd=ROOT, stdout=subprocess.PIPE,
        stderr=subprocess.PIPE, text=True,
        env={**os.environ, **seam_env(hang=",".join(str(c["id"]) for c in cases))})
    deadline = time.monotonic() + 60
    workers: set[int] = set()
    while len(workers) < 2 and time.monotonic() < deadline:
        time.sleep(0.2)
        workers = children(proc.pid)
    assert len(workers) == 2, "the workers did not start"
    time.sleep(1.0)  # they are now deciding (hung)
    proc.send_signal(sig)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == code, err
    assert "Traceback" not in err
    if sig != signal.SIGKILL:
        assert err.strip() == f"chipclear: stopped by {sig.name}"
    deadline = time.monotonic() + 10
    while any(alive(w) for w in workers) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not [w for w in workers if alive(w)], "a worker outlived its parent"
