"""The decision ledger: append-only, hash-chained, replayable, crash-safe."""

from __future__ import annotations

import itertools
import json
import shutil
import sqlite3
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest
from chipclear.audit.ledger import (
    GENESIS,
    ROW_FIELDS,
    Ledger,
    canonical_json,
    pack_digest,
    row_hash,
)
from chipclear.decide.evaluate import Evaluator
from chipclear.model.case import Case
from chipclear.pack.loader import RulePack

from tests.conftest import MINIPACK, ROOT


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "chipclear", *args], cwd=ROOT,
                          capture_output=True, text=True, timeout=300)


def make_case(i: int) -> Case:
    """Varied cases: dates across the minipack's history, Chinese and other buyers."""
    dates = ["2023-01-10", "2024-03-01", "2025-09-01", "2026-02-15"]
    raw: dict[str, Any] = {
        "id": f"case-{i:04d}",
        "as_of": dates[i % 4],
        "buyer": {"country": ["CN", "DE", "MO", "MY"][i % 4 if i % 3 else 0],
                  "name": "Example Cloud Co., Ltd." if i % 5 else "Zhipu AI"},
        "order": {"items": [{"chip": "H200" if i % 7 else "huawei-ascend-910c",
                             "quantity": 1 + i % 50, "unit_price_usd": 30000}]},
    }
    if i % 2:
        raw["evidence"] = {"necessity_justification": "FP8 training"}
    return Case.model_validate(raw)


def fill(path: Path, pack: RulePack, n: int) -> None:
    ev = Evaluator(pack)
    with Ledger.open(path) as book:
        for i in range(n):
            case = make_case(i)
            assert book.append(case, ev.evaluate(case), pack) == i + 1


@pytest.fixture()
def ledger5(tmp_path: Path, minipack: RulePack) -> Path:
    path = tmp_path / "five.ledger.sqlite"
    fill(path, minipack, 5)
    return path


def test_rows_chain_and_store_the_pack_once(ledger5: Path, minipack: RulePack) -> None:
    with Ledger.open(ledger5) as book:
        rows = list(book.rows())
        assert [r.seq for r in rows] == [1, 2, 3, 4, 5]
        assert rows[0].prev_hash == GENESIS
        for before, row in itertools.pairwise(rows):
            assert row.prev_hash == before.hash
        for row in rows:
            body = {k: getattr(row, k) for k in ROW_FIELDS}
            assert row.hash == row_hash(body)
            assert row.pack_sha256 == minipack.sha256
            assert json.loads(row.case_json)["as_of"] == row.as_of
        assert book.pack_files(minipack.sha256) == minipack.files
        assert pack_digest(minipack.files) == minipack.sha256
        assert book.verify().ok
    conn = sqlite3.connect(ledger5)
    assert conn.execute("SELECT count(*) FROM packs").fetchone()[0] == 1
    conn.close()


def test_the_row_hash_is_documented_canonical_json() -> None:
    body = {k: f"v-{k}" for k in ROW_FIELDS} | {"seq": 7}
    text = canonical_json(body)
    assert text.startswith('{"as_of":"v-as_of","case_id":')
    assert '"seq":7' in text and " " not in text
    import hashlib

    assert row_hash(body) == hashlib.sha256(text.encode()).hexdigest()


@pytest.mark.parametrize("statement", [
    "UPDATE decisions SET verdict = 'go' WHERE seq = 2",
    "DELETE FROM decisions WHERE seq = 5",
    "UPDATE pack_files SET content = x'00'",
    "DELETE FROM packs",
])
def test_triggers_refuse_update_and_delete(ledger5: Path, statement: str) -> None:
    conn = sqlite3.connect(ledger5)
    with pytest.raises(sqlite3.DatabaseError, match="append-only"):
        conn.execute(statement)
    conn.close()


def _tamper(path: Path, statement: str, params: tuple[Any, ...] = ()) -> None:
    conn = sqlite3.connect(path)
    for (name,) in conn.execute("SELECT name FROM sqlite_master WHERE type = 'trigger'"):
        conn.execute(f"DROP TRIGGER {name}")
    conn.execute(statement, params)
    conn.commit()
    conn.close()


def _flip_one_byte(value: Any) -> Any:
    if isinstance(value, int):
        return value ^ 64  # another row number that is not taken
    if isinstance(value, bytes):
        return bytes([value[0] ^ 1]) + value[1:]
    text = str(value)
    mid = len(text) // 2
    return text[:mid] + chr(ord(text[mid]) ^ 1) + text[mid + 1:]


@pytest.mark.parametrize("column", [*ROW_FIELDS, "hash"])
def test_editing_any_byte_of_a_row_is_caught(ledger5: Path, tmp_path: Path, column: str) -> None:
    conn = sqlite3.connect(ledger5)
    conn.text_factory = bytes
    value = conn.execute(f"SELECT {column} FROM decisions WHERE seq = 3").fetchone()[0]
    conn.close()
    new = _flip_one_byte(value)
    _tamper(ledger5, f"UPDATE decisions SET {column} = ? WHERE rowid = 3", (new,))
    with Ledger.open(ledger5) as book:
        result = book.verify()
    assert not result.ok
    assert result.broken_seq == 3, result
    assert result.warnings  # the triggers are gone


