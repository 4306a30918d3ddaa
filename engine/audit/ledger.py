"""The decision ledger: an append-only, hash-chained SQLite record of decisions.

A compliance decision has to be provable later: which case, under which rules, with
what answer. Each row keeps the case (with ``as_of`` fixed to the decision's date), the
decision JSON and the SHA-256 of the rule pack; the pack's files are stored once,
content-addressed, in the same database, so any row can be replayed years later.

Tamper evidence. Triggers refuse UPDATE and DELETE, and every row carries the hash of
the row before it (``prev_hash``) and its own ``hash``::

    hash = sha256(utf8(json.dumps(body, sort_keys=True, separators=(",", ":"),
                                  ensure_ascii=False))).hexdigest()
    body = {"seq", "utc", "tool_version", "case_id", "case_sha256", "case_json",
            "pack_sha256", "as_of", "verdict", "decision_json", "prev_hash"}

with every value exactly as stored (``seq`` an integer, the rest text) and the first
row's ``prev_hash`` 64 zeros. ``case_sha256`` is the SHA-256 of ``case_json``, itself
sorted-key compact JSON of the case; ``decision_json`` is
``chipclear.io.render.to_jsonl_line(decision)``. A stored pack's key is recomputed from its
files exactly as ``chipclear.pack.loader.load_pack`` computes ``RulePack.sha256``.

Editing or deleting any row breaks the chain from that row on and ``verify`` names it.
Rewriting every later hash too is only caught against a copy of the head hash kept
elsewhere (``verify`` prints it), and so is truncating the newest rows.
"""

from __future__ import annotations

import datetime as dt
import difflib
import hashlib
import json
import os
import sqlite3
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING, Any

from chipclear import __version__
from chipclear.errors import Location, OutputFailure, UserInputError
from chipclear.pack.digest import pack_digest as pack_digest

if TYPE_CHECKING:
    from chipclear.decide.evaluate import Evaluator
    from chipclear.model.case import Case
    from chipclear.model.decision import Decision
    from chipclear.pack.loader import RulePack

GENESIS = "0" * 64
APPLICATION_ID = 0x63636C67  # "cclg": marks a file as a chipclear ledger
#: Seconds to wait for another process holding the ledger's write lock.
LOCK_TIMEOUT = 5.0
SCHEMA_VERSION = 1

#: Columns of a decision row, in the order they are stored and hashed.
ROW_FIELDS = ("seq", "utc", "tool_version", "case_id", "case_sha256", "case_json",
              "pack_sha256", "as_of", "verdict", "decision_json", "prev_hash")

_SCHEMA = """
CREATE TABLE IF NOT EXISTS packs (
    sha256 TEXT PRIMARY KEY,
    pack_id TEXT NOT NULL,
    version TEXT NOT NULL
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS pack_files (
    pack_sha256 TEXT NOT NULL REFERENCES packs(sha256),
    path TEXT NOT NULL,
    content BLOB NOT NULL,
    PRIMARY KEY (pack_sha256, path)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS decisions (
    seq INTEGER PRIMARY KEY,
    utc TEXT NOT NULL,
    tool_version TEXT NOT NULL,
    case_id TEXT NOT NULL,
    case_sha256 TEXT NOT NULL,
    case_json TEXT NOT NULL,
    pack_sha256 TEXT NOT NULL REFERENCES packs(sha256),
    as_of TEXT NOT NULL,
    verdict TEXT NOT NULL,
    decision_json TEXT NOT NULL,
    prev_hash TEXT NOT NULL,
    hash TEXT NOT NULL
);
"""
_TABLES = ("decisions", "packs", "pack_files")


def _triggers() -> str:
    out = []
    for table in _TABLES:
        for op in ("UPDATE", "DELETE"):
            out.append(
                f"CREATE TRIGGER IF NOT EXISTS {table}_no_{op.lower()} BEFORE {op} ON {table} "
                f"BEGIN SELECT RAISE(ABORT, 'the chipclear ledger is append-only'); END;")
    return "\n".join(out)


