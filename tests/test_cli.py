"""The command line as a user meets it: exit codes, one-line errors, stable output."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

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


def test_a_50_mb_yaml_file_is_refused_and_the_rest_decided(tmp_path: Path) -> None:
    """50 MB of YAML that is not a streamed ``cases:`` list would be parsed whole: refuse
    it once 20 MB are read, say what to do instead, and still decide the other files."""
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
        f"{big}: file is 50 MB; YAML files over 20 MB are refused unless they hold a "
        "'cases:' list (then each case may have up to 20 MB) (split it, or write "
        "one JSON case per line in a .jsonl file, which streams)")
    assert [json.loads(line)["case_id"] for line in result.stdout.splitlines()] == ["de-h200"]


# --- output for people ---------------------------------------------------------------------

ANSI = "\x1b["


def env_run(*args: str, env: dict[str, str], cwd: Path = ROOT,
            ) -> subprocess.CompletedProcess[str]:
    import os

    clean = {k: v for k, v in os.environ.items()
             if k not in ("NO_COLOR", "FORCE_COLOR", "COLUMNS", "TERM")}
    return subprocess.run([sys.executable, "-m", "chipclear", *args], cwd=cwd,
                          capture_output=True, text=True, timeout=120, env={**clean, **env})


def test_piped_table_follows_columns_has_no_padding_and_ends_with_the_summary(
        tmp_path: Path) -> None:
    case = write(tmp_path / "a.yaml", GOOD)
    for width in (80, 132):
        result = env_run("evaluate", str(case), "--rules", str(MINIPACK),
                         env={"COLUMNS": str(width)})
        assert result.returncode == 0, result.stderr
        lines = result.stdout.splitlines()
        assert ANSI not in result.stdout
        assert all(line == line.rstrip() for line in lines)
        assert max(len(line) for line in lines) <= width
        assert max(len(line) for line in lines) > 60
        title = max(i for i, line in enumerate(lines) if line.startswith("chipclear decisions"))
        assert "de-h200" in "".join(lines[title:])  # the summary table comes last
        assert "Findings" in "\n".join(lines[:title])  # after the details
    summary = env_run("evaluate", str(case), "--rules", str(MINIPACK), "--summary", env={})
    details = env_run("evaluate", str(case), "--rules", str(MINIPACK), "--details", env={})
    assert "chipclear decisions" in summary.stdout and "Findings" not in summary.stdout
    assert "chipclear decisions" not in details.stdout and "Findings" in details.stdout
    both = env_run("evaluate", str(case), "--rules", str(MINIPACK), "--summary", "--details",
                   env={})
    assert both.returncode == 2 and len(both.stderr.strip().splitlines()) == 1


def test_colour_follows_rich_detection_and_the_color_option(tmp_path: Path) -> None:
    case = write(tmp_path / "a.yaml", GOOD)
    args = ("evaluate", str(case), "--rules", str(MINIPACK), "--summary")
    assert ANSI in env_run(*args, env={"FORCE_COLOR": "1"}).stdout
    assert ANSI not in env_run(*args, env={}).stdout
    assert ANSI not in env_run(*args, env={"FORCE_COLOR": "1", "NO_COLOR": "1"}).stdout.replace(
        "\x1b[1m", "").replace("\x1b[0m", "").replace("\x1b[3m", "")  # style, never colour
    assert ANSI in env_run(*args, "--color", "always", env={}).stdout
    assert ANSI not in env_run(*args, "--color", "never", env={"FORCE_COLOR": "1"}).stdout


def test_control_characters_in_case_ids_never_reach_a_terminal(tmp_path: Path) -> None:
    """Refused at input (one escaped line); and a decision that carries one anyway, as an
    older ledger row may, is escaped by every renderer meant for people."""
    import io

    from chipclear.audit.ledger import Ledger
    from chipclear.decide.evaluate import Evaluator
    from chipclear.io import render
    from chipclear.model.case import Case
    from chipclear.pack.loader import load_pack
    from rich.console import Console

    evil = "evil\x1b[2J\rid"
    case = tmp_path / "a.json"
    case.write_text(json.dumps({**yaml.safe_load(GOOD), "id": evil}, default=str),
                    encoding="utf-8")
    refused = run("evaluate", str(case), "--rules", str(MINIPACK))
    assert refused.returncode == 2 and refused.stdout.count("de-h200") == 0
    assert "\x1b" not in refused.stderr and "\r" not in refused.stderr
    assert "evil\\x1b[2J\\rid" in refused.stderr

    pack = load_pack(MINIPACK)
    good = Case.model_validate(yaml.safe_load(GOOD))
    decision = Evaluator(pack).evaluate(good).model_copy(update={"case_id": evil})
    table = io.StringIO()
    render.table([decision], Console(file=table, width=200))
    ledger = tmp_path / "l.sqlite"
    book = Ledger.open(ledger, writable=True)
    book.append(good.model_copy(update={"id": evil}), decision, pack)
    book.close()
    outputs = [table.getvalue(), run("ledger", "list", str(ledger)).stdout]
    for text in outputs:
        assert "\x1b" not in text and "\r" not in text
        assert "evil\\x1b[2J\\x0did" in text
    memo = render.markdown(decision)  # Markdown escapes its specials too (\\ and \[)
    assert "\x1b" not in memo and "\r" not in memo
    assert "evil\\\\x1b\\[2J\\\\x0did" in memo
    # JSON keeps the id exactly (it is data, escaped by JSON itself).
    assert json.loads(render.to_jsonl_line(decision))["case_id"] == evil


def test_json_errors_are_objects_with_file_line_col_message_hint(tmp_path: Path) -> None:
    bad = write(tmp_path / "bad.yaml", "id: x\nbuyer: {kind: goverment}\n")
    result = run("evaluate", str(bad), "--rules", str(MINIPACK), "-f", "json")
    assert result.returncode == 2
    [error] = json.loads(result.stdout)["errors"]
    assert set(error) == {"file", "line", "col", "message", "hint"}
    assert (error["file"], error["line"], error["col"]) == (str(bad), 2, 15)
    assert error["message"].startswith("buyer.kind: 'goverment' is not allowed")
    assert error["hint"] == "did you mean 'government'?"


def test_schema_writes_into_the_pack_it_is_given(tmp_path: Path) -> None:
    import shutil

    pack = tmp_path / "pack"
    shutil.copytree(MINIPACK, pack)
    elsewhere = tmp_path / "cwd"
    elsewhere.mkdir()
    result = run("schema", "--rules", str(pack), cwd=elsewhere)
    assert result.returncode == 0, result.stderr
    assert (pack / "schema").is_dir() and any((pack / "schema").iterdir())
    assert list(elsewhere.iterdir()) == []
    nothing = run("schema", cwd=elsewhere)
    assert nothing.returncode == 2 and list(elsewhere.iterdir()) == []


def test_a_long_run_on_a_terminal_shows_a_progress_bar_and_a_pipe_does_not(
        tmp_path: Path) -> None:
    import os
    import pty

    batch = [{**yaml.safe_load(GOOD), "id": f"c{i:03d}"} for i in range(60)]
    cases = write(tmp_path / "c.yaml", yaml.safe_dump({"cases": batch}, default_flow_style=False))
    args = [sys.executable, "-m", "chipclear", "evaluate", str(cases), "--rules",
            str(MINIPACK), "-f", "jsonl", "-o", str(tmp_path / "o.jsonl")]
    master, slave = pty.openpty()
    proc = subprocess.Popen(args, cwd=ROOT, stderr=slave, stdout=subprocess.DEVNULL)
    os.close(slave)
    seen = b""
    while True:
        try:
            chunk = os.read(master, 4096)
        except OSError:  # the terminal closed with the process
            break
        if not chunk:
            break
        seen += chunk
    os.close(master)
    assert proc.wait(timeout=120) == 0
    assert b"60 cases" in seen
    piped = subprocess.run(args, cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert piped.returncode == 0 and piped.stderr == ""


def test_error_records_from_lines_and_from_user_errors() -> None:
    from chipclear.errors import Location, UserInputError, error_record

    assert error_record("my cases/c.yaml:7:13: bad")["file"] == "my cases/c.yaml"
    assert error_record("audit diff: engine failure: boom")["file"] is None
    assert error_record("c.yaml:7:13: unknown chip 'H2O0' (did you mean 'H200'?)") == {
        "file": "c.yaml", "line": 7, "col": 13, "message": "unknown chip 'H2O0'",
        "hint": "did you mean 'H200'?"}
    assert error_record("c.yaml: empty file") == {
        "file": "c.yaml", "line": None, "col": None, "message": "empty file", "hint": None}
    assert error_record("c.yaml:2:1: f(x) is wrong (use g(x) instead)")["hint"] == \
        "use g(x) instead"
    exc = UserInputError(Location("d.json", 3, 5), "quantity: not an integer", "use 4, not 4.0")
    assert error_record(exc) == {"file": "d.json", "line": 3, "col": 5,
                                 "message": "quantity: not an integer",
                                 "hint": "use 4, not 4.0"}


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
