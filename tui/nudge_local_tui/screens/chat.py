"""The main screen: the conversation, the prompt box, the status line and the controls panel.

Message-level actions (edit, delete, regenerate) are in ``chat_edits``; the reply's life in a
worker thread is in ``reply_job``.
"""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING, ClassVar, cast

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal
from textual.screen import Screen
from textual.widgets import Footer

from ..commands import COMMANDS
from ..context import engine_messages
from ..reply_job import ContextFitted, PieceArrived, ReplyEnded, ReplyJob, execute
from ..store import CompareRecord, StoredMessage, StoreError
from ..widgets.chat_item import ItemAction
from ..widgets.controls import ControlsPanel
from ..widgets.conversation import CompareNote, Conversation
from ..widgets.find_bar import FindBar
from ..widgets.prompt import PromptInput
from ..widgets.reply import ReplyView
from ..widgets.status_bar import StatusBar
from ..widgets.user_message import UserMessage
from . import chat_edits

if TYPE_CHECKING:
    from ..app import NudgeApp

class ChatScreen(Screen[None]):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding(c.key, c.action, c.footer or c.title, show=bool(c.footer)) for c in COMMANDS if c.key
    ]
    #: below 110 columns the controls panel floats over the conversation (see app.tcss)
    HORIZONTAL_BREAKPOINTS = [(0, "-narrow"), (110, "-wide")]

    def __init__(self) -> None:
        super().__init__()
        self.messages: list[StoredMessage] = []  # the chat on screen, as stored
        self.compares: list[CompareRecord] = []
        self.job: ReplyJob | None = None  # the reply being written (maybe for a chat left)
        self._find_index = 0

    @property
    def nudge_app(self) -> NudgeApp:
        return cast("NudgeApp", self.app)

    # -- layout ----------------------------------------------------------------------------
    def compose(self) -> ComposeResult:
        app = self.nudge_app
        yield StatusBar()
        with Horizontal(id="main"):
            yield Conversation(id="conversation")
            yield ControlsPanel(app.settings, app.marks, id="controls")
        yield FindBar(id="find")
        yield PromptInput(id="prompt", placeholder="Ask something… (Enter sends, ctrl+j new line)")
        yield Footer()

    async def on_mount(self) -> None:
        self.conversation.anchor()
        self.query_one(FindBar).display = False
        await self.conversation.show([], [])
        self.refresh_status()
        self.query_one(PromptInput).focus()

    @property
    def conversation(self) -> Conversation:
        return self.query_one(Conversation)

    @property
    def prompt(self) -> PromptInput:
        return self.query_one(PromptInput)

    @property
    def current(self) -> ReplyView | None:
        """The reply being written in the chat on screen (None when none is)."""
        return self.job.view if self.job is not None and not self.job.left else None

    @property
    def generating(self) -> bool:
        return self.job is not None

    def refresh_status(self) -> None:
        bars = self.query(StatusBar)
        if not bars:  # not composed yet; on_mount calls this again
            return
        bar, app = bars.first(), self.nudge_app
        bar.pair, bar.state, bar.loading_since = app.model_label, app.model_state, app.loading_since
        bar.mode, bar.gamma, bar.marks = app.settings.mode, app.settings.gamma, app.marks
        info = app.engine.info
        bar.names = (info.base.name, info.nudging.name) if info else None

    # -- showing a chat --------------------------------------------------------------------
    def leave_reply(self) -> None:
        """The user leaves the chat on screen: a reply being written there is stopped (it
        is saved into its own chat, marked stopped, when it ends)."""
        if self.job is not None and not self.job.left:
            self.job.left = True
            self.nudge_app.engine.cancel()

    async def show_chat(self, messages: list[StoredMessage], compares: list[CompareRecord] | None = None) -> None:
        """Replace the conversation with ``messages`` (a stored chat, or [] for a new one)."""
        self.leave_reply()
        self.messages, self.compares = list(messages), list(compares or [])
        await self.conversation.show(self.messages, self.compares)
        self.prompt.sent = [m.content for m in messages if m.role == "user"]
        self.query_one(StatusBar).context = None
        if messages and self.nudge_app.engine.ready:
            self.measure_context(self.nudge_app.chat_id)

    @work(thread=True, group="meter", exclusive=True)
    def measure_context(self, chat_id: int | None) -> None:
        """The context meter for the chat on screen (what its next prompt starts from)."""
        app = self.nudge_app
        history = engine_messages({"role": m.role, "content": m.content} for m in self.messages)
        try:
            counts = app.engine.count([*history, {"role": "user", "content": "?"}], app.settings.system or None)
        except Exception:  # the meter is a help; without it the chat works the same
            return
        self.app.call_from_thread(self._show_context, chat_id, counts.tightest)

    def _show_context(self, chat_id: int | None, tightest: tuple[int, int]) -> None:
        if chat_id == self.nudge_app.chat_id:
            self.query_one(StatusBar).context = tightest

    # -- sending ---------------------------------------------------------------------------
    @on(PromptInput.Submitted)
    async def _submitted(self, event: PromptInput.Submitted) -> None:
        refusal = self._refusal()
        if refusal:
            event.prompt.restore(event.text)
            self.notify(refusal, severity="warning")
            return
        if await self.send(event.text):
            event.prompt.remember(event.text)
        else:
            event.prompt.restore(event.text)

    def _refusal(self) -> str | None:
        if self.job is not None and self.job.left:
            return "The reply in the chat you left is still stopping; send again in a moment."
        if self.generating:
            return "A reply is still being written; press Esc to stop it."
        if not self.nudge_app.engine.ready:
            return f"No model pair is ready ({self.nudge_app.model_state}); press F2 for models."
        return None

    async def send(self, prompt: str) -> bool:
        """Store the prompt and start its reply; False (and a message) when it cannot be stored."""
        app = self.nudge_app
        user = StoredMessage(role="user", content=prompt)
        try:
            if app.chat_id is None:
                app.chat_id = app.store.create_chat(_title(prompt), app.model_label)
            app.store.add_message(app.chat_id, user)
        except StoreError as exc:
            self.notify(f"{exc} Your message was not sent; it is back in the prompt box.",
                        severity="error", timeout=15)
            return False
        self.messages.append(user)
        await self.conversation.add(UserMessage(prompt, stored=user, classes="user"))
        await self.start_reply()
        return True

    async def start_reply(self) -> None:
        """Write a reply to the conversation on screen (which ends with a prompt)."""
        app = self.nudge_app
        assert app.chat_id is not None
        settings = app.settings
        view = ReplyView(settings.mode, settings.gamma)
        await self.conversation.add(view)
        info = app.engine.info
        models = (info.base.name, info.nudging.name) if info else None
        history = [{"role": m.role, "content": m.content} for m in self.messages]
        self.job = ReplyJob(app.chat_id, view, history, settings, models)
        self._generate(self.job)

    @work(thread=True, group="generate")
    def _generate(self, job: ReplyJob) -> None:
        try:
            execute(job, self.nudge_app.engine, self.nudge_app.store, self.post_message)
        finally:
            job.done.set()

    @on(PieceArrived)
    def _piece(self, event: PieceArrived) -> None:
        event.job.view.add_piece(event.piece)

    @on(ContextFitted)
    def _fitted(self, event: ContextFitted) -> None:
        job = event.job
        job.view.set_title(dropped=job.dropped)
        if not job.left:
            what = "oldest message is" if job.dropped == 1 else f"{job.dropped} oldest messages are"
            self.notify(f"The conversation is longer than the models' context: the {what} left out of "
                        "this reply's prompt (they stay in the chat).", timeout=8)

    @on(ReplyEnded)
    async def _ended(self, event: ReplyEnded) -> None:
        job = event.job
        if self.job is job:
            self.job = None
        if job.error is not None:
            job.view.fail(job.error)
            self.notify(job.error, severity="error")
            return
        assert job.result is not None and job.stored is not None
        job.view.finish(job.result)
        job.view.stored = job.stored if job.stored.id is not None else None
        if job.save_error:
            self.notify(f"The reply could not be saved: {job.save_error}", severity="error", timeout=15)
        if job.left:
            self.notify("The reply in the chat you left was stopped and kept there.")
            if job.chat_id == self.nudge_app.chat_id:  # the user went back to it meanwhile
                await self.nudge_app.open_chat(job.chat_id)
        elif job.chat_id == self.nudge_app.chat_id:
            self.messages.append(job.stored)
            self.query_one(StatusBar).context = job.counts.tightest if job.counts else None

    # -- actions (bound keys and command palette) ------------------------------------------
    def action_stop(self) -> None:
        if self.current is not None:
            self.nudge_app.engine.cancel()
            self.current.set_status("stopping…")

    async def action_new_chat(self) -> None:
        self.nudge_app.chat_id = None
        await self.show_chat([])
        self.prompt.focus()

    def action_compare(self) -> None:
        chat_edits.open_compare(self)

    def action_cycle_marks(self) -> None:
        self.nudge_app.cycle_marks()

    def action_toggle_controls(self) -> None:
        panel = self.query_one(ControlsPanel)
        panel.display = not panel.display
        if panel.display:
            panel.query_one("#gamma").focus()
        else:
            self.prompt.focus()

    def action_gamma(self, delta: float) -> None:
        self.nudge_app.update_settings(self.nudge_app.settings.step_gamma(delta))

    def action_mode(self, mode: str) -> None:
        self.nudge_app.update_settings(replace(self.nudge_app.settings, mode=mode))

    def _last_reply(self) -> ReplyView | None:
        replies = [v for v in self.query(ReplyView) if v.text]
        if not replies:
            self.notify("There is no reply yet.")
            return None
        return replies[-1]

    def action_copy_reply(self) -> None:
        if (reply := self._last_reply()) is not None:
            reply.action_copy()

    def action_copy_code(self) -> None:
        if (reply := self._last_reply()) is not None:
            reply.action_copy_code()

    async def action_regenerate(self) -> None:
        await chat_edits.regenerate_last(self)

    def action_edit_last_prompt(self) -> None:
        chat_edits.edit_last_prompt(self)

    def action_find(self) -> None:
        self.query_one(FindBar).open()

    def action_chats(self, search: bool = False) -> None:
        from .history import HistoryScreen

        self.app.push_screen(HistoryScreen(search=search))

    def action_search_chats(self) -> None:
        self.action_chats(search=True)

    def action_export_chat(self) -> None:
        if self.nudge_app.chat_id is None:
            self.notify("This chat is empty; there is nothing to export.")
            return
        self.nudge_app.export_chat(self.nudge_app.chat_id)

    def action_rename_chat(self) -> None:
        if self.nudge_app.chat_id is None:
            self.notify("Send a prompt first; an empty chat is not saved.")
            return
        self.nudge_app.rename_chat(self.nudge_app.chat_id)

    def action_models(self) -> None:
        from .models import ModelsScreen

        self.app.push_screen(ModelsScreen())

    def action_eval_results(self) -> None:
        from .eval_results import EvalScreen

        self.app.push_screen(EvalScreen(self.nudge_app.pair_label()))

    def action_help(self) -> None:
        from .help import HelpScreen

        self.app.push_screen(HelpScreen())

    # -- events from the widgets -----------------------------------------------------------
    @on(ControlsPanel.Changed)
    def _controls_changed(self, event: ControlsPanel.Changed) -> None:
        self.nudge_app.update_settings(event.settings, from_panel=True)

    @on(ControlsPanel.MarksChanged)
    def _marks_changed(self, event: ControlsPanel.MarksChanged) -> None:
        self.nudge_app.set_marks(event.look, from_panel=True)

    @on(PromptInput.ScrollConversation)
    def _scroll(self, event: PromptInput.ScrollConversation) -> None:
        conversation = self.conversation
        {"page_up": conversation.scroll_page_up, "page_down": conversation.scroll_page_down,
         "home": conversation.scroll_home, "end": conversation.scroll_end}[event.how](animate=False)

    @on(PromptInput.FocusMessages)
    def _focus_messages(self) -> None:
        if not self.conversation.focus_newest():
            self.focus_next()

    @on(ItemAction)
    async def _item_action(self, event: ItemAction) -> None:
        await chat_edits.item_action(self, event.item, event.action)

    @on(CompareNote.Open)
    def _open_compare(self, event: CompareNote.Open) -> None:
        chat_edits.open_compare(self, event.record)

    @on(FindBar.Find)
    def _find(self, event: FindBar.Find) -> None:
        found = self.conversation.find(event.text)
        self._find_index = 0 if event.step == 0 else self._find_index + 1
        if found:
            self._find_index %= len(found)
            self.conversation.scroll_to_widget(found[self._find_index], animate=False, top=True)
        self.query_one(FindBar).show_count(self._find_index, len(found))

    @on(FindBar.Closed)
    def _find_closed(self) -> None:
        self.conversation.clear_find()
        self.prompt.focus()


def _title(prompt: str) -> str:
    line = prompt.strip().splitlines()[0] if prompt.strip() else "chat"
    return line if len(line) <= 60 else line[:57] + "…"
