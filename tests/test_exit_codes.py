"""Exit codes mean one thing each, every failure is one line, and no file is damaged.

0 all go; 1 some case needs attention; 2 invalid input or usage; 3 ledger verification
failed; 4 engine failure; 70 internal error; 74 output or ledger not writable; 129, 130,
143 stopped by a signal; 141 broken pipe.
"""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml
from chipclear import __version__

from tests.conftest import MINIPACK, ROOT
from tests.seams import seam_env

GOOD = {"id": "de-h200", "as_of": "2026-02-15",
        "buyer": {"name": "Example GmbH", "country": "DE", "headquarters": "DE"},
        "order": {"items": [{"chip": "H200", "quantity": 2, "unit_price_usd": 30000}]},
        "evidence": {"necessity_justification": "FP8 training"}}


def run(*args: str, env: dict[str, str] | None = None, cwd: Path = ROOT,
        ) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "chipclear", *args], cwd=cwd,
                          capture_output=True, text=True, timeout=300,
                          env={**os.environ, **(env or {})})


def cases(n: int, prefix: str = "c") -> list[dict[str, object]]:
    return [{**GOOD, "id": f"{prefix}{i:03d}"} for i in range(n)]


def write(path: Path, data: object) -> Path:
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    return path


def one_line(stderr: str) -> str:
    lines = stderr.strip().splitlines()
    assert len(lines) == 1, stderr
    assert "Traceback" not in stderr
    return lines[0]


# --- what each code means ----------------------------------------------------------------


def test_version_help_and_usage_errors(tmp_path: Path) -> None:
    from importlib.metadata import version

    out = run("--version")
    assert out.returncode == 0 and out.stdout.strip() == f"chipclear {__version__}"
    assert __version__ == version("chipclear")
    for flag in ("-h", "--help"):
        helped = run(flag)
        assert helped.returncode == 0
        assert "Exit codes: 0 every case" in helped.stdout
    sub = run("evaluate", "-h")
    assert sub.returncode == 0 and "74 the output or the ledger" in sub.stdout
    for text in (sub.stdout, run("audit", "diff", "-h").stdout, run("ledger", "show", "-h").stdout):
        assert "<" not in text and "list[" not in text.lower(), text  # no typer metavars
    usage = run("evaluate", "--no-such-option")
    assert usage.returncode == 2
    line = one_line(usage.stderr)
    assert line.startswith("chipclear evaluate: No such option: --no-such-option")
    assert "╭" not in usage.stderr
    for bare in ((), ("audit",)):  # no command: the help, not an error
        helped = run(*bare)
        assert helped.returncode == 0 and helped.stdout.startswith("Usage: chipclear")
    missing = run("ledger", "show")
    assert missing.returncode == 2
    assert one_line(missing.stderr).startswith("chipclear ledger show: Missing argument")


def test_0_go_1_attention_2_invalid(tmp_path: Path) -> None:
    good = write(tmp_path / "good.yaml", GOOD)
    attention = write(tmp_path / "ni.yaml", {**GOOD, "id": "de-h200-ni", "evidence": {}})
    bad = write(tmp_path / "bad.yaml", {**GOOD, "order": {"items": [{"chip": "H2O0"}]}})
    assert run("evaluate", str(good), "--rules", str(MINIPACK)).returncode == 0
    assert run("evaluate", str(good), str(attention), "--rules", str(MINIPACK)).returncode == 1
    mixed = run("evaluate", str(good), str(bad), "--rules", str(MINIPACK), "-f", "jsonl")
    assert mixed.returncode == 2
    assert [json.loads(x)["case_id"] for x in mixed.stdout.splitlines()] == ["de-h200"]


