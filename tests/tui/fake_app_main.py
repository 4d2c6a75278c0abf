"""Test-only entry point: the real app on a fake engine, in a real terminal (tmux).

Not shipped and not a user option. The first reply completes; from the second call on, the fake
stream stops after a few pieces and waits (a reply "still streaming") until the process is
killed. Chats go to the default store, i.e. $XDG_DATA_HOME, which the test points at a tmp dir.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from fake_engine import FakeNudger  # noqa: E402

from nudge_local_tui.app import NudgeApp  # noqa: E402
from nudge_local_tui.engine import ModelSpec  # noqa: E402


class HoldingNudger(FakeNudger):
    def stream(self, *args, **kwargs):
        self.hold_after = 3 if self.calls else None  # second reply onwards hangs mid-way
        return super().stream(*args, **kwargs)


if __name__ == "__main__":
    nudger = HoldingNudger(delay=0.01, filler=20)
    NudgeApp(spec=ModelSpec(pair="fake"), loader=lambda spec: nudger).run()
