"""A real local HTTP server that answers like the Hugging Face Hub, with faults on demand.

It speaks the part of the Hub protocol a file download uses
(``HEAD``/``GET {endpoint}/{repo}/resolve/{revision}/{filename}``):
- HEAD 200 with ``X-Repo-Commit``, ``ETag``, ``X-Linked-Etag`` (the LFS sha256),
  ``X-Linked-Size`` and ``Content-Length``; for a file kept in git (``git_etag_only``) only
  ``ETag`` = the git blob sha1, as the Hub does;
- GET 200, or 206 with ``Content-Range`` for ``Range: bytes=N-`` (resume), 416 past the end;
- errors the way the Hub sends them: ``X-Error-Code`` EntryNotFound / RepoNotFound /
  RevisionNotFound / GatedRepo with 404 / 401 / 403.

Faults for tests (all on ``HubFile``):
- ``cut_after``: the next GET closes the connection after that many bytes (once);
- ``advertised_sha256``: the headers lie about the content (a corrupt transfer);
- ``served``: bytes sent instead of ``data`` while the headers describe ``data``;
- ``gated``: answer 401 or 403;
- ``head_errors`` / ``get_errors``: statuses (with an optional Retry-After) answered to the
  next HEADs / GETs, one per request, before behaving;
- ``rate``: bytes per second of the body (sent in small pieces), to make transfers slow.
"""

from __future__ import annotations

import hashlib
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import unquote

PIECE = 8 * 1024


def git_blob_sha1(data: bytes) -> str:
    return hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()


@dataclass
class HubFile:
    data: bytes
    commit: str = "c" * 40
    advertised_sha256: str | None = None  # None: the real sha256 of data
    gated: int | None = None  # 401 or 403
    cut_after: int | None = None  # bytes sent before the connection drops (next GET only)
    git_etag_only: bool = False
    served: bytes | None = None
    head_errors: list[tuple[int, str | None]] = field(default_factory=list)
    get_errors: list[tuple[int, str | None]] = field(default_factory=list)
    rate: float | None = None  # bytes per second

    @property
    def sha256(self) -> str:
        return self.advertised_sha256 or hashlib.sha256(self.data).hexdigest()


@dataclass
class FakeHub:
    files: dict[tuple[str, str], HubFile] = field(default_factory=dict)
    #: (method, path, Range header or None) of every request, in order.
    requests: list[tuple[str, str, str | None]] = field(default_factory=list)
    #: time.monotonic() of every request, same order.
    times: list[float] = field(default_factory=list)
    #: body bytes actually sent by GETs (a cancelled client stops this growing).
    sent: int = 0
    revisions: tuple[str, ...] = ("main",)

    def add(self, repo: str, filename: str, data: bytes, **kw) -> HubFile:
        f = HubFile(data, **kw)
        self.files[(repo, filename)] = f
        return f

    def gets(self) -> list[tuple[str, str, str | None]]:
        return [r for r in self.requests if r[0] == "GET"]

    def start(self) -> str:
        hub = self

        class Handler(_Handler):
            pass

        Handler.hub = hub
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05},
                                        daemon=True)
        self._thread.start()
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()


class _Handler(BaseHTTPRequestHandler):
    hub: FakeHub
    protocol_version = "HTTP/1.1"

    def log_message(self, *args) -> None:  # keep pytest output clean
        pass

    def do_HEAD(self) -> None:
        self._serve(body=False)

    def do_GET(self) -> None:
        try:
            self._serve(body=True)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client went away (cancelled): nothing to answer

    def _serve(self, body: bool) -> None:
        hub = self.hub
        rng = self.headers.get("Range")
        with hub._lock:
            hub.requests.append((self.command, self.path, rng))
            hub.times.append(time.monotonic())
        parts = unquote(self.path.split("?")[0]).lstrip("/").split("/")
        if len(parts) < 5 or parts[2] != "resolve":
            return self._error(404, "RepoNotFound", "Repository not found")
        repo, revision, filename = "/".join(parts[:2]), parts[3], "/".join(parts[4:])
        repo_files = {k: v for k, v in hub.files.items() if k[0] == repo}
        if not repo_files:
            return self._error(404, "RepoNotFound", "Repository not found")
        f = repo_files.get((repo, filename))
        if f is not None and f.gated:
            return self._error(f.gated, "GatedRepo", "Access to this model is restricted.")
        if revision not in hub.revisions and revision != f_commit(repo_files):
            return self._error(404, "RevisionNotFound", "Invalid rev id")
        if f is None:
            return self._error(404, "EntryNotFound", "Entry not found", commit=f_commit(repo_files))
        faults = f.get_errors if body else f.head_errors
        if faults:
            status, retry_after = faults.pop(0)
            return self._error(status, "", "Try again later", retry_after=retry_after)
        self._send_file(f, body, rng)

    def _send_file(self, f: HubFile, body: bool, rng: str | None) -> None:
        size = len(f.data)
        start = 0
        if body and rng and rng.startswith("bytes="):
            start = int(rng[len("bytes="):].split("-")[0])
            if start >= size:
                self.send_response(416)
                self.send_header("Content-Range", f"bytes */{size}")
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
        status = 206 if start else 200
        self.send_response(status)
        self.send_header("X-Repo-Commit", f.commit)
        if f.git_etag_only:
            self.send_header("ETag", f'"{git_blob_sha1(f.data)}"')
        else:
            self.send_header("ETag", f'"{f.sha256}"')
            self.send_header("X-Linked-Etag", f'"{f.sha256}"')
            self.send_header("X-Linked-Size", str(size))
        self.send_header("Accept-Ranges", "bytes")
        self.send_header("Content-Length", str(size - start))
        if status == 206:
            self.send_header("Content-Range", f"bytes {start}-{size - 1}/{size}")
        self.end_headers()
        if not body:
            return
        payload = (f.served if f.served is not None else f.data)[start:]
        if f.cut_after is not None:
            cut, f.cut_after = f.cut_after, None  # fail once, then behave
            self._write(payload[:cut], f.rate)
            self.close_connection = True
            self.connection.shutdown(2)  # the peer sees the body end early
            return
        self._write(payload, f.rate)

    def _write(self, payload: bytes, rate: float | None) -> None:
        if rate is None:
            self.wfile.write(payload)
            self.hub.sent += len(payload)
            return
        started = time.monotonic()
        for i in range(0, len(payload), PIECE):
            piece = payload[i:i + PIECE]
            self.wfile.write(piece)
            self.wfile.flush()
            self.hub.sent += len(piece)
            due = started + (i + len(piece)) / rate
            time.sleep(max(0.0, due - time.monotonic()))

    def _error(self, status: int, code: str, message: str, commit: str | None = None,
               retry_after: str | None = None) -> None:
        body = f'{{"error": "{message}"}}'.encode()
        self.send_response(status)
        if code:
            self.send_header("X-Error-Code", code)
        self.send_header("X-Error-Message", message)
        if commit:
            self.send_header("X-Repo-Commit", commit)
        if retry_after is not None:
            self.send_header("Retry-After", retry_after)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)


def f_commit(repo_files: dict) -> str:
    return next(iter(repo_files.values())).commit


def fake_gguf(n_bytes: int, seed: int = 0) -> bytes:
    """``n_bytes`` of a file that starts like a GGUF (magic + version 3) and is otherwise noise."""
    import random

    rnd = random.Random(seed)
    head = b"GGUF" + (3).to_bytes(4, "little") + (0).to_bytes(8, "little") * 2
    return head + rnd.randbytes(n_bytes - len(head))
