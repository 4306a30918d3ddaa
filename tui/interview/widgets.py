"""Widgets: the question form (one input per question type) and the decision panel.

They only present what ``engine.interview`` computes; no rule logic lives here. A
form posts ``Answered`` and keeps what the user typed until the engine accepts it, so
an invalid answer never loses the input.
"""

from __future__ import annotations

from typing import Any, ClassVar

from chipclear.interview.coerce import COUNTRIES, DONT_KNOW, NO, YES, dense_tflops, number
from chipclear.interview.session import UNKNOWN, Interview, QuestionView
from chipclear.io import labels
from chipclear.io.render import REGULATOR_QUESTION
from chipclear.model.decision import Decision
from chipclear.pack.catalog import compute_tpp
from chipclear.pack.loader import InputType, RulePack
from chipclear.tui.interview import i18n
from chipclear.tui.interview.i18n import t
from rich.markup import escape
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.message import Message
from textual.screen import ModalScreen
from textual.widget import Widget
from textual.widgets import Button, Collapsible, Input, OptionList, Static
from textual.widgets.option_list import Option


class Answered(Message):
    """The user submitted an answer for ``fact`` (``UNKNOWN`` for "don't know")."""

    def __init__(self, fact: str, value: Any) -> None:
        super().__init__()
        self.fact = fact
        self.value = value


def _money(value: float | None) -> str:
    return "—" if value is None else f"${value:,.2f}"


