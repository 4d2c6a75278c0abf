"""Fixtures for the packaging tests."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from packaging_support import ROOT, describe, isolated_env_for, run


@pytest.fixture
def isolated_env(tmp_path: Path) -> dict[str, str]:
    """Environment for a program that must not see or touch the real user's home or dirs."""
    return isolated_env_for(tmp_path)


@pytest.fixture(scope="session")
def wheel(tmp_path_factory) -> Path:
    """The project's wheel, built from the source tree as a release would build it."""
    out_dir = tmp_path_factory.mktemp("wheel")
    env = isolated_env_for(out_dir)
    result = run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--wheel-dir", out_dir, ROOT],
                 env, cwd=out_dir, timeout=600)
    assert result.returncode == 0, describe(result)
    wheels = list(out_dir.glob("nudge_local-*.whl"))
    assert len(wheels) == 1, f"expected one nudge-local wheel in {out_dir}: {wheels}"
    return wheels[0]
