"""The FastAPI application: routes, error shapes, request log, CORS, and the generation queue
whose worker thread lives as long as the server does."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager

from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware

from nudge_local import Nudger, SettingError

from ._errors import install_error_handlers
from ._log import RequestLogMiddleware
from ._queue import GenerationQueue
from ._routes import router


def create_app(
    source: Nudger | Callable[[], Nudger],
    *,
    api_key: str | None = None,
    cors_origins: Sequence[str] = (),
    max_waiting: int = 8,
    default_max_tokens: int | None = None,
) -> FastAPI:
    """An OpenAI-compatible app for one nudged pair.

    ``source`` is a loaded :class:`~nudge_local.Nudger` (it stays the caller's: the app never
    closes it) or a function that loads one; either way the models are taken up by a worker
    thread when the server starts, and ``/health`` answers 503 until they are ready. With
    ``api_key``, every ``/v1/*`` request needs ``Authorization: Bearer <api_key>``. At most
    ``max_waiting`` requests wait behind the running generation; more get a 503.
    ``default_max_tokens`` limits answers whose request sets no limit (default: what the prompt
    leaves of the context). The queue is ``app.state.generations``.
    """
    if isinstance(max_waiting, bool) or not isinstance(max_waiting, int) or max_waiting < 0:
        raise SettingError(f"The queue length must be a whole number of 0 or more, got {max_waiting!r}.")
    if default_max_tokens is not None and (not isinstance(default_max_tokens, int) or default_max_tokens <= 0):
        raise SettingError(f"The default max tokens must be a positive whole number, got {default_max_tokens!r}.")
    if api_key is not None and not api_key.strip():
        raise SettingError("The API key is empty.")
    generations = GenerationQueue(source, max_waiting=max_waiting, default_max_tokens=default_max_tokens)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        generations.start()
        try:
            yield
        finally:
            await asyncio.to_thread(generations.close)

    app = FastAPI(title="nudge-local", lifespan=lifespan, docs_url=None, redoc_url=None, openapi_url=None)
    app.state.generations = generations
    app.state.api_key = api_key
    app.state.created = int(time.time())
    install_error_handlers(app)
    app.include_router(router)
    if cors_origins:
        app.add_middleware(CORSMiddleware, allow_origins=list(cors_origins), allow_methods=["GET", "POST"],
                           allow_headers=["*"])
    app.add_middleware(RequestLogMiddleware)  # added last: the outermost, so it sees every answer
    return app
