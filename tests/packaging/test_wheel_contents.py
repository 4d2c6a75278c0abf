"""The wheel carries every module and style sheet of both packages, and the real catalog."""

from __future__ import annotations

import zipfile

from packaging_support import ROOT, project_table

PACKAGES = ("nudge_local", "tui")


def source_files() -> set[str]:
    found = set()
    for package in PACKAGES:
        for path in (ROOT / package).rglob("*"):
            if path.suffix in (".py", ".tcss") and "__pycache__" not in path.parts:
                found.add(path.relative_to(ROOT).as_posix())
    return found


def test_wheel_has_every_module_and_style_sheet(wheel):
    names = set(zipfile.ZipFile(wheel).namelist())
    missing = sorted(source_files() - names)
    assert not missing, f"not in {wheel.name}: {missing}"


def test_wheel_catalog_is_the_real_models_toml(wheel):
    with zipfile.ZipFile(wheel) as archive:
        catalog = archive.read("nudge_local/models.toml")
    assert catalog == (ROOT / "models.toml").read_bytes()


def test_wheel_declares_the_console_script(wheel):
    target = project_table()["scripts"]["nudge-local"]
    with zipfile.ZipFile(wheel) as archive:
        entry_points = next(n for n in archive.namelist() if n.endswith(".dist-info/entry_points.txt"))
        text = archive.read(entry_points).decode()
    assert f"nudge-local = {target}" in text
