"""A real local HTTP server that answers like a package index (PyPI's Simple API), with faults.

- ``GET /simple/<project>/``: the project page, as PEP 691 JSON when the client's Accept asks
  for ``application/vnd.pypi.simple.v1+json`` (and ``html_only`` is off), else PEP 503 HTML
  with ``#sha256=`` fragments; 404 for an unknown project;
- ``GET /files/<filename>``: the file, 200, or 206 for ``Range: bytes=N-``, 416 past the end.

Faults: ``IndexedFile.cut_after`` (the connection drops after that many bytes, next GET only),
``IndexedFile.advertised_sha256`` (the page lies about the file), ``IndexedFile.rate`` (bytes
per second), ``page_errors`` (statuses answered to the next page requests), ``auth`` (HTTP
Basic credentials every request must carry).
"""

from __future__ import annotations

import base64
import hashlib
import io
import json
import threading
import time
import zipfile
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import unquote

PIECE = 8 * 1024


def normalize(name: str) -> str:
    import re

    return re.sub(r"[-_.]+", "-", name).lower()


def make_wheel(project: str, version: str, members: dict[str, bytes]) -> bytes:
    """A small but well-formed wheel holding ``members`` (path in the wheel -> bytes)."""
    dist = project.replace("-", "_")
    info = f"{dist}-{version}.dist-info"
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression=zipfile.ZIP_DEFLATED) as z:
        for name, data in members.items():
            z.writestr(name, data)
        z.writestr(f"{info}/METADATA", f"Metadata-Version: 2.1\nName: {project}\nVersion: {version}\n")
        z.writestr(f"{info}/WHEEL", "Wheel-Version: 1.0\nRoot-Is-Purelib: true\nTag: py3-none-any\n")
        z.writestr(f"{info}/RECORD", "")
    return buf.getvalue()


@dataclass
class IndexedFile:
    filename: str
    data: bytes
    advertised_sha256: str | None = None
    cut_after: int | None = None
    rate: float | None = None

    @property
    def sha256(self) -> str:
        return self.advertised_sha256 or hashlib.sha256(self.data).hexdigest()


@dataclass
class FakeIndex:
    projects: dict[str, list[IndexedFile]] = field(default_factory=dict)
    html_only: bool = False
    #: statuses (and Retry-After) for the next project-page requests
    page_errors: list[tuple[int, str | None]] = field(default_factory=list)
    auth: tuple[str, str] | None = None
    #: (method, path, Range, Authorization) of every request
    requests: list[tuple[str, str, str | None, str | None]] = field(default_factory=list)

    def add_wheel(self, project: str, version: str, members: dict[str, bytes],
                  **kw) -> IndexedFile:
        filename = f"{project.replace('-', '_')}-{version}-py3-none-any.whl"
        f = IndexedFile(filename, make_wheel(project, version, members), **kw)
        self.projects.setdefault(normalize(project), []).append(f)
        return f

    def file_gets(self) -> list[str]:
        return [r[1] for r in self.requests if r[1].startswith("/files/")]

    def start(self) -> str:
        """Starts the server; returns the index URL (``.../simple``)."""
        index = self

        class Handler(_Handler):
            pass

        Handler.index = index
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05},
                                        daemon=True)
        self._thread.start()
        host, port = self._server.server_address[:2]
        self.base = f"http://{host}:{port}"
        return f"{self.base}/simple"

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()


class _Handler(BaseHTTPRequestHandler):
    index: FakeIndex
    protocol_version = "HTTP/1.1"

    def log_message(self, *args) -> None:
        pass

    def do_GET(self) -> None:
        try:
            self._get()
        except (BrokenPipeError, ConnectionResetError):
            pass

    def _get(self) -> None:
        idx = self.index
        with idx._lock:
            idx.requests.append((self.command, self.path, self.headers.get("Range"),
                                 self.headers.get("Authorization")))
        if idx.auth and self.headers.get("Authorization") != _basic(*idx.auth):
            return self._plain(401, b"credentials needed")
        path = unquote(self.path.split("?")[0])
        if path.startswith("/simple/"):
            return self._page(path[len("/simple/"):].strip("/"))
        if path.startswith("/files/"):
            return self._file(path[len("/files/"):])
        self._plain(404, b"not found")

    def _page(self, project: str) -> None:
        idx = self.index
        if idx.page_errors:
            status, retry_after = idx.page_errors.pop(0)
            return self._plain(status, b"later", retry_after)
        files = idx.projects.get(normalize(project))
        if files is None:
            return self._plain(404, b"no such project")
        wants_json = "application/vnd.pypi.simple.v1+json" in self.headers.get("Accept", "")
        if wants_json and not idx.html_only:
            body = json.dumps({"meta": {"api-version": "1.1"}, "name": project, "files": [
                {"filename": f.filename, "url": f"../../files/{f.filename}",
                 "hashes": {"sha256": f.sha256}, "size": len(f.data)} for f in files
            ]}).encode()
            return self._plain(200, body, content_type="application/vnd.pypi.simple.v1+json")
        links = "".join(f'<a href="/files/{f.filename}#sha256={f.sha256}">{f.filename}</a><br/>\n'
                        for f in files)
        self._plain(200, f"<!DOCTYPE html><html><body>{links}</body></html>".encode(),
                    content_type="text/html")

    def _file(self, filename: str) -> None:
        found = [f for files in self.index.projects.values() for f in files
                 if f.filename == filename]
        if not found:
            return self._plain(404, b"no such file")
        f = found[0]
        size, start = len(f.data), 0
        rng = self.headers.get("Range")
        if rng and rng.startswith("bytes="):
            start = int(rng[len("bytes="):].split("-")[0])
            if start >= size:
                self.send_response(416)
                self.send_header("Content-Range", f"bytes */{size}")
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
        self.send_response(206 if start else 200)
        self.send_header("Content-Length", str(size - start))
        if start:
            self.send_header("Content-Range", f"bytes {start}-{size - 1}/{size}")
        self.end_headers()
        payload = f.data[start:]
        if f.cut_after is not None:
            cut, f.cut_after = f.cut_after, None
            self.wfile.write(payload[:cut])
            self.wfile.flush()
            self.close_connection = True
            self.connection.shutdown(2)
            return
        if f.rate is None:
            self.wfile.write(payload)
            return
        started = time.monotonic()
        for i in range(0, len(payload), PIECE):
            self.wfile.write(payload[i:i + PIECE])
            self.wfile.flush()
            time.sleep(max(0.0, started + (i + PIECE) / f.rate - time.monotonic()))

    def _plain(self, status: int, body: bytes, retry_after: str | None = None,
               content_type: str = "text/plain") -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        if retry_after is not None:
            self.send_header("Retry-After", retry_after)
        self.end_headers()
        self.wfile.write(body)


def _basic(user: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()
