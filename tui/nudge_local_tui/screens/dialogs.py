"""Small modal dialogs: a line of text, a yes/no question, editing a message."""

from __future__ import annotations

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Static, TextArea


class _Question(Static):
    """The dialog's question: wraps instead of being cut off."""


class AskText(ModalScreen[str | None]):
    """Dismisses with the entered text (Enter), or None (Esc)."""

    BINDINGS = [Binding("escape", "cancel", "Cancel")]

    def __init__(self, question: str, value: str = "", button: str = "OK") -> None:
        super().__init__()
        self.question, self.value, self.button = question, value, button

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield _Question(Content(self.question), classes="dialog-question")
            yield Input(self.value, id="answer")
            with Horizontal(classes="dialog-buttons"):
                yield Button(self.button, variant="primary", id="ok")
                yield Button("Cancel", id="cancel")

    @on(Input.Submitted)
    @on(Button.Pressed, "#ok")
    def _ok(self) -> None:
        value = self.query_one("#answer", Input).value.strip()
        if value:
            self.dismiss(value)

    @on(Button.Pressed, "#cancel")
    def action_cancel(self) -> None:
        self.dismiss(None)


class Confirm(ModalScreen[bool]):
    """Yes (y) or no (Esc); focus starts on No."""

    BINDINGS = [Binding("escape", "no", "No"), Binding("y", "yes", "Yes")]

    def __init__(self, question: str) -> None:
        super().__init__()
        self.question = question

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield _Question(Content(self.question), classes="dialog-question")
            with Horizontal(classes="dialog-buttons"):
                yield Button("Yes", variant="error", id="yes")
                yield Button("No", variant="primary", id="no")

    def on_mount(self) -> None:
        self.query_one("#no").focus()

    @on(Button.Pressed, "#yes")
    def action_yes(self) -> None:
        self.dismiss(True)

    @on(Button.Pressed, "#no")
    def action_no(self) -> None:
        self.dismiss(False)


class EditMessage(ModalScreen[tuple[str, bool] | None]):
    """Edit a message's text. Dismisses with (text, resend) or None (Esc). ``resend`` offers
    "Save and resend" (the last prompt: its reply is written again)."""

    BINDINGS = [Binding("escape", "cancel", "Cancel"), Binding("ctrl+s", "save", "Save")]

    def __init__(self, question: str, text: str, resend: bool = False) -> None:
        super().__init__()
        self.question, self.text, self.resend = question, text, resend

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog edit-dialog"):
            yield _Question(Content(self.question), classes="dialog-question")
            yield TextArea(self.text, id="edit-text", soft_wrap=True)
            with Horizontal(classes="dialog-buttons"):
                if self.resend:
                    yield Button("Save and resend", variant="primary", id="resend")
                yield Button("Save", variant="primary" if not self.resend else "default", id="save")
                yield Button("Cancel", id="cancel")

    def _value(self) -> str:
        return self.query_one("#edit-text", TextArea).text.strip()

    @on(Button.Pressed, "#save")
    def action_save(self) -> None:
        if self._value():
            self.dismiss((self._value(), False))

    @on(Button.Pressed, "#resend")
    def _resend(self) -> None:
        if self._value():
            self.dismiss((self._value(), True))

    @on(Button.Pressed, "#cancel")
    def action_cancel(self) -> None:
        self.dismiss(None)
