"""One file from the Hugging Face Hub into the models folder, resumable and verified.

huggingface-hub does the Hub protocol: URLs (``HF_ENDPOINT``), auth (``HF_TOKEN``), the
metadata HEAD (``X-Linked-Etag`` = the LFS sha256, ``X-Linked-Size``, the CDN redirect) and its
typed errors. The bytes come through ``_http_fetch`` (prompt cancel, Range resume, retries).

What is verified depends on what the Hub tells: an LFS file's ETag is its sha256 (checked, and
against the catalog's sha256 when it lists one); a file kept in git has only its git blob sha1
as ETag (checked as ``sha1("blob <size>\\0" + bytes)``); the size and the GGUF header are
always checked. The checks that ran are returned, and only those are ever claimed.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from pathlib import Path
from typing import Any

from ._download_errors import (
    DownloadAccessError,
    DownloadError,
    DownloadNetworkError,
    DownloadNotFoundError,
    DownloadVerificationError,
)
from ._download_progress import Tracker
from ._errors import NudgeError
from ._http_fetch import (
    RETRYABLE_STATUS,
    HTTPStatusError,
    Retry,
    TransportError,
    check_disk,
    classify,
    network_error,
    retry_after_seconds,
    short_reason,
    stream_to_file,
    with_retries,
)
from .catalog import ModelEntry, partial_path

_SHA256 = re.compile(r"[0-9a-f]{64}")
_GIT_SHA1 = re.compile(r"[0-9a-f]{40}")


def fetch(entry: ModelEntry, dest: Path, revision: str,
          tracker: Tracker) -> tuple[Path, tuple[str, ...]] | None:
    """Download ``entry`` to ``dest``; returns it with the checks that passed, or None when
    ``dest`` already is this revision's file. The caller holds the model's lock."""
    from huggingface_hub import get_hf_file_metadata, hf_hub_url
    from huggingface_hub.utils import build_hf_headers  # type: ignore[attr-defined]

    assert entry.repo and entry.file
    tracker.emit(force=True, phase="connecting")
    endpoint = endpoint_url()
    url = hf_hub_url(entry.repo, entry.file, revision=revision, endpoint=endpoint)
    try:
        meta = with_retries(lambda: get_hf_file_metadata(url, endpoint=endpoint), tracker,
                            "The Hub", judge=_judge)
    except Exception as exc:
        raise translate(exc, entry, revision, endpoint) from None
    size = meta.size or None
    expected_sha = _expected_sha(entry, revision, meta.etag)
    git_sha1 = meta.etag if meta.etag and _GIT_SHA1.fullmatch(meta.etag) else None
    if dest.is_file() and expected_sha and _read_json(sidecar_path(dest)).get("sha256") == expected_sha:
        return None  # this revision is the file we already have

    dest.parent.mkdir(parents=True, exist_ok=True)
    part = partial_path(entry)
    part_meta = part.with_name(part.name + ".json")
    # A partial from a different file version (or longer than the file) can't be continued.
    if part.exists() and (_read_json(part_meta).get("etag") != meta.etag
                          or (size is not None and part.stat().st_size > size)):
        part.unlink()
    have = part.stat().st_size if part.exists() else 0
    check_disk(dest.parent, (size or 0) - have, entry.name)
    part_meta.write_text(json.dumps({"etag": meta.etag, "revision": revision}))

    headers = dict(build_hf_headers())
    if _host(meta.location) != _host(url):
        headers = {k: v for k, v in headers.items() if k.lower() != "authorization"}
    tracker.total = size
    try:
        stream_to_file(meta.location, part, headers, size, tracker, entry.name, "the Hub")
    except (HTTPStatusError, TransportError) as exc:
        raise translate(exc, entry, revision, endpoint) from None
    checks, got = verify(part, tracker, entry, size, expected_sha, git_sha1)
    os.replace(part, dest)
    part_meta.unlink(missing_ok=True)
    sidecar_path(dest).write_text(json.dumps({
        "repo": entry.repo, "file": entry.file, "revision": revision, "commit": meta.commit_hash,
        "sha256": got, "checks": list(checks), "verified": "sha256" in checks,
    }, indent=1))
    return dest, checks


def verify(part: Path, tracker: Tracker, entry: ModelEntry, size: int | None,
           expected_sha: str | None, git_sha1: str | None) -> tuple[tuple[str, ...], str]:
    """Check the finished partial; a file failing any check is deleted, never renamed."""
    have = part.stat().st_size
    checks: list[str] = []
    if size is not None:
        if have != size:
            _reject(part, f"The download of {entry.name} is {have} bytes, but the Hub says "
                          f"{size}; the file was deleted, run the download again.")
        checks.append("size")
    tracker.total = have
    tracker.start(0, phase="verifying")
    sha256 = hashlib.sha256()
    sha1 = hashlib.sha1(f"blob {have}\0".encode()) if git_sha1 else None
    with open(part, "rb") as f:
        magic = f.read(4)
        f.seek(0)
        while block := f.read(4 * 1024 * 1024):
            sha256.update(block)
            if sha1 is not None:
                sha1.update(block)
            tracker.update(len(block))
    if magic != b"GGUF":
        _reject(part, f"{entry.repo}/{entry.file} is not a GGUF file; the download was deleted.")
    checks.append("gguf-header")
    got = sha256.hexdigest()
    if expected_sha is not None:
        if got != expected_sha:
            _reject(part, f"The download of {entry.name} is corrupt (sha256 {got[:12]}…, "
                          f"expected {expected_sha[:12]}…); the file was deleted, run the "
                          "download again.")
        checks.append("sha256")
    if sha1 is not None and git_sha1 is not None:
        if sha1.hexdigest() != git_sha1:
            _reject(part, f"The download of {entry.name} is corrupt (git blob sha1 "
                          f"{sha1.hexdigest()[:12]}…, the Hub says {git_sha1[:12]}…); the file "
                          "was deleted, run the download again.")
        checks.append("git-sha1")
    return tuple(checks), got


def _reject(part: Path, message: str) -> None:
    part.unlink(missing_ok=True)
    raise DownloadVerificationError(message)


def _expected_sha(entry: ModelEntry, revision: str, etag: str | None) -> str | None:
    hub_sha = etag if etag and _SHA256.fullmatch(etag) else None
    catalog_applies = bool(entry.sha256) and revision == (entry.revision or "main")
    if catalog_applies and hub_sha and hub_sha != entry.sha256:
        raise DownloadVerificationError(
            f"The Hub's {entry.repo}/{entry.file} at {revision} is not the file the catalog "
            f"lists for {entry.name} (sha256 differs); pin the catalog's revision in models.toml "
            "or update its sha256."
        )
    return entry.sha256 if catalog_applies else hub_sha


# ------------------------------------------------------------------ errors

def _judge(exc: BaseException) -> Retry | None:
    """huggingface-hub's HTTP errors on the metadata HEAD: 429/5xx are worth another try."""
    response = getattr(exc, "response", None)
    status = getattr(response, "status_code", None)
    if isinstance(status, int) and not isinstance(exc, NudgeError):
        headers = getattr(response, "headers", {}) or {}
        after = retry_after_seconds(headers.get("Retry-After"))
        return Retry(status in RETRYABLE_STATUS, after, f"HTTP {status}")
    return classify(exc)


