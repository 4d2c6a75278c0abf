"""nudge-local's terminal UI (Textual)."""

from __future__ import annotations

__all__ = ["NudgeApp"]


def __getattr__(name: str) -> object:
    # Lazy, so that `import nudge_local_tui` (e.g. from the CLI's parser) does not import Textual.
    if name == "NudgeApp":
        from .app import NudgeApp

        return NudgeApp
    raise AttributeError(name)