def test_3_ledger_verification_failed(tmp_path: Path) -> None:
    ledger = tmp_path / "l.sqlite"
    path = write(tmp_path / "c.yaml", {"cases": cases(3)})
    assert run("evaluate", str(path), "--rules", str(MINIPACK), "--ledger", str(ledger),
               "-f", "jsonl").returncode == 0
    with sqlite3.connect(ledger) as db:
        db.execute("DROP TRIGGER decisions_no_update")
        db.execute("UPDATE decisions SET verdict = 'no_go' WHERE seq = 2")
    broken = run("ledger", "verify", str(ledger))
    assert broken.returncode == 3
    assert "row 2" in broken.stdout


def test_4_engine_failure_and_70_internal_error(tmp_path: Path) -> None:
    path = write(tmp_path / "c.yaml", {"cases": cases(3)})
    crash = run("evaluate", str(path), "--rules", str(MINIPACK), "-f", "jsonl",
                env=seam_env(crash="c001"))
    assert crash.returncode == 4
    assert "case 'c001': engine failure" in one_line(crash.stderr)
    # A bug in chipclear itself (here in this process): exit 70, one line, "please report".
    bug = run("evaluate", str(path), "--rules", str(MINIPACK), "-f", "jsonl", "--jobs", "0",
              env=seam_env(bug="c001"))
    assert bug.returncode == 70
    line = one_line(bug.stderr)
    assert "internal error: RuntimeError: seam: a bug on purpose" in line
    assert "please report" in line and "CHIPCLEAR_DEBUG=1" in line
    debug = run("evaluate", str(path), "--rules", str(MINIPACK), "--jobs", "0",
                env={**seam_env(bug="c001"), "CHIPCLEAR_DEBUG": "1"})
    assert debug.returncode == 70 and "Traceback" in debug.stderr
    # The same bug inside a worker costs its case, named as an internal error.
    worker = run("evaluate", str(path), "--rules", str(MINIPACK), "-f", "jsonl",
                 env=seam_env(bug="c001"))
    assert worker.returncode == 4
    assert "internal error in the worker: RuntimeError" in one_line(worker.stderr)


# --- output files ------------------------------------------------------------------------


def test_74_output_that_cannot_be_written(tmp_path: Path) -> None:
    case = write(tmp_path / "a.yaml", GOOD)
    for target, words in ((tmp_path / "nope" / "out.json", "does not exist"),
                          (tmp_path, "it is a folder")):
        result = run("evaluate", str(case), "--rules", str(MINIPACK), "-o", str(target))
        assert result.returncode == 74, result.stderr
        assert words in one_line(result.stderr)
    if Path("/dev/full").exists():  # a full disk
        full = run("evaluate", str(case), "--rules", str(MINIPACK), "-f", "jsonl",
                   "-o", "/dev/full")
        assert full.returncode == 74
        assert one_line(full.stderr).startswith("/dev/full: cannot write the output")
        assert Path("/dev/full").is_char_device()  # written into, never replaced


#: Root writes read-only files anyway: as root, run without the capabilities that bypass
#: file permissions (setpriv, util-linux), so a read-only file is read-only again.
WITHOUT_OVERRIDE = ["setpriv", "--bounding-set=-dac_override,-dac_read_search", "--"]


