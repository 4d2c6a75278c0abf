"""One log line per request, when its answer is complete (a stream, when it ends):
``POST /v1/chat/completions 200 42 tokens 1.23 s``. Headers are never logged (they hold the
API key), nor bodies, nor query strings.

A plain ASGI middleware (not Starlette's ``BaseHTTPMiddleware``, which buffers what it wraps
and hides client disconnects from streaming responses)."""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from typing import Any

from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

log = logging.getLogger("nudge_local.server")

_SCOPE_KEY = "nudge_local.request_log"


@dataclass
class RequestRecord:
    """What an endpoint adds to its request's log line."""

    tokens: int | None = None
    note: str = ""


def record_of(request: Request) -> RequestRecord:
    """The request's record (a detached one when the middleware is not installed)."""
    record = request.scope.get(_SCOPE_KEY)
    return record if isinstance(record, RequestRecord) else RequestRecord()


class RequestLogMiddleware:
    def __init__(self, app: ASGIApp):
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        record = RequestRecord()
        scope[_SCOPE_KEY] = record
        status: list[Any] = [500]
        t0 = time.perf_counter()

        async def send_and_note(message: Message) -> None:
            if message["type"] == "http.response.start":
                status[0] = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_and_note)
        finally:
            tokens = "-" if record.tokens is None else f"{record.tokens} tokens"
            note = f" ({record.note})" if record.note else ""
            log.info("%s %s %s %s %.2f s%s", scope.get("method", "?"), scope.get("path", "?"), status[0], tokens,
                     time.perf_counter() - t0, note)
