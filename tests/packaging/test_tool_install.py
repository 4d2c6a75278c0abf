"""The desktop-tool install path: build the wheel, `pipx install` it into a temporary home, check
that it installed nothing but nudge-local's own packages and dependencies (no `llm` command, no
model packages), download the demo pair with it and run it for real (CLI and chat TUI)."""

from __future__ import annotations

import subprocess
import sys
import venv
from pathlib import Path

import pytest
from packaging_support import (
    describe,
    download_demo,
    drive_tui,
    generate_demo,
    project_version,
    run,
)

pytestmark = pytest.mark.slow


def pipx_command(tmp_path: Path, env: dict[str, str]) -> list[str]:
    """pipx from the test venv when the dev extra brought it, else from a throwaway venv."""
    probe = subprocess.run([sys.executable, "-m", "pipx", "--version"], capture_output=True)
    if probe.returncode == 0:
        return [sys.executable, "-m", "pipx"]
    tools = tmp_path / "pipx-venv"
    venv.create(tools, with_pip=True)
    result = run([str(tools / "bin" / "python"), "-m", "pip", "install", "--quiet", "pipx"],
                 env, cwd=tmp_path, timeout=600)
    assert result.returncode == 0, describe(result)
    return [str(tools / "bin" / "python"), "-m", "pipx"]


def test_pipx_install_from_wheel_runs_version_demo_generate_and_chat(tmp_path, isolated_env, wheel):
    env = dict(isolated_env, NUDGE_LOCAL_MODELS_DIR=str(tmp_path / "models"))
    bin_dir = tmp_path / "pipx-bin"
    env.update(
        PIPX_HOME=str(tmp_path / "pipx-home"),
        PIPX_BIN_DIR=str(bin_dir),
        PIPX_MAN_DIR=str(tmp_path / "pipx-man"),
        PIPX_DEFAULT_PYTHON=sys.executable,
    )
    pipx = pipx_command(tmp_path, env)

    installed = run(pipx + ["install", str(wheel)], env, cwd=tmp_path, timeout=1200)
    assert installed.returncode == 0, describe(installed)
    exe = bin_dir / "nudge-local"
    assert exe.is_file(), f"pipx did not expose nudge-local in {bin_dir}\n{describe(installed)}"
    venv_dir = tmp_path / "pipx-home" / "venvs" / "nudge-local"
    assert not (venv_dir / "bin" / "llm").exists()
    site = next(venv_dir.glob("lib/python*/site-packages"))
    unwanted = sorted(p.name for p in site.iterdir()
                      if p.name.lower().startswith(("llm", "gemma3_270m", "openai", "sqlite_utils")))
    assert not unwanted, unwanted
    assert not list(site.rglob("*.gguf*"))

    # Run from a directory unrelated to the source tree, so nothing can be imported from it.
    workdir = tmp_path / "elsewhere"
    workdir.mkdir()

    version = run([exe, "--version"], env, cwd=workdir, timeout=120)
    assert version.returncode == 0, describe(version)
    assert project_version() in version.stdout, describe(version)

    printed = download_demo(exe, env, workdir)
    assert printed.count("done, sha256 verified") == 2, printed
    generate_demo(exe, env, workdir, max_tokens=24)

    screens, code = drive_tui(exe, env, workdir, tmp_path / "tmux.sock")
    loaded, answered = screens
    assert " ready " in loaded and "Traceback" not in loaded, loaded
    assert "What is 2+2?" in answered and "assistant" in answered, answered
    assert "Traceback" not in answered, answered
    assert code == 0, screens
