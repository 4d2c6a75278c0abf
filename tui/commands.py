"""Every user action in one table: the chat screen's key bindings, the command palette and the
help screen are all built from it, so they cannot drift apart."""

from __future__ import annotations

from dataclasses import dataclass
from functools import partial

from textual.command import DiscoveryHit, Hit, Hits, Provider


@dataclass(frozen=True)
class Command:
    title: str
    help: str
    action: str  # an action of the chat screen, e.g. "compare" or "mode('base')"
    key: str = ""  # binding on the chat screen ("" = palette only)


COMMANDS: list[Command] = [
    Command("Stop generating", "Stop the reply being written; the models stay loaded", "stop", "escape"),
    Command("New chat", "Start an empty conversation", "new_chat", "ctrl+n"),
    Command("Compare modes", "Run the last prompt nudged, base only and nudging only, side by side", "compare", "ctrl+r"),
    Command("Toggle nudge marks", "Show or hide which words the nudging model wrote", "toggle_marks", "ctrl+t"),
    Command("Controls", "Show or hide the controls panel (gamma, max tokens, temperature, system prompt, mode)", "toggle_controls", "ctrl+o"),
    Command("Gamma up", "Raise gamma by 0.05 (the base model writes less)", "gamma(0.05)"),
    Command("Gamma down", "Lower gamma by 0.05 (the nudging model writes less)", "gamma(-0.05)"),
    Command("Mode: nudged", "Base model nudged by the nudging model", "mode('nudged')"),
    Command("Mode: base model only", "Only the base model writes", "mode('base')"),
    Command("Mode: nudging model only", "Only the nudging model writes", "mode('nudging')"),
    Command("Copy last reply", "Copy the last reply to the clipboard", "copy_reply", "f8"),
    Command("Chats", "Open, rename, delete or export saved chats", "chats", "ctrl+l"),
    Command("Export chat", "Write this chat to a Markdown file", "export_chat", "f9"),
    Command("Rename chat", "Give this chat a new title", "rename_chat"),
    Command("Models", "Model pairs: state, download, choose, or load two GGUF files", "models", "f2"),
    Command("Help", "Keys and screens", "help", "f1"),
]

#: Keys of the prompt box and other screens, for the help screen.
OTHER_KEYS: list[tuple[str, str]] = [
    ("enter", "send the prompt"),
    ("ctrl+j / alt+enter", "new line in the prompt"),
    ("up / down", "recall earlier prompts (from the first / last line)"),
    ("tab / shift+tab", "move focus; on a reply, c copies it"),
    ("ctrl+p", "command palette"),
    ("ctrl+q", "quit"),
    ("chats screen", "enter open · r rename · d delete · e export · escape back"),
    ("models screen", "enter use pair · d download · x cancel download · escape back"),
    ("compare screen", "escape stop and go back"),
]


class ChatCommands(Provider):
    """The command palette entries: one per row of ``COMMANDS``."""

    def _run(self, action: str) -> None:
        self.app.run_chat_action(action)  # type: ignore[attr-defined]

    async def discover(self) -> Hits:
        for cmd in COMMANDS:
            yield DiscoveryHit(cmd.title, partial(self._run, cmd.action), help=cmd.help)

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for cmd in COMMANDS:
            score = matcher.match(cmd.title)
            if score > 0:
                yield Hit(score, matcher.highlight(cmd.title), partial(self._run, cmd.action), help=cmd.help)