def test_every_byte_position_of_the_decision_json_is_covered(ledger5: Path,
                                                              tmp_path: Path) -> None:
    """Not only the middle: the first and last bytes of a column count too."""
    conn = sqlite3.connect(ledger5)
    original = conn.execute("SELECT decision_json FROM decisions WHERE seq = 2").fetchone()[0]
    conn.close()
    for pos in (0, len(original) // 3, len(original) - 1):
        copy = tmp_path / f"copy-{pos}.sqlite"
        shutil.copy(ledger5, copy)
        edited = original[:pos] + chr(ord(original[pos]) ^ 1) + original[pos + 1:]
        _tamper(copy, "UPDATE decisions SET decision_json = ? WHERE seq = 2", (edited,))
        with Ledger.open(copy) as book:
            assert book.verify().broken_seq == 2


def test_verify_command_names_the_first_broken_row(ledger5: Path) -> None:
    ok = run("ledger", "verify", str(ledger5))
    assert ok.returncode == 0, ok.stderr
    assert "5 rows intact" in ok.stdout
    _tamper(ledger5, "UPDATE decisions SET case_json = replace(case_json, 'CN', 'DE') "
                     "WHERE seq = 4")
    _tamper(ledger5, "UPDATE decisions SET verdict = 'go' WHERE seq = 5")
    broken = run("ledger", "verify", str(ledger5))
    assert broken.returncode == 3
    assert broken.stdout.startswith(f"{ledger5}: row 4: ")
    assert "Traceback" not in broken.stderr


def test_deleting_a_row_breaks_the_chain(ledger5: Path) -> None:
    _tamper(ledger5, "DELETE FROM decisions WHERE seq = 2")
    with Ledger.open(ledger5) as book:
        result = book.verify()
    assert (result.broken_seq, result.ok) == (2, False)
    assert "missing" in (result.problem or "")


def test_editing_the_stored_pack_is_caught(ledger5: Path) -> None:
    _tamper(ledger5, "UPDATE pack_files SET content = content || x'0a' "
                     "WHERE path = 'core/parameters.yaml'")
    with Ledger.open(ledger5) as book:
        result = book.verify()
    assert result.broken_seq == 1
    assert "rule pack" in (result.problem or "")


def test_replaying_a_thousand_decisions_reproduces_them(tmp_path: Path,
                                                       minipack: RulePack) -> None:
    path = tmp_path / "big.ledger.sqlite"
    fill(path, minipack, 1000)
    with Ledger.open(path) as book:
        assert len(book) == 1000
        assert book.verify().ok
        verdicts = set()
        for seq in range(1, 1001):
            result = book.replay(seq)
            assert result.identical, result.diff()
            verdicts.add(json.loads(result.fresh)["verdict"])
    assert len(verdicts) >= 3  # the corpus is not one decision repeated


def test_replay_command_and_a_difference(ledger5: Path) -> None:
    same = run("ledger", "replay", str(ledger5))
    assert same.returncode == 0, same.stdout + same.stderr
    assert "5 rows replayed, 5 identical, 0 differ" in same.stdout
    one = run("ledger", "replay", str(ledger5), "2")
    assert one.returncode == 0 and "row 2: identical decision" in one.stdout
    # a stored decision that no longer matches what its case and pack give
    conn = sqlite3.connect(ledger5)
    stored = conn.execute("SELECT decision_json FROM decisions WHERE seq = 1").fetchone()[0]
    conn.close()
    data = json.loads(stored)
    data["verdict"] = "go" if data["verdict"] != "go" else "no_go"
    _tamper(ledger5, "UPDATE decisions SET decision_json = ? WHERE seq = 1",
            (json.dumps(data, ensure_ascii=False, separators=(",", ":")) + "\n",))
    differs = run("ledger", "replay", str(ledger5), "1")
    assert differs.returncode == 3  # the tampered row also fails verification (F9)
    assert "fails verification: row 1" in differs.stdout
    assert "row 1: the replayed decision differs" in differs.stdout
    assert '-  "verdict"' in differs.stdout and '+  "verdict"' in differs.stdout


def test_rows_written_before_structured_because_replay_as_the_same_decision(
        ledger5: Path) -> None:
    """A row stored with ``because`` as text lines (the format before it was structured)
    is the same decision when every other byte and every line match; one changed line
    is a difference."""
    from chipclear.io.render import because_text
    from chipclear.model.decision import Because

    conn = sqlite3.connect(ledger5)
    rows = conn.execute("SELECT seq, decision_json FROM decisions").fetchall()
    conn.close()
    old = {}
    for seq, stored in rows:
        data = json.loads(stored)
        for f in data["findings"]:
            f["because"] = [because_text(Because.model_validate(b)) for b in f["because"]]
        old[seq] = data
    seq = next(s for s, d in old.items() if any(f["because"] for f in d["findings"]))
    line = json.dumps(old[seq], ensure_ascii=False, separators=(",", ":")) + "\n"
    _tamper(ledger5, "UPDATE decisions SET decision_json = ? WHERE seq = ?", (line, seq))
    with Ledger.open(ledger5) as book:
        result = book.replay(seq)
    assert not result.identical and result.earlier_because
    changed = old[seq]
    finding = next(f for f in changed["findings"] if f["because"])
    finding["because"][0] += " (edited)"
    line = json.dumps(changed, ensure_ascii=False, separators=(",", ":")) + "\n"
    _tamper(ledger5, "UPDATE decisions SET decision_json = ? WHERE seq = ?", (line, seq))
    with Ledger.open(ledger5) as book:
        result = book.replay(seq)
    assert not result.identical and not result.earlier_because
    differs = run("ledger", "replay", str(ledger5))
    assert "0 identical but for" not in differs.stdout
    assert "1 differ" in differs.stdout


def test_a_crash_mid_append_leaves_no_partial_row(ledger5: Path) -> None:
    """The process dies after the pack rows are written, before the decision row."""
    script = textwrap.dedent(f"""
        import os, shutil, tempfile
        from pathlib import Path
        import chipclear.audit.ledger as L
        from chipclear.model.case import Case
        from chipclear.decide.evaluate import Evaluator
        from chipclear.pack.loader import load_pack
        tmp = Path(tempfile.mkdtemp()) / "pack"
        shutil.copytree({str(MINIPACK)!r}, tmp)
        (tmp / "core" / "rules.yaml").write_text(
            "# a new pack\\n" + (tmp / "core" / "rules.yaml").read_text())
        pack = load_pack(tmp)
        case = Case.model_validate({{"id": "crash", "as_of": "2026-02-15"}})
        decision = Evaluator(pack).evaluate(case)
        book = L.Ledger.open(Path({str(ledger5)!r}))
        def die(body):
            os._exit(9)
        L.row_hash = die
        book.append(case, decision, pack)
    """)
    died = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True,
                          text=True, timeout=120)
    assert died.returncode == 9, died.stderr
    conn = sqlite3.connect(ledger5)
    assert conn.execute("SELECT count(*) FROM decisions").fetchone()[0] == 5
    assert conn.execute("SELECT count(*) FROM packs").fetchone()[0] == 1
    conn.close()
    with Ledger.open(ledger5) as book:
        assert book.verify().ok


