"""The command line as a user meets it: exit codes, one-line errors, stable output."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import MINIPACK, ROOT


def run(*args: str, cwd: Path = ROOT) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "chipclear", *args], cwd=cwd,
                          capture_output=True, text=True, timeout=120)


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


GOOD = """\
id: de-h200
as_of: 2026-02-15
buyer: {name: Example GmbH, country: DE, headquarters: DE}
order:
  items:
    - {chip: H200, quantity: 2, unit_price_usd: 30000}
evidence: {necessity_justification: "FP8 training"}
"""


def test_go_with_conditions_exits_0_and_json_is_stable(tmp_path: Path) -> None:
    case = write(tmp_path / "a.yaml", GOOD)
    first = run("evaluate", str(case), "--rules", str(MINIPACK), "--format", "json")
    second = run("evaluate", str(case), "--rules", str(MINIPACK), "--format", "json")
    assert first.returncode == 0, first.stderr
    assert first.stdout == second.stdout
    body = json.loads(first.stdout)
    assert body["decisions"][0]["verdict"] == "go_with_conditions"
    assert body["errors"] == []


def test_bad_case_in_a_batch_is_reported_and_the_rest_decided(tmp_path: Path) -> None:
    batch = write(tmp_path / "batch.yaml", """\
cases:
  - id: ok
    as_of: 2026-02-15
    buyer: {country: CN}
    order: {items: [{chip: H200}]}
  - id: typo
    buyer: {contry: CN}
  - id: badchip
    order:
      items:
        - chip: H2O0
  - id: ok2
    as_of: 2026-02-15
    buyer: {country: CN}
    order: {items: [{chip: H200}]}
""")
    result = run("evaluate", str(batch), "--rules", str(MINIPACK), "--format", "jsonl")
    assert result.returncode == 2
    assert [json.loads(line)["case_id"] for line in result.stdout.splitlines()] == ["ok", "ok2"]
    errors = result.stderr.strip().splitlines()
    assert errors == [
        f"{batch}:7:13: unknown field 'buyer.contry' (did you mean 'country'?)",
        f"{batch}:11:17: unknown chip 'H2O0' (did you mean 'H200'?)",
    ]
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize(("text", "message"), [
    ("id: x\nbuyer: {kind: goverment}\n", ":2:15: buyer.kind: 'goverment' is not allowed "
                                          "(did you mean 'government'?)"),
    ("id: x\nid: y\n", ":2:1: duplicate key 'id'"),
    ("id: [x\n", ":2:1: malformed YAML"),
    ("", ": empty file"),
    ("id: x\norder: {items: [{chip: H200, quantity: -3}]}\n",
     ":2:40: order.items[0].quantity: -3 is too small (use at least 1)"),
])
def test_invalid_input_is_one_line_exit_2(tmp_path: Path, text: str, message: str) -> None:
    case = write(tmp_path / "c.yaml", text)
    result = run("evaluate", str(case), "--rules", str(MINIPACK))
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith(f"{case}{message}"), lines[0]


def test_missing_file_and_bad_rules_dir(tmp_path: Path) -> None:
    missing = run("evaluate", str(tmp_path / "nope.yaml"), "--rules", str(MINIPACK))
    assert missing.returncode == 2
    assert missing.stderr.strip() == f"{tmp_path / 'nope.yaml'}: file not found (check the path)"
    case = write(tmp_path / "a.yaml", GOOD)
    bad_rules = run("evaluate", str(case), "--rules", str(tmp_path))
    assert bad_rules.returncode == 2
    assert "pack.yaml missing" in bad_rules.stderr


def test_needs_information_and_no_go_exit_1(tmp_path: Path) -> None:
    case = write(tmp_path / "a.yaml", GOOD.replace('evidence: {necessity_justification: '
                                                   '"FP8 training"}\n', ""))
    result = run("evaluate", str(case), "--rules", str(MINIPACK), "--format", "markdown")
    assert result.returncode == 1
    assert "needs_information" in result.stdout
    assert "evidence.necessity_justification" in result.stdout


def test_as_of_override_and_bad_date(tmp_path: Path) -> None:
    case = write(tmp_path / "a.yaml", GOOD)
    early = run("evaluate", str(case), "--rules", str(MINIPACK), "--format", "json",
                "--as-of", "2023-01-01")
    assert json.loads(early.stdout)["decisions"][0]["as_of"] == "2023-01-01"
    bad = run("evaluate", str(case), "--rules", str(MINIPACK), "--as-of", "2023-13-01")
    assert bad.returncode == 2
    assert "not a date" in bad.stderr


def test_output_file(tmp_path: Path) -> None:
    case = write(tmp_path / "a.yaml", GOOD)
    out = tmp_path / "out.json"
    result = run("evaluate", str(case), "--rules", str(MINIPACK), "--format", "json",
                 "-o", str(out))
    assert result.returncode == 0
    assert result.stdout == ""
    assert json.loads(out.read_text(encoding="utf-8"))["decisions"][0]["case_id"] == "de-h200"


def test_a_50_mb_yaml_file_is_refused_at_once_and_the_rest_decided(tmp_path: Path) -> None:
    """Parsing 50 MB of YAML would take minutes and gigabytes: refuse it by size, say what
    to do instead, and still decide the other files."""
    big = tmp_path / "big.yaml"
    with big.open("w", encoding="utf-8") as out:
        chunk = "# padding\n" * 100_000
        while out.tell() < 50 * 1024 * 1024:
            out.write(chunk)
        out.truncate(50 * 1024 * 1024)
    good = write(tmp_path / "good.yaml", GOOD)
    result = subprocess.run(
        [sys.executable, "-m", "chipclear", "evaluate", str(big), str(good), "--rules",
         str(MINIPACK), "--format", "jsonl"],
        capture_output=True, text=True, timeout=60, cwd=ROOT)
    assert result.returncode == 2
    assert result.stderr.strip() == (
        f"{big}: file is 50 MB; YAML case files over 20 MB are refused (split it, or write "
        "one JSON case per line in a .jsonl file, which streams)")
    assert [json.loads(line)["case_id"] for line in result.stdout.splitlines()] == ["de-h200"]


def test_every_problem_of_a_case_is_reported_at_once(tmp_path: Path) -> None:
    """One run names every problem of a case, each on its own line with a hint."""
    case = write(tmp_path / "c.yaml", """\
id: three-problems
as_of: 1771113600
buyer: {country: CN, us_approved_customer: NO}
order:
  items:
    - {chip: H200, quantity: "1,000"}
""")
    result = run("evaluate", str(case), "--rules", str(MINIPACK))
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert result.stderr.splitlines() == [
        f"{case}:2:8: as_of: 1771113600: not a date written as YYYY-MM-DD (write the date "
        "as YYYY-MM-DD, e.g. 2026-02-15)",
        f"{case}:3:44: buyer.us_approved_customer: 'NO' is not true or false (use true or "
        "false, or leave the field out if unknown)",
        f"{case}:6:30: order.items[0].quantity: '1,000' is not a whole number (drop the "
        "thousands separator)",
    ]
