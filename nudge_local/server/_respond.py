"""Answering one generation request: queue it, wait for its turn, then stream the pieces as
server-sent events or send the whole answer as JSON.

The response does not start until the generation has: an error found when the prompt is
counted (a prompt over the context, say) is still a plain 400. A watcher task follows the
connection from the moment the job is queued: when the client goes away, waiting or streaming,
the job is cancelled (withdrawn from the queue, or the engine stops within a word)."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Any

from fastapi import Request
from fastapi.responses import JSONResponse, Response, StreamingResponse

from nudge_local import Piece

from ._deltas import DeltaShaper
from ._errors import from_engine
from ._log import RequestRecord, record_of
from ._queue import Failed, Finished, GenerationQueue, Job, Started
from ._schemas import GenerationParams
from ._shapes import Responder

SSE_HEADERS = {"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}


async def respond(request: Request, generations: GenerationQueue, params: GenerationParams, responder: Responder,
                  *, stream: bool, include_usage: bool) -> Response:
    job = generations.submit(params, wants_pieces=stream)
    watcher = asyncio.create_task(_cancel_on_disconnect(request, job))
    record = record_of(request)
    handed_over = False
    try:
        first = await job.next_event()
        if isinstance(first, Failed):
            return _failure(first, record)
        assert isinstance(first, Started)
        if stream:
            body = _events(job, first, responder, include_usage, record, watcher)
            handed_over = True
            return StreamingResponse(body, media_type="text/event-stream", headers=SSE_HEADERS)
        while True:
            event = await job.next_event()
            if isinstance(event, Finished):
                _note_result(record, event, job)
                return JSONResponse(responder.answer(event.result, first.prompt_tokens))
            if isinstance(event, Failed):
                return _failure(event, record)
    finally:
        if not handed_over:
            job.cancel()  # nothing once it finished; stops it if this coroutine was cancelled
            watcher.cancel()


async def _events(job: Job, started: Started, responder: Responder, include_usage: bool, record: RequestRecord,
                  watcher: asyncio.Task[None]) -> AsyncIterator[bytes]:
    shaper = DeltaShaper(clean=job.params.only is None)
    try:
        opening = responder.first_chunk()
        if opening is not None:
            yield _sse(opening)
        while True:
            event = await job.next_event()
            if isinstance(event, Piece):
                for piece in shaper.feed(event):
                    yield _sse(responder.piece_chunk(piece.text, piece.source, piece.confidence))
            elif isinstance(event, Finished):
                _note_result(record, event, job)
                for piece in shaper.finish(event.result.text, event.result.spans):
                    yield _sse(responder.piece_chunk(piece.text, piece.source, piece.confidence))
                yield _sse(responder.last_chunk(event.result))
                if include_usage:
                    yield _sse(responder.usage_chunk(event.result, started.prompt_tokens))
                yield b"data: [DONE]\n\n"
                return
            elif isinstance(event, Failed):
                error = from_engine(event.error)
                record.note = f"failed after streaming began: {error.status}"
                yield _sse(error.body())
                return
    finally:
        if not job.done:
            record.note = "client disconnected"
        job.cancel()
        watcher.cancel()


async def _cancel_on_disconnect(request: Request, job: Job) -> None:
    while not job.done:
        message = await request.receive()
        if message["type"] == "http.disconnect":
            job.cancel()
            return


def _failure(event: Failed, record: RequestRecord) -> JSONResponse:
    error = from_engine(event.error)
    if error.status >= 500:
        record.note = error.message
    return error.response()


def _note_result(record: RequestRecord, event: Finished, job: Job) -> None:
    record.tokens = event.result.stats.output_tokens
    if event.result.stop_reason == "cancelled":
        record.note = "client disconnected" if job.cancelled else "cancelled"


def _sse(obj: dict[str, Any]) -> bytes:
    return b"data: " + json.dumps(obj, ensure_ascii=False, separators=(",", ":")).encode("utf-8") + b"\n\n"
