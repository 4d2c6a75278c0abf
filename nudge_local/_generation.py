"""What ``NudgeStream`` needs from a running generation, whichever rule drives it.

Two implementations: ``_rule.Controller`` (the token-level engine over two local backends) and
``_reference.ReferenceRule`` (the reference's order of work over two text-completion models,
e.g. a base model on a vLLM or llama-server; see ``_text_model``).
"""

from __future__ import annotations

import threading
from collections.abc import Generator
from dataclasses import dataclass
from typing import Protocol

from ._backend import EvalCounters
from ._types import Piece, Source, StopReason


@dataclass
class Counters:
    output_tokens: int = 0
    base_generated: int = 0
    base_discarded: int = 0  # generated, then dropped by a repetition guard
    nudging_generated: int = 0
    rounds: int = 0
    nudges: int = 0


class Generation(Protocol):
    cancel: threading.Event
    counters: Counters
    stop_reason: StopReason | None
    prompt_seconds: float

    def run(self, only: Source | None = None) -> Generator[Piece, None, None]:
        """The answer's pieces as they are produced; sets ``stop_reason`` when it ends."""
        ...

    def count_base_tokens(self, text: str) -> int:
        """``text``'s length in the base model's tokens (the unit of ``max_tokens``)."""
        ...

    def model_counters(self) -> tuple[EvalCounters, EvalCounters]:
        """Copies of the base and the nudging model's running counters (what each evaluated,
        prompts included); ``NudgeStream`` reports their change over a generation."""
        ...

    @property
    def wait_seconds(self) -> float:
        """Seconds the generation's main thread waited for the other model's thread."""
        ...
