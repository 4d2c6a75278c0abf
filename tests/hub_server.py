"""A real local HTTP server that answers like the Hugging Face Hub for file downloads.

It speaks the part of the Hub protocol huggingface-hub 2.x uses to download one file
(``HEAD``/``GET {endpoint}/{repo}/resolve/{revision}/{filename}``):
- HEAD 200 with ``X-Repo-Commit``, ``ETag``, ``X-Linked-Etag`` (the LFS sha256),
  ``X-Linked-Size`` and ``Content-Length``;
- GET 200, or 206 with ``Content-Range`` for ``Range: bytes=N-`` (resume);
- errors the way the Hub sends them: ``X-Error-Code`` EntryNotFound / RepoNotFound /
  RevisionNotFound / GatedRepo with 404 / 401 / 403.
Faults for tests: ``cut_after`` closes the connection mid-body (once), ``advertised_sha256``
lies about the content (a corrupt transfer), ``gated`` answers 401 or 403.
"""

from __future__ import annotations

import hashlib
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import unquote


@dataclass
class HubFile:
    data: bytes
    commit: str = "c" * 40
    advertised_sha256: str | None = None  # None: the real sha256 of data
    gated: int | None = None  # 401 or 403
    cut_after: int | None = None  # bytes sent before the connection drops (first GET only)

    @property
    def sha256(self) -> str:
        return self.advertised_sha256 or hashlib.sha256(self.data).hexdigest()


@dataclass
class FakeHub:
    files: dict[tuple[str, str], HubFile] = field(default_factory=dict)
    #: (method, path, Range header or None) of every request, in order.
    requests: list[tuple[str, str, str | None]] = field(default_factory=list)
    revisions: tuple[str, ...] = ("main",)

    def add(self, repo: str, filename: str, data: bytes, **kw) -> HubFile:
        f = HubFile(data, **kw)
        self.files[(repo, filename)] = f
        return f

    def start(self) -> str:
        hub = self

        class Handler(_Handler):
            pass

        Handler.hub = hub
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
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
        self._serve(body=True)

    def _serve(self, body: bool) -> None:
        hub = self.hub
        rng = self.headers.get("Range")
        hub.requests.append((self.command, self.path, rng))
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
        size = len(f.data)
        start = 0
        if body and rng and rng.startswith("bytes="):
            start = int(rng[len("bytes="):].split("-")[0])
        status = 206 if start else 200
        self.send_response(status)
        self.send_header("X-Repo-Commit", f.commit)
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
        payload = f.data[start:]
        if f.cut_after is not None:
            cut, f.cut_after = f.cut_after, None  # fail once, then behave
            self.wfile.write(payload[:cut])
            self.wfile.flush()
            self.close_connection = True
            self.connection.shutdown(2)  # the peer sees the body end early
            return
        self.wfile.write(payload)

    def _error(self, status: int, code: str, message: str, commit: str | None = None) -> None:
        body = f'{{"error": "{message}"}}'.encode()
        self.send_response(status)
        self.send_header("X-Error-Code", code)
        self.send_header("X-Error-Message", message)
        if commit:
            self.send_header("X-Repo-Commit", commit)
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
