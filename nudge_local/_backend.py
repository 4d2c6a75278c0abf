"""The small interface between the nudging controller and a language model runtime.

The controller never sees llama.cpp: it talks to two objects satisfying :class:`Backend`.
:class:`~nudge_local._llama.LlamaCppBackend` is the real one; :class:`nudge_local.testing.FakeBackend`
scripts a model for unit tests. A remote backend (an OpenAI-compatible server with logprobs)
would implement the same methods.
"""

from __future__ import annotations

from typing import Protocol, Sequence, runtime_checkable

import numpy as np


@runtime_checkable
class Backend(Protocol):
    #: Context window in tokens.
    n_ctx: int

    def tokenize(self, text: str, *, special: bool = False, add_bos: bool = False) -> list[int]:
        """Token ids of ``text``. ``special`` parses control tokens written as text (chat
        templates need it; user text must not get it)."""

    def token_bytes(self, token: int) -> bytes:
        """The bytes a token stands for when it is part of a text (may be part of a character)."""

    def is_eog(self, token: int) -> bool:
        """End of generation: EOS, end-of-turn and the like."""

    @property
    def bos_id(self) -> int | None:
        """The begin-of-sequence token the model expects first, or ``None``."""

    def evaluate(self, tokens: Sequence[int], logits_at: Sequence[int] | None = None) -> Sequence[np.ndarray]:
        """Make the model's context hold exactly ``tokens``.

        Reuses the longest common prefix with what the context already holds and evaluates the
        rest in batches. Returns one row per entry of ``logits_at``: row ``k`` is the
        next-token logits after position ``logits_at[k]`` (default: the last position).
        """

    def begin(self, prompt: Sequence[int]) -> np.ndarray:
        """Start a generation: make the context hold exactly ``prompt`` and return the logits
        after it. Unlike :meth:`evaluate`, the prompt is evaluated in a fixed way whatever the
        context held before, so the same prompt always gives the same numbers."""

    def push(self, token: int) -> np.ndarray:
        """Append one token to the context; return the next-token logits after it."""

    def close(self) -> None: ...