def translate(exc: BaseException, e: ModelEntry, revision: str, endpoint: str) -> Exception:
    """One clear sentence for every way the Hub or the network can fail."""
    from huggingface_hub import errors as hf

    if isinstance(exc, NudgeError):
        return exc
    page = f"{endpoint}/{e.repo}"
    status: Any = exc.status if isinstance(exc, HTTPStatusError) else getattr(
        getattr(exc, "response", None), "status_code", None)
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
    if isinstance(status, int):
        return DownloadNetworkError(
            f"The Hub answered HTTP {status} for {e.repo}/{e.file}"
            + (" even after retrying" if status in RETRYABLE_STATUS else "")
            + "; try again later — the download resumes where it stopped."
        )
    if isinstance(exc, TransportError):
        return network_error(e.name, endpoint, exc.reason)
    if isinstance(exc, _transport_errors()) or isinstance(exc, OSError):
        return network_error(e.name, endpoint, short_reason(exc))
    return DownloadError(f"Cannot download {e.name} from {endpoint} ({type(exc).__name__}: "
                         f"{short_reason(exc)}).")


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


# ------------------------------------------------------------------ helpers

def endpoint_url() -> str:
    from huggingface_hub import constants

    return str(os.environ.get("HF_ENDPOINT") or constants.ENDPOINT).rstrip("/")


def offline() -> bool:
    # Read the variable now: huggingface-hub reads it once at import time.
    from huggingface_hub import constants

    value = os.environ.get("HF_HUB_OFFLINE")
    if value is not None:
        return value.strip().upper() in {"1", "ON", "YES", "TRUE"}
    return bool(constants.HF_HUB_OFFLINE)


def _host(url: str) -> str:
    from urllib.parse import urlsplit

    return urlsplit(url).netloc


def sidecar_path(dest: Path) -> Path:
    return dest.with_name(dest.name + ".json")


def _read_json(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}
