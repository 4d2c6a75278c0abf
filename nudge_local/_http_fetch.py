"""Our own HTTP transfer of one large file: Range resume, prompt cancel, bounded retries.

Why not huggingface-hub's ``http_get``: it hands over 10 MiB at a time, so a cancel was
noticed only every 10 MiB (9 s at 1 MB/s) and the bytes of the unfinished chunk were thrown
away. Here a read returns as soon as any bytes arrive (at most ``READ_BYTES``), every byte
read is written to the ``.part`` file before cancel is checked, and while the line is silent
we wait on the socket in ``POLL_S`` slices, so a cancel is seen within ~0.1 s whatever the
speed. The standard library does the HTTP (proxies from the environment, TLS, redirects).

Retries: HTTP 429/500/502/503/504 and dropped connections are retried a bounded number of
times (``RetryPolicy``), honouring ``Retry-After``; the total pause is bounded too. A refused
connection or an unknown host is not retried: that is "offline", said at once.
"""

from __future__ import annotations

import email.utils
import errno
import http.client
import select
import shutil
import socket
import ssl
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from email.message import Message
from pathlib import Path
from typing import IO, TypeVar, cast

from ._download_errors import DiskSpaceError, DownloadNetworkError
from ._download_progress import Tracker

T = TypeVar("T")

RETRYABLE_STATUS = frozenset({429, 500, 502, 503, 504})
READ_BYTES = 32 * 1024
POLL_S = 0.1
#: A transfer that receives nothing for this long counts as dropped (and is retried).
STALL_S = 60.0
CONNECT_TIMEOUT_S = 30.0
#: Reconnections after a drop that made progress; bounds the loop on a flaky line.
MAX_RESUMES = 50


@dataclass(frozen=True)
class RetryPolicy:
    """How often and how long to retry a request the server refused for now (429/5xx)."""

    attempts: int = 5
    #: Total seconds of pauses across all retries of one request.
    budget_s: float = 30.0
    base_delay_s: float = 1.0
    max_delay_s: float = 10.0


DEFAULT_POLICY = RetryPolicy()


class HTTPStatusError(Exception):
    """The server answered with an error status."""

    def __init__(self, url: str, status: int, headers: Message | None) -> None:
        super().__init__(f"HTTP {status}")
        self.url, self.status = url, status
        self.retry_after = retry_after_seconds(headers.get("Retry-After") if headers else None)
        self.content_range = (headers.get("Content-Range") or "") if headers else ""


class TransportError(Exception):
    """The server could not be reached, or the connection broke; ``reason`` is short."""

    def __init__(self, url: str, reason: str, dropped: bool = False) -> None:
        super().__init__(reason)
        self.url, self.reason, self.dropped = url, reason, dropped


@dataclass(frozen=True)
class Retry:
    """What the retry loop needs to know about one failure."""

    retryable: bool
    retry_after: float | None
    reason: str


def retry_after_seconds(value: str | None) -> float | None:
    """Retry-After as seconds: a number, or an HTTP date."""
    if not value:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())


def classify(exc: BaseException) -> Retry | None:
    """Our own HTTP errors; None for anything else (the caller decides)."""
    if isinstance(exc, HTTPStatusError):
        return Retry(exc.status in RETRYABLE_STATUS, exc.retry_after, f"HTTP {exc.status}")
    if isinstance(exc, TransportError):
        return Retry(exc.dropped, None, exc.reason)
    return None


def with_retries(call: Callable[[], T], tracker: Tracker, what: str,
                 judge: Callable[[BaseException], Retry | None] = classify,
                 policy: RetryPolicy | None = None) -> T:
    """``call()``, again after a pause while ``judge`` calls its failure retryable.

    The last failure is re-raised when the tries or the pause budget run out, or when the
    server's Retry-After is longer than the budget left.
    """
    policy = policy or DEFAULT_POLICY
    slept = 0.0
    for attempt in range(1, policy.attempts + 1):
        try:
            return call()
        except Exception as exc:
            verdict = judge(exc)
            if verdict is None or not verdict.retryable or attempt == policy.attempts:
                raise
            delay = verdict.retry_after
            if delay is None:
                delay = min(policy.max_delay_s, policy.base_delay_s * 2 ** (attempt - 1))
            if slept + delay > policy.budget_s:
                raise
            tracker.note("retrying", f"{what} answered {verdict.reason}; retrying in "
                                     f"{delay:.0f} s (try {attempt + 1} of {policy.attempts}).")
            pause(delay, tracker)
            slept += delay
    raise AssertionError("unreachable")  # pragma: no cover