class LinesList(OptionList):
    """The order lines so far: Enter takes a line back into the fields, Delete removes it."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("delete", "remove_line", "Remove line", id="remove_line"),
    ]

    class Remove(Message):
        def __init__(self, index: int, edit: bool) -> None:
            super().__init__()
            self.index = index
            self.edit = edit

    def action_remove_line(self) -> None:
        if self.highlighted is not None and self.option_count:
            self.post_message(self.Remove(self.highlighted, edit=False))


def check_line(quantity: str, price: str) -> tuple[dict[str, Any], str | None]:
    """Quantity and unit price as typed -> line fields, or the first thing wrong with them."""
    line: dict[str, Any] = {}
    for key, raw in (("quantity", quantity), ("unit_price_usd", price)):
        if not raw.strip():
            continue
        try:
            value = number(raw)
        except ValueError as exc:
            return line, str(exc)
        if key == "quantity" and (not float(value).is_integer() or value < 1):
            return line, f"'{raw}' is not a whole number of chips (1 or more)"
        if value < 0:
            return line, f"'{raw}' is negative"
        line[key] = value
    return line, None


class ItemsEditor(Vertical):
    """Order lines with a chip picker that searches the catalog by name or alias."""

    def __init__(self, pack: RulePack, lang: str, fact: str,
                 lines: list[dict[str, Any]] | None = None, **kw: Any) -> None:
        super().__init__(**kw)
        self.pack = pack
        self.lang = lang
        self.fact = fact
        self.lines: list[dict[str, Any]] = [dict(x) for x in lines or []]
        self.picked: str | None = None

    def compose(self) -> ComposeResult:
        yield Static(id="lines-label", classes="label")
        yield LinesList(id="lines")
        yield Input(placeholder=t("chip_search", self.lang), id="chip-search")
        yield OptionList(id="chip-results")
        with Horizontal(id="qty-row"):
            yield Input(placeholder=t("quantity", self.lang), id="qty")
            yield Input(placeholder=t("unit_price", self.lang), id="price")
        with Horizontal(id="lines-buttons"):
            yield Button(t("add_line", self.lang), id="add-line")
            yield Button(t("custom_chip", self.lang), id="custom-chip")
            yield Button(t("done_lines", self.lang), id="done-lines", variant="primary")
        yield Static(t("items_hint", self.lang), classes="hint", id="items-hint")

    def on_mount(self) -> None:
        self._show_lines()
        self._search("")

    def relabel(self, lang: str) -> None:
        self.lang = lang
        self.query_one("#chip-search", Input).placeholder = t("chip_search", lang)
        self.query_one("#qty", Input).placeholder = t("quantity", lang)
        self.query_one("#price", Input).placeholder = t("unit_price", lang)
        self.query_one("#add-line", Button).label = t("add_line", lang)
        self.query_one("#done-lines", Button).label = t("done_lines", lang)
        self.query_one("#custom-chip", Button).label = t("custom_chip", lang)
        self.query_one("#items-hint", Static).update(t("items_hint", lang))
        self._show_lines()

    def _show_lines(self) -> None:
        self.query_one("#lines-label", Static).update(f"{t('lines', self.lang)}:")
        rows = []
        for i, line in enumerate(self.lines, 1):
            chip = self.pack.catalog.resolve(str(line.get("chip", "")))
            raw_spec = line.get("spec")
            spec: dict[str, Any] = raw_spec if isinstance(raw_spec, dict) else {}
            name = chip.name if chip else str(line.get("chip") or spec.get("name", "?"))
            qty = line.get("quantity", "?")
            price = line.get("unit_price_usd")
            rows.append(Option(f"{i}. {escape(name)} × {qty} @ {_money(_float(price))}"))
        lines = self.query_one("#lines", LinesList)
        lines.clear_options()
        lines.add_options(rows)
        lines.display = bool(rows)

    def on_lines_list_remove(self, event: LinesList.Remove) -> None:
        event.stop()
        if 0 <= event.index < len(self.lines):
            line = self.lines.pop(event.index)
            if event.edit:
                self._load(line)
            self._show_lines()

    def _load(self, line: dict[str, Any]) -> None:
        """Put a line back into the fields to change it (it is added again with Enter)."""
        chip = self.pack.catalog.resolve(str(line.get("chip", "")))
        search = self.query_one("#chip-search", Input)
        search.value = chip.name if chip else str(line.get("chip") or "")
        self.picked = chip.id if chip else None
        self.query_one("#qty", Input).value = str(line.get("quantity", ""))
        self.query_one("#price", Input).value = str(line.get("unit_price_usd", ""))
        self.query_one("#qty", Input).focus()

    def _search(self, query: str) -> None:
        results = self.query_one("#chip-results", OptionList)
        results.clear_options()
        chips = self.pack.catalog.search(query, limit=8) if query.strip() else \
            list(self.pack.catalog.chips.values())[:8]
        exact = self.pack.catalog.resolve(query) if query.strip() else None
        if exact is not None:
            chips = [exact, *(c for c in chips if c.id != exact.id)]
        for chip in chips:
            results.add_option(Option(f"{escape(chip.name)}  [dim]{chip.id}[/]", id=chip.id))
        if chips:
            results.highlighted = 0
        self.picked = None

    def on_input_changed(self, event: Input.Changed) -> None:
        if event.input.id == "chip-search":
            event.stop()
            self._search(event.value)

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        if event.input.id == "chip-search":
            if not event.value.strip() and self.lines:
                self._finish()
                return
            exact = self.pack.catalog.resolve(event.value) if event.value.strip() else None
            results = self.query_one("#chip-results", OptionList)
            if exact is not None:  # an exact id or alias wins over the first search hit
                self._pick(exact.id)
            elif results.highlighted is not None and results.option_count:
                self._pick(results.get_option_at_index(results.highlighted).id)
            elif event.value.strip():
                self._error(t("no_match", self.lang, q=event.value))
        elif event.input.id == "qty":
            self.query_one("#price", Input).focus()
        elif event.input.id == "price":
            self._add()

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        if isinstance(event.option_list, LinesList):
            self.post_message(LinesList.Remove(event.option_index, edit=True))
        else:
            self._pick(event.option.id)

    def _pick(self, chip_id: str | None) -> None:
        if chip_id is None:
            return
        self.picked = chip_id
        chip = self.pack.catalog.chips[chip_id]
        self.query_one("#chip-search", Input).value = chip.name
        self.picked = chip_id  # the change event above cleared it
        self.query_one("#qty", Input).focus()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        if event.button.id == "add-line":
            self._add()
        elif event.button.id == "custom-chip":
            interview = getattr(self.app, "interview", None)
            if interview is not None:
                self.app.push_screen(CustomChipScreen(interview, self.lang), self._custom)
        else:
            if self.query_one("#chip-search", Input).value.strip():
                self._add()
            if self.lines:
                self._finish()

    def _add(self) -> None:
        search = self.query_one("#chip-search", Input)
        chip = self.picked
        if chip is None and search.value.strip():
            found = self.pack.catalog.resolve(search.value)
            chip = found.id if found else None
        if chip is None:
            self._error(t("pick_chip", self.lang))
            search.focus()
            return
        fields, problem = check_line(self.query_one("#qty", Input).value,
                                     self.query_one("#price", Input).value)
        if problem is not None:
            self._error(problem)
            self.query_one("#qty" if "quantity" not in fields else "#price", Input).focus()
            return
        self.lines.append({"chip": chip, **fields})
        for widget_id in ("#qty", "#price"):
            self.query_one(widget_id, Input).value = ""
        search.value = ""
        self.picked = None
        self._show_lines()
        self._error("")
        search.focus()

    def _custom(self, line: dict[str, Any] | None) -> None:
        if line is not None:
            self.lines.append(line)
            self._show_lines()
            self._error("")

    def _finish(self) -> None:
        self.post_message(Answered(self.fact, [dict(x) for x in self.lines]))

    def _error(self, message: str) -> None:
        for form in self.ancestors:
            if isinstance(form, QuestionForm):
                form.show_error(message)
                return


def _float(value: Any) -> float | None:
    try:
        return float(str(value).replace(",", ""))
    except (TypeError, ValueError):
        return None


class QuestionForm(Vertical):
    """One question: its text, help, the input that fits its type, and inline errors."""

    def __init__(self, pack: RulePack, view: QuestionView | None, lang: str,
                 current: Any = None, number: int = 0, progress: tuple[int, int] | None = None,
                 note: str = "", **kw: Any) -> None:
        super().__init__(**kw)
        self.pack = pack
        self.view = view
        self.lang = lang
        self.current = current
        self.number = number
        self.progress = progress  #: (decisive questions left, all left) after this one
        self.note = note  #: a line above the question (resume note, "going back")

    def compose(self) -> ComposeResult:
        # The question stays put; only what is below it scrolls (80x24 keeps it in view).
        yield Static(id="q-progress", classes="dim")
        yield Static(id="q-text", classes="question")
        with VerticalScroll(id="q-body"):
            yield from self._body()

    def _body(self) -> ComposeResult:
        yield Static(id="q-help", classes="help")
        v = self.view
        if v is not None:
            if v.input is InputType.items:
                yield ItemsEditor(self.pack, self.lang, v.fact,
                                  self.current if isinstance(self.current, list) else None,
                                  id="items-editor")
            elif v.input in (InputType.choice, InputType.yesno):
                yield OptionList(*self._options(), id="q-options")
            else:
                value = "" if self.current is None else str(self.current)
                yield Input(value=value, placeholder=self._placeholder(), id="q-input")
        yield Static(id="q-error", classes="error")
        yield Static(id="q-why", classes="why")
        with Collapsible(id="q-rules", title="", collapsed=True):
            yield Static(id="q-rules-text", classes="why")

    def on_mount(self) -> None:
        self.relabel(self.lang)
        self.focus_input()

    def focus_input(self) -> None:
        for selector in ("#chip-search", "#q-options", "#q-input"):
            found = self.query(selector)
            if found:
                found.first().focus()
                return

    def _placeholder(self) -> str:
        v = self.view
        if v is None:
            return ""
        if v.fact == "as_of" or v.input is InputType.date:
            return "YYYY-MM-DD"
        if v.fact.endswith("dense_tflops"):
            return "fp8=1979, bf16=989"
        if v.input is InputType.country:
            return "CN, MO, HK, US, MY…"
        return v.unit or ""

    def _options(self) -> list[Option]:
        v = self.view
        assert v is not None
        if v.input is InputType.yesno:
            pairs = [("yes", t("yes", self.lang)), ("no", t("no", self.lang))]
        else:
            pairs = [(c, i18n.choice(c, self.lang)) for c in v.choices]
        pairs.append((UNKNOWN, t("dont_know", self.lang)))
        return [Option(escape(label), id=value) for value, label in pairs]

    def relabel(self, lang: str) -> None:
        """Switch language without touching what the user has typed."""
        self.lang = lang
        v = self.view
        parts = []
        if v is not None and i18n.text(v.section, lang):
            parts.append(i18n.text(v.section, lang))
        if self.number:
            parts.append(t("question_n", lang, n=self.number))
        if self.progress is not None:
            decisive, total = self.progress
            parts.append(t("left_n" if decisive == total else "left_all", lang,
                           decisive=decisive, total=total))
        if v is not None and v.item_label:
            parts.append(f"{t('item', lang)} {v.item_label}")
        head = " · ".join(parts)
        if self.note:
            head = f"{self.note}\n{head}"
        self.query_one("#q-progress", Static).update(escape(head))
        if v is None:
            self.query_one("#q-text", Static).update("")
            return
        label = i18n.text(v.text, lang)
        if v.fact == "as_of":
            label = t("as_of", lang)
        elif v.fact.endswith("].chip"):
            label = t("chip_q", lang)
        unit = f" ({v.unit})" if v.unit else ""
        self.query_one("#q-text", Static).update(escape(label + unit))
        hint = t("text_hint" if v.input is InputType.text else "enter_hint", lang)
        help_text = i18n.text(v.help, lang)
        self.query_one("#q-help", Static).update(
            escape(help_text + ("\n" if help_text else "") + hint))
        why = ""
        if v.reason is not None:
            why = t("why", lang) + i18n.text(v.reason, lang)
        elif v.rules:
            why = t("why", lang) + t("why_rules", lang, n=len(v.rules))
        self.query_one("#q-why", Static).update(escape(why))
        rules = self.query_one("#q-rules", Collapsible)
        rules.display = bool(v.rules)
        rules.title = t("rules_n", lang, n=len(v.rules))
        detail = i18n.text(v.why, lang)
        if v.sources:
            detail += "\n" + t("sources", lang) + "; ".join(
                f"{s.name} ({s.date}, {s.confidence.value})" for s in v.sources)
        self.query_one("#q-rules-text", Static).update(escape(detail))
        options = self.query("#q-options")
        if options:
            ol = options.first(OptionList)
            keep = ol.highlighted
            ol.clear_options()
            ol.add_options(self._options())
            ol.highlighted = keep if keep is not None else 0
        inputs = self.query("#q-input")
        if inputs:
            inputs.first(Input).placeholder = self._placeholder()
        editors = self.query(ItemsEditor)
        if editors:
            editors.first().relabel(lang)

    def show_error(self, message: str) -> None:
        self.query_one("#q-error", Static).update(escape(f"✗ {message}") if message else "")

    def on_input_changed(self, event: Input.Changed) -> None:
        """Validation while typing: the same check the answer will get, shown at once."""
        if event.input.id != "q-input" or self.view is None:
            return
        event.stop()
        interview = getattr(self.app, "interview", None)
        text = event.value.strip()
        if interview is None or not text or text.casefold() in DONT_KNOW:
            self.show_error("")
            return
        try:
            interview.coerce(self.view.fact, text)
        except ValueError as exc:
            self.show_error(str(exc))
        else:
            self.show_error("")

    def on_input_submitted(self, event: Input.Submitted) -> None:
        if event.input.id == "q-input" and self.view is not None:
            event.stop()
            self.post_message(Answered(self.view.fact, event.value))

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        if event.option_list.id == "q-options" and self.view is not None:
            event.stop()
            self.post_message(Answered(self.view.fact, event.option.id))

    def dont_know(self) -> None:
        if self.view is not None:
            self.post_message(Answered(self.view.fact, UNKNOWN))


class FindingList(OptionList):
    """Findings grouped block / condition / info; Enter opens the explanation."""


class DecisionPanel(Vertical):
    """The live decision: verdict, statuses, cost, findings, checklist, alternatives.

    The verdict and statuses never scroll away; the rest scrolls below them.
    """

    def __init__(self, **kw: Any) -> None:
        super().__init__(**kw)
        self.decision: Decision | None = None
        self.open_facts: list[str] = []
        self.lang = "en"

    def compose(self) -> ComposeResult:
        yield Static(id="verdict")
        yield Static(id="statuses")
        with VerticalScroll(id="panel-body"):
            yield Static(id="findings-label", classes="label")
            yield FindingList(id="findings")
            yield Static(id="conditions")
            yield Static(id="open-facts")
            yield Static(id="alternatives")

    def show(self, decision: Decision, lang: str, open_facts: list[str]) -> None:
        """Fill every part of the panel from one decision (verdict, statuses, lines,
        findings, open facts, alternatives): a flat sequence of widget updates, long only
        because the panel has that many parts."""
        self.decision = decision
        self.lang = lang
        self.open_facts = open_facts
        d = decision
        symbol, en, zh = i18n.VERDICTS[d.verdict.value]
        verdict = self.query_one("#verdict", Static)
        verdict.update(f"{symbol} {t('verdict', lang)}: {zh if lang == 'zh' else en}")
        verdict.set_classes(f"verdict-{d.verdict.value}")
        lines = [f"{t('us', lang)}: {i18n.status('us_status', d.us.status.value, lang)} · "
                 f"{t('cn', lang)}: {i18n.status('cn_status', d.cn.status.value, lang)}"]
        if d.us.revenue_share_pct is not None:
            lines.append(f"{t('share', lang)}: {d.us.revenue_share_pct:g}% = "
                         f"{_money(d.us.revenue_share_usd)}")
        lines.append(f"{labels.label('as_of', lang)} {d.as_of}")
        lines.extend(f"⚠ {w.text.zh if lang == 'zh' else w.text.en}" for w in d.warnings)
        if d.conditions_to_confirm:
            lines.append(t("to_confirm_n", lang, n=len(d.conditions_to_confirm)))
        self.query_one("#statuses", Static).update(escape("\n".join(lines)))
        self.query_one("#findings-label", Static).update(t("findings", lang))
        findings = self.query_one("#findings", FindingList)
        keep = findings.highlighted_option.id if findings.highlighted_option else None
        findings.clear_options()
        options: list[Option] = []
        for sev in ("block", "condition", "info"):
            group = [f for f in d.findings if f.severity.value == sev]
            if not group:
                continue
            options.append(Option(f"[b]{t(sev, lang)} ({len(group)})[/]", disabled=True))
            for f in group:
                mark = {"block": "✗", "condition": "!", "info": "·"}[sev]
                options.append(Option(escape(f"{mark} {f.rule} {i18n.text(f.title, lang)}"),
                                      id=f.rule))
        if not options:
            options.append(Option(t("no_findings", lang), disabled=True))
        findings.add_options(options)
        ids = [o.id for o in options]
        if keep in ids:
            findings.highlighted = ids.index(keep)
        cond = ""
        if d.conditions:
            cond = f"[b]{t('conditions', lang)}[/]\n" + "\n".join(
                escape(f"☐ {i18n.text(c.text, lang)} ({c.rule})") for c in d.conditions)
        self.query_one("#conditions", Static).update(cond)
        open_text = ""
        if open_facts:
            open_text = f"[b]{t('unknown_facts', lang)}[/]\n" + escape(", ".join(open_facts))
        self.query_one("#open-facts", Static).update(open_text)
        alts = ""
        if d.domestic_alternatives:
            rows = []
            for a in d.domestic_alternatives:
                meets = {True: "✓", False: "✗", None: "?"}[a.meets_all]
                checks = "; ".join(
                    f"{c.requirement} {c.offered or '?'}"
                    f"{'✓' if c.meets else ('✗' if c.meets is False else '?')}"
                    for c in a.checks)
                rows.append(escape(f"{meets} {a.chip_name} ({a.status})"
                                   + (f": {checks}" if checks else "")))
            question = REGULATOR_QUESTION["zh" if lang == "zh" else "en"]
            alts = (f"[b]{t('alternatives', lang)}[/] ({t('meets', lang)})\n"
                    f"{t('regulator', lang)}: {escape(question)}\n" + "\n".join(rows))
        self.query_one("#alternatives", Static).update(alts)


def info_line(widget: Widget, message: str) -> None:
    """Show a short status message (exports, saves) without a modal."""
    widget.notify(message, timeout=4)


def _owner(condition: Any, decision: Decision) -> str:
    """Who must act on a condition: the decision's ``owner`` when given, else by law."""
    owner = getattr(condition, "owner", None)
    value = getattr(owner, "value", owner)
    if value:
        return str(value)
    finding = next((f for f in decision.findings if f.rule == condition.rule), None)
    if finding is not None and finding.jurisdiction.value.lower() == "us":
        return "exporter"
    return "buyer"