def test_74_read_only_output_and_ledger() -> None:
    import shutil
    import tempfile

    work = Path(tempfile.mkdtemp(prefix="chipclear-ro-"))  # a folder nobody can write in
    work.chmod(0o777)
    prefix = WITHOUT_OVERRIDE if os.geteuid() == 0 else []
    if prefix:  # the test is void unless the permission really holds
        probe = work / "probe"
        probe.write_text("x", encoding="utf-8")
        probe.chmod(0o444)
        denied = subprocess.run([*prefix, sys.executable, "-c",
                                 f"open({str(probe)!r}, 'w')"], capture_output=True, timeout=60)
        assert denied.returncode != 0 and b"PermissionError" in denied.stderr

    def run_as(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([*prefix, sys.executable, "-m", "chipclear", *args], cwd=ROOT,
                              capture_output=True, text=True, timeout=300)

    try:
        case = write(work / "a.yaml", GOOD)
        case.chmod(0o644)
        locked = work / "ro.json"
        locked.write_text("keep", encoding="utf-8")
        locked.chmod(0o444)
        result = run_as("evaluate", str(case), "--rules", str(MINIPACK), "-o", str(locked))
        assert result.returncode == 74
        assert "read-only" in one_line(result.stderr)
        assert locked.read_text(encoding="utf-8") == "keep"
        ledger = work / "l.sqlite"
        assert run("evaluate", str(case), "--rules", str(MINIPACK), "--ledger",
                   str(ledger)).returncode == 0
        ledger.chmod(0o444)
        kept = ledger.read_bytes()
        ro = run_as("evaluate", str(case), "--rules", str(MINIPACK), "--ledger", str(ledger))
        assert ro.returncode == 74
        assert "cannot append to the ledger" in one_line(ro.stderr)
        assert ro.stdout == ""
        assert ledger.read_bytes() == kept
        listed = run_as("ledger", "verify", str(ledger))  # reading still works
        assert listed.returncode == 0, listed.stderr
    finally:
        shutil.rmtree(work)


def test_74_locked_ledger_is_one_line_before_any_decision(tmp_path: Path) -> None:
    case = write(tmp_path / "a.yaml", GOOD)
    ledger = tmp_path / "l.sqlite"
    assert run("evaluate", str(case), "--rules", str(MINIPACK), "--ledger",
               str(ledger)).returncode == 0
    holder = sqlite3.connect(ledger, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")  # another process writing
    try:
        result = run("evaluate", str(case), "--rules", str(MINIPACK), "-f", "jsonl",
                     "--ledger", str(ledger))
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert result.returncode == 74
    assert "cannot append to the ledger: database is locked" in one_line(result.stderr)
    assert result.stdout == ""  # nothing decided that could not be recorded


def test_output_never_damages_an_input_or_the_ledger(tmp_path: Path) -> None:
    case = write(tmp_path / "a.yaml", GOOD)
    before = case.read_bytes()
    same = run("evaluate", str(case), "--rules", str(MINIPACK), "-o", str(case))
    assert same.returncode == 2
    assert "-o is one of the input files" in one_line(same.stderr)
    assert case.read_bytes() == before
    folder = tmp_path / "in"
    folder.mkdir()
    inner = write(folder / "b.yaml", GOOD)
    via_folder = run("evaluate", str(folder), "--rules", str(MINIPACK), "-o", str(inner))
    assert via_folder.returncode == 2 and inner.read_bytes() == before
    ledger = tmp_path / "l.sqlite"
    assert run("evaluate", str(case), "--rules", str(MINIPACK), "--ledger",
               str(ledger)).returncode == 0
    kept = ledger.read_bytes()
    onto = run("evaluate", str(case), "--rules", str(MINIPACK), "--ledger", str(ledger),
               "-o", str(ledger))
    assert onto.returncode == 2
    assert "-o is the ledger file" in one_line(onto.stderr)
    assert ledger.read_bytes() == kept


def test_outputs_are_left_out_of_folder_expansion_and_dash_is_stdout(tmp_path: Path) -> None:
    folder = tmp_path / "cases"
    folder.mkdir()
    write(folder / "a.yaml", {"cases": cases(2)})
    out = folder / "out.jsonl"
    first = run("evaluate", str(folder), "--rules", str(MINIPACK), "-f", "jsonl", "-o", str(out))
    text = out.read_text(encoding="utf-8")
    second = run("evaluate", str(folder), "--rules", str(MINIPACK), "-f", "jsonl", "-o",
                 str(out))
    assert first.returncode == second.returncode == 0, second.stderr
    assert out.read_text(encoding="utf-8") == text  # its own output was not read as cases
    assert [json.loads(x)["case_id"] for x in text.splitlines()] == ["c000", "c001"]
    assert sorted(p.name for p in folder.iterdir()) == ["a.yaml", "out.jsonl"]  # no temp left
    dash = run("evaluate", str(folder / "a.yaml"), "--rules", str(MINIPACK), "-f", "jsonl",
               "-o", "-", cwd=tmp_path)
    assert dash.returncode == 0 and dash.stdout.count("\n") == 2
    assert not (tmp_path / "-").exists()


def test_a_failed_run_keeps_the_previous_output(tmp_path: Path) -> None:
    """The output is a temporary file renamed at the end: a run that fails with an
    internal error leaves the previous file as it was."""
    path = write(tmp_path / "c.yaml", {"cases": cases(3)})
    out = tmp_path / "out.json"
    out.write_text("previous", encoding="utf-8")
    bug = run("evaluate", str(path), "--rules", str(MINIPACK), "-f", "json", "--jobs", "0",
              "-o", str(out), env=seam_env(bug="c002"))
    assert bug.returncode == 70
    assert out.read_text(encoding="utf-8") == "previous"
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []


def test_141_broken_pipe_is_quiet(tmp_path: Path) -> None:
    path = write(tmp_path / "c.yaml", {"cases": cases(40)})
    proc = subprocess.Popen([sys.executable, "-m", "chipclear", "evaluate", str(path),
                             "--rules", str(MINIPACK), "-f", "jsonl"], cwd=ROOT,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert proc.stdout is not None and proc.stderr is not None
    proc.stdout.readline()  # `| head -1`
    proc.stdout.close()
    err = proc.stderr.read().decode()
    assert proc.wait(timeout=120) == 141
    assert err == ""


def test_ledger_show_with_a_huge_row_number(tmp_path: Path) -> None:
    ledger = tmp_path / "l.sqlite"
    case = write(tmp_path / "a.yaml", GOOD)
    assert run("evaluate", str(case), "--rules", str(MINIPACK), "--ledger",
               str(ledger)).returncode == 0
    for n in ("99999999999999999999999", "9223372036854775808", "0"):
        result = run("ledger", "show", str(ledger), n)
        assert result.returncode == 2
        assert one_line(result.stderr) == f"{ledger}: no row {int(n)} (rows are 1 to 1)"


# --- signals -----------------------------------------------------------------------------


@pytest.mark.parametrize(("sig", "code", "fmt"), [(signal.SIGINT, 130, "jsonl"),
                                                  (signal.SIGTERM, 143, "json")])
def test_a_signal_leaves_output_and_ledger_consistent(tmp_path: Path, sig: signal.Signals,
                                                      code: int, fmt: str) -> None:
    """Stopped mid-batch (a case hangs): exit 128+n, one line, the output holds every
    decision the ledger holds and only those, as a whole document; the ledger verifies."""
    batch = cases(30)
    path = write(tmp_path / "c.yaml", {"cases": batch})
    out = tmp_path / f"out.{fmt}"
    ledger = tmp_path / "l.sqlite"
    proc = subprocess.Popen(
        [sys.executable, "-m", "chipclear", "evaluate", str(path), "--rules", str(MINIPACK),
         "-f", fmt, "-o", str(out), "--ledger", str(ledger), "--jobs", "1"],
        cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        env={**os.environ, **seam_env(hang="c020")})
    deadline = time.monotonic() + 60
    rows = 0
    while rows < 20 and time.monotonic() < deadline:
        time.sleep(0.3)
        if ledger.exists():
            with sqlite3.connect(ledger) as db:
                rows = db.execute("SELECT count(*) FROM decisions").fetchone()[0]
    assert rows == 20, "the batch did not reach the hung case"
    proc.send_signal(sig)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == code
    assert err.strip() == f"chipclear: stopped by {sig.name}"
    text = out.read_text(encoding="utf-8")
    if fmt == "json":
        delivered = [d["case_id"] for d in json.loads(text)["decisions"]]
    else:
        delivered = [json.loads(line)["case_id"] for line in text.splitlines()]
    with sqlite3.connect(ledger) as db:
        recorded = [r[0] for r in db.execute("SELECT case_id FROM decisions ORDER BY seq")]
    assert delivered == recorded == [c["id"] for c in batch[:20]]
    assert run("ledger", "verify", str(ledger)).returncode == 0
