"""Decisions as JSON, JSON lines, Markdown or a terminal table.

JSON is the contract and is byte-identical for the same case and rule pack. Markdown
and the table are for people: per item the ECCN, TPP and PD, the statuses and the
cost of the revenue share; the findings with their sources and confidence; the
conditions checklist; and the domestic-alternatives table that answers the Chinese
regulator's question of why a foreign chip is needed.
"""

from __future__ import annotations

import functools
import io
import json
import math
import re
from collections.abc import Iterable, Iterator
from typing import TYPE_CHECKING, Any, TextIO

from chipclear import __version__
from chipclear.io.labels import label, phrase, value, value_words
from chipclear.model.case import Case
from chipclear.model.decision import SCHEMA_ID, AlternativeCheck, Because, Decision, PlainValue
from chipclear.pack.conditions import OP_SYMBOL
from chipclear.pack.loader import Text
from pydantic_core import PydanticSerializationError, SchemaSerializer, core_schema

if TYPE_CHECKING:
    from rich.console import Console

Lang = str  # "en" or "zh"

_SEVERITY_ORDER = ("block", "condition", "info")
#: The regulator's question, in its own words (seed 000), with an English gloss.
REGULATOR_QUESTION = {
    "zh": "为什么要采购这款进口芯片？有什么是它能满足但国产算力卡满足不了的？",
    "en": "Why this foreign chip? What can it do that domestic accelerator cards cannot?",
}


_CONTROL = {c: f"\\x{c:02x}" for c in (*range(0x20), 0x7F, *range(0x80, 0xA0))}


def printable(text: str) -> str:
    """Text for a person's terminal or memo: control characters (escape sequences that
    could repaint a terminal, carriage returns that hide what came before) as ``\\xNN``."""
    return text.translate(_CONTROL)


_MARKDOWN_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+!|<>~&])")


def md(text: str) -> str:
    """User text (case id, chip name) in a Markdown memo: printable, and every Markdown
    or HTML special backslash-escaped, so it shows as typed and cannot add links or tags."""
    return _MARKDOWN_SPECIAL.sub(r"\\\1", printable(text))


def decision_dict(decision: Decision) -> dict[str, Any]:
    return decision.model_dump(mode="json")


class _PythonWouldDiffer(ValueError):
    """A value pydantic's JSON writer would print otherwise than ``json.dumps`` does."""


#: Below this magnitude Python prints a float with an exponent (``1e-05``), pydantic's
#: writer without (``0.00001``) or unpadded (``1.5e-7``); at or above it they agree.
_SMALLEST_SAME = 1e-4
#: Types whose JSON text pydantic's writer and ``json.dumps`` spell alike (floats checked).
_PLAIN = (str, int, float, type(None))


def _checked_float(value: Any) -> Any:
    """A float both writers print alike; anything else sends the decision to ``json.dumps``
    (which also refuses infinity and NaN, as before)."""
    if type(value) is not float or not math.isfinite(value) or \
            (value != 0.0 and abs(value) < _SMALLEST_SAME):
        raise _PythonWouldDiffer(repr(value))
    return value


def _checked_any(value: Any) -> Any:
    """An untyped value: every float in it checked, anything unfamiliar refused."""
    if isinstance(value, float):
        return _checked_float(value)
    if isinstance(value, list | tuple):
        for item in value:
            _checked_any(item)
    elif isinstance(value, dict):
        for key, item in value.items():
            if not isinstance(key, str):
                raise _PythonWouldDiffer(repr(key))
            _checked_any(item)
    elif not isinstance(value, _PLAIN):
        raise _PythonWouldDiffer(type(value).__name__)
    return value


