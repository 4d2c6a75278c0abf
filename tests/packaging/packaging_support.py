"""Helpers shared by the packaging tests: an isolated user environment and a command runner."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10
    import tomli as tomllib

ROOT = Path(__file__).resolve().parents[2]


def project_version() -> str:
    with open(ROOT / "pyproject.toml", "rb") as f:
        return tomllib.load(f)["project"]["version"]


def real_pip_cache_dir() -> str | None:
    """pip's cache as this user sees it, read before HOME is swapped for a temporary one.

    Reusing it keeps installs fast: llama-cpp-python has no wheel for this platform on PyPI, and a
    fresh source build takes many minutes. An empty answer means the cache is off; leave it off.
    """
    out = subprocess.run([sys.executable, "-m", "pip", "cache", "dir"],
                         capture_output=True, text=True)
    path = out.stdout.strip()
    return path if out.returncode == 0 and path else None


def isolated_env_for(tmp_path: Path) -> dict[str, str]:
    """Environment for a program that must not see or touch the real user's home or dirs."""
    env = dict(os.environ)
    cache = real_pip_cache_dir()
    home = tmp_path / "home"
    for sub in ("", ".config", ".cache", ".local/share", ".local/state"):
        (home / sub).mkdir(parents=True, exist_ok=True)
    env.update(
        HOME=str(home),
        XDG_CONFIG_HOME=str(home / ".config"),
        XDG_CACHE_HOME=str(home / ".cache"),
        XDG_DATA_HOME=str(home / ".local/share"),
        XDG_STATE_HOME=str(home / ".local/state"),
    )
    if cache:
        env["PIP_CACHE_DIR"] = cache
    # Whatever venv runs pytest must not leak into the programs under test.
    for name in ("VIRTUAL_ENV", "PYTHONPATH", "PYTHONHOME"):
        env.pop(name, None)
    return env


def run(cmd: list[str], env: dict[str, str], cwd: Path, timeout: float) -> subprocess.CompletedProcess:
    return subprocess.run([str(part) for part in cmd], env=env, cwd=cwd, capture_output=True,
                          text=True, timeout=timeout, stdin=subprocess.DEVNULL)


def describe(result: subprocess.CompletedProcess) -> str:
    return (f"$ {' '.join(map(str, result.args))}\nexit {result.returncode}\n"
            f"--- stdout\n{result.stdout[-3000:]}\n--- stderr\n{result.stderr[-3000:]}")
