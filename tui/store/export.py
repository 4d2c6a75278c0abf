"""Render a stored chat as a Markdown document."""

from __future__ import annotations

from .chats import ChatSummary, StoredMessage

_MODE_LABEL = {"nudged": "nudged", "base": "base model only", "nudging": "nudging model only"}


def stats_line(message: StoredMessage) -> str:
    """One line of stats for an assistant message: the same words the chat screen shows."""
    stats = message.stats or {}
    parts = [f"{stats.get('tokens_per_second', 0.0):.1f} tok/s"]
    if message.mode in (None, "nudged"):
        parts.append(f"nudge ratio {stats.get('nudge_ratio', 0.0):.0%}")
        parts.append(f"{stats.get('nudges', 0)} nudges")
    parts.append(f"stop: {message.stop_reason or 'unknown'}")
    return " · ".join(parts)


def chat_to_markdown(chat: ChatSummary, messages: list[StoredMessage]) -> str:
    lines = [f"# {chat.title}", ""]
    meta = [f"created {chat.created_at}"]
    if chat.pair:
        meta.insert(0, f"model pair: {chat.pair}")
    lines += [f"_{' · '.join(meta)}_", ""]
    for m in messages:
        if m.role == "user":
            lines += ["## You", "", m.content.rstrip(), ""]
            continue
        heading = f"## Assistant ({_MODE_LABEL.get(m.mode or 'nudged', m.mode)}"
        if m.gamma is not None and m.mode in (None, "nudged"):
            heading += f", gamma {m.gamma:.2f}"
        heading += ")"
        lines += [heading, "", m.content.rstrip() or "_(no text)_", ""]
        note = stats_line(m)
        if m.cancelled:
            note += " · cancelled"
        lines += [f"_{note}_", ""]
    return "\n".join(lines).rstrip() + "\n"
