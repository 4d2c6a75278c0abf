"""Fixtures for the packaging tests."""

from pathlib import Path

import pytest

from packaging_support import isolated_env_for


@pytest.fixture
def isolated_env(tmp_path: Path) -> dict[str, str]:
    """Environment for a program that must not see or touch the real user's home or dirs."""
    return isolated_env_for(tmp_path)
