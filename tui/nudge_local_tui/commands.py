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
    footer: str = ""  # a short label: shown in the footer (80 columns hold seven of them)


COMMANDS: list[Command] = [
    Command("Stop generating", "Stop the reply being written; the models stay loaded", "stop", "escape", "Stop"),
    Command("New chat", "Start an empty conversation", "new_chat", "ctrl+n"),
    Command("Compare modes", "Run the last prompt nudged, base only and nudging only, side by side",
            "compare", "ctrl+r", "Compare"),
    Command("Marks look", "Nudging model's words: underlined, subtle background, or not marked",
            "cycle_marks", "ctrl+t"),
    Command("Controls", "Show or hide the controls panel (gamma, max tokens, temperature, system prompt, mode)",
            "toggle_controls", "ctrl+o", "Controls"),
    Command("Find in this chat", "Find text in this chat's messages", "find", "ctrl+f", "Find"),
    Command("Regenerate last reply", "Write the last reply again with the current settings", "regenerate"),
    Command("Edit and resend last prompt", "Change your last prompt and get a new reply", "edit_last_prompt"),
    Command("Gamma up", "Raise gamma by 0.05 (the nudging model writes more)", "gamma(0.05)"),
    Command("Gamma down", "Lower gamma by 0.05 (the base model writes more)", "gamma(-0.05)"),
    Command("Mode: nudged", "Base model nudged by the nudging model", "mode('nudged')"),
    Command("Mode: base model only", "Only the base model writes", "mode('base')"),
    Command("Mode: nudging model only", "Only the nudging model writes", "mode('nudging')"),
    Command("Copy last reply", "Copy the last reply to the clipboard", "copy_reply", "f8"),
    Command("Copy code block", "Copy a code block of the last reply (again: the next one)", "copy_code"),
    Command("Chats", "Open, search, rename, delete or export saved chats", "chats", "ctrl+l", "Chats"),
    Command("Search all chats", "Find text in every saved chat", "search_chats"),
    Command("Export chat", "Write this chat to a Markdown file (with the marks)", "export_chat", "f9"),
    Command("Rename chat", "Give this chat a new title", "rename_chat"),
    Command("Models", "Model pairs: details, memory, download, choose, or load two GGUF files",
            "models", "f2", "Models"),
    Command("Eval results", "The last `nudge-local eval` table of this pair and its best gamma", "eval_results", "f4"),
    Command("Help", "Keys, gamma and the nudge ratio", "help", "f1", "Help"),
]

#: Keys of the prompt box, messages and other screens, for the help screen.
OTHER_KEYS: list[tuple[str, str]] = [
    ("enter", "send the prompt"),
    ("ctrl+j", "new line in the prompt (shift+enter too, where the terminal passes it on)"),
    ("up / down", "recall earlier prompts (from the first / last line)"),
    ("pageup / pagedown", "scroll the conversation (also with the prompt focused)"),
    ("tab / shift+tab", "go to the newest message / older messages and back to the prompt"),
    ("on a message", "c copy · e edit · d delete · r regenerate (a reply) · k copy a code block"),
    ("ctrl+p", "command palette"),
    ("ctrl+q", "quit (a reply being written is stopped and kept)"),
    ("chats screen", "enter open · / search · r rename · d delete · e export · escape back"),
    ("models screen", "enter use pair · d download · x cancel download · escape back"),
    ("compare screen", "left/right gamma · r run again at that gamma · escape stop and go back"),
]


class ChatCommands(Provider):
    """The command palette entries: one per row of ``COMMANDS``."""

    def _run(self, action: str) -> None:
        run = getattr(self.app, "run_chat_action", None)
        if run is not None:
            run(action)

    async def discover(self) -> Hits:
        for cmd in COMMANDS:
            yield DiscoveryHit(cmd.title, partial(self._run, cmd.action), help=cmd.help)

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for cmd in COMMANDS:
            score = matcher.match(cmd.title)
            if score > 0:
                yield Hit(score, matcher.highlight(cmd.title), partial(self._run, cmd.action), help=cmd.help)
