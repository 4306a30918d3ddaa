"""``chipclear interview``: the Textual app around ``chipclear.interview.session.Interview``.

Questions on the left, the live decision on the right. Every answer is evaluated in a
worker thread (the engine never blocks the screen) and autosaved atomically, so
killing the terminal loses at most the answer being typed. Every action is a Binding
with an id: shown in the footer, listed in the command palette, and remappable with
``CHIPCLEAR_KEYMAP="review=f9,export_json=ctrl+j"``.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterable
from pathlib import Path
from typing import Any, ClassVar

from chipclear.errors import ChipclearError, ExitCode
from chipclear.interview.paths import get_path
from chipclear.interview.session import UNKNOWN, Interview, default_case_path
from chipclear.model.decision import Decision, Verdict
from chipclear.pack.loader import RulePack
from chipclear.tui.interview import i18n
from chipclear.tui.interview.i18n import t
from chipclear.tui.interview.screens import (
    EditScreen,
    ExplainScreen,
    KeysScreen,
    LangFooter,
    ReviewScreen,
)
from chipclear.tui.interview.widgets import (
    Answered,
    DecisionPanel,
    Ending,
    FindingList,
    QuestionForm,
)
from textual import work
from textual.app import App, ComposeResult, SystemCommand
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.reactive import reactive
from textual.screen import Screen
from textual.widgets import Header, Static


class InterviewApp(App[int]):
    """Walks a buyer through one purchase case, asking only what the rules still need."""

    CSS_PATH = "app.tcss"
    TITLE = "chipclear"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("f2", "toggle_language", "中文", id="toggle_language"),
        Binding("f3", "review", "Review", id="review"),
        Binding("f4", "findings", "Findings", id="findings"),
        # Exports are on the ending screen and in ``?``; the footer must fit 80 columns.
        Binding("f5", "export_markdown", "Memo", id="export_markdown", show=False),
        Binding("f6", "export_json", "JSON", id="export_json", show=False),
        Binding("f7", "dont_know", "Don't know", id="dont_know"),
        Binding("ctrl+b", "previous", "Back", id="previous"),
        Binding("ctrl+s", "save", "Save", id="save"),
        Binding("question_mark", "show_keys", "Keys", id="show_keys"),
        Binding("escape", "return", "Continue", id="return", show=False),
    ]

    #: Below this the question or the verdict would be cut off; a banner says so.
    MIN_SIZE = (80, 24)

    lang: reactive[str] = reactive("en", init=False)

    def __init__(self, interview: Interview, lang: str | None = None,
                 ledger: Path | None = None) -> None:
        super().__init__()
        self.interview = interview
        self.ledger = ledger
        self.optional = False  #: the user chose to go on with non-decisive questions
        self.set_reactive(InterviewApp.lang, lang or i18n.default_lang())
        self.questions_shown = 0
        self.last_export: Path | None = None
        self.recorded: Decision | None = None  #: what the ending last put in the ledger
        self.revisit: int | None = None  #: position in ``interview.asked`` shown by Back
        self.note = t("resumed", self.lang, n=interview.resumed) if interview.resumed else ""

    # -- layout -----------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static(id="too-small", classes="error")
        with Horizontal(id="body"):
            yield Vertical(id="left")
            yield DecisionPanel(id="panel")
        yield LangFooter()

    def on_resize(self) -> None:
        self._size_banner()

    def _size_banner(self) -> None:
        banners = self.main.query("#too-small")
        if not banners:
            return
        w, h = self.size
        small = w < self.MIN_SIZE[0] or h < self.MIN_SIZE[1]
        banner = banners.first(Static)
        banner.display = small
        banner.update(t("too_small", self.lang, w=w, h=h) if small else "")

    async def on_mount(self) -> None:
        keymap = os.environ.get("CHIPCLEAR_KEYMAP", "")
        if keymap:
            pairs = dict(p.split("=", 1) for p in keymap.split(",") if "=" in p)
            self.update_keymap({k.strip(): v.strip() for k, v in pairs.items()})
        self._titles()
        self._size_banner()
        self.refresh_panel()
        await self.show_next()

    def _titles(self) -> None:
        self.title = t("title", self.lang)
        where = self.interview.path or Path("(not saved)")
        self.sub_title = t("saving_to", self.lang, path=str(where))

    @property
    def main(self) -> Screen[Any]:
        """The question-and-decision screen, whichever screen is on top."""
        return self.screen_stack[0]

    def refresh_panel(self) -> None:
        self.main.query_one(DecisionPanel).show(self.interview.decision, self.lang,
                                           self.interview.open_facts())

    async def show_next(self) -> None:
        """Replace the question pane with the most useful question, or the ending."""
        self.revisit = None
        left = self.main.query_one("#left", Vertical)
        await left.remove_children()
        view = self.interview.next_question()
        decisive, total = self.interview.progress()
        if view is None or (decisive == 0 and not self.optional):
            ending = Ending(self.interview, self.lang, id="done")
            await left.mount(ending)
            # Focus the ending itself, not whatever Textual picks once the question's
            # input is gone: its actions are reachable by keyboard scrolling (at 80x24
            # they are below the fold) and the screen is the same however fast it drew.
            ending.focus()
            return
        self.questions_shown += 1
        note, self.note = self.note, ""
        await left.mount(QuestionForm(self.interview.pack, view, self.lang,
                                      number=self.questions_shown,
                                      progress=(decisive, total), note=note, id="form"))

    async def show_earlier(self, position: int) -> None:
        """Show an answer given earlier in this session, filled in, to change it."""
        fact = self.interview.asked[position]
        self.revisit = position
        left = self.main.query_one("#left", Vertical)
        await left.remove_children()
        current = UNKNOWN if fact in self.interview.unknown else (
            self.interview.data.get("order", {}).get("items") if fact == "order.items"
            else get_path(self.interview.data, fact))
        await left.mount(QuestionForm(self.interview.pack, self.interview.view(fact), self.lang,
                                      current=None if current == UNKNOWN else current,
                                      note=t("going_back", self.lang), id="form"))

    # -- answering --------------------------------------------------------------------

    def on_answered(self, message: Answered) -> None:
        message.stop()
        forms = self.screen.query(QuestionForm)
        if forms:
            self.submit(message.fact, message.value, forms.first())

    def submit(self, fact: str, value: Any, form: QuestionForm) -> None:
        """Evaluate the answer off the event loop; errors come back to the same form."""
        form.show_error("")
        self._answer(fact, value, form)

    @work(thread=True, group="answer")
    def _answer(self, fact: str, value: Any, form: QuestionForm) -> None:
        errors = self.interview.answer(fact, value)
        self.call_from_thread(self._answered, form, errors)

    def forget(self, fact: str) -> None:
        self._forget(fact)

    @work(thread=True, group="answer")
    def _forget(self, fact: str) -> None:
        self.interview.unset(fact)
        self.call_from_thread(self._answered, None, [])

    def _answered(self, form: QuestionForm | None, errors: list[str]) -> None:
        if errors and form is not None:
            form.show_error("; ".join(errors))
            return
        self.refresh_panel()
        if isinstance(self.screen, EditScreen):
            self.pop_screen()
        if isinstance(self.screen, ReviewScreen):
            self.screen.refresh_answers()
        # The main pane always follows the rules, even while another screen is on top.
        self.call_later(self.show_next)

    # -- actions ----------------------------------------------------------------------

    def watch_lang(self, lang: str) -> None:
        self._titles()
        self.refresh_panel()
        for form in self.main.query(QuestionForm):
            form.relabel(lang)
        for ending in self.main.query(Ending):
            ending.relabel(lang)
        self._size_banner()
        for screen in self.screen_stack:
            relabel = getattr(screen, "relabel", None)
            if callable(relabel):
                relabel(lang)
        self.main.query_one(LangFooter).refresh(recompose=True)

    def action_toggle_language(self) -> None:
        """One key switches every label between 中文 and English."""
        self.lang = "en" if self.lang == "zh" else "zh"

    def action_review(self) -> None:
        if not isinstance(self.screen, ReviewScreen | EditScreen):
            self.push_screen(ReviewScreen(self.interview))

    def action_findings(self) -> None:
        if self.screen is self.screen_stack[0]:
            self.main.query_one(FindingList).focus()

    def on_option_list_option_selected(self, event: FindingList.OptionSelected) -> None:
        if isinstance(event.option_list, FindingList) and event.option.id:
            event.stop()
            self.push_screen(ExplainScreen(self.interview.explain(event.option.id)))

    def action_export_markdown(self) -> None:
        self._export("md")

    def action_export_json(self) -> None:
        self._export("json")

    def _export(self, kind: str) -> None:
        try:
            path = self.interview.export(kind, self.lang)
        except OSError as exc:
            self.notify(t("save_failed", self.lang, error=exc.strerror or str(exc)),
                        severity="error", timeout=8)
            return
        self.last_export = path
        self.notify(t("exported", self.lang, path=str(path)), timeout=5)

    async def action_previous(self) -> None:
        """Back to the answer before the one on screen (answers of this session)."""
        if self.screen is not self.main:
            return
        position = (len(self.interview.asked) if self.revisit is None else self.revisit) - 1
        if position < 0:
            self.notify(t("no_back", self.lang), timeout=3)
            return
        await self.show_earlier(position)

    async def action_return(self) -> None:
        """Esc while changing an earlier answer: back to the question the rules want next."""
        if self.revisit is not None and self.screen is self.main:
            await self.show_next()

    async def action_continue_optional(self) -> None:
        self.optional = True
        if self.screen is self.main:
            await self.show_next()

    def action_record(self) -> None:
        """Append the decision as it stands to the ledger given with ``--ledger``."""
        if self.ledger is None:
            self.notify(t("no_ledger", self.lang), timeout=5)
            return
        from chipclear.audit.ledger import Ledger

        try:
            book = Ledger.open(self.ledger)
            try:
                book.append(self.interview.case, self.interview.decision, self.interview.pack)
            finally:
                book.close()
        except (ChipclearError, OSError) as exc:
            self.notify(str(exc), severity="error", timeout=8)
            return
        self.recorded = self.interview.decision
        self.notify(t("recorded", self.lang, path=str(self.ledger)), timeout=5)

    def action_show_keys(self) -> None:
        if not isinstance(self.screen, KeysScreen):
            self.push_screen(KeysScreen(self.lang, self.BINDINGS))

    def action_dont_know(self) -> None:
        forms = self.screen.query(QuestionForm)
        if forms:
            forms.first().dont_know()

    def action_save(self) -> None:
        """Save now; says "saved" only when the file was written (and why not otherwise)."""
        path = self.interview.path
        if path is None or (not self.interview.saved and not path.exists()
                            and not self.interview.asked):
            self.notify(t("nothing_to_save", self.lang), timeout=3)
            return
        try:
            written = self.interview.save()
        except OSError as exc:
            self.notify(t("save_failed", self.lang, error=exc.strerror or str(exc)),
                        severity="error", timeout=8)
            return
        key = "saved" if written else "already_saved"
        self.notify(t(key, self.lang, path=str(path)), timeout=3)

    def get_system_commands(self, screen: Screen[Any]) -> Iterable[SystemCommand]:
        """Every binding is also a command in the palette (Ctrl+P)."""
        yield from super().get_system_commands(screen)
        for action, (en, zh) in i18n.ACTION_HELP.items():
            label = i18n.pick(i18n.ACTIONS[action], self.lang)
            help_text = zh if self.lang == "zh" else en
            yield SystemCommand(label, help_text, getattr(self, f"action_{action}"))


def run_interview(pack: RulePack, case_file: Path | None, lang: str | None,
                  ledger: Path | None = None) -> int:
    """Start or resume an interview; exit 0 for go / go with conditions, 1 otherwise.

    ``ledger`` appends the decision the interview ends with to that ledger file.
    """
    path = case_file or default_case_path()
    try:
        interview = Interview.open(pack, path)
    except ChipclearError as exc:
        print(str(exc), file=sys.stderr)
        return int(ExitCode.INVALID_INPUT)
    app = InterviewApp(interview, lang, ledger)
    app.run()
    decision = interview.decision
    if ledger is not None and app.recorded != decision:  # not twice the same decision
        from chipclear.audit.ledger import Ledger

        try:
            book = Ledger.open(ledger)
            try:
                book.append(interview.case, decision, pack)
            finally:
                book.close()
        except ChipclearError as exc:
            print(f"{exc} ({_where(interview, path)})", file=sys.stderr)
            return int(ExitCode.INVALID_INPUT)
    print(f"{decision.case_id}: {decision.verdict.value} ({_where(interview, path)})")
    ok = decision.verdict in (Verdict.go, Verdict.go_with_conditions)
    return int(ExitCode.OK if ok else ExitCode.ATTENTION)


def _where(interview: Interview, path: Path) -> str:
    """Where the answers are, truthfully: "saved" only when this session wrote them."""
    if interview.saved:
        return f"case saved to {path}"
    if path.exists():
        return f"no answer changed; {path} left as it was"
    return "no answers given; no file written"
