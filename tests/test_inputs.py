"""Case input as an attacker writes it: bounded, strictly typed, every file accounted for.

Each attack from the "Engine integrity" and "Packaging" issues is a test here: it must
give a one-line ``file:line:col: what (hint)`` error for its case (exit 2 on the
command line) while the other cases of the batch are still decided; never a
traceback, a hang, or a value silently read as something else.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from chipclear.errors import Location, Problem, UserInputError
from chipclear.io.caseio import CaseEntry, path_of, read_all, read_file
from chipclear.io.yamlload import MAX_ALIAS_NODES, load_file

from tests.conftest import MINIPACK, ROOT

PLAIN = """\
id: plain
as_of: 2026-02-15
buyer: {name: Example GmbH, country: DE, headquarters: DE, us_approved_customer: true}
order:
  items:
    - {chip: H200, quantity: 2, unit_price_usd: 30000}
evidence: {necessity_justification: "FP8 training"}
"""


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def entries(path: Path) -> list[CaseEntry]:
    return list(read_file(path))


def only_error(path: Path) -> UserInputError:
    found = entries(path)
    assert len(found) == 1
    assert found[0].case is None and found[0].error is not None
    return found[0].error


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "chipclear", *args], cwd=ROOT,
                          capture_output=True, text=True, timeout=120)


def assert_one_line(error: UserInputError, where: str, *needles: str) -> None:
    """Exactly one problem, one line, at ``where`` (a file:line:col prefix)."""
    lines = error.line().splitlines()
    assert len(lines) == 1, lines
    assert lines[0].startswith(where), lines[0]
    for needle in needles:
        assert needle in lines[0], lines[0]


# --- parse-time attacks ---------------------------------------------------------------


@pytest.mark.parametrize(("value", "needle"), [
    ("1" * 5000, "a number of 5,000 characters is out of range"),
    ("1" * 4301, "a number of 4,301 characters is out of range"),
    ("0." + "1" * 200, "a number of 202 characters is out of range"),
    ("!!int 0x10", "explicit tag '!!int' is not allowed"),
    ("!!int abc", "explicit tag '!!int' is not allowed"),
    ("!!float abc", "explicit tag '!!float' is not allowed"),
    ("!!float .nan", "explicit tag '!!float' is not allowed"),
])
def test_absurd_numbers_and_number_tags_are_refused_where_they_are(
        tmp_path: Path, value: str, needle: str) -> None:
    case = write(tmp_path / "c.yaml", PLAIN.replace("quantity: 2", f"quantity: {value}"))
    assert_one_line(only_error(case), f"{case}:6:", needle)


@pytest.mark.parametrize(("field", "value", "tag"), [
    ("name", "!!null Huawei", "!!null"),
    ("name", "!!binary SHVhd2Vp", "!!binary"),
    ("name", "!!str 12", "!!str"),
    ("us_approved_customer", "!!bool yes", "!!bool"),
    ("name", "!!timestamp 2025-01-01", "!!timestamp"),
    ("name", "!!python/object:os.system x", "!!python/object:os.system"),
    ("name", "!custom x", "!custom"),
    ("name", "!!set {a, b}", "!!set"),
])
def test_explicit_tags_on_case_fields_are_refused(
        tmp_path: Path, field: str, value: str, tag: str) -> None:
    """``name: !!null Huawei`` silently dropped the buyer's name: a tag is never obeyed."""
    text = PLAIN.replace("buyer: {name: Example GmbH, country: DE, headquarters: DE, "
                         "us_approved_customer: true}",
                         f"buyer:\n  {field}: {value}\n  country: DE")
    case = write(tmp_path / "c.yaml", text)
    assert_one_line(only_error(case), f"{case}:4:", f"explicit tag '{tag}' is not allowed",
                    "(remove the tag")


def test_quoted_text_that_looks_like_a_tag_is_text(tmp_path: Path) -> None:
    case = write(tmp_path / "c.yaml", PLAIN.replace("Example GmbH", "'!!null Example'"))
    [entry] = entries(case)
    assert entry.case is not None and entry.case.buyer.name == "!!null Example"


def billion_laughs(levels: int = 9) -> str:
    lines = ["a0: &a0 [H200, H200, H200, H200, H200, H200, H200, H200, H200, H200]"]
    lines += [f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 10)}]" for i in range(1, levels + 1)]
    return "\n".join(lines) + f"\nid: bomb\norder: {{items: *a{levels}}}\n"


