"""Test-only entry point: `nudge-local chat` whose UI crashes on start (a deliberate bug), to
check the exit status a shell sees. Not shipped."""

from __future__ import annotations

import sys

from nudge_local.cli import main
from nudge_local_tui.app import NudgeApp


def _crash(self: NudgeApp) -> None:
    raise RuntimeError("a deliberate crash for the test")


if __name__ == "__main__":
    NudgeApp.on_mount = _crash  # type: ignore[method-assign]
    sys.exit(main(["chat", "--base", __file__, "--nudging", __file__]))
