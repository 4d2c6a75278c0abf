"""Shared helpers for the pilot tests."""

from __future__ import annotations

import time

from fake_engine import FakeNudger

from nudge_local_tui.app import NudgeApp
from nudge_local_tui.engine import ModelSpec
from nudge_local_tui.store import ChatStore
from nudge_local_tui.widgets.reply import ReplyView
from nudge_local_tui.widgets.user_message import UserMessage


def make_app(tmp_path, nudger: FakeNudger | None = None, store: ChatStore | None = None) -> tuple[NudgeApp, FakeNudger]:
    nudger = nudger or FakeNudger()
    store = store or ChatStore(tmp_path / "chats.sqlite3")
    app = NudgeApp(store=store, spec=ModelSpec(pair="fake"), loader=lambda spec: nudger)
    return app, nudger


async def wait_until(pilot, condition, timeout: float = 10.0) -> None:
    """Let the app run until ``condition()`` holds (fails the test after ``timeout``)."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {timeout} s: {condition}")
        await pilot.pause(0.02)


async def wait_ready(pilot) -> None:
    await wait_until(pilot, lambda: pilot.app.engine.ready and pilot.app.model_state == "ready")


async def send(pilot, text: str) -> None:
    """Type ``text`` into the prompt and press Enter; return once the chat screen has handled it
    (the prompt is shown, or it was refused with a message and put back)."""
    app = pilot.app
    chat = app.chat
    before = (len(chat.query(UserMessage)), len(app._notifications))
    prompt = app.screen.query_one("#prompt")
    prompt.focus()
    prompt.text = text
    await pilot.press("enter")
    await wait_until(pilot, lambda: (len(chat.query(UserMessage)), len(app._notifications)) != before)


async def wait_reply_done(pilot, timeout: float = 10.0) -> None:
    chat = pilot.app.chat
    await wait_until(pilot, lambda: chat.job is None and all(v.done for v in chat.query(ReplyView)), timeout)
    await pilot.pause(0.1)  # let the final Markdown render land