def test_an_exception_mid_append_rolls_back(ledger5: Path, minipack: RulePack,
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    import chipclear.audit.ledger

    case = make_case(1)
    decision = Evaluator(minipack).evaluate(case)

    def boom(body: dict[str, Any]) -> str:
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(chipclear.audit.ledger, "row_hash", boom)
    with Ledger.open(ledger5) as book, pytest.raises(RuntimeError):
        book.append(case, decision, minipack)
    monkeypatch.undo()
    with Ledger.open(ledger5) as book:
        assert len(book) == 5
        assert book.append(case, decision, minipack) == 6
        assert book.verify().ok


def test_evaluate_ledger_list_and_show(tmp_path: Path) -> None:
    case = tmp_path / "case.yaml"
    case.write_text("id: de-h200\nas_of: 2026-02-15\nbuyer: {country: DE}\n"
                    "order: {items: [{chip: H200, quantity: 2, unit_price_usd: 30000}]}\n",
                    encoding="utf-8")
    book = tmp_path / "decisions.ledger.sqlite"
    for _ in range(2):
        result = run("evaluate", str(case), "--rules", str(MINIPACK), "--ledger", str(book),
                     "--format", "jsonl")
        assert result.returncode in (0, 1), result.stderr
    listing = run("ledger", "list", str(book))
    assert listing.returncode == 0
    assert len(listing.stdout.strip().splitlines()) == 3 and "de-h200" in listing.stdout
    shown = run("ledger", "show", str(book), "2")
    assert shown.returncode == 0
    assert "seq           2" in shown.stdout and '"case_id": "de-h200"' in shown.stdout
    assert run("ledger", "verify", str(book)).returncode == 0


@pytest.mark.parametrize(("args", "message"), [
    (("ledger", "verify", "{missing}"), "{missing}: no ledger here (check the path)"),
    (("ledger", "verify", "{other}"), "{other}: not a chipclear ledger"),
    (("ledger", "show", "{book}", "99"), "{book}: no row 99 (rows are 1 to 5)"),
])
def test_ledger_user_errors_are_one_line(ledger5: Path, tmp_path: Path, args: tuple[str, ...],
                                         message: str) -> None:
    other = tmp_path / "other.sqlite"
    conn = sqlite3.connect(other)
    conn.execute("CREATE TABLE t (x)")
    conn.close()
    names = {"missing": str(tmp_path / "nope.sqlite"), "other": str(other), "book": str(ledger5)}
    result = run(*(a.format(**names) for a in args))
    assert result.returncode == 2
    assert result.stderr.strip().splitlines()[0].startswith(message.format(**names))
    assert "Traceback" not in result.stderr
