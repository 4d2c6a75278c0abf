"""Test-only entry point: `nudge-local chat` whose UI crashes on start (a deliberate bug), to
check the exit status a shell sees. Not shipped."""

from __future__ import annotations

import sys

from nudge_local.cli import main
from nudge_local_tui.app import NudgeApp


def _crash(self: NudgeApp) -> None:
    raise RuntimeError("a deliberate crash for the test")


if __name__ == "__main__":
    import tempfile
    from pathlib import Path

    NudgeApp.on_mount = _crash  # type: ignore[method-assign]
    fake = Path(tempfile.mkdtemp()) / "m.gguf"
    fake.write_bytes(b"GGUF" + bytes(60))  # passes the file check; the UI crashes before loading
    sys.exit(main(["chat", "--base", str(fake), "--nudging", str(fake)]))
