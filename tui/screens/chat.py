"""The main screen: the conversation, the prompt box, the status line and the controls panel."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, VerticalScroll
from textual.message import Message
from textual.screen import Screen
from textual.widgets import Footer, Static

from ..commands import COMMANDS
from ..settings import GenerationSettings
from ..store import StoredMessage, stats_line
from ..widgets.controls import ControlsPanel
from ..widgets.prompt import PromptInput
from ..widgets.reply import ReplyView, stats_text
from ..widgets.status_bar import StatusBar
from ..widgets.user_message import UserMessage

WELCOME = (
    "Type a question and press Enter. Words the nudging model wrote are underlined.\n"
    "Esc stops a reply · ctrl+o controls · ctrl+r compare modes · f2 models · "
    "ctrl+l chats · ctrl+p all commands · f1 help"
)


@dataclass
class PieceArrived(Message):
    view: ReplyView
    piece: Any


@dataclass
class ReplyFinished(Message):
    view: ReplyView
    result: Any


@dataclass
class ReplyFailed(Message):
    view: ReplyView
    error: str


def _chat_messages(messages: list[StoredMessage]) -> list[dict[str, str]]:
    """The conversation as the engine wants it (empty replies, e.g. cancelled at once, dropped)."""
    return [
        {"role": m.role, "content": m.content}
        for m in messages
        if m.role == "user" or m.content.strip()
    ]


class ChatScreen(Screen):
    BINDINGS = [
        Binding(c.key, c.action, c.title, show=c.key in ("escape", "ctrl+o", "ctrl+r", "f2", "ctrl+l", "f1"))
        for c in COMMANDS
        if c.key
    ]

    def __init__(self) -> None:
        super().__init__()
        self.messages: list[StoredMessage] = []
        self.current: ReplyView | None = None  # the reply being generated

    # -- layout ----------------------------------------------------------------------------
    def compose(self) -> ComposeResult:
        yield StatusBar()
        with Horizontal(id="main"):
            with VerticalScroll(id="conversation"):
                yield Static(WELCOME, id="welcome")
            yield ControlsPanel(self.app.settings, id="controls")
        yield PromptInput(id="prompt", placeholder="Ask something… (Enter sends, ctrl+j new line)")
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#conversation").anchor()
        self.refresh_status()
        self.query_one(PromptInput).focus()

    @property
    def conversation(self) -> VerticalScroll:
        return self.query_one("#conversation", VerticalScroll)

    @property
    def generating(self) -> bool:
        return self.current is not None

    def refresh_status(self) -> None:
        bars = self.query(StatusBar)
        if not bars:  # not composed yet; on_mount calls this again
            return
        bar = bars.first()
        app = self.app
        bar.pair = app.model_label
        bar.state = app.model_state
        bar.mode = app.settings.mode
        bar.gamma = app.settings.gamma
        bar.show_marks = app.show_marks

    # -- showing a chat --------------------------------------------------------------------
    async def show_chat(self, messages: list[StoredMessage]) -> None:
        """Replace the conversation with ``messages`` (a stored chat, or [] for a new one)."""
        self.messages = list(messages)
        await self.conversation.remove_children()
        if not messages:
            await self.conversation.mount(Static(WELCOME, id="welcome"))
        prompts = self.query_one(PromptInput)
        prompts.sent = [m.content for m in messages if m.role == "user"]
        for m in messages:
            if m.role == "user":
                await self.conversation.mount(UserMessage(m.content, classes="user"))
            else:
                view = ReplyView(m.mode or "nudged", m.gamma)
                await self.conversation.mount(view)
                status = stats_line(m) + (" · cancelled" if m.cancelled else "")
                spans = [(s["text"], s["source"]) for s in m.spans] or [(m.content, "base")]
                view.load(spans, status)
        self.conversation.scroll_end(animate=False)

    # -- sending ---------------------------------------------------------------------------
    @on(PromptInput.Submitted)
    async def _submitted(self, event: PromptInput.Submitted) -> None:
        if self.generating:
            self.notify("A reply is still being written; press Esc to stop it.", severity="warning")
            return
        if not self.app.engine.ready:
            self.notify(f"No model pair is ready ({self.app.model_state}); press F2 for models.",
                        severity="warning")
            return
        prompt = event.text
        event.prompt.remember(prompt)
        event.prompt.clear()
        await self.send(prompt)

    async def send(self, prompt: str) -> None:
        app = self.app
        if app.chat_id is None:
            app.chat_id = app.store.create_chat(_title(prompt), app.model_label)
        user = StoredMessage(role="user", content=prompt)
        app.store.add_message(app.chat_id, user)
        self.messages.append(user)
        for welcome in self.query("#welcome"):
            await welcome.remove()
        settings = app.settings
        view = ReplyView(settings.mode, settings.gamma)
        await self.conversation.mount(UserMessage(prompt, classes="user"), view)
        self.conversation.scroll_end(animate=False)
        self.current = view
        self._generate(view, _chat_messages(self.messages), settings)

    @work(thread=True, group="generate")
    def _generate(self, view: ReplyView, messages: list[dict], settings: GenerationSettings) -> None:
        try:
            result = self.app.engine.run(messages, settings, lambda p: self.post_message(PieceArrived(view, p)))
        except Exception as exc:  # shown in the reply; the models stay usable
            self.post_message(ReplyFailed(view, _one_sentence(exc)))
        else:
            self.post_message(ReplyFinished(view, result))

    @on(PieceArrived)
    def _piece(self, event: PieceArrived) -> None:
        event.view.add_piece(event.piece)

    @on(ReplyFinished)
    def _finished(self, event: ReplyFinished) -> None:
        result, view = event.result, event.view
        view.finish(result)
        stats = result.stats.as_dict()
        stats["nudge_ratio"] = round(result.nudge_ratio, 4)
        reply = StoredMessage(
            role="assistant",
            content=result.text,
            spans=[{"text": s.text, "source": s.source} for s in result.spans],
            mode=view.mode,
            gamma=view.gamma,
            stop_reason=result.stop_reason,
            stats=stats,
            cancelled=result.stop_reason == "cancelled",
        )
        if self.app.chat_id is not None:
            self.app.store.add_message(self.app.chat_id, reply)
        self.messages.append(reply)
        if self.current is view:
            self.current = None

    @on(ReplyFailed)
    def _failed(self, event: ReplyFailed) -> None:
        event.view.fail(event.error)
        self.notify(event.error, severity="error")
        if self.current is event.view:
            self.current = None

    # -- actions (bound keys and command palette) ------------------------------------------
    def action_stop(self) -> None:
        if self.generating:
            self.app.engine.cancel()
            if self.current is not None:
                self.current.set_status("stopping…")

    async def action_new_chat(self) -> None:
        if self.generating:
            self.action_stop()
        self.app.chat_id = None
        await self.show_chat([])
        self.query_one(PromptInput).focus()

    def action_compare(self) -> None:
        last = max((i for i, m in enumerate(self.messages) if m.role == "user"), default=None)
        if last is None:
            self.notify("Send a prompt first; compare runs the last prompt in all three modes.")
            return
        if self.generating:
            self.notify("Wait for the reply to finish (or press Esc) before comparing.", severity="warning")
            return
        if not self.app.engine.ready:
            self.notify("No model pair is ready.", severity="warning")
            return
        from .compare import CompareScreen

        self.app.push_screen(CompareScreen(_chat_messages(self.messages[: last + 1]), self.app.settings))

    def action_toggle_marks(self) -> None:
        self.app.show_marks = not self.app.show_marks
        for view in self.query(ReplyView):
            view.refresh_body()
        self.refresh_status()

    def action_toggle_controls(self) -> None:
        panel = self.query_one(ControlsPanel)
        panel.display = not panel.display
        if panel.display:
            panel.query_one("#gamma").focus()
        else:
            self.query_one(PromptInput).focus()

    def action_gamma(self, delta: float) -> None:
        self.app.update_settings(self.app.settings.step_gamma(delta))

    def action_mode(self, mode: str) -> None:
        from dataclasses import replace

        self.app.update_settings(replace(self.app.settings, mode=mode))

    def action_copy_reply(self) -> None:
        replies = [v for v in self.query(ReplyView) if v.text]
        if not replies:
            self.notify("There is no reply to copy yet.")
            return
        replies[-1].action_copy()

    def action_chats(self) -> None:
        from .history import HistoryScreen

        self.app.push_screen(HistoryScreen())

    def action_export_chat(self) -> None:
        if self.app.chat_id is None:
            self.notify("This chat is empty; there is nothing to export.")
            return
        self.app.export_chat(self.app.chat_id)

    def action_rename_chat(self) -> None:
        if self.app.chat_id is None:
            self.notify("Send a prompt first; an empty chat is not saved.")
            return
        self.app.rename_chat(self.app.chat_id)

    def action_models(self) -> None:
        from .models import ModelsScreen

        self.app.push_screen(ModelsScreen())

    def action_help(self) -> None:
        from .help import HelpScreen

        self.app.push_screen(HelpScreen())

    @on(ControlsPanel.Changed)
    def _controls_changed(self, event: ControlsPanel.Changed) -> None:
        self.app.update_settings(event.settings, from_panel=True)


def _title(prompt: str) -> str:
    line = prompt.strip().splitlines()[0] if prompt.strip() else "chat"
    return line if len(line) <= 60 else line[:57] + "…"


def _one_sentence(exc: Exception) -> str:
    text = str(exc).strip() or type(exc).__name__
    return text.splitlines()[0]
