"""Decisions as JSON, JSON lines, Markdown or a terminal table.

JSON is the contract and is byte-identical for the same case and rule pack. Markdown
and the table are for people: per item the ECCN, TPP and PD, the statuses and the
cost of the revenue share; the findings with their sources and confidence; the
conditions checklist; and the domestic-alternatives table that answers the Chinese
regulator's question of why a foreign chip is needed.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any, TextIO

from chipclear.model.decision import SCHEMA_ID, AlternativeCheck, Decision
from chipclear.pack.loader import Text

if TYPE_CHECKING:
    from rich.console import Console

Lang = str  # "en" or "zh"

_SEVERITY_ORDER = ("block", "condition", "info")
_LABELS = {
    "en": {"verdict": "Verdict", "us": "US", "cn": "China", "items": "Items",
           "findings": "Findings", "conditions": "Conditions to complete",
           "missing": "Missing information", "alts": "Domestic alternatives",
           "question": "Regulator's question", "share": "revenue share",
           "reported": "rests on press reports or uncertain sources",
           "uncertain": "uses uncertain figures", "matches": "List matches",
           "matched": "matched", "on": "on", "since": "listed since",
           "confirm": "Conditions to confirm", "if": "if",
           "optional": "Optional questions (only conditions to confirm wait for them)",
           "change": "What would change the outcome", "estimate": "estimate",
           "no_amount": "no amount: a block fired",
           "later": "published later, not known on that date",
           "context": "context", "warning": "Warning",
           "undecided": "undetermined while open",
           "buyer": "for the buyer", "exporter": "for the exporter",
           "vendor": "for the chip vendor", "regulator": "for the regulator",
           "could_block": "could block", "could_change_status": "could change a status",
           "condition_only": "condition only",
           "analysis": "chipclear's reading of an official text",
           "screened": "Name screening", "cleared": "cleared by the user",
           "not_applied": "NOT applied: an exact match cannot be cleared",
           "flag": "red flag", "review": "POSSIBLE MATCH, review"},
    "zh": {"verdict": "结论", "us": "美国", "cn": "中国", "items": "采购项",
           "findings": "发现", "conditions": "需完成的条件", "missing": "缺少的信息",
           "alts": "国产替代对比", "question": "监管问题", "share": "收入分成",
           "reported": "仅依据媒体报道或不确定来源", "uncertain": "使用了不确定的数据",
           "matches": "名单匹配", "matched": "匹配", "on": "依据名称", "since": "列入日期",
           "confirm": "待确认的条件", "if": "如果",
           "optional": "可选问题（仅待确认的条件需要）",
           "change": "怎样会改变结论", "estimate": "估算",
           "no_amount": "无金额：已有阻断项", "later": "晚于判定日期发布，当日不可知",
           "context": "背景", "warning": "提示", "undecided": "未决规则",
           "buyer": "由买方回答", "exporter": "由出口商回答",
           "vendor": "由芯片厂商回答", "regulator": "由监管机关回答",
           "could_block": "可能阻断", "could_change_status": "可能改变状态",
           "condition_only": "仅影响条件", "analysis": "本工具对官方文本的解读",
           "screened": "名称筛查", "cleared": "用户已排除",
           "not_applied": "未采纳：完全匹配不可排除",
           "flag": "警示", "review": "可能匹配，须复核"},
}
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


def to_json(decisions: Iterable[Decision], errors: list[Any]) -> str:
    body = {"schema": SCHEMA_ID, "decisions": [decision_dict(d) for d in decisions],
            "errors": errors}
    return json.dumps(body, ensure_ascii=False, allow_nan=False, indent=2) + "\n"


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
        text = json.dumps(decision_dict(decision), ensure_ascii=False, allow_nan=False, indent=2)
        self.stream.write(("," if self.count else "") + "\n    "
                          + text.replace("\n", "\n    "))
        self.count += 1

    def close(self, errors: list[Any]) -> None:
        tail = json.dumps({"errors": errors}, ensure_ascii=False, allow_nan=False, indent=2)
        self.stream.write(("\n  ]" if self.count else "]") + ",\n" + tail[2:] + "\n")


def to_jsonl_line(decision: Decision) -> str:
    return json.dumps(decision_dict(decision), ensure_ascii=False, allow_nan=False,
                      separators=(",", ":")) + "\n"


def _num(value: float | None, digits: int = 0) -> str:
    if value is None:
        return "—"
    return f"{value:,.{digits}f}"


def _usd(value: float | None) -> str:
    return "—" if value is None else f"${value:,.2f}"


def _check_text(check: AlternativeCheck) -> str:
    """One requirement of the domestic comparison: unknown figures are said, not marked."""
    head = f"{check.requirement} {check.needed}"
    if check.offered is None:
        return f"{head}: figure unknown"
    mark = {True: "✓", False: "✗", None: "? (sources disagree)"}[check.meets]
    return f"{head}: {check.offered} {mark}"


def _pick(text: Text, lang: Lang) -> str:
    return text.zh if lang == "zh" else text.en


def markdown(decision: Decision, lang: Lang = "en") -> str:
    L = _LABELS[lang]
    d = decision
    out = [f"## {md(d.case_id)}", "",
           f"**{L['verdict']}: `{d.verdict.value}`** · {L['us']}: `{d.us.status.value}` · "
           f"{L['cn']}: `{d.cn.status.value}` · as of {d.as_of} · rules "
           f"`{d.rule_pack.version}` `{d.rule_pack.sha256[:12]}`", ""]
    for w in d.warnings:
        out += [f"> ⚠ **{L['warning']}**: {_pick(w.text, lang)}", ""]
    for side, outcome in ((L["us"], d.us), (L["cn"], d.cn)):
        if outcome.undecided_rules:
            out += [f"{side}: {L['undecided']}: {', '.join(outcome.undecided_rules)}", ""]
    if d.us.revenue_share_pct is not None:
        if d.verdict.value == "no_go":
            amount = L["no_amount"]
        else:
            amount = f"{_usd(d.us.revenue_share_usd)} ({L['estimate']})"
        out += [f"US {L['share']}: {d.us.revenue_share_pct:g}% = {amount}", ""]
        out += [f"- {_pick(b, lang)}" for b in d.us.revenue_share_basis]
        if d.us.revenue_share_basis:
            out.append("")
    if d.items:
        out += [f"### {L['items']}", "",
                "| # | chip | ECCN | 3A090 | TPP | PD | US | CN | share | USD |",
                "|---|---|---|---|---|---|---|---|---|---|"]
        for it in d.items:
            flag = " ⚠" if it.uncertain_figures else ""
            share = "—" if it.revenue_share_pct is None else f"{it.revenue_share_pct:g}%"
            cls = it.classification.value + (f" ({it.classification_reason})"
                                             if it.classification_reason else "")
            out.append(f"| {it.index} | {md(it.chip_name)}{flag} | {it.eccn or '—'} | {cls} | "
                       f"{_num(it.tpp)} | {_num(it.performance_density, 2)} | "
                       f"{it.us_status.value} | {it.cn_status.value} | {share} | "
                       f"{_usd(it.revenue_share_usd)} |")
        out.append("")
        for it in d.items:
            if it.uncertain_figures:
                out.append(f"⚠ {it.chip_name} {L['uncertain']}: {', '.join(it.uncertain_figures)}")
            if it.figure_sources:
                out.append(f"Figures for {it.chip_name}: sources {', '.join(it.figure_sources)}")
        out.append("")
    if d.findings:
        out += [f"### {L['findings']}", ""]
        for sev in _SEVERITY_ORDER:
            for f in (f for f in d.findings if f.severity.value == sev):
                title = f.title.zh if lang == "zh" else f.title.en
                other = f.title.en if lang == "zh" else f.title.zh
                level = f.confidence.value
                note = "" if level == "official" else \
                    f" — *{L['analysis'] if level == 'analysis' else L['reported']}* ({level})"
                out.append(f"- **{sev.upper()}** `{f.rule}` ({f.jurisdiction.value}) {title} / "
                           f"{other}{note}")
                for reason in f.because:
                    out.append(f"  - because {reason}")
                if f.derived_from:
                    out.append(f"  - follows from {', '.join(f.derived_from)}")
                for s in f.sources:
                    out.append(f"  - [{s.name}]({s.url}) ({s.date}, {s.confidence.value})")
                for s in f.context_sources:
                    out.append(f"  - {L['context']}: [{s.name}]({s.url}) ({s.date}, "
                               f"{s.confidence.value})")
                for s in f.later_sources:
                    out.append(f"  - *{L['later']}*: [{s.name}]({s.url}) ({s.date})")
        out.append("")
    if d.list_matches:
        out += [f"### {L['matches']}", ""]
        for hit in d.list_matches:
            ref = f", {hit.reference}" if hit.reference else ""
            tier = f" **{L['review']}**" if hit.tier == "review" else ""
            out.append(f"- `{hit.fact}`:{tier} \"{hit.matched_name}\" {L['matched']} "
                       f"{hit.entry_name} (`{hit.entry_id}`) {L['on']} \"{hit.matched_on}\" "
                       f"({hit.how}, {hit.tier}); {L['since']} {hit.since}{ref}")
            for src in hit.sources:
                out.append(f"  - [{src.name}]({src.url}) ({src.date}, {src.confidence.value})")
        out.append("")
    if d.screening is not None:
        scr = d.screening
        out += [f"### {L['screened']}", "", scr.note.zh if lang == "zh" else scr.note.en, ""]
        for lst in scr.lists:
            when = f", {lst.imported_on}, sha256 {lst.sha256[:12]}…" if lst.imported_on and \
                lst.sha256 else ""
            out.append(f"- `{lst.list_id}` ({lst.kind}, {lst.entries}{when})")
        for red_flag in scr.red_flags:
            out.append(f"- **{L['flag']}**: {red_flag.zh if lang == 'zh' else red_flag.en}")
        for cleared in scr.cleared:
            state = L["cleared"] if cleared.applied else L["not_applied"]
            out.append(f"- `{cleared.entry_id}` \"{cleared.matched_name}\" ~ "
                       f"\"{cleared.matched_on}\": {state} ({cleared.reason})")
        out.append("")
    if d.conditions:
        out += [f"### {L['conditions']}", ""]
        for c in d.conditions:
            main = c.text.zh if lang == "zh" else c.text.en
            gloss = c.text.en if lang == "zh" else c.text.zh
            out.append(f"- [ ] {main} / {gloss} (`{c.rule}`)")
        out.append("")
    if d.conditions_to_confirm:
        out += [f"### {L['confirm']}", ""]
        for tc in d.conditions_to_confirm:
            when = " and ".join(tc.applies_if)
            head = f"{L['if']} {when}: " if when else ""
            out.append(f"- [ ] {head}{_pick(tc.text, lang)} (`{tc.rule}`)")
        out.append("")
    for title, group in ((L["missing"], d.missing), (L["optional"], d.optional_facts)):
        if not group:
            continue
        out += [f"### {title}", ""]
        for owner in ("buyer", "exporter", "vendor", "regulator"):
            mine = [m for m in group if m.owner.value == owner]
            if not mine:
                continue
            out += [f"**{L[owner]}**", ""]
            for m in mine:
                q = m.question.zh if lang == "zh" else m.question.en
                out.append(f"- `{m.fact}`: {q} ({L[m.impact.value]}; "
                           f"{', '.join(m.rules)})")
            out.append("")
    if d.what_would_change:
        out += [f"### {L['change']}", ""]
        for change in d.what_would_change:
            out.append(f"- `{change.subject}`:")
            out.extend(f"  - {line}" for line in change.changes)
        out.append("")
    if d.domestic_alternatives:
        out += [f"### {L['alts']}", "",
                f"> {L['question']}: {REGULATOR_QUESTION['zh']}  ",
                f"> {REGULATOR_QUESTION['en']}", "",
                "| chip | status | meets all | checks |", "|---|---|---|---|"]
        for a in d.domestic_alternatives:
            checks = "; ".join(_check_text(c) for c in a.checks) or "no requirement stated"
            meets = {True: "yes", False: "no", None: "unknown"}[a.meets_all]
            out.append(f"| {a.chip_name} | {a.status} | {meets} | {checks} |")
        out.append("")
    return "\n".join(out) + "\n"


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

    def words(value: str) -> str:  # a narrow terminal wraps between words, not inside
        return value.replace("_", " ")

    overview = Table(title="chipclear decisions", box=box.SIMPLE_HEAD, title_justify="left",
                     pad_edge=False, collapse_padding=True)
    overview.add_column("case, as of", overflow="fold")
    for col in ("verdict", "US", "CN"):
        overview.add_column(col, overflow="fold", min_width=11)
    overview.add_column("share USD", overflow="fold", justify="right")
    # blocks / conditions / missing facts
    overview.add_column("b/c/m", no_wrap=True, min_width=5, justify="right")
    for d in decisions:
        sev = [f.severity.value for f in d.findings]
        overview.add_row(f"{printable(d.case_id)}\n{d.as_of}", words(d.verdict.value),
                         words(d.us.status.value), words(d.cn.status.value),
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
        stream.write("# chipclear decisions\n\n")
        for d in decisions:
            stream.write(markdown(d, lang))
    else:
        from rich.console import Console

        table(decisions, console or Console(file=stream), lang)