class Ending(VerticalScroll):
    """The last word in the main pane: verdict in words, statuses, who must do what, actions."""

    def __init__(self, interview: Interview, lang: str, **kw: Any) -> None:
        super().__init__(**kw)
        self.interview = interview
        self.lang = lang

    def compose(self) -> ComposeResult:
        yield Static(id="end-verdict", classes="question")
        yield Static(id="end-text")
        with Horizontal(id="end-actions"):
            yield Button("", id="end-memo", action="app.export_markdown")
            yield Button("", id="end-json", action="app.export_json")
            yield Button("", id="end-ledger", action="app.record")
            yield Button("", id="end-continue", action="app.continue_optional")

    def on_mount(self) -> None:
        self.relabel(self.lang)

    def relabel(self, lang: str) -> None:
        self.lang = lang
        d = self.interview.decision
        symbol, en, zh = i18n.VERDICTS[d.verdict.value]
        verdict = self.query_one("#end-verdict", Static)
        verdict.update(escape(f"{symbol} {zh if lang == 'zh' else en}: "
                              f"{t('verdict_' + d.verdict.value, lang)}"))
        verdict.set_classes(f"question verdict-{d.verdict.value}")
        out = [escape(f"{t('us', lang)}: {i18n.status('us_status', d.us.status.value, lang)}"
                      f" · {t('cn', lang)}: {i18n.status('cn_status', d.cn.status.value, lang)}"
                      f" · {t('as_of_short', lang)} {d.as_of}")]
        groups: dict[str, list[str]] = {}
        for c in d.conditions:
            groups.setdefault(_owner(c, d), []).append(
                escape(f"☐ {i18n.text(c.text, lang)} ({c.rule})"))
        for owner, rows in groups.items():
            out += ["", f"[b]{escape(t('must_act', lang, who=i18n.choice_word(owner, lang)))}[/]",
                    *rows]
        total = self.interview.progress()[1]
        optional = self.interview.pending()[:8] if total else []
        open_facts = self.interview.open_facts()
        if optional or open_facts:
            out += ["", f"[b]{t('still_open', lang)}[/]"]
            out += [escape(f"· {i18n.text(q.text, lang)}") for q in optional]
            out += [escape(f"· {f} ({t('unknown_mark', lang)})") for f in open_facts]
        self.query_one("#end-text", Static).update("\n".join(out))
        self.query_one("#end-memo", Button).label = t("end_memo", lang)
        self.query_one("#end-json", Button).label = t("end_json", lang)
        self.query_one("#end-ledger", Button).label = t("end_ledger", lang)
        cont = self.query_one("#end-continue", Button)
        cont.label = t("end_continue", lang, n=total)
        cont.display = bool(total)


