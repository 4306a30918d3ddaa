"""The local copy of an imported Consolidated Screening List, screened offline.

``chipclear lists import FILE`` writes it; every later decision loads it (with the rule
pack) and screens against it as well as the shipped sample, and says so: the import
date, the snapshot's SHA-256, and each source's last-updated date as the file stated it.
The store lives in ``$CHIPCLEAR_DATA`` (default ``$XDG_DATA_HOME/chipclear``, else
``~/.local/share/chipclear``), outside the rule pack, so a user's import never edits
the shipped files.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import re
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

from chipclear.errors import Location, UserInputError
from chipclear.screening.csl import CslParty, CslSnapshot
from chipclear.screening.match import Citation, Index, Party

LIST_ID = "us-csl"
TITLE = "US Consolidated Screening List (trade.gov), imported"
STORE_FORMAT = 1
#: Sources whose listing blocks by itself; a hit on any other CSL source is a possible
#: match for review (the decision waits for the user to confirm or clear it).
BLOCKING_SOURCES = frozenset({"EL"})
_FR = re.compile(r"(\d+)\s*F\.?\s*R\.?\s*(\d+)")
_CSL_PAGE = "https://www.trade.gov/consolidated-screening-list"


def data_dir() -> Path:
    """Where chipclear keeps user data (``$CHIPCLEAR_DATA`` first)."""
    if os.environ.get("CHIPCLEAR_DATA"):
        return Path(os.environ["CHIPCLEAR_DATA"])
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "chipclear"


def store_path(directory: Path | None = None) -> Path:
    return (directory or data_dir()) / "lists" / "csl.json"


@dataclass(frozen=True)
class SourceStamp:
    """One source of the import: its last-updated date as the file stated it."""

    source: str
    code: str
    last_updated: dt.date | None
    entries: int


def fr_url(notice: str | None) -> str | None:
    """The federalregister.gov citation page of "84 FR 54002" (or "84 F.R. 54002 ...")."""
    found = _FR.search(notice or "")
    return f"https://www.federalregister.gov/citation/{found[1]}-FR-{found[2]}" if found else None


def _entry_id(code: str, pid: str) -> str:
    slug = re.sub(r"[^a-z0-9]+", "-", f"csl-{code}-{pid}".lower()).strip("-")
    return slug[:80]


def _party(row: dict[str, Any], imported_on: dt.date,
           stamps: dict[str, dt.date | None]) -> Party:
    since = dt.date.fromisoformat(row["start_date"]) if row.get("start_date") else None
    until = dt.date.fromisoformat(row["end_date"]) if row.get("end_date") else None
    notice = row.get("federal_register_notice")
    url = fr_url(notice) or row.get("source_list_url") or _CSL_PAGE
    reference = f"{row['source']}: {notice}" if notice else \
        f"{row['source']} (no Federal Register notice in the file)"
    citation = Citation(reference, since or stamps.get(row["source"]) or imported_on, url)
    names = (row["name"], *row.get("alt_names", ()))
    return Party(LIST_ID, _entry_id(row["code"], row["id"]), row["name"], tuple(names), 1,
                 since, until if until and since and until > since else None, reference,
                 (), citation, blocks=row["code"] in BLOCKING_SOURCES,
                 exact_only=row.get("type") == "Individual")


@dataclass
class ImportedList:
    """An imported snapshot as screening uses it."""

    imported_on: dt.date
    sha256: str
    source_file: str
    file_format: str
    sources: list[SourceStamp]
    parties: list[Party]

    @cached_property
    def index(self) -> Index:
        return Index.build(self.parties)


def _row(party: CslParty) -> dict[str, Any]:
    return {
        "source": party.source, "code": party.source_code, "id": party.id, "name": party.name,
        "alt_names": list(party.alt_names), "type": party.type,
        "federal_register_notice": party.federal_register_notice,
        "start_date": party.start_date.isoformat() if party.start_date else None,
        "end_date": party.end_date.isoformat() if party.end_date else None,
        "source_list_url": party.source_list_url,
    }


def save(snapshot: CslSnapshot, source_file: Path, imported_on: dt.date,
         directory: Path | None = None) -> Path:
    """Write the store (a new file, then renamed over the old one: never half-written)."""
    path = store_path(directory)
    path.parent.mkdir(parents=True, exist_ok=True)
    counts: dict[str, int] = {}
    for party in snapshot.parties:
        counts[party.source] = counts.get(party.source, 0) + 1
    codes = {p.source: p.source_code for p in snapshot.parties}
    body = {
        "format": STORE_FORMAT, "list": LIST_ID, "imported_on": imported_on.isoformat(),
        "source_file": source_file.name, "file_format": snapshot.format,
        "sha256": snapshot.sha256,
        "sources": [{"source": s, "code": codes.get(s, ""), "entries": counts.get(s, 0),
                     "last_updated": d.isoformat() if d else None}
                    for s, d in snapshot.last_updated.items()],
        "parties": [_row(p) for p in snapshot.parties],
    }
    tmp = path.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(body, ensure_ascii=False, indent=1, sort_keys=True) + "\n",
                   encoding="utf-8")
    tmp.replace(path)
    return path


def load(directory: Path | None = None) -> ImportedList | None:
    """The imported list, or None when nothing was imported."""
    path = store_path(directory)
    if not path.is_file():
        return None
    try:
        body = json.loads(path.read_text(encoding="utf-8"))
        if body.get("format") != STORE_FORMAT:
            raise ValueError(f"store format {body.get('format')} is not {STORE_FORMAT}")
        imported_on = dt.date.fromisoformat(body["imported_on"])
        stamps = {s["source"]: dt.date.fromisoformat(s["last_updated"])
                  if s.get("last_updated") else None for s in body["sources"]}
        return ImportedList(
            imported_on=imported_on, sha256=body["sha256"], source_file=body["source_file"],
            file_format=body["file_format"],
            sources=[SourceStamp(s["source"], s.get("code", ""), stamps[s["source"]],
                                 int(s.get("entries", 0))) for s in body["sources"]],
            parties=[_party(row, imported_on, stamps) for row in body["parties"]],
        )
    except (ValueError, KeyError, TypeError) as exc:
        raise UserInputError(Location(str(path)), f"the imported list is unreadable ({exc})",
                             "run `chipclear lists import FILE` again") from None
