"""One catalog chip for a person or a script: its figures with their sources (cited by name
and URL), aliases, computed TPP and performance density, and the 3A090 classification the
rule pack gives it on a date (decided by the engine itself, never recomputed here)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from chipclear.io.labels import label, phrase, value
from chipclear.model.case import Case
from chipclear.pack.catalog import Figure
from chipclear.pack.loader import RulePack


def _source(pack: RulePack, sid: str) -> dict[str, Any]:
    s = pack.sources.get(sid)
    if s is None:  # a catalog check reports unknown ids; here the id is all there is
        return {"id": sid, "name": sid, "url": None, "date": None, "confidence": None}
    return {"id": s.id, "name": s.name, "url": s.url, "date": s.date.isoformat(),
            "confidence": s.confidence.value}


def _figure(pack: RulePack, fig: Figure) -> dict[str, Any]:
    return {"value": fig.value, "uncertain": fig.uncertain, "note": fig.note,
            "sources": [_source(pack, s) for s in fig.sources],
            "alternatives": [{"value": a.value, "note": a.note,
                              "sources": [_source(pack, s) for s in a.sources]}
                             for a in fig.alternatives]}


def chip_sheet(pack: RulePack, chip_id: str, as_of: dt.date) -> dict[str, Any]:
    """Everything the catalog and the rules say about one chip, JSON-ready."""
    from chipclear.decide.evaluate import Evaluator

    chip = pack.catalog.chips[chip_id]
    facts = pack.catalog.facts(chip_id)
    figures: dict[str, Any] = {}
    for precision, fig in sorted(chip.figures.dense_tflops.items()):
        figures[f"dense_tflops.{precision.value}"] = _figure(pack, fig)
    for name in ("die_area_mm2", "memory_gb", "memory_bandwidth_gbs", "io_bandwidth_gbs",
                 "max_cluster_size"):
        fig = getattr(chip.figures, name)
        if fig is not None:
            figures[name] = _figure(pack, fig)
    probe = Case.model_validate({"id": f"chips-{chip_id}", "as_of": as_of.isoformat(),
                                 "order": {"items": [{"chip": chip_id}]}})
    item = Evaluator(pack).evaluate(probe).items[0]
    return {
        "id": chip.id, "name": chip.name, "aliases": list(chip.aliases),
        "vendor": chip.vendor, "vendor_country": chip.vendor_country, "family": chip.family,
        "datacenter": chip.datacenter, "status": chip.status.value, "hbm": chip.hbm,
        "tpp": facts.tpp, "tpp_precision": facts.tpp_precision,
        "performance_density": facts.performance_density,
        "uncertain_figures": list(facts.uncertain_figures),
        "classification": {"as_of": as_of.isoformat(), "eccn": item.eccn,
                           "value": item.classification.value,
                           "reason": item.classification_reason},
        "figures": figures,
        "sources": [_source(pack, s) for s in chip.sources],
        "notes": chip.notes,
    }


def _cited(sources: list[dict[str, Any]]) -> str:
    return "; ".join(s["name"] if not s["url"] else f"{s['name']} <{s['url']}>"
                     for s in sources)


def chip_text(sheet: dict[str, Any], lang: str = "en") -> str:
    """The sheet as plain lines for a terminal."""
    def num(x: float | None, digits: int = 0) -> str:
        return "—" if x is None else f"{x:,.{digits}f}"

    cls = sheet["classification"]
    shown = value("classification", cls["value"], lang)
    if cls["reason"]:
        shown += f" ({phrase(value('classification_reason', cls['reason'], lang), lang)})"
    out = [f"{sheet['id']}  {sheet['name']}",
           f"  {sheet['vendor']} ({sheet['vendor_country']}) · {sheet['family']} · "
           f"{value('chip_status', sheet['status'], lang)}",
           f"  {label('aliases', lang)}: {', '.join(sheet['aliases']) or '—'}",
           f"  TPP {num(sheet['tpp'])}"
           + (f" ({sheet['tpp_precision']})" if sheet["tpp_precision"] else "")
           + f" · PD {num(sheet['performance_density'], 2)} · "
             f"{label('classification', lang)}: {shown} ({label('as_of', lang)} {cls['as_of']})",
           f"  {label('figures', lang)}:"]
    for name, fig in sheet["figures"].items():
        flag = " ⚠" if fig["uncertain"] else ""
        note = f" — {fig['note']}" if fig["note"] else ""
        out.append(f"    {name} = {fig['value']:g}{flag}{note}  [{_cited(fig['sources'])}]")
        for alt in fig["alternatives"]:
            alt_note = f" — {alt['note']}" if alt["note"] else ""
            out.append(f"      ~ {alt['value']:g}{alt_note}  [{_cited(alt['sources'])}]")
    out.append(f"  {label('sources', lang)}:")
    for s in sheet["sources"]:
        out.append(f"    - {s['name']}" + (f" <{s['url']}> ({s['date']}, {s['confidence']})"
                                           if s["url"] else ""))
    return "\n".join(out) + "\n"