#: The custom-chip form's fields: (field id, spec key or line key, i18n label key).
CUSTOM_FIELDS: tuple[tuple[str, str], ...] = (
    ("name", "c_name"), ("vendor", "c_vendor"), ("vendor_country", "c_country"),
    ("family", "c_family"), ("datacenter", "c_datacenter"), ("dense_tflops", "c_dense"),
    ("die_area_mm2", "c_die"), ("memory_gb", "c_memory"),
    ("memory_bandwidth_gbs", "c_bandwidth"), ("quantity", "quantity"),
    ("unit_price_usd", "unit_price"),
)


def custom_line(values: dict[str, str]) -> tuple[dict[str, Any], list[str]]:
    """The form's text -> an order line with ``custom: true``, and what is wrong with it."""
    spec: dict[str, Any] = {}
    line: dict[str, Any] = {"custom": True}
    problems: list[str] = []
    for key, raw in values.items():
        text = raw.strip()
        if not text:
            continue
        try:
            if key in ("name", "vendor", "family"):
                spec[key] = text
            elif key == "vendor_country":
                code = COUNTRIES.get(text.casefold(), text.upper())
                if len(code) != 2 or not code.isalpha():
                    raise ValueError(f"'{text}' is not a two-letter country code")
                spec[key] = code
            elif key == "datacenter":
                if text.casefold() not in YES | NO:
                    raise ValueError("datacenter: answer yes or no")
                spec[key] = text.casefold() in YES
            elif key == "dense_tflops":
                spec[key] = dense_tflops(text)
            elif key in ("quantity", "unit_price_usd"):
                fields, problem = check_line(text if key == "quantity" else "",
                                             text if key == "unit_price_usd" else "")
                if problem:
                    raise ValueError(problem)
                line.update(fields)
            else:
                value = number(text)
                if (value <= 0 and key == "die_area_mm2") or value < 0:
                    raise ValueError(f"{key}: '{text}' must be positive")
                spec[key] = value
        except ValueError as exc:
            problems.append(str(exc))
    if "name" not in spec:
        problems.append("give the chip's name")
    line["spec"] = spec
    return line, problems


