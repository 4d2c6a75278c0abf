"""One reply being written, from the fitted prompt to the stored message.

A reply belongs to the chat it was asked in (``chat_id``), not to whichever chat is on screen
when it ends: the worker thread saves it there itself, so switching chats, or quitting, while it
streams can neither lose it nor put it into another chat. The UI only shows it.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field

from textual.message import Message

from nudge_local import NudgeResult, Piece

from .context import PromptTooLongError, TokenCounts, engine_messages
from .engine import Engine, Messages
from .settings import GenerationSettings
from .store import ChatStore, StoredMessage, StoreError
from .widgets.reply import ReplyView, result_stats


@dataclass
class ReplyJob:
    chat_id: int
    view: ReplyView
    history: Messages  # the whole conversation as stored (role, content), ending with the prompt
    settings: GenerationSettings
    models: tuple[str, str] | None = None
    done: threading.Event = field(default_factory=threading.Event)
    dropped: int = 0  # earlier messages left out to fit the context
    result: NudgeResult | None = None
    stored: StoredMessage | None = None
    error: str | None = None  # the reply failed
    save_error: str | None = None  # the reply is shown but could not be saved
    counts: TokenCounts | None = None  # the conversation's size after the reply (meter)
    left: bool = False  # the user opened another chat while it was written


@dataclass
class PieceArrived(Message):
    job: ReplyJob
    piece: Piece


@dataclass
class ContextFitted(Message):
    job: ReplyJob


@dataclass
class ReplyEnded(Message):
    """Finished, stopped or failed: look at ``job.result`` / ``job.error``."""

    job: ReplyJob


def one_sentence(exc: BaseException) -> str:
    text = str(exc).strip() or type(exc).__name__
    return text.splitlines()[0]


def stored_reply(job: ReplyJob, result: NudgeResult) -> StoredMessage:
    stats = result_stats(result)
    if job.dropped:
        stats["dropped_messages"] = job.dropped
    return StoredMessage(
        role="assistant", content=result.text, spans=[{"text": s.text, "source": s.source} for s in result.spans],
        mode=job.view.mode, gamma=job.view.gamma, stop_reason=result.stop_reason, stats=stats,
        cancelled=result.stop_reason == "cancelled", models=job.models,
    )


def _meter(engine: Engine, sent: Messages, result: NudgeResult, system: str | None) -> TokenCounts | None:
    """What the conversation will cost the next prompt (a one-word question stands in)."""
    after = [*sent, {"role": "assistant", "content": result.text}, {"role": "user", "content": "?"}]
    try:
        return engine.count(after, system)
    except Exception:  # the meter is a help, never a reason for a reply to fail
        return None


def execute(job: ReplyJob, engine: Engine, store: ChatStore, post: Callable[[Message], object]) -> None:
    """Fit, generate, save (call from a worker thread); posts PieceArrived, ContextFitted and,
    always last, ReplyEnded."""
    try:
        try:
            fit = engine.fit(job.history, job.settings)
        except PromptTooLongError:
            raise
        except Exception:  # counting failed: send it all, the engine says if it does not fit
            sent = engine_messages(job.history)
        else:
            sent, job.dropped = fit.messages, fit.dropped
            if fit.dropped:
                post(ContextFitted(job))
        result = engine.run(sent, job.settings, lambda p: post(PieceArrived(job, p)))
    except Exception as exc:  # shown in the reply; the models stay usable
        job.error = one_sentence(exc)
        post(ReplyEnded(job))
        return
    job.result = result
    job.stored = stored_reply(job, result)
    try:
        store.add_message(job.chat_id, job.stored)
    except StoreError as exc:
        job.save_error = str(exc)
        job.stored.id = None
    job.counts = _meter(engine, sent, result, job.settings.system or None)
    post(ReplyEnded(job))