def _with_checked_numbers(schema: Any) -> Any:
    """A copy of a core schema whose floats and untyped values pass the checks above;
    a schema with its own serializers or computed fields is refused.

    Each model's class is replaced by a bare stand-in: given the model class itself,
    pydantic-core would reuse the model's prebuilt serializer and skip the checks (the
    tests fail if it ever does). Fields are read from the instance either way."""
    if isinstance(schema, list):
        return [_with_checked_numbers(s) for s in schema]
    if not isinstance(schema, dict):
        return schema
    if "serialization" in schema or schema.get("computed_fields"):
        raise _PythonWouldDiffer("custom serializer")
    out = {k: _with_checked_numbers(v) for k, v in schema.items()}
    kind = out.get("type")
    if kind == "model":
        out["cls"] = type(f"Checked{out['cls'].__name__}", (), {})
    check = {"float": _checked_float, "any": _checked_any}.get(kind or "")
    if check is not None:
        out["serialization"] = core_schema.plain_serializer_function_ser_schema(
            check, when_used="json")
    return out


@functools.cache
def _fast_writer() -> SchemaSerializer | None:
    """pydantic's own JSON writer for decisions (a fifth of ``model_dump`` + ``json.dumps``),
    made to refuse what it would spell otherwise; None if the model has custom serializers."""
    try:
        return SchemaSerializer(_with_checked_numbers(Decision.__pydantic_core_schema__))
    except _PythonWouldDiffer:
        return None


def _decision_json(decision: Decision, indent: int | None) -> str:
    """The decision exactly as ``json.dumps(decision_dict(decision), ensure_ascii=False,
    allow_nan=False)`` writes it (compact, or with ``indent``), written by pydantic where
    the two agree: the same keys in the same order, strings unescaped but for control
    characters, floats as Python prints them; proved on every reference decision and by
    a property test over floats and text."""
    writer = _fast_writer()
    if writer is not None and type(decision) is Decision:
        try:
            return writer.to_json(decision, indent=indent, warnings="error").decode()
        except PydanticSerializationError:
            pass  # a tiny or non-finite float, a lone surrogate: Python's own writer decides
    if indent is None:
        return json.dumps(decision_dict(decision), ensure_ascii=False, allow_nan=False,
                          separators=(",", ":"))
    return json.dumps(decision_dict(decision), ensure_ascii=False, allow_nan=False,
                      indent=indent)


def to_json(decisions: Iterable[Decision], errors: list[Any]) -> str:
    out = io.StringIO()
    stream = JsonStream(out)
    for decision in decisions:
        stream.add(decision)
    stream.close(errors)
    return out.getvalue()


class JsonStream:
    """Writes the same bytes as :func:`to_json`, one decision at a time.

    A batch of thousands of decisions then never sits in memory; the errors, known only
    at the end, close the document.
    """

    def __init__(self, stream: TextIO) -> None:
        self.stream = stream
        self.count = 0
        head = json.dumps({"schema": SCHEMA_ID}, ensure_ascii=False, allow_nan=False, indent=2)
        stream.write(head[:-2] + ',\n  "decisions": [')

    def add(self, decision: Decision) -> None:
        text = _decision_json(decision, indent=2)
        self.stream.write(("," if self.count else "") + "\n    "
                          + text.replace("\n", "\n    "))
        self.count += 1

    def close(self, errors: list[Any]) -> None:
        tail = json.dumps({"errors": errors}, ensure_ascii=False, allow_nan=False, indent=2)
        self.stream.write(("\n  ]" if self.count else "]") + ",\n" + tail[2:] + "\n")


def to_jsonl_line(decision: Decision) -> str:
    return _decision_json(decision, indent=None) + "\n"


def _num(value: float | None, digits: int = 0) -> str:
    if value is None:
        return "—"
    return f"{value:,.{digits}f}"


def _usd(value: float | None) -> str:
    return "—" if value is None else f"${value:,.2f}"


