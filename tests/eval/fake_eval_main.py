"""Test-only entry point: ``nudge-local eval`` on the scripted fake pair (not shipped).

    python tests/eval/fake_eval_main.py [eval options...]

The pair answers every built-in task's questions (see fake_pair.py); ``FAKE_EVAL_DELAY``
(seconds per base-model step) slows it down so that a test can kill it mid-run.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from fake_pair import standard_pair  # noqa: E402

import nudge_local.cli.eval as eval_command  # noqa: E402
from nudge_local.cli import main  # noqa: E402
from nudge_local.eval import BUILTIN, resolve_tasks  # noqa: E402


def fake_loader(args):
    return standard_pair(resolve_tasks(list(BUILTIN)), delay=float(os.environ.get("FAKE_EVAL_DELAY", "0")))


if __name__ == "__main__":
    eval_command.load_nudger = fake_loader
    sys.exit(main(["eval", *sys.argv[1:]]))
