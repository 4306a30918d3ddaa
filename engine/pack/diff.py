"""What changed between two rule packs, rule by rule and figure by figure.

A reviewer of a rule change needs to see the change in the terms the rules are written
in (a condition, a date, a threshold), not as a text diff of YAML whose reformatting
would hide or fake changes. Rules are matched by id, parameters by id and date, chips
by id, sources by id; anything else (lists, questions) is reported per file.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from chipclear.pack import conditions as C
from chipclear.pack.catalog import Chip, facts_for_chip
from chipclear.pack.loader import CompiledRule, Parameter, RulePack

Kind = Literal["added", "removed", "changed"]


@dataclass(frozen=True)
class FieldChange:
    field: str
    old: Any
    new: Any


@dataclass(frozen=True)
class Change:
    """One rule, parameter, chip, source or file that differs; ``fields`` when changed."""

    section: str
    key: str
    kind: Kind
    fields: tuple[FieldChange, ...] = ()
    summary: str = ""

    def to_data(self) -> dict[str, Any]:
        out: dict[str, Any] = {"section": self.section, "key": self.key, "kind": self.kind}
        if self.summary:
            out["summary"] = self.summary
        if self.fields:
            out["fields"] = [{"field": f.field, "old": f.old, "new": f.new} for f in self.fields]
        return out


SECTIONS = ("rules", "parameters", "catalog", "sources", "files")


@dataclass(frozen=True)
class PackDiff:
    changes: tuple[Change, ...]

    def section(self, name: str) -> list[Change]:
        return [c for c in self.changes if c.section == name]

    @property
    def empty(self) -> bool:
        return not self.changes


def _rule_view(cr: CompiledRule) -> dict[str, Any]:
    """A rule's reviewable fields, in the order a reviewer reads them."""
    r = cr.rule
    then = r.then.model_dump(mode="json", exclude_none=True, exclude_defaults=True)
    view: dict[str, Any] = {
        "module": cr.module,
        "title.en": r.title.en, "title.zh": r.title.zh,
        "jurisdiction": r.jurisdiction.value,
        "severity": r.severity.value,
        "valid_from": r.valid_from.isoformat(),
        "valid_to": r.valid_to.isoformat() if r.valid_to else None,
        "sources": list(r.sources),
        "context_sources": list(r.context_sources),
        "confidence": r.confidence.value if r.confidence else None,
        "summary.en": r.summary.en if r.summary else None,
        "summary.zh": r.summary.zh if r.summary else None,
        "silent": r.silent,
        "when": C.to_data(cr.condition),
    }
    for key in ("us_status", "cn_status", "revenue_share_pct", "revenue_share_basis", "derive",
                "condition"):
        view[f"then.{key}"] = then.get(key)
    return view


def _field_changes(old: dict[str, Any], new: dict[str, Any]) -> tuple[FieldChange, ...]:
    keys = list(old) + [k for k in new if k not in old]
    return tuple(FieldChange(k, old.get(k), new.get(k)) for k in keys
                 if old.get(k) != new.get(k))


def _param_view(p: Parameter) -> dict[str, Any]:
    view: dict[str, Any] = {"description.en": p.description.en, "unit": p.unit}
    for v in p.values:
        view[f"from {v.from_.isoformat()}"] = v.value
        view[f"from {v.from_.isoformat()} sources"] = list(v.sources)
    return view


def _flatten(value: Any, prefix: str, out: dict[str, Any]) -> dict[str, Any]:
    if isinstance(value, dict):
        for k, v in value.items():
            _flatten(v, f"{prefix}.{k}" if prefix else str(k), out)
    else:
        out[prefix] = value
    return out


def _chip_view(chip: Chip) -> dict[str, Any]:
    facts = facts_for_chip(chip)
    view = _flatten(chip.model_dump(mode="json", exclude_none=True), "", {})
    view["tpp (computed)"] = facts.tpp
    view["performance_density (computed)"] = facts.performance_density
    return view


def _keyed(section: str, old: dict[str, dict[str, Any]], new: dict[str, dict[str, Any]],
           describe: dict[str, str] | None = None) -> list[Change]:
    out: list[Change] = []
    for key in list(old) + [k for k in new if k not in old]:
        if key not in new:
            out.append(Change(section, key, "removed", summary=(describe or {}).get(key, "")))
        elif key not in old:
            out.append(Change(section, key, "added", summary=(describe or {}).get(key, "")))
        else:
            fields = _field_changes(old[key], new[key])
            if fields:
                out.append(Change(section, key, "changed", fields))
    return out


def _rule_summary(cr: CompiledRule) -> str:
    r = cr.rule
    window = f"{r.valid_from} → {r.valid_to or 'open'}"
    sets = [f"{k}={v}" for k, v in (("us_status", r.then.us_status),
                                     ("cn_status", r.then.cn_status)) if v]
    return f"{r.severity.value}, {window}" + (f", {', '.join(sets)}" if sets else "")


def diff_packs(base: RulePack, head: RulePack) -> PackDiff:
    """The structural difference from ``base`` to ``head``."""
    changes: list[Change] = []
    changes += _keyed(
        "rules",
        {cr.rule.id: _rule_view(cr) for cr in base.rules},
        {cr.rule.id: _rule_view(cr) for cr in head.rules},
        {**{cr.rule.id: _rule_summary(cr) for cr in base.rules},
         **{cr.rule.id: _rule_summary(cr) for cr in head.rules}},
    )
    changes += _keyed("parameters",
                      {k: _param_view(p) for k, p in base.parameters.items()},
                      {k: _param_view(p) for k, p in head.parameters.items()})
    changes += _keyed("catalog",
                      {k: _chip_view(c) for k, c in base.catalog.chips.items()},
                      {k: _chip_view(c) for k, c in head.catalog.chips.items()})
    changes += _keyed("sources",
                      {k: s.model_dump(mode="json") for k, s in base.sources.items()},
                      {k: s.model_dump(mode="json") for k, s in head.sources.items()})
    explained = {"pack.yaml"} | {rel for rel in (*base.files, *head.files) if rel.endswith(
        ("rules.yaml", "parameters.yaml", "sources.yaml"))} | {
        base.manifest.catalog, head.manifest.catalog}
    for rel in sorted(set(base.files) | set(head.files)):
        old, new = base.files.get(rel), head.files.get(rel)
        if old == new:
            continue
        if rel in explained and old is not None and new is not None and rel != "pack.yaml":
            continue  # shown above as rules, parameters, chips or sources
        kind: Kind = "added" if old is None else "removed" if new is None else "changed"
        changes.append(Change("files", rel, kind))
    if base.manifest != head.manifest:
        fields = _field_changes(base.manifest.model_dump(mode="json"),
                                head.manifest.model_dump(mode="json"))
        changes = [c for c in changes if not (c.section == "files" and c.key == "pack.yaml")]
        changes.append(Change("files", "pack.yaml", "changed", fields))
    return PackDiff(tuple(changes))
