"""The controls panel: gamma, max tokens, temperature, system prompt, mode, marks look, and the
γ the last eval of this pair scored best with.

Every change posts ``ControlsPanel.Changed`` with a complete, validated settings object; a
value that does not validate is shown as an error and the previous setting stays in force.
On a narrow window the panel floats over the conversation instead of taking its width.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, VerticalScroll
from textual.message import Message
from textual.widgets import Button, Input, Label, RadioButton, RadioSet, Static

from nudge_local import DEFAULT_SYSTEM

from ..settings import GAMMA_STEP, MARKS_LABELS, MARKS_LOOKS, MODE_LABELS, MODES, GenerationSettings, InvalidSetting


class GammaStepper(Horizontal, can_focus=True):
    """gamma in [0, 1]: Left/Right or -/+ step by 0.05."""

    BINDINGS = [
        Binding("left,minus", "step(-1)", "γ −", show=False),
        Binding("right,plus,equals_sign", "step(1)", "γ +", show=False),
    ]

    @dataclass
    class Stepped(Message):
        delta: float

    def compose(self) -> ComposeResult:
        yield Button("−", id="gamma-down", compact=True)
        yield Static("0.40", id="gamma-value")
        yield Button("+", id="gamma-up", compact=True)

    def show(self, gamma: float) -> None:
        self.query_one("#gamma-value", Static).update(f"{gamma:.2f}")

    def action_step(self, direction: int) -> None:
        self.post_message(self.Stepped(direction * GAMMA_STEP))

    @on(Button.Pressed, "#gamma-down")
    def _down(self, event: Button.Pressed) -> None:
        event.stop()
        self.action_step(-1)

    @on(Button.Pressed, "#gamma-up")
    def _up(self, event: Button.Pressed) -> None:
        event.stop()
        self.action_step(1)


class ControlsPanel(VerticalScroll):
    """Settings for the next reply (ctrl+o shows and hides it)."""

    @dataclass
    class Changed(Message):
        settings: GenerationSettings

    @dataclass
    class MarksChanged(Message):
        look: str

    def __init__(self, settings: GenerationSettings, marks: str = "underline", **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.settings = settings
        self.marks = marks
        self.suggested_gamma: float | None = None

    def compose(self) -> ComposeResult:
        s = self.settings
        yield Static("Controls", classes="panel-title")
        yield Label("Gamma (confidence threshold)")
        yield GammaStepper(id="gamma")
        yield Label("Max tokens")
        yield Input(str(s.max_tokens), id="max-tokens", type="integer")
        yield Label("Temperature")
        yield Input(str(s.temperature), id="temperature", type="number")
        yield Label("System prompt (empty: default)")
        yield Input(s.system, id="system", placeholder=DEFAULT_SYSTEM)
        yield Label("Mode")
        with RadioSet(id="mode"):
            for mode in MODES:
                yield RadioButton(MODE_LABELS[mode], value=mode == s.mode, id=f"mode-{mode}")
        yield Label("Marks (ctrl+t)")
        with RadioSet(id="marks"):
            for look in MARKS_LOOKS:
                yield RadioButton(MARKS_LABELS[look], value=look == self.marks, id=f"marks-{look}")
        yield Static("", id="eval-suggestion")
        yield Button("Use it", id="use-suggested", compact=True)
        yield Static("", id="controls-error")

    def on_mount(self) -> None:
        self.query_one(GammaStepper).show(self.settings.gamma)
        self.suggest(None, "")

    def suggest(self, gamma: float | None, note: str) -> None:
        """Show the γ the last eval of this pair scored best with (None: no eval yet)."""
        self.suggested_gamma = gamma
        self.query_one("#eval-suggestion", Static).update(note)
        self.query_one("#eval-suggestion").display = bool(note)
        self.query_one("#use-suggested").display = gamma is not None

    @on(Button.Pressed, "#use-suggested")
    def _use_suggested(self, event: Button.Pressed) -> None:
        event.stop()
        if self.suggested_gamma is not None:
            self._apply(replace(self.settings, gamma=self.suggested_gamma))

    def sync_marks(self, look: str) -> None:
        self.marks = look
        for other in MARKS_LOOKS:
            button = self.query_one(f"#marks-{other}", RadioButton)
            if button.value != (other == look):
                with button.prevent(RadioButton.Changed):
                    button.value = other == look

    @on(RadioSet.Changed, "#marks")
    def _marks(self, event: RadioSet.Changed) -> None:
        look = (event.pressed.id or "marks-underline").removeprefix("marks-")
        self.marks = look
        self.post_message(self.MarksChanged(look))

    def sync(self, settings: GenerationSettings) -> None:
        """Show ``settings`` (changed elsewhere, e.g. from the command palette)."""
        self.settings = settings
        self.query_one(GammaStepper).show(settings.gamma)
        for mode in MODES:
            button = self.query_one(f"#mode-{mode}", RadioButton)
            if button.value != (mode == settings.mode):
                with button.prevent(RadioButton.Changed):
                    button.value = mode == settings.mode

    def _apply(self, settings: GenerationSettings) -> None:
        error = self.query_one("#controls-error", Static)
        try:
            settings.validated()
        except InvalidSetting as exc:
            error.update(str(exc))
            return
        error.update("")
        self.settings = settings
        self.query_one(GammaStepper).show(settings.gamma)
        self.post_message(self.Changed(settings))

    @on(GammaStepper.Stepped)
    def _gamma(self, event: GammaStepper.Stepped) -> None:
        self._apply(self.settings.step_gamma(event.delta))

    @on(Input.Changed, "#max-tokens")
    def _max_tokens(self, event: Input.Changed) -> None:
        try:
            value = int(event.value)
        except ValueError:
            self.query_one("#controls-error", Static).update("Max tokens must be a whole number.")
            return
        self._apply(replace(self.settings, max_tokens=value))

    @on(Input.Changed, "#temperature")
    def _temperature(self, event: Input.Changed) -> None:
        try:
            value = float(event.value)
        except ValueError:
            self.query_one("#controls-error", Static).update("Temperature must be a number.")
            return
        self._apply(replace(self.settings, temperature=value))

    @on(Input.Changed, "#system")
    def _system(self, event: Input.Changed) -> None:
        self._apply(replace(self.settings, system=event.value))

    @on(RadioSet.Changed, "#mode")
    def _mode(self, event: RadioSet.Changed) -> None:
        mode = (event.pressed.id or "mode-nudged").removeprefix("mode-")
        self._apply(replace(self.settings, mode=mode))
