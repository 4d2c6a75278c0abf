"""The wheel carries every module and style sheet of both packages and the real catalog, and it
installs no top-level package but nudge_local and nudge_local_tui (the Textual app, whose source
is tui/nudge_local_tui/; a top-level name such as `tui` would clash with other projects)."""

from __future__ import annotations

import zipfile

from packaging_support import ROOT, project_table

#: top-level import name -> its folder in the source tree
PACKAGES = {"nudge_local": ROOT / "nudge_local", "nudge_local_tui": ROOT / "tui" / "nudge_local_tui"}


def source_files() -> set[str]:
    found = set()
    for package, folder in PACKAGES.items():
        assert folder.is_dir(), f"{folder} is missing"
        for path in folder.rglob("*"):
            if path.suffix in (".py", ".tcss") and "__pycache__" not in path.parts:
                found.add(f"{package}/{path.relative_to(folder).as_posix()}")
    return found


def test_wheel_has_every_module_and_style_sheet(wheel):
    names = set(zipfile.ZipFile(wheel).namelist())
    missing = sorted(source_files() - names)
    assert not missing, f"not in {wheel.name}: {missing}"


def test_wheel_installs_no_other_top_level_package(wheel):
    names = zipfile.ZipFile(wheel).namelist()
    top = {n.split("/", 1)[0] for n in names}
    meta = {t for t in top if t.endswith((".dist-info", ".data"))}
    assert top - meta == set(PACKAGES), sorted(top - meta)
    with zipfile.ZipFile(wheel) as archive:
        top_level = next((n for n in names if n.endswith(".dist-info/top_level.txt")), None)
        if top_level is not None:  # setuptools writes it; it must agree
            assert set(archive.read(top_level).decode().split()) == set(PACKAGES)


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
