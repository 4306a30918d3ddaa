"""Reading the US Consolidated Screening List as trade.gov publishes it (JSON or CSV).

The bulk files (``consolidated.json``, and ``consolidated.csv`` with the same rows) carry
one row per party and source. Their traps, each handled here:

- a party is keyed on ``(source, id)``: ``entity_number`` is set for Treasury rows only and
  is not unique across sources, and the same party appears under several sources;
- an ``alt_names`` item may itself hold several names joined with ``"; "`` (the CSV joins
  the whole list that way), so both formats give the same alias set;
- empty strings mean "absent" (the CSV has no null), ``type`` may be empty;
- BIS names show ``?`` for an apostrophe (folded by the normaliser);
- the JSON may say when each source was last updated (``sources_used``); the CSV does not,
  which the import then reports instead of inventing a date.
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from chipclear.errors import Location, UserInputError

#: Columns the CSV must have (the published header has more; they are not needed here).
CSV_COLUMNS = ("_id", "source", "name", "alt_names", "federal_register_notice", "start_date",
               "end_date", "type", "source_list_url", "source_information_url")
_CODE = re.compile(r"\(([A-Z]{2,5})\)")


class CslFormatError(UserInputError):
    """A file that is not the Consolidated Screening List in either published format."""


@dataclass(frozen=True)
class CslParty:
    """One row: a party as one source lists it."""

    source: str
    id: str
    name: str
    alt_names: tuple[str, ...]
    type: str | None
    federal_register_notice: str | None
    start_date: dt.date | None
    end_date: dt.date | None
    source_list_url: str | None
    source_information_url: str | None

    @property
    def source_code(self) -> str:
        """The list's short code ("EL", "MEU", "SDN"), from "Entity List (EL) - ..."."""
        found = _CODE.search(self.source)
        return found.group(1) if found else re.sub(r"[^A-Za-z0-9]+", "-", self.source)[:20]


@dataclass(frozen=True)
class CslSnapshot:
    """A whole file: its parties keyed on (source, id), per-source dates, its hash."""

    parties: tuple[CslParty, ...]
    last_updated: dict[str, dt.date | None]  # source -> as the file states it, or None
    sha256: str
    format: str  # json | csv
    duplicates: int  # rows whose (source, id) an earlier row already had


def _text(value: object) -> str | None:
    if value is None:
        return None
    text = str(value).strip()
    return text or None


def _date(value: object, where: Location) -> dt.date | None:
    text = _text(value)
    if text is None:
        return None
    try:
        return dt.date.fromisoformat(text[:10])
    except ValueError:
        raise CslFormatError(where, f"'{text}' is not a date",
                             "dates in the CSL are YYYY-MM-DD") from None


def _names(values: list[str]) -> tuple[str, ...]:
    out: list[str] = []
    for value in values:
        for part in value.split(";"):
            name = part.strip()
            if name and name not in out:
                out.append(name)
    return tuple(out)


def _party(row: dict[str, Any], alt: list[str], where: Location) -> CslParty:
    source, pid, name = _text(row.get("source")), _text(row.get("id") or row.get("_id")), \
        _text(row.get("name"))
    if source is None or pid is None or name is None:
        missing = [k for k, v in (("source", source), ("id", pid), ("name", name)) if v is None]
        raise CslFormatError(where, f"a row without {', '.join(missing)}",
                             "every CSL row has a source, an id and a name")
    return CslParty(
        source=source, id=pid, name=name, alt_names=_names(alt), type=_text(row.get("type")),
        federal_register_notice=_text(row.get("federal_register_notice")),
        start_date=_date(row.get("start_date"), where), end_date=_date(row.get("end_date"), where),
        source_list_url=_text(row.get("source_list_url")),
        source_information_url=_text(row.get("source_information_url")),
    )


def _from_json(text: str, path: Path) -> tuple[list[CslParty], dict[str, dt.date | None]]:
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise CslFormatError(Location(str(path), exc.lineno, exc.colno),
                             f"not JSON: {exc.msg}", "pass consolidated.json or .csv") from None
    if not isinstance(data, dict) or not isinstance(data.get("results"), list):
        raise CslFormatError(Location(str(path), 1, 1), "no 'results' list at the top level",
                             "pass the bulk consolidated.json from trade.gov")
    parties = []
    for i, row in enumerate(data["results"]):
        where = Location(str(path), 1, 1)
        if not isinstance(row, dict):
            raise CslFormatError(where, f"results[{i}] is not an object")
        alt = row.get("alt_names") or []
        if not isinstance(alt, list):
            raise CslFormatError(where, f"results[{i}].alt_names is not a list")
        parties.append(_party(row, [str(a) for a in alt if a is not None], where))
    stamps: dict[str, dt.date | None] = {}
    for used in data.get("sources_used") or []:
        if isinstance(used, dict) and _text(used.get("source")):
            stamps[str(used["source"]).strip()] = _date(
                used.get("source_last_updated"), Location(str(path), 1, 1))
    return parties, stamps


def _from_csv(text: str, path: Path) -> list[CslParty]:
    reader = csv.DictReader(io.StringIO(text))
    header = reader.fieldnames or []
    absent = [c for c in CSV_COLUMNS if c not in header]
    if absent:
        raise CslFormatError(Location(str(path), 1, 1),
                             f"CSV header lacks {', '.join(absent)}",
                             "pass the bulk consolidated.csv from trade.gov")
    parties = []
    for row in reader:
        where = Location(str(path), reader.line_num, 1)
        alt = _text(row.get("alt_names"))
        parties.append(_party(row, [alt] if alt else [], where))
    return parties


def read_csl(path: Path) -> CslSnapshot:
    """Read a bulk CSL file; the format is told by its first character, not its name."""
    raw = path.read_bytes()
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise CslFormatError(Location(str(path)), f"not UTF-8 text (byte {exc.start})",
                             "the CSL files are UTF-8") from None
    stamps: dict[str, dt.date | None] = {}
    if text.lstrip()[:1] in ("{", "["):
        rows, stamps = _from_json(text, path)
        kind = "json"
    else:
        rows, kind = _from_csv(text, path), "csv"
    seen: set[tuple[str, str]] = set()
    parties: list[CslParty] = []
    for party in rows:
        key = (party.source, party.id)
        if key not in seen:
            seen.add(key)
            parties.append(party)
    for party in parties:
        stamps.setdefault(party.source, None)
    return CslSnapshot(tuple(parties), dict(sorted(stamps.items())),
                       hashlib.sha256(raw).hexdigest(), kind, len(rows) - len(parties))
