"""Render a stored chat as a Markdown document, with the nudge marks and compare runs."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from ..marks import portable_marked_markdown
from ..stats import stats_line as _stats_line
from .chats import ChatSummary, CompareRecord, StoredMessage

_MODE_LABEL = {"nudged": "nudged", "base": "base model only", "nudging": "nudging model only"}


def stats_line(message: StoredMessage) -> str:
    """One line of stats for an assistant message: the same words the chat screen shows."""
    return _stats_line(message.stats or {}, message.mode, message.stop_reason)


def local_time(stamp: str) -> str:
    """A stored UTC ISO time as this machine's local time, ``2025-01-31 14:05``."""
    try:
        return datetime.fromisoformat(stamp).astimezone().strftime("%Y-%m-%d %H:%M")
    except ValueError:
        return stamp


def _legend(chat: ChatSummary, messages: Sequence[StoredMessage]) -> list[str]:
    marked = [m for m in messages if m.role == "assistant" and (m.mode or "nudged") == "nudged" and m.spans]
    if not marked:
        return []
    names = next((m.models for m in marked if m.models), None)
    base, nudging = (f" ({names[0]})", f" ({names[1]})") if names else ("", "")
    return [f"_In nudged replies, <ins>underlined</ins> words were written by the nudging model{nudging}; "
            f"the rest by the base model{base}._", ""]


def _reply_body(m: StoredMessage) -> str:
    if (m.mode or "nudged") == "nudged" and m.spans:
        text = portable_marked_markdown((s["text"], s["source"]) for s in m.spans).rstrip()
    else:
        text = m.content.rstrip()
    return text or "_(no text)_"


def _reply(m: StoredMessage) -> list[str]:
    heading = f"## Assistant ({_MODE_LABEL.get(m.mode or 'nudged', m.mode or '')}"
    if m.gamma is not None and m.mode in (None, "nudged"):
        heading += f", gamma {m.gamma:.2f}"
    heading += ", edited)" if m.edited else ")"
    return [heading, "", _reply_body(m), "", f"_{stats_line(m)}_", ""]


def _compare(record: CompareRecord) -> list[str]:
    lines = [f"### Compare (gamma {record.gamma:.2f}): {record.prompt.strip().splitlines()[0][:80]}", ""]
    for mode, result in record.results.items():
        spans = [(s["text"], s["source"]) for s in result.get("spans", [])]
        body = portable_marked_markdown(spans) if mode == "nudged" else str(result.get("text", ""))
        stats = dict(result.get("stats", {}), nudge_ratio=result.get("nudge_ratio", 0.0))
        lines += [f"**{_MODE_LABEL.get(mode, mode)}**", "", body.rstrip() or "_(no text)_", "",
                  f"_{_stats_line(stats, mode, result.get('stop_reason'))}_", ""]
    return lines


def chat_to_markdown(chat: ChatSummary, messages: list[StoredMessage],
                     compares: Sequence[CompareRecord] = ()) -> str:
    lines = [f"# {chat.title}", ""]
    meta = [f"created {local_time(chat.created_at)}"]
    if chat.pair:
        meta.insert(0, f"model pair: {chat.pair}")
    lines += [f"_{' · '.join(meta)}_", ""]
    lines += _legend(chat, messages)
    by_message: dict[int | None, list[CompareRecord]] = {}
    for record in compares:
        by_message.setdefault(record.message_id, []).append(record)
    pending: list[CompareRecord] = []  # a prompt's compares follow its reply
    for m in messages:
        if m.role == "user":
            for record in pending:
                lines += _compare(record)
            pending = by_message.pop(m.id, [])
            lines += ["## You", "", m.content.rstrip(), ""]
        else:
            lines += _reply(m)
            for record in pending:
                lines += _compare(record)
            pending = []
    for records in [pending, *by_message.values()]:  # the last prompt's; a deleted message's
        for record in records:
            lines += _compare(record)
    return "\n".join(lines).rstrip() + "\n"