def pause(seconds: float, tracker: Tracker) -> None:
    """Sleep, but notice a cancel within ``POLL_S``."""
    deadline = time.monotonic() + seconds
    while (left := deadline - time.monotonic()) > 0:
        tracker.check_cancel()
        time.sleep(min(POLL_S, left))
    tracker.check_cancel()


# ------------------------------------------------------------------ requests

_opener: urllib.request.OpenerDirector | None = None


def _ssl_context() -> ssl.SSLContext:
    """The system's trusted certificates (where a company adds its own CA), plus certifi's
    when it is installed (what huggingface-hub trusts; python.org's macOS build has no system
    store until "Install Certificates" is run)."""
    ctx = ssl.create_default_context()
    try:
        import certifi

        ctx.load_verify_locations(certifi.where())
    except (ImportError, OSError):
        pass
    return ctx


def _open(req: urllib.request.Request) -> object:
    global _opener
    if _opener is None:
        _opener = urllib.request.build_opener(urllib.request.HTTPSHandler(context=_ssl_context()))
    return _opener.open(req, timeout=CONNECT_TIMEOUT_S)


def open_url(url: str, headers: dict[str, str], method: str = "GET",
             auth_header: str | None = None) -> http.client.HTTPResponse:
    """One request; error statuses raise ``HTTPStatusError``, transport failures
    ``TransportError``. ``auth_header`` is sent to this URL only, never after a redirect."""
    req = urllib.request.Request(url, headers=headers, method=method)
    if auth_header:
        req.add_unredirected_header("Authorization", auth_header)
    try:
        resp = _open(req)
    except urllib.error.HTTPError as e:
        status, hdrs = e.code, e.headers
        e.close()
        raise HTTPStatusError(url, status, hdrs) from None
    except (urllib.error.URLError, OSError, http.client.HTTPException, ValueError) as e:
        raise TransportError(url, short_reason(e)) from None
    return cast(http.client.HTTPResponse, resp)  # or urllib's addinfourl for file:// URLs


def short_reason(exc: BaseException) -> str:
    reason = getattr(exc, "reason", exc)
    if isinstance(reason, ConnectionRefusedError) or "refused" in str(reason).lower():
        return "connection refused"
    if isinstance(reason, socket.gaierror):
        return "host name not found"
    if isinstance(reason, (TimeoutError, socket.timeout)):
        return "timed out"
    if isinstance(reason, ssl.SSLError):
        return f"TLS error: {reason.reason or reason}"
    text = str(reason).strip().splitlines()[0] if str(reason).strip() else type(reason).__name__
    return text[:120]


# ------------------------------------------------------------------ the transfer

def stream_to_file(url: str, part: Path, headers: dict[str, str], size: int | None,
                   tracker: Tracker, label: str, what: str,
                   policy: RetryPolicy | None = None, offset: int = 0) -> None:
    """Append ``url``'s bytes to ``part`` until it holds the whole file.

    Resumes from the bytes ``part`` already holds (HTTP Range); reconnects after a drop that
    made progress (at most ``MAX_RESUMES`` times); retries refusals per ``policy``. The
    tracker counts from ``offset`` (the bytes of earlier files of the same download).
    """
    part.parent.mkdir(parents=True, exist_ok=True)
    part.touch()
    tracker.start(offset + part.stat().st_size, phase="downloading")
    for _ in range(MAX_RESUMES + 1):
        before = part.stat().st_size
        if size is not None and before == size:
            return

        def judge(exc: BaseException, before: int = before) -> Retry | None:
            if isinstance(exc, TransportError) and exc.dropped and part.stat().st_size > before:
                return None  # it made progress: resume at once (below), no pause
            return classify(exc)

        try:
            with_retries(lambda: _one_transfer(url, part, headers, size, tracker, label, offset),
                         tracker, what, judge=judge, policy=policy)
            return
        except TransportError as e:
            if not e.dropped or part.stat().st_size == before:
                raise  # no progress on this connection: not worth another try
            tracker.note("retrying", f"The connection to {what} dropped ({e.reason}); resuming.")
    raise TransportError(url, f"the connection dropped more than {MAX_RESUMES} times",
                         dropped=True)


def _one_transfer(url: str, part: Path, headers: dict[str, str], size: int | None,
                  tracker: Tracker, label: str, offset: int) -> None:
    have = part.stat().st_size
    req_headers = dict(headers, **{"Accept-Encoding": "identity"})
    if have:
        req_headers["Range"] = f"bytes={have}-"
    try:
        resp = open_url(url, req_headers)
    except HTTPStatusError as e:
        if e.status != 416 or not have:
            raise
        if e.content_range.strip() == f"bytes */{have}":
            return  # the .part already holds the whole file
        part.write_bytes(b"")  # longer than the file: start over
        tracker.start(offset)
        resp = open_url(url, dict(headers, **{"Accept-Encoding": "identity"}))
    with resp:
        if have and not _continues_at(resp, have):
            part.write_bytes(b"")  # the server sent the whole file (no Range support)
            tracker.start(offset)
        with open(part, "ab", buffering=0) as out:
            _copy_body(resp, url, out, tracker, label, part, size)


