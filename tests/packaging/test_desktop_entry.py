"""packaging/install-desktop.sh puts a working launcher and the icon in the XDG locations."""

from __future__ import annotations

import configparser
import os
from pathlib import Path

from packaging_support import ROOT, describe, run

SCRIPT = ROOT / "packaging" / "install-desktop.sh"


def fake_tool(directory: Path) -> Path:
    """An executable named nudge-local: the script only checks and records its path."""
    directory.mkdir(parents=True, exist_ok=True)
    exe = directory / "nudge-local"
    exe.write_text("#!/bin/sh\nexit 0\n")
    exe.chmod(0o755)
    return exe


def read_entry(path: Path) -> configparser.SectionProxy:
    parser = configparser.ConfigParser(interpolation=None)
    parser.optionxform = str  # keys are case-sensitive in desktop entries
    parser.read(path, encoding="utf-8")
    return parser["Desktop Entry"]


def test_installs_launcher_with_absolute_exec_and_icons(tmp_path, isolated_env):
    exe = fake_tool(tmp_path / "dir with space" / "bin")
    result = run(["bash", SCRIPT, exe], isolated_env, cwd=tmp_path, timeout=60)
    assert result.returncode == 0, describe(result)

    data_home = Path(isolated_env["XDG_DATA_HOME"])
    entry = read_entry(data_home / "applications" / "nudge-local.desktop")
    assert entry["Type"] == "Application"
    assert entry["Exec"] == f'"{exe}" chat'
    assert entry["TryExec"] == str(exe)
    assert entry["Terminal"] == "true"
    assert entry["Icon"] == "nudge-local"

    icons = data_home / "icons" / "hicolor"
    png = icons / "256x256" / "apps" / "nudge-local.png"
    svg = icons / "scalable" / "apps" / "nudge-local.svg"
    assert png.read_bytes() == (ROOT / "packaging" / "icons" / "nudge-local.png").read_bytes()
    assert svg.read_bytes() == (ROOT / "packaging" / "icons" / "nudge-local.svg").read_bytes()


def test_uses_the_nudge_local_on_path_when_no_path_is_given(tmp_path, isolated_env):
    exe = fake_tool(tmp_path / "bin")
    env = dict(isolated_env, PATH=f"{exe.parent}{os.pathsep}{isolated_env['PATH']}")
    result = run(["bash", SCRIPT], env, cwd=tmp_path, timeout=60)
    assert result.returncode == 0, describe(result)
    entry = read_entry(Path(env["XDG_DATA_HOME"]) / "applications" / "nudge-local.desktop")
    assert entry["Exec"] == f'"{exe}" chat'


def test_uninstall_removes_launcher_and_icons(tmp_path, isolated_env):
    exe = fake_tool(tmp_path / "bin")
    assert run(["bash", SCRIPT, exe], isolated_env, cwd=tmp_path, timeout=60).returncode == 0
    result = run(["bash", SCRIPT, "--uninstall"], isolated_env, cwd=tmp_path, timeout=60)
    assert result.returncode == 0, describe(result)
    data_home = Path(isolated_env["XDG_DATA_HOME"])
    assert not (data_home / "applications" / "nudge-local.desktop").exists()
    assert not (data_home / "icons" / "hicolor" / "256x256" / "apps" / "nudge-local.png").exists()


def test_a_path_that_is_not_executable_is_refused_in_one_sentence(tmp_path, isolated_env):
    missing = tmp_path / "nowhere" / "nudge-local"
    result = run(["bash", SCRIPT, missing], isolated_env, cwd=tmp_path, timeout=60)
    assert result.returncode == 2, describe(result)
    assert result.stderr.strip().count("\n") == 0 and str(missing) in result.stderr
    assert not (Path(isolated_env["XDG_DATA_HOME"]) / "applications").exists()
