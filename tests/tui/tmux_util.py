"""Drive a program in a real terminal with tmux (send-keys, capture-pane)."""

from __future__ import annotations

import os
import shutil
import subprocess
import time
import uuid

import pytest

TMUX = shutil.which("tmux")


def require_tmux() -> str:
    if TMUX is None:
        pytest.skip("tmux is not installed")
    return TMUX


class TmuxSession:
    def __init__(self, command: str, env: dict[str, str], size: tuple[int, int] = (110, 32)) -> None:
        self.name = f"nudge-test-{uuid.uuid4().hex[:8]}"
        self.env = {**os.environ, **env, "TERM": "xterm-256color"}
        # A private server socket: never touch the user's own tmux sessions.
        self.socket = f"nudge-test-{uuid.uuid4().hex[:8]}"
        self._tmux("new-session", "-d", "-s", self.name, "-x", str(size[0]), "-y", str(size[1]), command)

    def _tmux(self, *args: str) -> str:
        out = subprocess.run([require_tmux(), "-L", self.socket, *args], env=self.env,
                             capture_output=True, text=True, check=True)
        return out.stdout

    def send(self, *keys: str) -> None:
        self._tmux("send-keys", "-t", self.name, *keys)

    def type(self, text: str) -> None:
        self._tmux("send-keys", "-t", self.name, "-l", text)

    def screen(self) -> str:
        return self._tmux("capture-pane", "-p", "-t", self.name)

    def pid(self) -> int:
        return int(self._tmux("display-message", "-p", "-t", self.name, "#{pane_pid}").strip())

    def wait_for(self, predicate, timeout: float, what: str) -> str:
        deadline = time.monotonic() + timeout
        while True:
            text = self.screen()
            if predicate(text):
                return text
            if time.monotonic() > deadline:
                raise AssertionError(f"{what} did not appear within {timeout} s; screen:\n{text}")
            time.sleep(0.25)

    def kill(self) -> None:
        subprocess.run([require_tmux(), "-L", self.socket, "kill-server"], env=self.env, capture_output=True)