def canonical_json(value: Any) -> str:
    """Sorted-key compact JSON: the one encoding every hash in the ledger is taken over."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False,
                      allow_nan=False)


def row_hash(body: dict[str, Any]) -> str:
    """The hash of a row: SHA-256 of the canonical JSON of its fields (not ``hash``)."""
    return hashlib.sha256(canonical_json({k: body[k] for k in ROW_FIELDS}).encode()).hexdigest()


def case_json(case: Case, as_of: dt.date) -> str:
    """The stored form of a case: its date fixed, so a replay decides the same date."""
    fixed = case.model_copy(update={"as_of": as_of})
    return canonical_json(fixed.model_dump(mode="json", exclude_none=True))


@dataclass(frozen=True)
class Row:
    """One ledger row as stored."""

    seq: int
    utc: str
    tool_version: str
    case_id: str
    case_sha256: str
    case_json: str
    pack_sha256: str
    as_of: str
    verdict: str
    decision_json: str
    prev_hash: str
    hash: str


@dataclass(frozen=True)
class Verification:
    """The result of walking the chain: ``broken`` names the first bad row, if any."""

    rows: int
    head: str
    broken_seq: int | None = None
    problem: str | None = None
    warnings: tuple[str, ...] = ()

    @property
    def ok(self) -> bool:
        return self.problem is None


@dataclass(frozen=True)
class Replay:
    """A row re-decided under its stored pack: identical, or the difference.

    ``earlier_because``: the row was written before ``because`` became structured (a list
    of lines) and the replay is byte-identical once its ``because`` items are rendered to
    those lines: the same decision in the earlier format of one field, said as such.
    """

    seq: int
    identical: bool
    stored: str
    fresh: str
    note: str | None = None
    earlier_because: bool = False

    def diff(self) -> list[str]:
        def pretty(text: str) -> list[str]:
            try:
                return json.dumps(json.loads(text), ensure_ascii=False, indent=2).splitlines()
            except ValueError:
                return text.splitlines()

        return list(difflib.unified_diff(pretty(self.stored), pretty(self.fresh),
                                         f"row {self.seq} stored", f"row {self.seq} replayed",
                                         lineterm=""))


class Ledger:
    """An open ledger file. Use ``Ledger.open(path)``; one transaction per appended row."""

    def __init__(self, path: Path, conn: sqlite3.Connection) -> None:
        self.path = path
        self._conn = conn
        self._known_packs: set[str] = set()
        self._evaluators: dict[str, Evaluator] = {}
        self._tmp: tempfile.TemporaryDirectory[str] | None = None

    # --- opening ---------------------------------------------------------------------

    @classmethod
    def open(cls, path: Path, create: bool = True, writable: bool = False,
             lock_timeout: float = LOCK_TIMEOUT) -> Ledger:
        """Open (and by default create) a ledger; a file that is not one is a user error.

        ``writable`` checks now, before any decision is made, that rows can be appended:
        a read-only or locked ledger is one line (exit 74), not a failure mid-batch.
        """
        path = Path(path)
        try:
            book = cls._open(path, create, lock_timeout)
        except sqlite3.Error as exc:
            raise OutputFailure(f"{path}: cannot use the ledger: {exc}") from None
        if writable:
            book._probe_write()
        return book

    def _probe_write(self) -> None:
        """Take the write lock once and let go: fails now if the ledger is read-only or
        another process holds it."""
        where = self.path
        if not os.access(where, os.W_OK) or not os.access(where.parent or Path("."), os.W_OK):
            self.close()
            raise OutputFailure(f"{where}: cannot append to the ledger: the file or its "
                                "folder is read-only")
        try:
            self._conn.execute("BEGIN IMMEDIATE")
            self._conn.execute("ROLLBACK")
        except sqlite3.Error as exc:
            self.close()
            raise OutputFailure(f"{where}: cannot append to the ledger: {exc} (is another "
                                "chipclear writing to it?)") from None

    @classmethod
    def _open(cls, path: Path, create: bool, lock_timeout: float) -> Ledger:
        if not create and not path.is_file():
            raise UserInputError(Location(str(path)), "no ledger here", "check the path")
        if path.is_dir():
            raise UserInputError(Location(str(path)), "is a directory, not a ledger file")
        try:
            conn = sqlite3.connect(str(path), isolation_level=None, timeout=lock_timeout)
        except sqlite3.Error as exc:
            raise UserInputError(Location(str(path)), f"cannot open the ledger: {exc}") from None
        try:
            app_id = conn.execute("PRAGMA application_id").fetchone()[0]
            tables = conn.execute("SELECT count(*) FROM sqlite_master").fetchone()[0]
        except sqlite3.DatabaseError as exc:
            conn.close()
            raise UserInputError(Location(str(path)), f"not a chipclear ledger ({exc})") from None
        if tables and app_id != APPLICATION_ID:
            conn.close()
            raise UserInputError(Location(str(path)), "not a chipclear ledger",
                                 "it is an SQLite file written by something else")
        conn.execute("PRAGMA synchronous = FULL")
        if not tables:
            conn.execute("BEGIN IMMEDIATE")
            try:
                for statement in (_SCHEMA + _triggers()).split(";\n"):
                    if statement.strip():
                        conn.execute(statement)
                conn.execute(f"PRAGMA application_id = {APPLICATION_ID}")
                conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
                conn.execute("COMMIT")
            except BaseException:
                conn.execute("ROLLBACK")
                conn.close()
                raise
        return cls(path, conn)

    def close(self) -> None:
        self._conn.close()
        if self._tmp is not None:
            self._tmp.cleanup()
            self._tmp = None

    def __enter__(self) -> Ledger:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # --- writing ---------------------------------------------------------------------

    def append(self, case: Case, decision: Decision, pack: RulePack) -> int:
        """Record one decision in its own transaction and return its sequence number."""
        from chipclear.io.render import to_jsonl_line

        if decision.rule_pack.sha256 != pack.sha256:
            raise ValueError("the decision was not made with this rule pack")
        stored_case = case_json(case, decision.as_of)
        body: dict[str, Any] = {
            "utc": dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
            "tool_version": __version__,
            "case_id": decision.case_id,
            "case_sha256": hashlib.sha256(stored_case.encode()).hexdigest(),
            "case_json": stored_case,
            "pack_sha256": pack.sha256,
            "as_of": decision.as_of.isoformat(),
            "verdict": decision.verdict.value,
            "decision_json": to_jsonl_line(decision),
        }
        try:
            return self._append(body, pack)
        except sqlite3.Error as exc:
            raise OutputFailure(f"{self.path}: cannot append to the ledger: {exc}") from None

    def _append(self, body: dict[str, Any], pack: RulePack) -> int:
        conn = self._conn
        conn.execute("BEGIN IMMEDIATE")  # the write lock: seq and prev_hash cannot race
        try:
            if pack.sha256 not in self._known_packs:
                self._store_pack(pack)
            last = conn.execute(
                "SELECT seq, hash FROM decisions ORDER BY seq DESC LIMIT 1").fetchone()
            body["seq"] = 1 if last is None else int(last[0]) + 1
            body["prev_hash"] = GENESIS if last is None else str(last[1])
            body["hash"] = row_hash(body)
            conn.execute(
                f"INSERT INTO decisions ({', '.join((*ROW_FIELDS, 'hash'))}) "
                f"VALUES ({', '.join('?' * (len(ROW_FIELDS) + 1))})",
                [body[k] for k in (*ROW_FIELDS, "hash")])
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        self._known_packs.add(pack.sha256)
        return int(body["seq"])

    def _store_pack(self, pack: RulePack) -> None:
        if pack_digest(pack.files) != pack.sha256:
            raise ValueError("the pack's files do not hash to its sha256")
        found = self._conn.execute("SELECT 1 FROM packs WHERE sha256 = ?",
                                   (pack.sha256,)).fetchone()
        if found:
            return
        self._conn.execute("INSERT INTO packs (sha256, pack_id, version) VALUES (?, ?, ?)",
                           (pack.sha256, pack.manifest.id, pack.manifest.version))
        self._conn.executemany(
            "INSERT INTO pack_files (pack_sha256, path, content) VALUES (?, ?, ?)",
            [(pack.sha256, rel, data) for rel, data in sorted(pack.files.items())])

    # --- reading ---------------------------------------------------------------------

    def __len__(self) -> int:
        return int(self._conn.execute("SELECT count(*) FROM decisions").fetchone()[0])

    def rows(self) -> Iterator[Row]:
        cur = self._conn.execute(
            f"SELECT {', '.join((*ROW_FIELDS, 'hash'))} FROM decisions ORDER BY seq")
        for values in cur:
            yield Row(*values)

    def row(self, seq: int) -> Row:
        if not 1 <= seq <= 2**63 - 1:  # SQLite integers are 64-bit: no such row anyway
            raise UserInputError(Location(str(self.path)), f"no row {seq}",
                                 f"rows are 1 to {len(self)}")
        values = self._conn.execute(
            f"SELECT {', '.join((*ROW_FIELDS, 'hash'))} FROM decisions WHERE seq = ?",
            (seq,)).fetchone()
        if values is None:
            raise UserInputError(Location(str(self.path)), f"no row {seq}",
                                 f"rows are 1 to {len(self)}")
        return Row(*values)

    def pack_files(self, sha256: str) -> dict[str, bytes]:
        return {str(p): bytes(c) for p, c in self._conn.execute(
            "SELECT path, content FROM pack_files WHERE pack_sha256 = ?", (sha256,))}

    # --- checking --------------------------------------------------------------------

    def verify(self) -> Verification:
        """Walk the chain from row 1; stop at the first row whose content or link is wrong."""
        conn = self._conn
        warnings = []
        triggers = {r[0] for r in conn.execute(
            "SELECT name FROM sqlite_master WHERE type = 'trigger'")}
        wanted = {f"{t}_no_{op}" for t in _TABLES for op in ("update", "delete")}
        if wanted - triggers:
            warnings.append("append-only triggers are missing: "
                            + ", ".join(sorted(wanted - triggers)))
        pack_ok: dict[str, str | None] = {}
        prev = GENESIS
        count = 0
        old_factory = conn.text_factory
        conn.text_factory = bytes  # a tampered byte may not even be UTF-8
        try:
            cur = conn.execute(
                f"SELECT {', '.join((*ROW_FIELDS, 'hash'))} FROM decisions ORDER BY seq")
            for values in cur:
                count += 1
                raw = dict(zip((*ROW_FIELDS, "hash"), values, strict=True))
                problem = self._check_row(raw, count, prev, pack_ok)
                if problem is not None:  # rows are numbered 1, 2, 3…: name the position
                    return Verification(count, prev, count, problem, tuple(warnings))
                prev = raw["hash"].decode()
        finally:
            conn.text_factory = old_factory
        return Verification(count, prev, warnings=tuple(warnings))

    def _check_row(self, raw: dict[str, Any], position: int, prev: str,
                   pack_ok: dict[str, str | None]) -> str | None:
        body: dict[str, Any] = {}
        for key, value in raw.items():
            if key == "seq":
                if not isinstance(value, int):
                    return f"seq is {value!r}, not an integer"
                body[key] = value
                continue
            if not isinstance(value, bytes):
                return f"{key} is {type(value).__name__}, not text"
            try:
                body[key] = value.decode("utf-8")
            except UnicodeDecodeError:
                return f"{key} is not valid UTF-8"
        if body["seq"] != position:
            return f"missing or renumbered (the row here has seq {body['seq']})"
        if body["prev_hash"] != prev:
            return "prev_hash does not match the hash of the row before"
        if row_hash(body) != body["hash"]:
            return "content does not match its hash"
        if hashlib.sha256(body["case_json"].encode()).hexdigest() != body["case_sha256"]:
            return "case_json does not match case_sha256"
        try:
            decision = json.loads(body["decision_json"])
            same = (decision["verdict"], decision["case_id"], decision["as_of"],
                    decision["rule_pack"]["sha256"])
        except (ValueError, KeyError, TypeError):
            return "decision_json is not a decision"
        if same != (body["verdict"], body["case_id"], body["as_of"], body["pack_sha256"]):
            return "verdict, case id, as_of or pack hash disagree with decision_json"
        sha = body["pack_sha256"]
        if sha not in pack_ok:
            pack_ok[sha] = self._check_pack(sha)
        if pack_ok[sha] is not None:
            return f"rule pack {sha[:12]}: {pack_ok[sha]}"
        return None

    def _check_pack(self, sha: str) -> str | None:
        files: dict[str, bytes] = {}
        for path, content in self._conn.execute(
                "SELECT path, content FROM pack_files WHERE pack_sha256 = ?", (sha,)):
            files[path.decode("utf-8", "replace") if isinstance(path, bytes) else str(path)] = (
                bytes(content) if isinstance(content, bytes | memoryview) else
                str(content).encode())
        if not files:
            return "its files are not in the ledger"
        if pack_digest(files) != sha:
            return "its stored files do not hash to its sha256"
        return None

    # --- replaying -------------------------------------------------------------------

    def evaluator(self, sha256: str) -> Evaluator:
        """An evaluator for a stored pack, loaded from its files in a temporary directory."""
        from chipclear.decide.evaluate import Evaluator
        from chipclear.decide.runtime import Runtime
        from chipclear.pack.loader import load_pack

        hit = self._evaluators.get(sha256)
        if hit is not None:
            return hit
        files = self.pack_files(sha256)
        if not files:
            raise UserInputError(Location(str(self.path)),
                                 f"rule pack {sha256[:12]} is not stored in the ledger")
        if self._tmp is None:
            self._tmp = tempfile.TemporaryDirectory(prefix="chipclear-replay-")
        root = Path(self._tmp.name) / sha256
        for rel, data in files.items():
            parts = PurePosixPath(rel).parts
            if PurePosixPath(rel).is_absolute() or ".." in parts or not parts:
                raise UserInputError(Location(str(self.path)),
                                     f"rule pack {sha256[:12]}: unsafe file name {rel!r}")
            target = root.joinpath(*parts)
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(data)
        runtime = next(iter(self._evaluators.values())).runtime if self._evaluators else Runtime()
        hit = self._evaluators[sha256] = Evaluator(load_pack(root), runtime)
        return hit

    def replay(self, seq: int) -> Replay:
        """Re-decide a row's stored case under its stored pack and compare the JSON bytes."""
        from chipclear.io.render import to_jsonl_line
        from chipclear.model.case import Case

        row = self.row(seq)
        evaluator = self.evaluator(row.pack_sha256)
        note = None
        if evaluator.pack.sha256 != row.pack_sha256:
            note = f"the stored pack now hashes to {evaluator.pack.sha256[:12]}"
        elif row.tool_version != __version__:
            note = f"recorded by chipclear {row.tool_version}, replayed by {__version__}"
        case = Case.model_validate(json.loads(row.case_json))
        source = json.loads(row.decision_json).get("source")  # where it was read, not decided
        fresh = to_jsonl_line(evaluator.evaluate(case).model_copy(update={"source": source}))
        if fresh == row.decision_json:
            return Replay(seq, True, row.decision_json, fresh, note)
        earlier = _because_as_lines(fresh) == row.decision_json \
            if _has_because_lines(row.decision_json) else False
        return Replay(seq, False, row.decision_json, fresh, note, earlier)


def _has_because_lines(decision_json: str) -> bool:
    """Whether a stored decision carries ``because`` as text lines (written before it was
    structured)."""
    findings = json.loads(decision_json).get("findings", [])
    return any(isinstance(b, str) for f in findings for b in f.get("because", []))


def _because_as_lines(decision_line: str) -> str:
    """A JSON-lines decision with each structured ``because`` item written as the line the
    renderers show (``chip.tpp = 5120 (≥ 4800, parameter us.tpp_3a090a)``), every other
    byte as it was."""
    from chipclear.io.render import because_text
    from chipclear.model.decision import Because

    data = json.loads(decision_line)
    for finding in data.get("findings", []):
        finding["because"] = [because_text(Because.model_validate(b))
                              for b in finding["because"]]
    return json.dumps(data, ensure_ascii=False, allow_nan=False, separators=(",", ":")) + "\n"
