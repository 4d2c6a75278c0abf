"""OpenAI response objects (completions, chat completions, their stream chunks) with the
nudging provenance as an extension field, ``"nudge"``, in each choice.

A streamed content chunk's choice says which model wrote its text::

    "nudge": {"source": "base" | "nudging", "confidence": 0.93 | null}

and the last chunk's choice (or the choice of a non-streamed answer) sums the answer up::

    "nudge": {"stop_reason": "nudging_eos", "mode": "nudged", "gamma": 0.4, "nudge_ratio": 0.25,
              "spans": [{"text": ..., "source": ...}, ...], "stats": {...}}
"""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass, field
from typing import Any, Literal

from nudge_local import NudgeResult

Kind = Literal["chat", "completion"]


def finish_reason(stop_reason: str) -> str:
    """OpenAI knows "stop" and "length"; the engine's own reason stays in ``nudge.stop_reason``."""
    return "length" if stop_reason in ("length", "context") else "stop"


def nudge_summary(result: NudgeResult, gamma: float) -> dict[str, Any]:
    return {
        "stop_reason": result.stop_reason,
        "mode": result.mode,
        "gamma": gamma,
        "nudge_ratio": round(result.nudge_ratio, 4),
        "spans": [{"text": s.text, "source": s.source} for s in result.spans],
        "stats": result.stats.as_dict(),
    }


def usage(prompt_tokens: int, result: NudgeResult) -> dict[str, int]:
    """Both counts are in the base model's tokens (the unit ``max_tokens`` limits)."""
    completion = result.stats.output_tokens
    return {"prompt_tokens": prompt_tokens, "completion_tokens": completion,
            "total_tokens": prompt_tokens + completion}


@dataclass
class Responder:
    """Builds the objects of one request's answer, all with the same id, time and model."""

    kind: Kind
    model: str
    gamma: float
    id: str = field(default="")
    created: int = field(default_factory=lambda: int(time.time()))

    def __post_init__(self) -> None:
        if not self.id:
            self.id = ("chatcmpl-" if self.kind == "chat" else "cmpl-") + uuid.uuid4().hex

    @property
    def _object(self) -> str:
        return "chat.completion" if self.kind == "chat" else "text_completion"

    def _envelope(self, choices: list[dict[str, Any]], *, chunk: bool) -> dict[str, Any]:
        obj = self._object + (".chunk" if chunk and self.kind == "chat" else "")
        return {"id": self.id, "object": obj, "created": self.created, "model": self.model,
                "system_fingerprint": None, "choices": choices}

    def _choice(self, text: str | None, finish: str | None, *, chunk: bool, role: bool = False) -> dict[str, Any]:
        if self.kind == "completion":
            return {"index": 0, "text": text or "", "logprobs": None, "finish_reason": finish}
        if not chunk:
            return {"index": 0, "message": {"role": "assistant", "content": text or ""}, "logprobs": None,
                    "finish_reason": finish}
        delta: dict[str, Any] = {}
        if role:
            delta["role"] = "assistant"
        if text is not None:
            delta["content"] = text
        return {"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish}

    # -- a whole answer -----------------------------------------------------------------------
    def answer(self, result: NudgeResult, prompt_tokens: int) -> dict[str, Any]:
        choice = self._choice(result.text, finish_reason(result.stop_reason), chunk=False)
        choice["nudge"] = nudge_summary(result, self.gamma)
        out = self._envelope([choice], chunk=False)
        out["usage"] = usage(prompt_tokens, result)
        return out

    # -- stream chunks ------------------------------------------------------------------------
    def first_chunk(self) -> dict[str, Any] | None:
        """Chat streams open with the assistant's role (and no text); completions have none."""
        if self.kind != "chat":
            return None
        return self._envelope([self._choice("", None, chunk=True, role=True)], chunk=True)

    def piece_chunk(self, text: str, source: str, confidence: float | None) -> dict[str, Any]:
        choice = self._choice(text, None, chunk=True)
        choice["nudge"] = {"source": source, "confidence": None if confidence is None else round(confidence, 4)}
        return self._envelope([choice], chunk=True)

    def last_chunk(self, result: NudgeResult) -> dict[str, Any]:
        choice = self._choice(None if self.kind == "chat" else "", finish_reason(result.stop_reason), chunk=True)
        choice["nudge"] = nudge_summary(result, self.gamma)
        return self._envelope([choice], chunk=True)

    def usage_chunk(self, result: NudgeResult, prompt_tokens: int) -> dict[str, Any]:
        out = self._envelope([], chunk=True)
        out["usage"] = usage(prompt_tokens, result)
        return out
