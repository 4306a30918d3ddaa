"""Regressions from the security review of main (attack report F2-F11): each is the
reproducer as a test. Every CLI call runs in a subprocess with a timeout."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import yaml

from tests.conftest import ROOT

FIXTURE = ROOT / "tests" / "fixtures" / "hardening" / "b200-platform.yaml"


def run(*args: str, cwd: Path = ROOT) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "chipclear", *args], cwd=cwd,
                          capture_output=True, text=True, timeout=120,
                          env={**os.environ, "COLUMNS": "200"})


def case(**changes: Any) -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load(FIXTURE.read_text(encoding="utf-8"))
    data.update(changes)
    return data


def write(path: Path, data: dict[str, Any]) -> Path:
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return path


def verdict(path: Path, *args: str) -> tuple[int, str]:
    done = run("evaluate", str(path), "-f", "json", *args)
    line = next((ln for ln in done.stdout.splitlines() if '"verdict"' in ln), "")
    return done.returncode, line.split(":")[-1].strip(' ",')


def one_error_line(done: subprocess.CompletedProcess[str]) -> str:
    lines = [ln for ln in done.stderr.splitlines() if ln.strip()]
    assert "Traceback" not in done.stderr, done.stderr
    assert lines, done
    return lines[0]


# F2: a case may not lower (or otherwise contradict) a catalog chip's cited figures.

def test_the_b200_twin_is_no_go(tmp_path: Path) -> None:
    assert verdict(write(tmp_path / "c.yaml", case())) == (1, "no_go")


def test_a_lower_fp8_figure_for_a_catalog_chip_is_refused(tmp_path: Path) -> None:
    data = case()
    data["order"]["items"][0]["spec"] = {"dense_tflops": {"fp8": 1}}
    done = run("evaluate", str(write(tmp_path / "c.yaml", data)), "-f", "json")
    assert done.returncode == 2, done
    line = one_error_line(done)
    assert "c.yaml:" in line and "dense_tflops.fp8 is 4500 in the catalog" in line, line
    assert "source:" in line and '"verdict"' not in done.stdout


def test_a_contradicting_die_area_is_refused(tmp_path: Path) -> None:
    data = case()
    data["order"]["items"][0]["spec"] = {"die_area_mm2": 100000}
    done = run("evaluate", str(write(tmp_path / "c.yaml", data)))
    assert done.returncode == 2 and "die_area_mm2" in one_error_line(done), done


def test_the_catalog_figure_itself_may_be_repeated(tmp_path: Path) -> None:
    data = case()
    data["order"]["items"][0]["spec"] = {"dense_tflops": {"fp8": 4500}}
    assert verdict(write(tmp_path / "c.yaml", data)) == (1, "no_go")


def test_a_missing_precision_adds_to_the_catalog_tpp_never_replaces_it(tmp_path: Path) -> None:
    data = case()
    data["order"]["items"][0]["spec"] = {"dense_tflops": {"int8": 1}}  # B200 lacks int8
    assert verdict(write(tmp_path / "c.yaml", data)) == (1, "no_go")


# F3: a decision date before the pack's coverage is refused, never a clean go.

def test_an_as_of_before_the_pack_coverage_is_refused_with_its_place(tmp_path: Path) -> None:
    path = write(tmp_path / "c.yaml", case(as_of="0001-01-01"))
    done = run("evaluate", str(path))
    assert done.returncode == 2, done
    line = one_error_line(done)
    assert line.startswith(f"{path}:") and "before 2022-08-26" in line, line


def test_an_as_of_option_before_the_coverage_is_a_usage_error(tmp_path: Path) -> None:
    path = write(tmp_path / "c.yaml", case())
    for date in ("0001-01-01", "2021-01-01", "2022-08-25"):
        done = run("evaluate", str(path), "--as-of", date)
        assert done.returncode == 2 and not done.stdout.strip(), done
        assert "first date this rule pack covers" in one_error_line(done)


def test_the_first_covered_day_is_decided(tmp_path: Path) -> None:
    data = case(as_of="2022-08-26")
    data["order"]["items"][0]["chip"] = "nvidia-a100"
    code, seen = verdict(write(tmp_path / "c.yaml", data))
    assert code in (0, 1) and seen and seen != "go", seen  # the A100 letter applies


def test_the_other_cases_of_a_batch_are_still_decided(tmp_path: Path) -> None:
    write(tmp_path / "a.yaml", case(as_of="2019-01-01", id="early"))
    write(tmp_path / "b.yaml", case(id="late"))
    done = run("evaluate", str(tmp_path), "-f", "jsonl")
    assert done.returncode == 2 and '"late"' in done.stdout and '"early"' not in done.stdout


def test_the_pack_schema_states_its_coverage() -> None:
    schema = (ROOT / "rules" / "schema" / "pack.schema.json").read_text(encoding="utf-8")
    assert "covers_from" in schema
    manifest = yaml.safe_load((ROOT / "rules" / "pack.yaml").read_text(encoding="utf-8"))
    assert str(manifest["covers_from"]) == "2022-08-26"


# F7: -o never overwrites a ledger or a case file, and writes through a symlink.

def _ledger(tmp_path: Path) -> Path:
    import sqlite3

    path = tmp_path / "book.db"
    with sqlite3.connect(path) as db:
        db.execute("create table rows (n integer)")
        db.execute("insert into rows values (1)")
    db.close()
    return path


def test_output_onto_a_sqlite_ledger_is_refused(tmp_path: Path) -> None:
    book = _ledger(tmp_path)
    before = book.read_bytes()
    done = run("evaluate", str(write(tmp_path / "c.yaml", case())), "-o", str(book))
    assert done.returncode == 2 and "SQLite" in one_error_line(done), done
    assert book.read_bytes() == before


def test_output_onto_a_case_file_that_is_not_an_input_is_refused(tmp_path: Path) -> None:
    other = write(tmp_path / "other.yaml", case(id="other"))
    before = other.read_bytes()
    done = run("evaluate", str(write(tmp_path / "c.yaml", case())), "-o", str(other))
    assert done.returncode == 2 and "case file" in one_error_line(done), done
    assert other.read_bytes() == before


def test_output_through_a_symlink_writes_its_target(tmp_path: Path) -> None:
    target = tmp_path / "previous.txt"
    target.write_text("old\n", encoding="utf-8")
    link = tmp_path / "link.txt"
    link.symlink_to(target.name)
    done = run("evaluate", str(write(tmp_path / "c.yaml", case())), "-f", "markdown",
               "-o", str(link))
    assert done.returncode == 1, done
    assert link.is_symlink() and "b200-platform" in target.read_text(encoding="utf-8")


def test_a_previous_output_is_replaced(tmp_path: Path) -> None:
    path = write(tmp_path / "c.yaml", case())
    out = tmp_path / "out.json"
    for _ in range(2):
        assert run("evaluate", str(path), "-f", "json", "-o", str(out)).returncode == 1
    assert '"no_go"' in out.read_text(encoding="utf-8")


# F4: --jobs is bounded; the pool never has more workers than a handful of cases.

def test_jobs_beyond_the_machine_is_a_usage_error(tmp_path: Path) -> None:
    path = write(tmp_path / "c.yaml", case())
    done = run("evaluate", str(path), "--jobs", "2000")
    assert done.returncode == 2 and not done.stdout.strip(), done
    assert one_error_line(done).startswith("--jobs: 2000 is more than")
    limit = 4 * (os.cpu_count() or 1)
    assert run("evaluate", str(path), "--jobs", str(limit)).returncode == 1


def test_sigterm_while_workers_start_prints_no_traceback(tmp_path: Path) -> None:
    import signal
    import time

    for i in range(2):
        write(tmp_path / f"c{i}.yaml", case(id=f"c{i}"))
    limit = 4 * (os.cpu_count() or 1)
    for delay in (0.3, 0.8, 1.5):
        proc = subprocess.Popen([sys.executable, "-m", "chipclear", "evaluate", str(tmp_path),
                                 "--jobs", str(limit)], cwd=ROOT,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        time.sleep(delay)
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=60)
        assert "Traceback" not in err and "Exception ignored" not in err, err
        assert proc.returncode in (1, 143, -signal.SIGTERM), (proc.returncode, err)


# F5: a pack parameter with no value on the decision date is the pack's error (exit 2).

def _pack_from_future(tmp_path: Path) -> Path:
    import shutil

    pack = tmp_path / "pack"
    shutil.copytree(ROOT / "rules", pack)
    params = pack / "us" / "parameters.yaml"
    text = params.read_text(encoding="utf-8")
    head, _, tail = text.partition("  - id: us.tpp_3a090a")
    first_from = tail.index("from: ")
    tail = tail[:first_from] + "from: 9999-12-31" + tail[first_from + len("from: 2023-10-17"):]
    params.write_text(head + "  - id: us.tpp_3a090a" + tail, encoding="utf-8")
    return pack


def test_a_parameter_without_a_value_then_is_a_pack_error(tmp_path: Path) -> None:
    pack = _pack_from_future(tmp_path)
    path = write(tmp_path / "c.yaml", case())
    for jobs in ("1", "0"):
        done = run("evaluate", str(path), "--rules", str(pack), "--jobs", jobs)
        assert done.returncode == 2, done
        line = one_error_line(done)
        assert "us.tpp_3a090a' has no value on 2026-02-15" in line, line
        assert "engine failure" not in done.stderr and "please report" not in done.stderr


# F8: the case id cannot inject Markdown or HTML into memos; bidi controls are refused.

def test_markdown_specials_in_the_case_id_are_escaped(tmp_path: Path) -> None:
    path = write(tmp_path / "c.yaml", case(id="inj|x](http://evil)<b>`"))
    done = run("evaluate", str(path), "-f", "markdown")
    assert done.returncode == 1, done
    heading = next(ln for ln in done.stdout.splitlines() if ln.startswith("## "))
    assert heading == "## inj\\|x\\]\\(http://evil\\)\\<b\\>\\`", heading


def test_bidi_controls_in_names_and_ids_are_refused(tmp_path: Path) -> None:
    for char in ("\u202a", "\u202e", "\u2066", "\u2069"):
        data = case()
        data["buyer"]["name"] = f"{char}Huawei Technologies Co., Ltd."
        done = run("evaluate", str(write(tmp_path / "n.yaml", data)))
        assert done.returncode == 2 and "control character" in one_error_line(done), done
        done = run("evaluate", str(write(tmp_path / "i.yaml", case(id=f"a{char}b"))))
        assert done.returncode == 2 and "control character" in one_error_line(done), done


# F11: `unknown:` is bounded.

def test_unknown_is_bounded(tmp_path: Path) -> None:
    many = case(unknown=[f"buyer.kind{i}" for i in range(1001)])
    done = run("evaluate", str(write(tmp_path / "c.yaml", many)))
    assert done.returncode == 2 and "unknown" in one_error_line(done), done
    few = case(unknown=["buyer.kind"])
    assert run("evaluate", str(write(tmp_path / "d.yaml", few))).returncode in (0, 1)


# F9: replay refuses a ledger that verify rejects.

def test_replay_of_a_ledger_that_fails_verification_exits_3(tmp_path: Path) -> None:
    import sqlite3

    book = tmp_path / "book.db"
    path = write(tmp_path / "c.yaml", case())
    assert run("evaluate", str(path), "--ledger", str(book), "-f", "jsonl").returncode == 1
    assert run("ledger", "replay", str(book)).returncode == 0  # intact: replayed
    db = sqlite3.connect(book)
    with db:
        [sha] = db.execute("select sha256 from packs").fetchone()
        db.execute("insert into pack_files values (?, 'extra.yaml', x'00')", (sha,))
    db.close()
    assert run("ledger", "verify", str(book)).returncode == 3
    done = run("ledger", "replay", str(book))
    assert done.returncode == 3 and "fails verification" in done.stdout, done


def test_the_interview_worker_refuses_an_early_date_in_one_line() -> None:
    """The interview decides in a spawned worker: the refusal arrives whole, not as an
    unknown chip or an engine failure."""
    import pytest
    from chipclear.batch.isolated import WorkerEvaluator
    from chipclear.decide.evaluate import OutsideCoverage
    from chipclear.model.case import Case
    from chipclear.pack.loader import load_pack

    early = Case.model_validate(case(as_of="2020-01-01"))
    with (WorkerEvaluator(load_pack(ROOT / "rules"), timeout=60) as evaluator,
          pytest.raises(OutsideCoverage, match="before 2022-08-26")):
        evaluator.evaluate(early)