def _continues_at(resp: http.client.HTTPResponse, offset: int) -> bool:
    if getattr(resp, "status", 200) != 206:
        return False
    content_range = resp.headers.get("Content-Range", "")
    try:
        start = int(content_range.split()[1].split("-")[0])
    except (IndexError, ValueError):
        return False
    return start == offset


def _copy_body(resp: http.client.HTTPResponse, url: str, out: IO[bytes], tracker: Tracker,
               label: str, part: Path, size: int | None) -> None:
    # Waiting on the socket is exact only when no reader buffers bytes behind our back:
    # chunked bodies (and file:// URLs) are read with plain blocking reads instead.
    sock = None if getattr(resp, "chunked", True) else _socket_of(resp)
    buffered = True  # after the headers, the reader may already hold body bytes
    last_data = time.monotonic()
    while True:
        if sock is not None and not buffered:
            if not _readable(sock):
                tracker.check_cancel()
                if time.monotonic() - last_data > STALL_S:
                    raise TransportError(url, f"no data for {STALL_S:.0f} s",
                                         dropped=True)
                continue
        try:
            block = resp.read1(READ_BYTES)
        except (OSError, http.client.HTTPException) as e:
            raise TransportError(url, short_reason(e), dropped=True) from None
        buffered = False
        if not block:
            if getattr(resp, "length", None):  # the body ended before Content-Length said it would
                raise TransportError(url, "the connection closed early",
                                     dropped=True)
            return
        last_data = time.monotonic()
        _write_or_disk_full(out, block, label, part, size)
        tracker.update(len(block))


def _socket_of(resp: http.client.HTTPResponse) -> socket.socket | None:
    raw = getattr(getattr(resp, "fp", None), "raw", None)
    sock = getattr(raw, "_sock", None)
    return sock if isinstance(sock, socket.socket) else None


def _readable(sock: socket.socket) -> bool:
    if isinstance(sock, ssl.SSLSocket) and sock.pending():
        return True  # decrypted bytes wait in the TLS layer, invisible to select
    try:
        ready, _, _ = select.select([sock], [], [], POLL_S)
    except (OSError, ValueError):
        return True  # let the read report what is wrong with the socket
    return bool(ready)


def write_all(out: IO[bytes], data: bytes) -> None:
    """Write every byte (an unbuffered file may take a part of them per call)."""
    view = memoryview(data)
    while view:
        n = out.write(view)
        if n is None:  # pragma: no cover - only non-blocking files answer None
            continue
        view = view[n:]


def _write_or_disk_full(out: IO[bytes], data: bytes, label: str, part: Path,
                        size: int | None) -> None:
    try:
        write_all(out, data)
    except OSError as e:
        if e.errno in (errno.ENOSPC, errno.EDQUOT):
            raise disk_full(label, part, size) from None
        raise


def disk_full(label: str, part: Path, size: int | None,
              needed: int | None = None) -> DiskSpaceError:
    """The message for a disk that filled up while writing ``part`` (``size``: what ``part``
    will hold when complete; ``needed``: the bytes still needed, if more than that)."""
    have = part.stat().st_size if part.exists() else 0
    if needed is None and size and size > have:
        needed = size - have
    need = f"{gb(needed)} more" if needed else "more space"
    return DiskSpaceError(
        f"The disk is full: {label} needs {need} in {part.parent}; free some space and run "
        f"the download again — it resumes from the {gb(have)} already saved."
    )


DISK_MARGIN = 64 * 1024 * 1024  # room left for the sidecar files and the system


def check_disk(folder: Path, needed: int, label: str) -> None:
    """Refuse to start a transfer that cannot fit (``needed`` bytes more in ``folder``)."""
    folder.mkdir(parents=True, exist_ok=True)
    free = shutil.disk_usage(folder).free
    if needed > 0 and free < needed + DISK_MARGIN:
        raise DiskSpaceError(
            f"{label} needs {gb(needed)} of free disk space in {folder}, but only "
            f"{gb(free)} is free; free some space and run the download again."
        )


def gb(n: float) -> str:
    return f"{n / 1e9:.2f} GB" if n >= 1e8 else f"{n / 1e6:.1f} MB"


def network_error(label: str, what: str, reason: str, hint: str = "") -> DownloadNetworkError:
    return DownloadNetworkError(
        f"Cannot download {label} from {what} ({reason}); check your network connection{hint} "
        "and run the download again — it resumes where it stopped; models already present "
        "keep working."
    )
