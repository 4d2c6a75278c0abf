"""The interface between the nudging rule and a language model runtime.

The controller never sees llama.cpp: it talks to two objects satisfying :class:`Backend`, and
the public layer (``Nudger``) learns everything else it needs about a model - its chat
template, metadata, special tokens, settings, counters - from the same protocol, never by
probing for attributes or reaching into a runtime's objects.

* :class:`~nudge_local._llama.LlamaCppBackend` runs a GGUF file in this process;
* :class:`nudge_local.testing.FakeBackend` scripts a model for unit tests (the role httpx's
  ``MockTransport`` plays there).

A model behind an HTTP completions API (vLLM, llama-server) cannot hand out logits rows per
position, so it sits behind a *text-level* seam instead (``_text_model.TextModel``), which
the reference-order rule drives; see ``_remote``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, fields
from typing import Protocol, runtime_checkable

import numpy as np

from ._settings import ModelSettings


@dataclass
class EvalCounters:
    """What a backend has computed since it was loaded. The engine reads differences of these
    around a generation (``Stats``) and ``bench`` prints where the time goes from them."""

    #: tokens evaluated one at a time (a generated token appended)
    single_tokens: int = 0
    #: tokens evaluated in batches of more than one (prompts, catching up, word checks)
    batched_tokens: int = 0
    #: llama_decode calls (or their equivalent)
    decode_calls: int = 0
    #: logits rows copied out of the runtime
    rows_read: int = 0
    #: rows served from the backend's own cache of recent positions (no evaluation)
    rows_reused: int = 0
    #: seconds spent inside the runtime's decode calls (a remote model: in its HTTP calls)
    decode_seconds: float = 0.0
    #: a remote model: tokens its server generated that the rule did not use
    unused_tokens: int = 0
    #: times a multi-threaded model fell back to one thread, another program slowing it down
    #: (``_contention``; a running total, not reset per generation)
    one_thread_fallbacks: int = 0

    @property
    def evaluated_tokens(self) -> int:
        return self.single_tokens + self.batched_tokens

    def copy(self) -> EvalCounters:
        return EvalCounters(**{f.name: getattr(self, f.name) for f in fields(self)})

    def minus(self, other: EvalCounters) -> EvalCounters:
        return EvalCounters(**{f.name: getattr(self, f.name) - getattr(other, f.name) for f in fields(self)})

    def as_dict(self) -> dict[str, float]:
        d: dict[str, float] = {f.name: getattr(self, f.name) for f in fields(self)}
        d["evaluated_tokens"] = self.evaluated_tokens
        d["decode_seconds"] = round(self.decode_seconds, 4)
        return d


@runtime_checkable
class Backend(Protocol):
    """One loaded model, at the token level."""

    #: Context window in tokens.
    n_ctx: int
    #: Vocabulary size (the length of a logits row).
    n_vocab: int

    # -- what the public layer needs to know ----------------------------------------------------
    @property
    def engine(self) -> str:
        """``"llama.cpp"``, ``"fake"``, ... (shown in ``Nudger.info``)."""

    @property
    def path(self) -> str | None:
        """The model file, for local models."""

    @property
    def metadata(self) -> Mapping[str, str]:
        """GGUF-style metadata (``general.name``, ``tokenizer.chat_template``, ...)."""

    @property
    def chat_template(self) -> str | None:
        """The model's own Jinja chat template, if it has one."""

    @property
    def settings(self) -> ModelSettings | None:
        """The resolved runtime settings (threads, GPU layers, context), for local models."""

    @property
    def counters(self) -> EvalCounters:
        """Running totals of what this backend computed (see :class:`EvalCounters`)."""

    @property
    def bos_id(self) -> int | None:
        """The begin-of-sequence token the model expects first, or ``None``."""

    @property
    def eos_id(self) -> int | None:
        """The end-of-sequence token (chat templates may spell it), or ``None``."""

    def set_threads(self, n_threads: int) -> None:
        """Use ``n_threads`` CPU threads from the next evaluation on (a thread plan's choice)."""

    # -- tokens -------------------------------------------------------------------------------
    def tokenize(self, text: str, *, special: bool = False, add_bos: bool = False) -> list[int]:
        """Token ids of ``text``. ``special`` parses control tokens written as text (chat
        templates need it; user text must never get it)."""

    def token_bytes(self, token: int) -> bytes:
        """The bytes a token stands for when it is part of a text (may be part of a character)."""

    def token_text(self, token: int, *, special: bool = True) -> str:
        """A token's text, control tokens spelled out (``<|im_end|>``) when ``special``."""

    def is_eog(self, token: int) -> bool:
        """End of generation: EOS, end-of-turn and the like."""

    # -- evaluation ---------------------------------------------------------------------------
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

    def close(self) -> None:
        """Free the model. Any later call raises instead of touching freed memory."""
