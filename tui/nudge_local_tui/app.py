"""The nudge-local terminal app."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from textual import work
from textual.app import App
from textual.binding import Binding

from .commands import ChatCommands
from .engine import Engine, Loader, ModelSpec, load_nudger
from .eval_link import best_gamma_note
from .screens.chat import ChatScreen
from .screens.dialogs import AskText, Confirm
from .settings import MARKS_LOOKS, GenerationSettings
from .store import ChatStore, StoreError, chat_to_markdown, default_store_path, open_store

DEMO_PAIR = "demo"
LAST_SPEC_KEY = "last_model_spec"
SETTINGS_KEY = "generation_settings"
MARKS_KEY = "marks_look"
QUIT_WAIT_S = 5.0  # how long quitting waits for a stopped reply to be saved


def _demo_spec() -> ModelSpec | None:
    from .pairs import pair_installed

    return ModelSpec(pair=DEMO_PAIR) if pair_installed(DEMO_PAIR) else None


class NudgeApp(App[None]):
    """The chat UI. ``store``: the chat history (default: opened from the user data dir, a
    damaged one set aside); ``spec``: the pair to load (else the last one used, else
    ``default_spec()``); ``notice``: a message to show at start."""

    CSS_PATH = "app.tcss"
    TITLE = "nudge-local"
    COMMANDS = App.COMMANDS | {ChatCommands}
    BINDINGS = [Binding("ctrl+q", "quit", "Quit", priority=True)]

    def __init__(self, store: ChatStore | None = None, spec: ModelSpec | None = None,
                 loader: Loader = load_nudger, default_spec: Callable[[], ModelSpec | None] = _demo_spec,
                 notice: str | None = None) -> None:
        super().__init__()
        self._owns_store = store is None  # close only what we opened
        if store is None:
            opened = open_store(default_store_path())
            store, notice = opened.store, notice or opened.notice
        self.store = store
        self.notice = notice
        self.engine = Engine(loader)
        self._start_spec = spec
        self._default_spec = default_spec
        self.settings = GenerationSettings.from_json(self._state(SETTINGS_KEY))
        saved_marks = self._state(MARKS_KEY)
        self.marks = saved_marks if saved_marks in MARKS_LOOKS else "underline"
        self.chat_id: int | None = None
        self.model_label = "no model pair"
        self.model_state = "not loaded"
        self.loading_since: float | None = None

    def get_default_screen(self) -> ChatScreen:
        return ChatScreen()

    @property
    def chat(self) -> ChatScreen:
        screen = self.screen_stack[0]
        assert isinstance(screen, ChatScreen)
        return screen

    # -- the store, without letting its errors crash the UI ------------------------------------
    def _state(self, key: str) -> str | None:
        try:
            return self.store.get_state(key)
        except StoreError:
            return None

    def _save_state(self, key: str, value: str) -> None:
        try:
            self.store.set_state(key, value)
        except StoreError as exc:
            self.notify(f"A setting could not be saved: {exc}", severity="warning")

    def on_mount(self) -> None:
        if self.notice:
            self.notify(self.notice, severity="warning", timeout=20)
        spec = self._start_spec or ModelSpec.from_json(self._state(LAST_SPEC_KEY)) or self._default_spec()
        if spec is None:
            self.model_state = "choose a model pair (F2)"
            self.chat.refresh_status()
            self.notify("No model pair is installed yet; press F2 to download or choose one.")
            return
        self.load_models(spec)

    # -- models -----------------------------------------------------------------------------
    def load_models(self, spec: ModelSpec) -> None:
        self.model_label = spec.label
        self.model_state = "loading…"
        self.loading_since = time.monotonic()
        self.chat.refresh_status()
        self._load(spec)

    @work(thread=True, exclusive=True, group="load")
    def _load(self, spec: ModelSpec) -> None:
        try:
            self.engine.load(spec)
        except Exception as exc:
            message = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
            self.call_from_thread(self._loaded, spec, message)
        else:
            self.call_from_thread(self._loaded, spec, None)

    def _loaded(self, spec: ModelSpec, error: str | None) -> None:
        self.loading_since = None
        if error:
            old = self.engine.spec
            self.model_label = old.label if old else spec.label
            self.model_state = "ready" if old else "failed to load"
            self.notify(f"Could not load {spec.label}: {error}", severity="error", timeout=10)
        else:
            self.model_label, self.model_state = spec.label, "ready"
            self._save_state(LAST_SPEC_KEY, spec.to_json())
            self._suggest_gamma()
        self.chat.refresh_status()
        self.screen.refresh(layout=True)  # a complete screen after the load, whatever it printed

    def pair_label(self) -> str:
        """The loaded pair's label, as ``nudge-local eval`` names its results."""
        info = self.engine.info
        return info.label if info else self.model_label

    @work(thread=True, exclusive=True, group="eval")
    def _suggest_gamma(self) -> None:
        gamma, note = best_gamma_note(self.pair_label())
        self.call_from_thread(self._show_suggestion, gamma, note)

    def _show_suggestion(self, gamma: float | None, note: str) -> None:
        from .widgets.controls import ControlsPanel

        self.chat.query_one(ControlsPanel).suggest(gamma, note)

    # -- settings ---------------------------------------------------------------------------
    def update_settings(self, settings: GenerationSettings, from_panel: bool = False) -> None:
        self.settings = settings.validated()
        self._save_state(SETTINGS_KEY, settings.to_json())
        if not from_panel:
            from .widgets.controls import ControlsPanel

            self.chat.query_one(ControlsPanel).sync(settings)
        self.chat.refresh_status()

    def set_marks(self, look: str, from_panel: bool = False) -> None:
        from .widgets.controls import ControlsPanel
        from .widgets.reply import ReplyView

        self.marks = look
        self._save_state(MARKS_KEY, look)
        if not from_panel:
            self.chat.query_one(ControlsPanel).sync_marks(look)
        for screen in self.screen_stack:
            for view in screen.query(ReplyView):
                view.refresh_body()
        self.chat.refresh_status()

    def cycle_marks(self) -> None:
        self.set_marks(MARKS_LOOKS[(MARKS_LOOKS.index(self.marks) + 1) % len(MARKS_LOOKS)])

    # -- chats ------------------------------------------------------------------------------
    def run_chat_action(self, action: str) -> None:
        """Run a chat-screen action from anywhere (the command palette): go back to the chat
        first, so that e.g. "New chat" never runs behind a modal."""
        while len(self.screen_stack) > 1:
            self.pop_screen()
        self.call_later(self.chat.run_action, action)

    async def open_chat(self, chat_id: int) -> bool:
        """Show a saved chat; False (and a message) when it cannot be read."""
        try:
            messages, compares = self.store.messages(chat_id), self.store.compares(chat_id)
        except StoreError as exc:
            self.notify(f"This chat cannot be opened: {exc}", severity="error", timeout=15)
            return False
        while len(self.screen_stack) > 1:
            self.pop_screen()
        self.chat_id = chat_id
        await self.chat.show_chat(messages, compares)
        return True

    def rename_chat(self, chat_id: int, on_done: Callable[[], None] | None = None) -> None:
        def done(title: str | None) -> None:
            if title:
                self._try(lambda: self.store.rename_chat(chat_id, title), "rename the chat")
                if on_done:
                    on_done()

        chat = self._try(lambda: self.store.get_chat(chat_id), "read the chat")
        if chat is not None:
            self.push_screen(AskText("New title for this chat:", chat.title, "Rename"), done)

    def delete_chat(self, chat_id: int, on_done: Callable[[], None] | None = None) -> None:
        def delete() -> bool:
            self.store.delete_chat(chat_id)
            return True

        async def done(yes: bool | None) -> None:
            if yes and self._try(delete, "delete the chat"):
                if self.chat_id == chat_id:
                    self.chat_id = None
                    await self.chat.show_chat([])
                if on_done:
                    on_done()

        chat = self._try(lambda: self.store.get_chat(chat_id), "read the chat")
        if chat is not None:
            self.push_screen(Confirm(f"Delete the chat “{chat.title}”? This cannot be undone."), done)

    def _try(self, call: Callable[[], Any], what: str) -> Any:
        try:
            return call()
        except StoreError as exc:
            self.notify(f"Could not {what}: {exc}", severity="error", timeout=12)
            return None

    def export_chat(self, chat_id: int) -> None:
        chat = self._try(lambda: self.store.get_chat(chat_id), "read the chat")
        if chat is None:
            return
        default = Path.home() / f"{_file_stem(chat.title)}.md"

        def done(path: str | None) -> None:
            if not path:
                return
            target = Path(path).expanduser()
            text = self._try(lambda: chat_to_markdown(chat, self.store.messages(chat_id),
                                                      self.store.compares(chat_id)), "read the chat")
            if text is None:
                return
            try:
                target.write_text(text, encoding="utf-8")
            except OSError as exc:
                self.notify(f"Could not write {target}: {exc.strerror or exc}.", severity="error")
            else:
                self.notify(f"Chat exported to {target}.")

        self.push_screen(AskText("Export this chat to the Markdown file:", str(default), "Export"), done)

    # -- quitting ---------------------------------------------------------------------------
    async def action_quit(self) -> None:
        """Quit; a reply being written is stopped first and kept (saved as stopped)."""
        job = self.chat.job
        if job is not None:
            self.engine.cancel()
            await asyncio.to_thread(job.done.wait, QUIT_WAIT_S)
        self.exit()

    def on_unmount(self) -> None:
        self.engine.close()
        if self._owns_store:
            self.store.close()


def _file_stem(title: str) -> str:
    keep = "".join(ch if ch.isalnum() or ch in "-_ " else " " for ch in title)
    return "-".join(keep.split())[:60] or "chat"