def _check_text(check: AlternativeCheck, lang: Lang) -> str:
    """One requirement of the domestic comparison: unknown figures are said, not marked."""
    def shown(figure: str) -> str:  # yes / no are words; figures and units are not
        return value_words("meets", figure, lang) if figure in ("yes", "no") else figure

    head = f"`{check.requirement}` {phrase(shown(check.needed), lang)}"
    if check.offered is None:
        return f"{head}: {label('figure_unknown', lang)}"
    mark = {True: "✓", False: "✗", None: f"? ({label('sources_disagree', lang)})"}[check.meets]
    return f"{head}: {phrase(shown(check.offered), lang)} {mark}"


def _pick(text: Text, lang: Lang) -> str:
    return text.zh if lang == "zh" else text.en


def _code(text: str) -> str:
    """Inline code that survives backticks inside (facts quote what the case said)."""
    text = printable(text)
    fence = "``" if "`" in text else "`"
    pad = " " if text.startswith("`") or text.endswith("`") else ""
    return f"{fence}{pad}{text}{pad}{fence}"


def _ids(rule_ids: Iterable[str]) -> str:
    return ", ".join(f"`{rule}`" for rule in rule_ids)


def _flatten(value: Any, path: str) -> Iterator[tuple[str, Any]]:
    if isinstance(value, dict):
        for key, inner in value.items():
            yield from _flatten(inner, f"{path}.{key}" if path else key)
    elif isinstance(value, list):
        for index, inner in enumerate(value):
            yield from _flatten(inner, f"{path}[{index}]")
    else:
        yield path, value if isinstance(value, str) else json.dumps(value)


def _facts(case: Case, decision: Decision, lang: Lang, source: str | None) -> list[str]:
    """The memo's opening: the facts as given, so the memo can stand in an audit file."""
    given = case.model_dump(mode="json", exclude_none=True, exclude_defaults=True)
    justification = (given.get("evidence") or {}).pop("necessity_justification", None)
    out = [f"### {label('facts', lang)}", ""]
    if source:
        out.append(f"- {label('f_source', lang)}: {_code(source)}")
    out += [f"- {label('f_decided_on', lang)}: {decision.as_of}",
            f"- {label('f_pack', lang)}: `{decision.rule_pack.id}` "
            f"`{decision.rule_pack.version}` sha256 `{decision.rule_pack.sha256}`",
            f"- {label('f_tool', lang)}: chipclear `{__version__}`"]
    for part, key in (("buyer", "f_buyer"), ("order", "f_order"), ("use", "f_use"),
                      ("deployment", "f_answers"), ("evidence", "f_evidence")):
        facts = [f"{path} = {value}" for path, value in _flatten(given.get(part), part)]
        if facts:
            out.append(f"- {label(key, lang)}: " + ", ".join(_code(f) for f in facts))
    rest = [f"{path} = {value}" for name, inner in given.items()
            if name not in ("id", "as_of", "buyer", "order", "use", "deployment", "evidence")
            for path, value in _flatten(inner, name)]
    if rest:
        out.append(f"- {label('f_answers', lang)}: " + ", ".join(_code(f) for f in rest))
    out.append(f"- {label('f_justification', lang)}:")
    if justification:
        out += [f"  > {printable(line)}" for line in str(justification).splitlines() or [""]]
    else:
        out.append(f"  > *{label('f_none_given', lang)}*")
    out.append("")
    return out


def _shown(item: PlainValue) -> str:
    if isinstance(item, bool):
        return "true" if item else "false"
    if isinstance(item, float) and item.is_integer():
        return str(int(item))
    return str(item)


def because_text(item: Because) -> str:
    """A ``because`` entry as one line in English: ``chip.tpp = 5120 (≥ 4800, parameter
    us.tpp_3a090a)``, ``buyer.country = MO (in [CN, MO, HK])``, ``derived eccn = 3A090.a``
    (``phrase`` puts it in Chinese)."""
    if item.derived:
        shown = item.value
        text = str(int(shown)) if isinstance(shown, float) and shown.is_integer() else str(shown)
        return f"derived {item.fact} = {text}"
    if item.test in ("nonempty", "empty"):
        return f"{item.fact} is {'given' if item.test == 'nonempty' else 'empty'}"
    have = "None" if item.value is None else _shown(item.value)
    if item.test == "eq" and not item.parameters:
        return f"{item.fact} = {have}"
    against = item.against
    if isinstance(against, list):
        want = "[" + ", ".join(_shown(v) for v in against) + "]"
    else:
        want = "None" if against is None else _shown(against)
    note = f", parameter {', '.join(item.parameters)}" if item.parameters else ""
    return f"{item.fact} = {have} ({OP_SYMBOL[item.test]} {want}{note})"


