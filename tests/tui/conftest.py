"""The TUI tests: Textual's pilot is async, so tests are ``async def`` run by pytest-asyncio
(``asyncio_mode = "auto"`` in pyproject.toml). User dirs are isolated by the suite-wide
``private_dirs`` fixture (tests/conftest.py). The helpers next to this file import as plain
modules (``fake_engine``, ``tui_helpers``)."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