def flat_alias_items(size: int = 200_000) -> str:
    head = ("id: flat\nx: &x {chip: H200, quantity: 1, unit_price_usd: 30000}\n"
            "order:\n  items:\n")
    return head + "    - *x\n" * ((size - len(head)) // 10)


@pytest.mark.parametrize("text", [billion_laughs(), flat_alias_items()],
                         ids=["nested", "flat-200KB"])
def test_alias_bombs_are_refused_fast(tmp_path: Path, text: str) -> None:
    """A 200 KB file of repeated item aliases took 52 s and 2 GB; now a bound refuses it."""
    case = write(tmp_path / "bomb.yaml", text)
    start = time.perf_counter()
    error = only_error(case)
    assert time.perf_counter() - start < 3
    assert_one_line(error, f"{case}:", f"repeat more than {MAX_ALIAS_NODES:,} values",
                    "(write the values out")


def test_a_few_aliases_still_work(tmp_path: Path) -> None:
    case = write(tmp_path / "c.yaml", """\
cases:
  - id: one
    buyer: &buyer {name: Example GmbH, country: DE}
    order: {items: [{chip: H200}]}
  - id: two
    buyer: *buyer
    order: {items: [{chip: H200}]}
""")
    found = entries(case)
    assert [e.case.buyer.name for e in found if e.case] == ["Example GmbH", "Example GmbH"]


def test_a_recursive_alias_is_one_line(tmp_path: Path) -> None:
    case = write(tmp_path / "c.yaml", "id: x\norder: &o {items: [*o]}\n")
    assert_one_line(only_error(case), f"{case}:2:", "recursive")


@pytest.mark.parametrize(("text", "where", "needle"), [
    ('{"id": "x", "order": {"items": [{"chip": "H200"},]}}', ":1:", "malformed JSON"),
    ('{"id": "x",}', ":1:", "malformed JSON"),
    ('{"id": "x", "n": NaN}', ":1:", "NaN is not a number in JSON"),
    ('{"id": "x", "n": Infinity}', ":1:", "Infinity is not a number in JSON"),
    ('{"id": "x",\n "n": 1e400}', ":2:7:", "1e400 is too large"),
    ('{"id": "x", "n": ' + "9" * 5000 + "}", ":1:18:", "a number of 5,000 characters"),
    ('{"id": "x", "id": "y"}', ":1:", "duplicate key 'id'"),
    ("id: x\n", ":1:1:", "malformed JSON"),
    ('{"cases": [{"id": "x"}], "cases": []}', ":1:", "duplicate key 'cases'"),
])
def test_json_files_are_json_only(tmp_path: Path, text: str, where: str, needle: str) -> None:
    """No YAML fallback: trailing commas, bare YAML, NaN and huge numbers are refused."""
    case = write(tmp_path / "c.json", text)
    assert_one_line(only_error(case), f"{case}{where}", needle)


def test_json_cases_carry_positions(tmp_path: Path) -> None:
    body = {"cases": [
        {"id": "ok", "order": {"items": [{"chip": "H200"}]}},
        {"id": "bad", "order": {"items": [{"chip": "H200", "quantity": True}]}},
    ]}
    case = write(tmp_path / "c.json", json.dumps(body, indent=2))
    ok, bad = entries(case)
    assert ok.case is not None and ok.source == f"{case}:3"
    assert bad.error is not None
    line = bad.error.line()
    assert line.startswith(f"{case}:19:25: order.items[0].quantity: True is not a whole number")
    assert line.endswith("(write a whole number, not true or false)")


def test_jsonl_attacks_cost_their_line_only(tmp_path: Path) -> None:
    good = json.dumps({"id": "good", "order": {"items": [{"chip": "H200"}]}})
    lines = [good.replace("good", "g1"), '{"id": "nan", "x": NaN}',
             '{"id": "big", "x": ' + "1" * 5000 + "}", '{"id": "t",}',
             json.dumps({"id": "bool", "buyer": {"state_owned": "NO"}}),
             good.replace("good", "g2")]
    case = write(tmp_path / "c.jsonl", "\n".join(lines) + "\n")
    found = entries(case)
    assert [e.case.id for e in found if e.case] == ["g1", "g2"]
    errors = [e.error.line() for e in found if e.error]
    assert [e.split(": ", 1)[0] for e in errors] == [
        f"{case}:2:20", f"{case}:3:20", f"{case}:4:12", f"{case}:5:41"]
    assert "state_owned: 'NO' is not true or false (use true or false" in errors[3]
    assert [e.source for e in found if e.case] == [f"{case}:1", f"{case}:6"]


def test_a_jsonl_line_over_the_cap_is_refused_unread(tmp_path: Path,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    from chipclear.io import caseio

    monkeypatch.setattr(caseio, "MAX_JSONL_LINE_BYTES", 1000)
    case = write(tmp_path / "c.jsonl", '{"id": "' + "x" * 5000 + '"}\n'
                 + json.dumps({"id": "ok", "order": {"items": [{"chip": "H200"}]}}) + "\n")
    found = entries(case)
    assert found[0].error is not None and found[0].error.line().startswith(f"{case}:1:1: line")
    assert [e.case.id for e in found if e.case] == ["ok"]


@pytest.mark.parametrize("suffix", [".yaml", ".json", ".jsonl"])
def test_devices_and_fifos_are_refused_without_reading(tmp_path: Path, suffix: str) -> None:
    """/dev/zero passed the size cap (never ends); a FIFO with no writer blocks forever."""
    fifo = tmp_path / f"pipe{suffix}"
    os.mkfifo(fifo)
    zero = tmp_path / f"zero{suffix}"
    zero.symlink_to("/dev/zero")
    good = write(tmp_path / "good.yaml", PLAIN)
    result = subprocess.run(
        [sys.executable, "-m", "chipclear", "evaluate", str(fifo), str(zero), str(good),
         "--rules", str(MINIPACK), "--format", "jsonl"],
        cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert result.returncode == 2
    assert result.stderr.splitlines() == [
        f"{fifo}: not a regular file (a named pipe) (name a YAML, JSON or JSON lines file)",
        f"{zero}: not a regular file (a device) (name a YAML, JSON or JSON lines file)"]
    assert [json.loads(x)["case_id"] for x in result.stdout.splitlines()] == ["plain"]


def test_files_are_read_in_chunks_up_to_the_cap(tmp_path: Path) -> None:
    big = write(tmp_path / "big.yaml", "# x\n" * 1000)
    with pytest.raises(UserInputError, match="files over 0 MB are refused"):
        load_file(big, limit=1000)
    assert load_file(big, limit=10_000) is None


# --- strict types ---------------------------------------------------------------------


@pytest.mark.parametrize(("old", "new", "message", "hint"), [
    ("us_approved_customer: true", "us_approved_customer: NO",
     "buyer.us_approved_customer: 'NO' is not true or false", "use true or false"),
    ("us_approved_customer: true", "us_approved_customer: yes",
     "buyer.us_approved_customer: 'yes' is not true or false", "use true or false"),
    ("us_approved_customer: true", "us_approved_customer: on",
     "buyer.us_approved_customer: 'on' is not true or false", "use true or false"),
    ("us_approved_customer: true", "us_approved_customer: 1",
     "buyer.us_approved_customer: 1 is not true or false", "use true or false"),
    ("quantity: 2", "quantity: true", "order.items[0].quantity: True is not a whole number",
     "write a whole number, not true or false"),
    ("quantity: 2", "quantity: 2.0", "order.items[0].quantity: 2.0 is not a whole number",
     "use a whole number, without a decimal point"),
    ("quantity: 2", "quantity: '1,000'", "order.items[0].quantity: '1,000' is not a whole",
     "drop the thousands separator"),
    ("unit_price_usd: 30000", "unit_price_usd: '30,000'",
     "order.items[0].unit_price_usd: '30,000' is not a number",
     "drop the thousands separator"),
    ("unit_price_usd: 30000", "unit_price_usd: '30000'",
     "order.items[0].unit_price_usd: '30000' is not a number", "write a number without quotes"),
    ("as_of: 2026-02-15", "as_of: 1771113600",
     "as_of: 1771113600: not a date written as YYYY-MM-DD", "write the date as YYYY-MM-DD"),
    ("as_of: 2026-02-15", "as_of: 2026-02-15T10:00:00",
     "as_of: '2026-02-15T10:00:00': not a date", "write the date as YYYY-MM-DD"),
    ("as_of: 2026-02-15", "as_of: 2026-02-30", "as_of: '2026-02-30': there is no such day",
     "write the date as YYYY-MM-DD"),
    ("name: Example GmbH", "name: 12345", "buyer.name: 12345 is not text",
     "put the text in quotes"),
])
def test_strict_types_with_plain_word_hints(tmp_path: Path, old: str, new: str,
                                            message: str, hint: str) -> None:
    assert old in PLAIN
    case = write(tmp_path / "c.yaml", PLAIN.replace(old, new))
    line_no = next(i for i, line in enumerate(PLAIN.splitlines(), 1) if old in line)
    assert_one_line(only_error(case), f"{case}:{line_no}:", message, f"({hint}")


def test_a_date_as_the_yaml_writes_it_is_a_date(tmp_path: Path) -> None:
    [entry] = entries(write(tmp_path / "c.yaml", PLAIN))
    assert entry.case is not None and str(entry.case.as_of) == "2026-02-15"


# --- bounds ---------------------------------------------------------------------------


CUSTOM = """\
id: custom
order:
  items:
    - custom: true
      spec:
        name: X1
        vendor_country: CN
        dense_tflops: {fp8: 1000}
        die_area_mm2: 800
        memory_gb: 96
        memory_bandwidth_gbs: 4000
"""


@pytest.mark.parametrize(("old", "new", "needle"), [
    ("quantity: 2", "quantity: 0", "order.items[0].quantity: 0 is too small (use at least 1)"),
    ("quantity: 2", "quantity: 10000001",
     "order.items[0].quantity: 10,000,001 is too large (use at most 10,000,000)"),
    ("unit_price_usd: 30000", "unit_price_usd: 0",
     "order.items[0].unit_price_usd: 0 is too small (use at least 0.01)"),
    ("unit_price_usd: 30000", "unit_price_usd: 0.00001", "is too small (use at least 0.01)"),
    ("unit_price_usd: 30000", "unit_price_usd: -5", "is too small"),
    ("unit_price_usd: 30000", "unit_price_usd: 1e16",
     "unit_price_usd: 1e+16 is too large (use at most 1,000,000,000)"),
    ("unit_price_usd: 30000", "unit_price_usd: 1e400", "is not a finite number"),
    ("name: Example GmbH", "name: " + "A" * 301,
     "buyer.name: 301 characters, more than 300 (shorten it)"),
    ("name: Example GmbH", "name: " + "A" * 40_000, "40,000 characters, more than 300"),
])
def test_order_and_buyer_bounds(tmp_path: Path, old: str, new: str, needle: str) -> None:
    case = write(tmp_path / "c.yaml", PLAIN.replace(old, new))
    assert_one_line(only_error(case), f"{case}:", needle)


@pytest.mark.parametrize(("old", "new", "needle"), [
    ("fp8: 1000", "fp8: 5e15", "dense_tflops.fp8: 5e+15 is too large (use at most 1,000,000)"),
    ("fp8: 1000", "fp8: 1.7e308", "is too large (use at most 1,000,000)"),
    ("die_area_mm2: 800", "die_area_mm2: 1e-308",
     "order.items[0].spec.die_area_mm2: 1e-308 is too small (use at least 1)"),
    ("memory_gb: 96", "memory_gb: 1e20", "memory_gb: 1e+20 is too large (use at most 100,000)"),
    ("memory_bandwidth_gbs: 4000", "memory_bandwidth_gbs: -1", "is too small (use at least 0)"),
    ("name: X1", "name: " + "X" * 301, "spec.name: 301 characters, more than 300"),
])
def test_chip_figures_are_finite_and_plausible(tmp_path: Path, old: str, new: str,
                                               needle: str) -> None:
    """Near the float limit a custom chip reached TPP = Infinity and JSON got `Infinity`."""
    case = write(tmp_path / "c.yaml", CUSTOM.replace(old, new))
    assert_one_line(only_error(case), f"{case}:", needle)


def test_the_largest_plausible_chip_keeps_tpp_and_density_finite() -> None:
    from chipclear.model.case import MAX_DENSE_TFLOPS, ChipSpec
    from chipclear.pack.catalog import facts_for_spec

    spec = ChipSpec(name="big", dense_tflops={"fp64": MAX_DENSE_TFLOPS}, die_area_mm2=1)
    facts = facts_for_spec(spec)
    assert facts.tpp is not None and facts.tpp == 64 * MAX_DENSE_TFLOPS
    assert facts.performance_density is not None and facts.performance_density == facts.tpp


def test_workload_figures_are_bounded(tmp_path: Path) -> None:
    case = write(tmp_path / "c.yaml", PLAIN + "use: {workload: {min_memory_gb: 1e20, "
                 "min_memory_bandwidth_gbs: 1e20, min_cluster_size: true}}\n")
    lines = only_error(case).line().splitlines()
    assert [line.split(": ", 2)[1] for line in lines] == [
        "use.workload.min_memory_gb", "use.workload.min_memory_bandwidth_gbs",
        "use.workload.min_cluster_size"]


def test_at_most_1000_order_lines(tmp_path: Path) -> None:
    items = "".join("    - {chip: H200, quantity: 1}\n" for _ in range(1001))
    case = write(tmp_path / "c.yaml", f"id: many\norder:\n  items:\n{items}")
    assert_one_line(only_error(case), f"{case}:4:", "order.items: 1,001 entries, more than "
                    "1,000 (split the order into several cases)")
    ok = write(tmp_path / "ok.yaml", f"id: many\norder:\n  items:\n{items[:-31]}")
    [entry] = entries(ok)
    assert entry.case is not None and len(entry.case.order.items or []) == 1000


# --- every problem at once, one notation, structured ----------------------------------


def test_every_problem_of_a_case_at_once(tmp_path: Path) -> None:
    case = write(tmp_path / "c.yaml", """\
id: many-problems
buyer: {contry: CN, state_owned: yes}
order:
  items:
    - {chip: H200, quantity: 1.5, unit_price_usd: "32,000"}
""")
    error = only_error(case)
    assert error.lines() == [
        f"{case}:2:9: unknown field 'buyer.contry' (did you mean 'country'?)",
        f"{case}:2:34: buyer.state_owned: 'yes' is not true or false (use true or false, "
        "or leave the field out if unknown)",
        f"{case}:5:30: order.items[0].quantity: 1.5 is not a whole number (use a whole "
        "number, without a decimal point)",
        f"{case}:5:51: order.items[0].unit_price_usd: '32,000' is not a number (drop the "
        "thousands separator)",
    ]
    assert "and 2 more" not in error.line()
    records = error.records()
    assert records[0] == {"file": str(case), "line": 2, "col": 9,
                          "message": "unknown field 'buyer.contry'",
                          "hint": "did you mean 'country'?"}
    assert [r["line"] for r in records] == [2, 2, 5, 5]
    assert all(set(r) == {"file", "line", "col", "message", "hint"} for r in records)


def test_problems_past_the_limit_are_counted(tmp_path: Path) -> None:
    items = "".join(f"    - {{chip: H200, quantity: {-i}}}\n" for i in range(60))
    case = write(tmp_path / "c.yaml", f"id: x\norder:\n  items:\n{items}")
    lines = only_error(case).lines()
    assert len(lines) == 51
    assert lines[-1] == f"{case}:1:1: 10 more problems in this case (fix the ones above " \
                        "and run again)"


def test_one_path_notation() -> None:
    assert path_of(["order", "items", 0, "spec", "dense_tflops", "fp8"]) == \
        "order.items[0].spec.dense_tflops.fp8"
    assert path_of([]) == "case"


def test_errors_survive_pickling_for_worker_processes() -> None:
    import pickle

    error = UserInputError.of([Problem(Location("f.yaml", 1, 2), "a", "b"),
                               Problem(Location("f.yaml", 3), "c")])
    again = pickle.loads(pickle.dumps(error))
    assert again.lines() == ["f.yaml:1:2: a (b)", "f.yaml:3:1: c"]
    assert again.records()[1] == {"file": "f.yaml", "line": 3, "col": 1, "message": "c",
                                  "hint": None}
    assert UserInputError(Location("f.yaml"), "x").records() == [
        {"file": "f.yaml", "line": None, "col": None, "message": "x", "hint": None}]


# --- batches account for every file ---------------------------------------------------


def test_unreadable_folders_files_and_links_are_reported(tmp_path: Path) -> None:
    root = tmp_path / "cases"
    (root / "sub").mkdir(parents=True)
    write(root / "a.yaml", PLAIN.replace("id: plain", "id: a"))
    write(root / "sub" / "b.yaml", PLAIN.replace("id: plain", "id: b"))
    write(root / "notes.txt", "not a case")
    (root / "gone.yaml").symlink_to(tmp_path / "missing.yaml")
    (root / "gone-folder").symlink_to(tmp_path / "missing-folder")
    (root / "sub" / "loop").symlink_to(root)
    found = list(read_all([root, tmp_path / "absent.yaml"]))
    assert [e.case.id for e in found if e.case] == ["a", "b"]
    assert [e.error.line() for e in found if e.error] == [
        f"{root / 'gone-folder'}: a link that points nowhere (fix or remove the link)",
        f"{root / 'gone.yaml'}: a link that points nowhere (fix or remove the link)",
        f"{root / 'sub' / 'loop'}: a link back to a folder already read (remove the link, "
        "or name each folder once)",
        f"{tmp_path / 'absent.yaml'}: file not found (check the path)",
    ]


def test_unreadable_folders_and_files_are_reported(tmp_path: Path,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    """Permission errors, forced at the system call (file modes do not bind root, and
    the tests may run as root): each is one line, the readable cases still read."""
    from chipclear.io import caseio, yamlload

    root = tmp_path / "cases"
    (root / "locked").mkdir(parents=True)
    write(root / "locked" / "hidden.yaml", PLAIN)
    write(root / "a.yaml", PLAIN.replace("id: plain", "id: a"))
    write(root / "secret.yaml", PLAIN.replace("id: plain", "id: s"))
    listdir, open_ = os.listdir, os.open

    def refusing_listdir(path: Path) -> list[str]:
        if Path(path).name == "locked":
            raise PermissionError(13, "Permission denied")
        return listdir(path)

    def refusing_open(path: Path, flags: int, mode: int = 0o777) -> int:
        if Path(path).name == "secret.yaml":
            raise PermissionError(13, "Permission denied")
        return open_(path, flags, mode)

    monkeypatch.setattr(caseio.os, "listdir", refusing_listdir)
    monkeypatch.setattr(yamlload.os, "open", refusing_open)
    found = list(read_all([root]))
    assert [e.case.id for e in found if e.case] == ["a"]
    assert [e.error.line() for e in found if e.error] == [
        f"{root / 'locked'}: cannot read folder: Permission denied (check its permissions, "
        "or leave it out)",
        f"{root / 'secret.yaml'}: cannot read file: permission denied (check the file's "
        "permissions)"]


def test_a_repeated_case_id_is_refused_and_the_first_decided(tmp_path: Path) -> None:
    first = write(tmp_path / "a.yaml", PLAIN)
    second = write(tmp_path / "b.yaml", "# the same id again\n" + PLAIN)
    found = list(read_all([first, second]))
    assert found[0].case is not None
    assert found[1].case is None and found[1].error is not None
    assert found[1].error.line() == (
        f"{second}:2:5: case id 'plain' is used again (first at {first}:1) (give each case "
        "its own id; this one was not decided)")


def test_skipped_paths_are_left_out_of_folders(tmp_path: Path) -> None:
    write(tmp_path / "a.yaml", PLAIN)
    out = write(tmp_path / "out.json", '{"decisions": []}')
    found = list(read_all([tmp_path], skip=[out]))
    assert [e.case.id for e in found if e.case] == ["plain"] and len(found) == 1


def test_every_decision_records_its_source(tmp_path: Path) -> None:
    batch = write(tmp_path / "batch.yaml", "cases:\n" + "".join(
        f"  - id: c{i}\n    as_of: 2026-02-15\n    order: {{items: [{{chip: H200}}]}}\n"
        for i in range(2)))
    result = run("evaluate", str(batch), "--rules", str(MINIPACK), "--format", "jsonl")
    assert [json.loads(x)["source"] for x in result.stdout.splitlines()] == [
        f"{batch}:2", f"{batch}:5"]


# --- the command line: one line each, exit 2, the rest decided ------------------------


def test_a_batch_of_attacks_exits_2_and_decides_the_plain_cases(tmp_path: Path) -> None:
    folder = tmp_path / "cases"
    folder.mkdir()
    write(folder / "a-plain.yaml", PLAIN)
    write(folder / "b-digits.yaml", PLAIN.replace("id: plain", "id: digits").replace(
        "quantity: 2", "quantity: " + "9" * 5000))
    write(folder / "c-hex.yaml", PLAIN.replace("id: plain", "id: hex").replace(
        "quantity: 2", "quantity: !!int 0x10"))
    write(folder / "d-bomb.yaml", billion_laughs())
    write(folder / "e-trailing.json", '{"id": "t", "order": {"items": [],},}')
    write(folder / "f-no.yaml", PLAIN.replace("id: plain", "id: no").replace(
        "us_approved_customer: true", "us_approved_customer: NO"))
    write(folder / "g-dup.yaml", PLAIN)
    (folder / "h-dangling.yaml").symlink_to(tmp_path / "nowhere.yaml")
    write(folder / "z-plain.yaml", PLAIN.replace("id: plain", "id: last"))
    start = time.perf_counter()
    result = run("evaluate", str(folder), "--rules", str(MINIPACK), "--format", "jsonl")
    assert time.perf_counter() - start < 60
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr
    assert [json.loads(x)["case_id"] for x in result.stdout.splitlines()] == ["plain", "last"]
    errors = result.stderr.splitlines()
    assert len(errors) == 7, errors
    for line, name in zip(errors, ["b-digits", "c-hex", "d-bomb", "e-trailing", "f-no",
                                   "g-dup", "h-dangling"], strict=True):
        assert line.startswith(str(folder / name)), line
        assert line.endswith(")"), line  # every error says what to do


ATTACKED = (ROOT / "examples" / "cases" / "h200-platform-2026.yaml").read_text(
    encoding="utf-8").replace("Example Platform Co., Ltd.", "Huawei Technologies Co., Ltd.") \
    .replace("chip: H200", "chip: B200").replace("end_use: commercial", "end_use: military")


@pytest.mark.parametrize(("old", "new", "needle"), [
    ("unit_price_usd: 32000", "unit_price_usd: 0.00001",
     "order.items[0].unit_price_usd: 1e-05 is too small (use at least 0.01)"),
    ("unit_price_usd: 32000", "unit_price_usd: 1e16",
     "order.items[0].unit_price_usd: 1e+16 is too large (use at most 1,000,000,000)"),
    ("min_memory_bandwidth_gbs: 4800", "min_memory_bandwidth_gbs: 1e20",
     "use.workload.min_memory_bandwidth_gbs: 1e+20 is too large"),
])
def test_the_fact_loss_attacks_are_input_errors_not_a_go(tmp_path: Path, old: str, new: str,
                                                        needle: str) -> None:
    """Issue 10, finding 1: a price of 0.00001 or 1e16 turned this no_go into go."""
    assert "chip: B200" in ATTACKED and old in ATTACKED
    plain = write(tmp_path / "plain.yaml", ATTACKED)
    twin = write(tmp_path / "twin.yaml", ATTACKED.replace(old, new).replace(
        "id: platform-h200-2026q1", "id: twin"))
    result = run("evaluate", str(plain), str(twin), "--format", "jsonl")
    assert result.returncode == 2, result.stderr
    [decision] = [json.loads(x) for x in result.stdout.splitlines()]
    assert decision["verdict"] == "no_go"
    [line] = result.stderr.splitlines()
    assert line.startswith(f"{twin}:") and needle in line, line


def test_a_repeated_id_never_reaches_the_ledger(tmp_path: Path) -> None:
    from chipclear.audit.ledger import Ledger

    first = write(tmp_path / "a.yaml", PLAIN)
    second = write(tmp_path / "b.yaml", PLAIN.replace("quantity: 2", "quantity: 3"))
    ledger = tmp_path / "ledger.sqlite"
    result = run("evaluate", str(first), str(second), "--rules", str(MINIPACK),
                 "--format", "jsonl", "--ledger", str(ledger))
    assert result.returncode == 2
    assert result.stderr.startswith(f"{second}:1:5: case id 'plain' is used again")
    book = Ledger.open(ledger, create=False)
    try:
        assert len(book) == 1
        assert json.loads(next(iter(book.rows())).case_json)["order"]["items"][0][
            "quantity"] == 2
    finally:
        book.close()


@pytest.mark.parametrize(("old", "new", "needle"), [
    ("memory_gb: 96", "memory_gb: 0.00001",
     "spec.memory_gb: 1e-05 is too small for a chip figure (use 0 if it has none, or at "
     "least 0.001)"),
    ("fp8: 1000", "fp8: 0.00009", "dense_tflops.fp8: 9e-05 is too small for a chip figure"),
    ("memory_bandwidth_gbs: 4000", "memory_bandwidth_gbs: 5e-324", "is too small for a chip"),
])
def test_figures_below_any_accelerator_are_refused(tmp_path: Path, old: str, new: str,
                                                   needle: str) -> None:
    """Issue 10, findings 1 and 2: `memory_gb: 0.00001` dropped facts or killed the run."""
    case = write(tmp_path / "c.yaml", CUSTOM.replace(old, new))
    assert_one_line(only_error(case), f"{case}:", needle)
    zero = write(tmp_path / "zero.yaml", CUSTOM.replace(old, old.split(":")[0] + ": 0"))
    [entry] = entries(zero)
    assert entry.case is not None, entry.error


def test_a_workload_figure_below_any_accelerator_is_refused(tmp_path: Path) -> None:
    case = write(tmp_path / "c.yaml", PLAIN + "use: {workload: {min_memory_gb: 0.00001}}\n")
    assert_one_line(only_error(case), f"{case}:8:", "use.workload.min_memory_gb: 1e-05 is too "
                    "small for a chip figure")


@pytest.mark.parametrize(("text", "needle"), [
    ('id: "x\\e[31mred"\n', "id: 'x\\x1b[31mred' contains a control character"),
    ('id: x\nbuyer: {name: "Huawei\\0"}\n', "buyer.name: 'Huawei\\x00' contains a control"),
    ('id: x\norder: {items: [{chip: "H200\\x9b"}]}\n', "order.items[0].chip: 'H200\\x9b'"),
    ('id: x\nevidence: {necessity_justification: "a\\e"}\n', "contains a control character"),
])
def test_control_characters_in_names_are_refused(tmp_path: Path, text: str,
                                                 needle: str) -> None:
    """Ids with terminal escape sequences reached the table, Markdown and the ledger."""
    case = write(tmp_path / "c.yaml", text)
    assert_one_line(only_error(case), f"{case}:", needle, "(remove it")


def test_line_breaks_and_tabs_in_free_text_are_kept(tmp_path: Path) -> None:
    text = PLAIN.replace('"FP8 training"', '"FP8\\ttraining\\nat scale"')
    case = write(tmp_path / "c.yaml", text)
    [entry] = entries(case)
    assert entry.case is not None
    assert entry.case.evidence.necessity_justification == "FP8\ttraining\nat scale"


def test_a_wrong_key_is_pointed_at_and_odd_field_names_kept(tmp_path: Path) -> None:
    from chipclear.model.case import Buyer

    case = write(tmp_path / "c.yaml", CUSTOM.replace("fp8: 1000", "fp9: 1000") + """\
buyer: {float: 1}
""")
    assert only_error(case).lines() == [
        f"{case}:8:24: order.items[0].spec.dense_tflops.fp9: 'fp9' is not allowed (did you "
        "mean 'fp8'?)",
        f"{case}:12:9: unknown field 'buyer.float' (allowed here: "
        f"{', '.join(Buyer.model_fields)})"]
    assert "name_zh" in Buyer.model_fields  # the list names the model's fields, in order


def test_the_case_schema_carries_the_bounds() -> None:
    """Editors check with the generated schema what the model refuses."""
    from chipclear.pack.schema import SCHEMAS, schema_for
    from jsonschema import Draft202012Validator

    validator = Draft202012Validator(schema_for(SCHEMAS["case.schema.json"]))
    item = {"chip": "H200", "quantity": 10_000_000, "unit_price_usd": 1e9}
    assert validator.is_valid({"id": "x", "order": {"items": [item] * 1000}})
    for bad in ({"quantity": 0}, {"quantity": 10_000_001}, {"quantity": True},
                {"unit_price_usd": 1e9 + 1}, {"chip": "X" * 301}):
        assert not validator.is_valid({"id": "x", "order": {"items": [{**item, **bad}]}}), bad
    assert not validator.is_valid({"id": "x", "order": {"items": [item] * 1001}})
    assert not validator.is_valid({"id": "x", "buyer": {"state_owned": "NO"}})