def markdown(decision: Decision, lang: Lang = "en", case: Case | None = None,
             source: str | None = None) -> str:
    """One case's memo; with ``case`` it opens with the facts the decision rests on."""
    d = decision
    out = _md_head(d, lang)
    if case is not None:
        out += _facts(case, d, lang, source)
    out += _md_outcome(d, lang)
    out += _md_items(d, lang)
    out += _md_findings(d, lang)
    out += _md_screening(d, lang)
    out += _md_checklists(d, lang)
    out += _md_missing(d, lang)
    out += _md_alternatives(d, lang)
    return "\n".join(out) + "\n"


def _md_head(d: Decision, lang: Lang) -> list[str]:
    """The memo's title and its one-line outcome."""
    def L(key: str) -> str:
        return label(key, lang)

    return [f"## {md(d.case_id)}", "",
            f"**{L('verdict')}: `{value('verdict', d.verdict.value, lang)}`** · "
            f"{L('us')}: `{value('us_status', d.us.status.value, lang)}` · "
            f"{L('cn')}: `{value('cn_status', d.cn.status.value, lang)}` · "
            f"{L('as_of')} {d.as_of} · {L('rules')} "
            f"`{d.rule_pack.version}` `{d.rule_pack.sha256[:12]}`", ""]


def _md_outcome(d: Decision, lang: Lang) -> list[str]:
    """Warnings, the rules still undecided per side, and the revenue share."""
    def L(key: str) -> str:
        return label(key, lang)

    out: list[str] = []
    for w in d.warnings:
        out += [f"> ⚠ **{L('warning')}**: {_pick(w.text, lang)}", ""]
    for side, outcome in ((L("us"), d.us), (L("cn"), d.cn)):
        if outcome.undecided_rules:
            out += [f"{side}: {L('undecided')}: {_ids(outcome.undecided_rules)}", ""]
    if d.us.revenue_share_pct is not None:
        if d.verdict.value == "no_go":
            amount = L("no_amount")
        else:
            amount = f"{_usd(d.us.revenue_share_usd)} ({L('estimate')})"
        out += [f"{L('us_share')}: {d.us.revenue_share_pct:g}% = {amount}", ""]
        out += [f"- {_pick(b, lang)}" for b in d.us.revenue_share_basis]
        if d.us.revenue_share_basis:
            out.append("")
    return out


def _md_items(d: Decision, lang: Lang) -> list[str]:
    """Per order line: classification, figures, statuses, share; then the figures' sources."""
    def L(key: str) -> str:
        return label(key, lang)

    out: list[str] = []
    if d.items:
        cols: tuple[str, ...] = ("#", L("col_chip"), L("col_eccn"), L("col_3a090"),
                                 L("col_tpp"), L("col_pd"), L("col_us"), L("col_cn"),
                                 L("col_share"), L("col_usd"))
        out += [f"### {L('items')}", "", "| " + " | ".join(cols) + " |",
                "|" + "---|" * len(cols)]
        for it in d.items:
            flag = " ⚠" if it.uncertain_figures else ""
            share = "—" if it.revenue_share_pct is None else f"{it.revenue_share_pct:g}%"
            cls = value("classification", it.classification.value, lang)
            if it.classification_reason:
                reason = value("classification_reason", it.classification_reason, lang)
                cls += f" ({phrase(reason, lang)})"
            out.append(f"| {it.index} | {md(it.chip_name)}{flag} | {it.eccn or '—'} | {cls} | "
                       f"{_num(it.tpp)} | {_num(it.performance_density, 2)} | "
                       f"{value('us_status', it.us_status.value, lang)} | "
                       f"{value('cn_status', it.cn_status.value, lang)} | {share} | "
                       f"{_usd(it.revenue_share_usd)} |")
        out.append("")
        for it in d.items:
            if it.uncertain_figures:
                out.append(f"⚠ {it.chip_name} {L('uncertain')}: "
                           + ", ".join(f"`{f}`" for f in it.uncertain_figures))
            cited = [f"[{s.name}]({s.url})" for s in it.figure_source_refs]
            cited += [f"`{s}`" for s in it.figure_sources
                      if s not in {r.id for r in it.figure_source_refs}]
            if cited:
                out.append(f"{label('figures_for', lang, chip=it.chip_name)}: "
                           f"{', '.join(cited)}")
        out.append("")
    return out


