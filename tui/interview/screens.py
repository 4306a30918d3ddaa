"""Screens: explain a finding, review every answer, change one answer.

Explanations always show both languages side by side: a memo is often read by a
Chinese-speaking buyer and an English-speaking exporter together.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar, cast

import yaml
from chipclear.interview.explain import Explanation
from chipclear.interview.session import Interview
from chipclear.io.render import because_text
from chipclear.tui.interview import i18n
from chipclear.tui.interview.i18n import t
from chipclear.tui.interview.widgets import LinesList, QuestionForm
from rich.markup import escape
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.screen import ModalScreen, Screen
from textual.widgets import Footer, Header, OptionList, Static
from textual.widgets.option_list import Option

if TYPE_CHECKING:
    from chipclear.tui.interview.app import InterviewApp


class LangFooter(Footer):
    """The footer, with binding labels in the interface language (by binding id).

    Ctrl+P is listed by ``?`` instead of in the footer, so every key fits in 80 columns.
    """

    def __init__(self) -> None:
        super().__init__(show_command_palette=False)

    def compose(self) -> ComposeResult:
        lang = getattr(self.app, "lang", "en")
        for widget in super().compose():
            # Footer keys are a private class of Textual's: recognised by their public fields.
            action = getattr(widget, "action", None)
            if isinstance(action, str) and action in i18n.ACTIONS \
                    and hasattr(widget, "description"):
                widget.description = i18n.pick(i18n.ACTIONS[action], lang)
            yield widget


def explanation_text(ex: Explanation) -> str:
    """Rich markup for one finding: rule, facts used, chain, sources, validity, both languages."""
    f = ex.finding
    out = [f"[b]{escape(f.rule)}[/] · {f.jurisdiction.value} · {f.severity.value} · "
           f"module {escape(ex.module)}",
           f"EN: {escape(f.title.en)}", f"中文: {escape(f.title.zh)}"]
    if f.summary is not None:
        out += ["", f"[b]{t('summary', 'en')} / {t('summary', 'zh')}[/]",
                escape(f.summary.en.strip()), escape(f.summary.zh.strip())]
    until = f"until {f.valid_to}" if f.valid_to else "no end date / 无截止日期"
    out += ["", f"[b]{t('valid', 'en')} / {t('valid', 'zh')}[/]: {f.valid_from} → {until}"]
    out += ["", f"[b]{t('because', 'en')} / {t('because', 'zh')}[/]"]
    out += [escape(f"• {because_text(b)}") for b in f.because] or ["—"]
    if ex.chain:
        out += ["", f"[b]{t('chain', 'en')} / {t('chain', 'zh')}[/]"]
        for link in ex.chain:
            pad = "  " * link.depth
            derives = ", ".join(f"{k}={v}" for k, v in link.derives.items())
            out.append(escape(f"{pad}↳ {link.rule}: {link.title.en} / {link.title.zh}"
                              + (f" ⇒ {derives}" if derives else "")))
            out += [escape(f"{pad}   • {because_text(b)}") for b in link.because]
    out += ["", f"[b]{t('sources', 'en').strip(': ')} / {t('sources', 'zh').strip('：')}[/] "
                f"(confidence: {f.confidence.value})"]
    for s in f.sources:
        out.append(escape(f"• {s.name} ({s.date}, {s.confidence.value}) {s.url}"))
    out += ["", f"[b]{t('condition_data', 'en')} / {t('condition_data', 'zh')}[/]",
            escape(yaml.safe_dump(ex.condition, allow_unicode=True, sort_keys=False).rstrip())]
    return "\n".join(out)


class ExplainScreen(Screen[None]):
    """One finding explained: what rule, which facts, which chain, on whose authority."""

    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "app.pop_screen", "Back", id="back")]

    def __init__(self, explanation: Explanation) -> None:
        super().__init__()
        self.explanation = explanation

    def compose(self) -> ComposeResult:
        yield Header()
        with VerticalScroll(id="explain-body"):
            yield Static(explanation_text(self.explanation), id="explain-text")
        yield LangFooter()

    def on_mount(self) -> None:
        self.title = f"{t('explain', 'en')} / {t('explain', 'zh')}: {self.explanation.finding.rule}"
        self.query_one("#explain-body").focus()

    def relabel(self, lang: str) -> None:
        self.query_one(LangFooter).refresh(recompose=True)


class ReviewScreen(Screen[None]):
    """Every answer; change one and everything re-evaluates; stale answers are marked."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "app.pop_screen", "Back", id="back"),
        Binding("delete", "forget", "Forget", id="forget_answer"),
    ]

    def __init__(self, interview: Interview) -> None:
        super().__init__()
        self.interview = interview
        self.facts: list[str] = []  #: the fact behind each row (a fact may have two rows)

    @property
    def chipapp(self) -> InterviewApp:
        return cast("InterviewApp", self.app)

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static(id="review-label", classes="label")
        yield OptionList(id="answers")
        yield LangFooter()

    def on_mount(self) -> None:
        self.refresh_answers()
        self.query_one("#answers", OptionList).focus()

    def relabel(self, lang: str) -> None:
        self.refresh_answers()
        self.query_one(LangFooter).refresh(recompose=True)

    def refresh_answers(self) -> None:
        lang = self.chipapp.lang
        self.title = t("review", lang).split(" (")[0].split("（")[0]
        self.query_one("#review-label", Static).update(t("review", lang))
        answers = self.query_one("#answers", OptionList)
        keep = answers.highlighted
        answers.clear_options()
        n_items = len(self.interview.data.get("order", {}).get("items") or [])
        options = [Option(escape(f"▸ {t('edit_lines', lang)}: {n_items}"), id="row-0")]
        self.facts = ["order.items"]
        for a in self.interview.answers():
            if a.fact == "as_of":
                label = t("as_of", lang).split(" (")[0].split("（")[0]
            else:
                label = i18n.text(a.question, lang)
            value = t("unknown_mark", lang) if a.unknown else a.display
            mark = "✓" if a.relevant else "·"
            if not a.relevant:
                stale = f"  ({t('not_needed', lang)})"
            elif a.without and a.without != "—":
                stale = f"  ({t('without_it', lang, outcome=a.without)})"
            elif a.without is None:
                stale = f"  ({t('used_by_rule', lang)})"
            else:
                stale = ""
            options.append(Option(escape(f"{mark} {a.fact} = {value}{stale}\n   {label}"),
                                  id=f"row-{len(self.facts)}"))
            self.facts.append(a.fact)
        answers.add_options(options)
        if keep is not None and options:
            answers.highlighted = min(keep, len(options) - 1)

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        fact = self._fact(event.option_index)
        if fact is None:
            return
        current: Any
        if fact == "order.items":
            current = self.interview.data.get("order", {}).get("items") or []
        else:
            from chipclear.interview.paths import get_path

            current = get_path(self.interview.data, fact)
        self.app.push_screen(EditScreen(self.interview, fact, current))

    def action_forget(self) -> None:
        answers = self.query_one("#answers", OptionList)
        fact = self._fact(answers.highlighted)
        if fact is not None:
            self.chipapp.forget(fact)

    def _fact(self, row: int | None) -> str | None:
        return self.facts[row] if row is not None and 0 <= row < len(self.facts) else None


