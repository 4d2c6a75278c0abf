"""The nudge-local terminal app."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from textual import work
from textual.app import App
from textual.reactive import reactive

from .commands import ChatCommands
from .engine import Engine, Loader, ModelSpec, load_nudger
from .screens.chat import ChatScreen
from .screens.dialogs import AskText, Confirm
from .settings import GenerationSettings
from .store import ChatStore, chat_to_markdown, default_store_path

DEMO_PAIR = "demo"
LAST_SPEC_KEY = "last_model_spec"
SETTINGS_KEY = "generation_settings"


def _demo_spec() -> ModelSpec | None:
    from .pairs import pair_installed

    return ModelSpec(pair=DEMO_PAIR) if pair_installed(DEMO_PAIR) else None


class NudgeApp(App):
    CSS_PATH = "app.tcss"
    TITLE = "nudge-local"
    COMMANDS = App.COMMANDS | {ChatCommands}

    show_marks: reactive[bool] = reactive(True)

    def __init__(
        self,
        store: ChatStore | None = None,
        spec: ModelSpec | None = None,
        loader: Loader = load_nudger,
        default_spec: Callable[[], ModelSpec | None] = _demo_spec,
    ) -> None:
        """``spec``: the pair to load (else the last one used, else ``default_spec()``)."""
        super().__init__()
        self._owns_store = store is None  # close only what we opened
        self.store = store or ChatStore(default_store_path())
        self.engine = Engine(loader)
        self._start_spec = spec
        self._default_spec = default_spec
        self.settings = GenerationSettings.from_json(self.store.get_state(SETTINGS_KEY))
        self.chat_id: int | None = None
        self.model_label = "no model pair"
        self.model_state = "not loaded"

    def get_default_screen(self) -> ChatScreen:
        return ChatScreen()

    @property
    def chat(self) -> ChatScreen:
        return self.get_default_screen_instance()

    def get_default_screen_instance(self) -> ChatScreen:
        return self.screen_stack[0]  # type: ignore[return-value]

    def on_mount(self) -> None:
        spec = (
            self._start_spec
            or ModelSpec.from_json(self.store.get_state(LAST_SPEC_KEY))
            or self._default_spec()
        )
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
        if error:
            old = self.engine.spec
            self.model_label = old.label if old else spec.label
            self.model_state = "ready" if old else "failed to load"
            self.notify(f"Could not load {spec.label}: {error}", severity="error", timeout=10)
        else:
            self.model_label, self.model_state = spec.label, "ready"
            self.store.set_state(LAST_SPEC_KEY, spec.to_json())
        self.chat.refresh_status()

    # -- settings ---------------------------------------------------------------------------
    def update_settings(self, settings: GenerationSettings, from_panel: bool = False) -> None:
        self.settings = settings.validated()
        self.store.set_state(SETTINGS_KEY, settings.to_json())
        chat = self.chat
        if not from_panel:
            from .widgets.controls import ControlsPanel

            chat.query_one(ControlsPanel).sync(settings)
        chat.refresh_status()

    # -- chats ------------------------------------------------------------------------------
    def run_chat_action(self, action: str) -> None:
        """Run a chat-screen action from anywhere (the command palette): go back to the chat
        first, so that e.g. "New chat" never runs behind a modal."""
        while len(self.screen_stack) > 1:
            self.pop_screen()
        self.call_later(self.chat.run_action, action)

    async def open_chat(self, chat_id: int) -> None:
        self.chat_id = chat_id
        while len(self.screen_stack) > 1:
            self.pop_screen()
        await self.chat.show_chat(self.store.messages(chat_id))

    def rename_chat(self, chat_id: int, on_done: Callable[[], None] | None = None) -> None:
        chat = self.store.get_chat(chat_id)
        if chat is None:
            return

        def done(title: str | None) -> None:
            if title:
                self.store.rename_chat(chat_id, title)
                if on_done:
                    on_done()

        self.push_screen(AskText("New title for this chat:", chat.title, "Rename"), done)

    def delete_chat(self, chat_id: int, on_done: Callable[[], None] | None = None) -> None:
        chat = self.store.get_chat(chat_id)
        if chat is None:
            return

        async def done(yes: bool | None) -> None:
            if yes:
                self.store.delete_chat(chat_id)
                if self.chat_id == chat_id:
                    self.chat_id = None
                    await self.chat.show_chat([])
                if on_done:
                    on_done()

        self.push_screen(Confirm(f"Delete the chat “{chat.title}”? This cannot be undone."), done)

    def export_chat(self, chat_id: int) -> None:
        chat = self.store.get_chat(chat_id)
        if chat is None:
            return
        default = Path.home() / f"{_file_stem(chat.title)}.md"

        def done(path: str | None) -> None:
            if not path:
                return
            target = Path(path).expanduser()
            try:
                target.write_text(chat_to_markdown(chat, self.store.messages(chat_id)), encoding="utf-8")
            except OSError as exc:
                self.notify(f"Could not write {target}: {exc.strerror or exc}.", severity="error")
            else:
                self.notify(f"Chat exported to {target}.")

        self.push_screen(AskText("Export this chat to the Markdown file:", str(default), "Export"), done)

    def on_unmount(self) -> None:
        self.engine.close()
        if self._owns_store:
            self.store.close()


def _file_stem(title: str) -> str:
    keep = "".join(ch if ch.isalnum() or ch in "-_ " else " " for ch in title)
    return "-".join(keep.split())[:60] or "chat"