def _md_findings(d: Decision, lang: Lang) -> list[str]:
    """The findings by severity, each with why it holds and its sources."""
    def L(key: str) -> str:
        return label(key, lang)

    out: list[str] = []
    if d.findings:
        out += [f"### {L('findings')}", ""]
        for sev in _SEVERITY_ORDER:
            for f in (f for f in d.findings if f.severity.value == sev):
                title = f.title.zh if lang == "zh" else f.title.en
                other = f.title.en if lang == "zh" else f.title.zh
                level = f.confidence.value
                shown = value("confidence", level, lang)
                note = "" if level == "official" else \
                    f" — *{L('analysis') if level == 'analysis' else L('reported')}* ({shown})"
                out.append(f"- **{value_words('severity', sev, lang)}** `{f.rule}` "
                           f"({value('jurisdiction', f.jurisdiction.value, lang)}) {title} / "
                           f"{other}{note}")
                for reason in f.because:
                    out.append(f"  - {L('because')} {_code(phrase(because_text(reason), lang))}")
                if f.derived_from:
                    out.append(f"  - {L('follows_from')} {_ids(f.derived_from)}")
                for s in f.sources:
                    out.append(f"  - [{s.name}]({s.url}) ({s.date}, "
                               f"{value('confidence', s.confidence.value, lang)})")
                for s in f.context_sources:
                    out.append(f"  - {L('context')}: [{s.name}]({s.url}) ({s.date}, "
                               f"{value('confidence', s.confidence.value, lang)})")
                for s in f.later_sources:
                    out.append(f"  - *{L('later')}*: [{s.name}]({s.url}) ({s.date})")
        out.append("")
    return out


def _md_screening(d: Decision, lang: Lang) -> list[str]:
    """List matches and what was screened."""
    def L(key: str) -> str:
        return label(key, lang)

    out: list[str] = []
    if d.list_matches:
        out += [f"### {L('matches')}", ""]
        for hit in d.list_matches:
            ref = f", {hit.reference}" if hit.reference else ""
            tier = f" **{L('review')}**" if hit.tier == "review" else ""
            out.append(f"- `{hit.fact}`:{tier} \"{printable(hit.matched_name)}\" "
                       f"{L('matched')} {hit.entry_name} (`{hit.entry_id}`) {L('on')} "
                       f"\"{hit.matched_on}\" ({value('match_how', hit.how, lang)}, "
                       f"{value('match_tier', hit.tier, lang)}); {L('since')} {hit.since}{ref}")
            for src in hit.sources:
                out.append(f"  - [{src.name}]({src.url}) ({src.date}, "
                           f"{value('confidence', src.confidence.value, lang)})")
        out.append("")
    if d.screening is not None:
        scr = d.screening
        out += [f"### {L('screened')}", "", scr.note.zh if lang == "zh" else scr.note.en, ""]
        for lst in scr.lists:
            when = f", {lst.imported_on}, sha256 {lst.sha256[:12]}…" if lst.imported_on and \
                lst.sha256 else ""
            out.append(f"- `{lst.list_id}` ({value('list_kind', lst.kind, lang)}, "
                       f"{lst.entries}{when})")
        for red_flag in scr.red_flags:
            out.append(f"- **{L('flag')}**: {red_flag.zh if lang == 'zh' else red_flag.en}")
        for cleared in scr.cleared:
            state = L("cleared") if cleared.applied else L("not_applied")
            out.append(f"- `{cleared.entry_id}` \"{printable(cleared.matched_name)}\" ~ "
                       f"\"{cleared.matched_on}\": {state} ({printable(cleared.reason)})")
        out.append("")
    return out


