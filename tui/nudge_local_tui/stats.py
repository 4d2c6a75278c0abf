"""The line under a reply: speed, nudge ratio, nudges and why it ended, in words."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

#: Why a reply ended, as the stats line says it (keys: ``NudgeResult.stop_reason``).
STOP_LABELS = {
    "nudging_eos": "end of answer",
    "eos": "end of answer",
    "length": "max tokens reached",
    "stuck": "stopped: it was repeating itself",
    "rounds": "round limit reached",
    "context": "context full",
    "cancelled": "stopped by you",
    "stop": "stop string reached",
    "new_turn": "ended where the base model began a new “Question:”",
    "interrupted": "interrupted by an error",
}


def stop_label(reason: str | None) -> str:
    if reason is None:
        return "stop: unknown"
    return STOP_LABELS.get(reason, f"stop: {reason}")


def stats_line(stats: Mapping[str, Any], mode: str | None, stop_reason: str | None) -> str:
    """``12.3 tok/s · nudge ratio 40% · 3 nudges · end of answer`` (no ratio outside nudged mode)."""
    parts = [f"{float(stats.get('tokens_per_second', 0.0)):.1f} tok/s"]
    if mode in (None, "nudged"):
        parts.append(f"nudge ratio {float(stats.get('nudge_ratio', 0.0)):.0%}")
        nudges = int(stats.get("nudges", 0))
        parts.append(f"{nudges} nudge{'' if nudges == 1 else 's'}")
    parts.append(stop_label(stop_reason))
    return " · ".join(parts)
