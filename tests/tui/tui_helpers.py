"""Shared helpers for the pilot tests."""

from __future__ import annotations

import asyncio
import time

from tui.app import NudgeApp
from tui.engine import ModelSpec
from tui.store import ChatStore

from fake_engine import FakeNudger


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
    prompt = pilot.app.screen.query_one("#prompt")
    prompt.focus()
    prompt.text = text
    await pilot.press("enter")


async def wait_reply_done(pilot) -> None:
    chat = pilot.app.chat
    await wait_until(pilot, lambda: chat.current is None)
    await pilot.pause(0.1)  # let the final Markdown render land