def _md_checklists(d: Decision, lang: Lang) -> list[str]:
    """The conditions checklist and the conditions to confirm."""
    def L(key: str) -> str:
        return label(key, lang)

    out: list[str] = []
    if d.conditions:
        out += [f"### {L('conditions')}", ""]
        for c in d.conditions:
            main = c.text.zh if lang == "zh" else c.text.en
            gloss = c.text.en if lang == "zh" else c.text.zh
            out.append(f"- [ ] {main} / {gloss} (`{c.rule}`)")
        out.append("")
    if d.conditions_to_confirm:
        out += [f"### {L('confirm')}", ""]
        for tc in d.conditions_to_confirm:
            when = " & ".join(_code(phrase(test, lang)) for test in tc.applies_if)
            head = f"{L('if')} {when}: " if when else ""
            out.append(f"- [ ] {head}{_pick(tc.text, lang)} (`{tc.rule}`)")
        out.append("")
    return out


def _md_missing(d: Decision, lang: Lang) -> list[str]:
    """What is still missing or optional, by who must answer, and what would change the outcome."""
    def L(key: str) -> str:
        return label(key, lang)

    out: list[str] = []
    for title, group in ((L("missing"), d.missing), (L("optional"), d.optional_facts)):
        if not group:
            continue
        out += [f"### {title}", ""]
        for owner in ("buyer", "exporter", "vendor", "regulator"):
            mine = [m for m in group if m.owner.value == owner]
            if not mine:
                continue
            out += [f"**{L(owner)}**", ""]
            for m in mine:
                q = m.question.zh if lang == "zh" else m.question.en
                out.append(f"- `{m.fact}`: {q} ({value_words('impact', m.impact.value, lang)};"
                           f" {L('needed_by')} {_ids(m.rules)})")
            out.append("")
    if d.what_would_change:
        out += [f"### {L('change')}", ""]
        for change in d.what_would_change:
            out.append(f"- `{change.subject}`:")
            out.extend(f"  - {_code(phrase(line, lang))}" for line in change.changes)
        out.append("")
    return out


def _md_alternatives(d: Decision, lang: Lang) -> list[str]:
    """The domestic alternatives, under the regulator's question."""
    def L(key: str) -> str:
        return label(key, lang)

    out: list[str] = []
    if d.domestic_alternatives:
        cols = (L("col_chip"), L("col_status"), L("col_meets"), L("col_checks"))
        out += [f"### {L('alts')}", "",
                f"> {L('question')}: {REGULATOR_QUESTION['zh']}  ",
                f"> {REGULATOR_QUESTION['en']}", "",
                "| " + " | ".join(cols) + " |", "|" + "---|" * len(cols)]
        for a in d.domestic_alternatives:
            checks = "; ".join(_check_text(c, lang) for c in a.checks) or L("no_requirement")
            meets = value_words("meets", {True: "yes", False: "no", None: "unknown"}[a.meets_all],
                                lang)
            out.append(f"| {a.chip_name} | {value_words('chip_status', a.status, lang)} | "
                       f"{meets} | {checks} |")
        out.append("")
    return out


def memo_head(lang: Lang = "en") -> str:
    """The first line of a batch memo."""
    return f"# {label('memo_title', lang)}\n\n"