class EditScreen(Screen[None]):
    """Change one answer; closes when the engine accepts it, keeps the input otherwise."""

    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "app.pop_screen", "Back", id="back")]

    def __init__(self, interview: Interview, fact: str, current: Any) -> None:
        super().__init__()
        self.interview = interview
        self.fact = fact
        self.current = current

    def compose(self) -> ComposeResult:
        app = self.app
        lang = getattr(app, "lang", "en")
        yield Header()
        yield QuestionForm(self.interview.pack, self.interview.view(self.fact), lang,
                           current=self.current, id="edit-form")
        yield LangFooter()

    def on_mount(self) -> None:
        self.title = self.fact

    def relabel(self, lang: str) -> None:
        self.query_one(QuestionForm).relabel(lang)
        self.query_one(LangFooter).refresh(recompose=True)


class KeysScreen(ModalScreen[None]):
    """``?``: every key of the interview, in the interface language."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,question_mark,q", "app.pop_screen", "Back", id="back"),
    ]

    def __init__(self, lang: str, app_bindings: list[BindingType]) -> None:
        super().__init__()
        self.lang = lang
        self.app_bindings = app_bindings

    def compose(self) -> ComposeResult:
        rows = [f"[b]{t('keys', self.lang)}[/]", ""]
        places = ((self.app_bindings, ""),
                  (ReviewScreen.BINDINGS, t("review_short", self.lang)),
                  (LinesList.BINDINGS, t("lines", self.lang)))
        for bindings, where in places:
            for b in bindings:
                if not isinstance(b, Binding) or not b.id or b.id in ("return", "back"):
                    continue  # Esc is explained once, below
                label = i18n.pick(i18n.ACTIONS.get(b.id, (b.description, b.description)),
                                  self.lang)
                help_pair = i18n.ACTION_HELP.get(b.id)
                help_text = i18n.pick(help_pair, self.lang) if help_pair else ""
                key = _key_name(b.key)
                scope = f" [{where}]" if where else ""
                rows.append(escape(f"{key:<10} {label}{scope}  {help_text}"))
        rows += ["", escape(f"{'Enter':<10} {t('enter_hint', self.lang)}"),
                 escape(f"{'Esc':<10} {t('esc_help', self.lang)}"),
                 escape(f"{'Ctrl+P':<10} {t('palette', self.lang)}"),
                 escape(f"{'Ctrl+Q':<10} {t('quit_help', self.lang)}")]
        with VerticalScroll(id="keys-body"):
            yield Static("\n".join(rows), id="keys-text")


def _key_name(key: str) -> str:
    """``ctrl+s`` -> ``Ctrl+S``, ``f3`` -> ``F3``, ``question_mark`` -> ``?``."""
    names = {"question_mark": "?", "escape": "Esc", "delete": "Del"}
    return "/".join(names.get(k, "+".join(p.capitalize() if len(p) > 1 else p.upper()
                                          for p in k.split("+")))
                    for k in key.split(","))