class CustomChipScreen(ModalScreen[dict[str, Any] | None]):
    """A chip the catalog lacks: its datasheet figures, with TPP, performance density and
    the engine's classification recomputed as the user types."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel", "Back", id="back"),
    ]

    def __init__(self, interview: Interview, lang: str) -> None:
        super().__init__()
        self.interview = interview
        self.lang = lang
        self.live = ""  #: the TPP and density line; the classification is added below it

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="custom-body"):
            yield Static(t("c_title", self.lang), classes="question")
            for key, label in CUSTOM_FIELDS:
                yield Input(placeholder=t(label, self.lang), id=f"c-{key}")
            yield Static(id="custom-live", classes="why")
            yield Static(id="custom-error", classes="error")
            with Horizontal(id="custom-buttons"):
                yield Button(t("add_line", self.lang), id="custom-add", variant="primary")
                yield Button(t("c_cancel", self.lang), id="custom-cancel")

    def on_mount(self) -> None:
        self.query_one("#c-name", Input).focus()
        self._update()

    def _values(self) -> dict[str, str]:
        return {key: self.query_one(f"#c-{key}", Input).value for key, _ in CUSTOM_FIELDS}

    def on_input_changed(self, event: Input.Changed) -> None:
        event.stop()
        self._update()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.focus_next()

    def _update(self) -> None:
        line, problems = custom_line(self._values())
        spec = line["spec"]
        tpp, precision = compute_tpp(spec.get("dense_tflops") or {})
        density = tpp / spec["die_area_mm2"] if tpp and spec.get("die_area_mm2") else None
        live = [f"TPP: {tpp:,.0f} ({precision})" if tpp is not None else "TPP: —",
                f"PD: {density:.2f}" if density is not None else "PD: —"]
        self.live = escape(" · ".join(live))
        self.query_one("#custom-live", Static).update(self.live)
        self.query_one("#custom-error", Static).update(
            escape("✗ " + "; ".join(problems)) if problems else "")
        if not problems:
            self._classify(line)

    @work(thread=True, exclusive=True, group="custom-preview")
    def _classify(self, line: dict[str, Any]) -> None:
        try:
            eccn, status = self.interview.preview_line(line)
        except Exception as exc:  # a half-typed chip the engine refuses: say so, no crash
            text = f"✗ {exc}"
        else:
            text = f"{t('c_class', self.lang)}: {eccn or '—'} · US: {status}"
        self.app.call_from_thread(self._show_class, text)

    def _show_class(self, text: str) -> None:
        if self.is_mounted:
            self.query_one("#custom-live", Static).update(f"{self.live}\n{escape(text)}")

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        if event.button.id == "custom-cancel":
            self.dismiss(None)
            return
        line, problems = custom_line(self._values())
        if problems:
            self.query_one("#custom-error", Static).update(escape("✗ " + "; ".join(problems)))
            return
        self.dismiss(line)

    def action_cancel(self) -> None:
        self.dismiss(None)