def memo_errors(errors: list[str], lang: Lang = "en") -> str:
    """The closing section of a batch memo: every file that could not be decided."""
    if not errors:
        return ""
    lines = [f"## {label('undecidable', lang)}", ""]
    lines += [f"- {_code(error)}" for error in errors]
    return "\n".join(lines) + "\n"


def hyphen_lines(text: str, width: int) -> str:
    """``text`` in lines of at most ``width``, broken after hyphens (a part longer than
    ``width`` keeps its own line and is folded by the table)."""
    parts = [p for p in re.split(r"(?<=-)", text) if p]
    lines: list[str] = []
    for part in parts:
        if lines and len(lines[-1]) + len(part) <= width:
            lines[-1] += part
        else:
            lines.append(part)
    return "\n".join(lines) or text


def table(decisions: list[Decision], console: Console, lang: Lang = "en",
          summary: bool = True, details: bool = True) -> None:
    """A terminal rendering: each case's details, then the summary table, printed last
    so it is what stays on screen. ``console`` decides colour and width (Rich reads
    NO_COLOR, FORCE_COLOR, COLUMNS and whether the stream is a terminal)."""
    if not console.is_terminal:  # piped: the same text without padding at line ends
        with console.capture() as captured:
            _table(decisions, console, lang, summary, details)
        console.file.write("".join(line.rstrip() + "\n"
                                   for line in captured.get().splitlines()))
    else:
        _table(decisions, console, lang, summary, details)


def _table(decisions: list[Decision], console: Console, lang: Lang, summary: bool,
           details: bool) -> None:
    from rich import box
    from rich.markdown import Markdown
    from rich.table import Table

    if details:
        for d in decisions:
            console.print(Markdown(markdown(d, lang)))
    if not summary:
        return

    def words(group: str, raw: str) -> str:  # a narrow terminal wraps between words
        return value_words(group, raw, lang)

    ids = [printable(d.case_id) for d in decisions]
    # The case id comes first: it gets up to a quarter of the width and breaks after a
    # hyphen; statuses wrap between their words.
    id_width = max(10, min(console.width // 4, max((len(i) for i in ids), default=10)))
    overview = Table(title=label("summary_title", lang), box=box.SIMPLE_HEAD,
                     title_justify="left", padding=0)
    overview.add_column(label("col_case", lang), overflow="fold", min_width=id_width)
    for col in ("col_verdict", "col_us", "col_cn"):
        overview.add_column(label(col, lang), overflow="fold", max_width=12)
    overview.add_column(label("col_share_usd", lang), overflow="fold", justify="right")
    # blocks / conditions / missing facts
    overview.add_column(label("col_bcm", lang), no_wrap=True, min_width=5, justify="right")
    for d, case_id in zip(decisions, ids, strict=True):
        sev = [f.severity.value for f in d.findings]
        overview.add_row(f"{hyphen_lines(case_id, id_width)}\n{d.as_of}",
                         words("verdict", d.verdict.value),
                         words("us_status", d.us.status.value),
                         words("cn_status", d.cn.status.value),
                         "—" if d.us.revenue_share_usd is None
                         else f"${d.us.revenue_share_usd:,.0f}",
                         f"{sev.count('block')}/{len(d.conditions)}/{len(d.missing)}")
    console.print(overview)
    for note in sorted({w.text.zh if lang == "zh" else w.text.en
                        for d in decisions for w in d.warnings}):
        console.print(f"⚠ {note}")


def write_all(decisions: list[Decision], fmt: str, stream: TextIO, errors: list[Any],
              lang: Lang = "en", console: Console | None = None) -> None:
    if fmt == "json":
        stream.write(to_json(decisions, errors))
    elif fmt == "jsonl":
        for d in decisions:
            stream.write(to_jsonl_line(d))
    elif fmt == "markdown":
        stream.write(memo_head(lang))
        for d in decisions:
            stream.write(markdown(d, lang))
        stream.write(memo_errors([str(e) for e in errors], lang))
    else:
        from rich.console import Console

        table(decisions, console or Console(file=stream), lang)
