"""One keep-alive HTTP connection to a model server, with bounded retries.

What a remote model's calls can meet on a network, and what happens:

* a dropped connection, a connection refused, a timeout, HTTP 502/504 (a proxy lost the server):
  retried with exponential backoff, at most ``retries`` more times;
* HTTP 429 or 503 (busy, loading): retried after the server's ``Retry-After`` (seconds or an
  HTTP date) when it is at most ``max_wait`` seconds, else (or after ``retries`` tries) given up;
* any other HTTP error: :class:`ServerError` at once, with the server's own message (cut short);
* then a :class:`~nudge_local.RemoteError` - one sentence naming the server and the cause.

An API key goes out only as ``Authorization: Bearer ...`` and only over HTTPS or to this
machine (a loopback address); it is never part of a message, a repr or a log line, and neither
is any ``user:password@`` written in the URL.
"""

from __future__ import annotations

import email.utils
import ipaddress
import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import httpx

from ._errors import RemoteError, SettingError

#: Statuses that mean "try again later" and may carry Retry-After.
_BUSY = (429, 503)
#: Statuses a proxy in front of a server gives when the server went away for a moment.
_GATEWAY = (502, 504)
_MESSAGE_CHARS = 200


@dataclass(frozen=True)
class RetryPolicy:
    """How hard to try before giving up (the defaults suit a LAN or a cloud endpoint)."""

    #: seconds to wait for a response (a 16-token completion of a large model is seconds)
    timeout: float = 120.0
    #: seconds to wait for a connection
    connect_timeout: float = 10.0
    #: tries after the first one, for drops, timeouts and busy answers together
    retries: int = 3
    #: first backoff in seconds (then doubled)
    backoff: float = 0.5
    #: the longest Retry-After honoured, in seconds
    max_wait: float = 30.0

    def check(self) -> RetryPolicy:
        for name in ("timeout", "connect_timeout", "max_wait"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 < value < 86400:
                raise SettingError(f"The {name.replace('_', ' ')} must be a number of seconds above 0, got {value!r}.")
        if isinstance(self.retries, bool) or not isinstance(self.retries, int) or not 0 <= self.retries <= 20:
            raise SettingError(f"retries must be a whole number from 0 to 20, got {self.retries!r}.")
        if isinstance(self.backoff, bool) or not isinstance(self.backoff, (int, float)) or not 0 <= self.backoff <= 60:
            raise SettingError(f"backoff must be between 0 and 60 seconds, got {self.backoff!r}.")
        return self


class ServerError(RemoteError):
    """The server answered with an HTTP error other than busy/gateway (``status``, ``detail``)."""

    def __init__(self, message: str, status: int, detail: str):
        super().__init__(message)
        self.status = status
        self.detail = detail


def shown_url(url: str) -> str:
    """``url`` as it may be printed: no ``user:password@``, no query string."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    if ":" in host:
        host = f"[{host}]"
    try:
        port = parts.port
    except ValueError:
        port = None
    netloc = host + (f":{port}" if port else "")
    return urlunsplit((parts.scheme, netloc, parts.path, "", ""))


def is_loopback(host: str | None) -> bool:
    if not host:
        return False
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def check_url(url: object, what: str) -> str:
    """A server's base URL: http(s), with a host. Returns it without a trailing slash."""
    if not isinstance(url, str) or not url.strip():
        raise SettingError(f"The {what} URL must be text like http://host:8000/v1, got {url!r}.")
    parts = urlsplit(url.strip())
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise SettingError(f"The {what} URL must start with http:// or https:// and name a host, "
                           f"got {shown_url(url)!r}.")
    try:
        parts.port  # noqa: B018  (raises on a port that is not a number)
    except ValueError:
        raise SettingError(f"The {what} URL {shown_url(url)!r} has a port that is not a number.") from None
    return url.strip().rstrip("/")


class HttpClient:
    """JSON over one ``httpx.Client`` (keep-alive) to ``root`` (``scheme://host:port[/prefix]``)."""

    def __init__(self, root: str, *, api_key: str | None = None, policy: RetryPolicy = RetryPolicy(),
                 transport: httpx.BaseTransport | None = None, sleep: Callable[[float], None] = time.sleep):
        self.root = root.rstrip("/")
        self.shown = shown_url(self.root)
        self.policy = policy.check()
        self._sleep = sleep
        parts = urlsplit(self.root)
        headers = {"Accept": "application/json"}
        if api_key:
            if parts.scheme != "https" and not is_loopback(parts.hostname):
                raise SettingError(
                    f"Refusing to send an API key to {self.shown} over plain HTTP; use an https:// URL "
                    "(or a server on this machine).")
            headers["Authorization"] = f"Bearer {api_key}"
        auth = None
        if parts.username or parts.password:  # user:password@ in the URL: basic auth, kept out of messages
            if parts.scheme != "https" and not is_loopback(parts.hostname):
                raise SettingError(f"Refusing to send the password in {self.shown}'s URL over plain HTTP; use https://.")
            auth = httpx.BasicAuth(parts.username or "", parts.password or "")
        timeout = httpx.Timeout(policy.timeout, connect=policy.connect_timeout)
        self._client = httpx.Client(base_url=shown_url(self.root), headers=headers, timeout=timeout, auth=auth,
                                    transport=transport, follow_redirects=False, trust_env=False)
        #: tries beyond the first, over the client's life (bench reports it)
        self.retries_used = 0

    def get(self, path: str) -> Any:
        return self.request("GET", path, None)

    def post(self, path: str, body: dict[str, Any]) -> Any:
        return self.request("POST", path, body)

    def request(self, method: str, path: str, body: dict[str, Any] | None) -> Any:
        policy = self.policy
        last = ""
        for attempt in range(policy.retries + 1):
            delay = policy.backoff * (2 ** attempt)
            try:
                response = self._client.request(method, path, json=body)
            except httpx.TimeoutException:
                last = f"no answer within {policy.timeout:g} s"
            except httpx.TransportError as exc:
                last = _transport_reason(exc)
            else:
                status = response.status_code
                if status < 400:
                    return self._json(response, path)
                if status in _BUSY:
                    wait = retry_after(response.headers.get("retry-after"), delay)
                    if wait > policy.max_wait:
                        raise RemoteError(
                            f"The server at {self.shown} is busy (HTTP {status}) and asks to wait {wait:.0f} s, "
                            f"longer than the {policy.max_wait:g} s allowed; try again later.")
                    last, delay = f"busy (HTTP {status})", wait
                elif status in _GATEWAY:
                    last = f"HTTP {status} from a gateway"
                else:
                    detail = server_message(response)
                    raise ServerError(f"The server at {self.shown} refused {method} {path} (HTTP {status}): {detail}",
                                      status, detail)
            if attempt < policy.retries:
                self.retries_used += 1
                self._sleep(delay)
        tries = policy.retries + 1
        raise RemoteError(f"The server at {self.shown} did not answer {method} {path} ({last}) after "
                          f"{tries} {'try' if tries == 1 else 'tries'}; check that it is running and reachable.")

    def _json(self, response: httpx.Response, path: str) -> Any:
        try:
            return response.json()
        except (json.JSONDecodeError, UnicodeDecodeError):
            raise RemoteError(f"The server at {self.shown} answered {path} with something that is not JSON; "
                              "check that the URL is an OpenAI-compatible server.") from None

    def close(self) -> None:
        self._client.close()


def retry_after(value: str | None, default: float) -> float:
    """Seconds to wait from a Retry-After header (seconds or an HTTP date); ``default`` if absent."""
    if not value:
        return default
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return default
    if when is None:
        return default
    return max(0.0, when.timestamp() - time.time())


def server_message(response: httpx.Response) -> str:
    """The error text a server put in its body (OpenAI ``{"error": {"message"}}``, FastAPI
    ``{"detail"}``, plain text), on one line and cut short."""
    text = ""
    try:
        data = response.json()
    except (json.JSONDecodeError, UnicodeDecodeError):
        data = None
    if isinstance(data, dict):
        err = data.get("error", data.get("detail", data.get("message")))
        if isinstance(err, dict):
            err = err.get("message", err)
        text = err if isinstance(err, str) else json.dumps(err)[:_MESSAGE_CHARS] if err is not None else ""
    if not text:
        text = response.text
    text = " ".join(text.split())
    text = "".join(ch if ch.isprintable() else "?" for ch in text)
    if len(text) > _MESSAGE_CHARS:
        text = text[: _MESSAGE_CHARS - 3] + "..."
    return text.rstrip(".") + "." if text else "no message."


def _transport_reason(exc: httpx.TransportError) -> str:
    if isinstance(exc, httpx.ConnectError):
        return "connection refused or host unreachable"
    if isinstance(exc, (httpx.RemoteProtocolError, httpx.ReadError, httpx.WriteError)):
        return "the connection dropped"
    return type(exc).__name__
