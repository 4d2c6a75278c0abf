"""The text-level model seam: a model that completes text and reports top-1 probabilities.

An OpenAI-compatible completions server (vLLM, llama.cpp's llama-server, llama-cpp-python's
server) cannot hand out logits rows at chosen positions, but it can complete a text prefix and
return each generated token with its top log-probabilities - exactly what the authors' reference
code used. :class:`TextModel` is that capability; ``_reference.ReferenceRule`` runs the nudging
rule over two of them in the reference's order of work (16-token base chunks, one completion per
checked word boundary, 16-token nudge drafts whose ``finish_reason`` says whether the nudging
model ended its answer).

A pair where either model is a :class:`TextModel` runs that rule; a local model on the other
side is adapted with ``_local_text.LocalTextModel``. Two local models use the token-level
engine (``_rule``), whose ``exact=True`` gives the same answers on the same numbers.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from typing import Protocol, runtime_checkable


@dataclass(frozen=True)
class TokenChoice:
    """One generated token: its text and the probability of the most likely token at its
    position (softmax of the raw logits at temperature 1, as the γ gate needs)."""

    text: str
    top1: float


@dataclass(frozen=True)
class Completion:
    tokens: tuple[TokenChoice, ...]
    #: True when the model ended on its own (EOS, end of turn, a stop string); False when it
    #: ran out of ``max_tokens``.
    finished: bool
    #: Prompt length in the model's tokens, when the server reports it.
    prompt_tokens: int | None = None

    @property
    def text(self) -> str:
        return "".join(t.text for t in self.tokens)


@dataclass
class CallCounters:
    """What a text model was asked to do (``bench`` prints these for remote pairs)."""

    calls: int = 0
    prompt_tokens: int = 0
    generated_tokens: int = 0
    seconds: float = 0.0
    retries: int = 0
    #: generated tokens the rule then threw away (after the first unsure token of a chunk, etc.)
    discarded_tokens: int = 0

    def as_dict(self) -> dict[str, float]:
        return {f.name: getattr(self, f.name) for f in fields(self)}


@dataclass(frozen=True)
class ModelDescription:
    """What the public layer shows about a text model (``Nudger.info``)."""

    engine: str
    url: str | None = None
    path: str | None = None
    n_ctx: int = 0
    metadata: Mapping[str, str] = field(default_factory=dict)


@runtime_checkable
class TextModel(Protocol):
    """One model behind a text-completion interface."""

    @property
    def description(self) -> ModelDescription: ...

    @property
    def chat_template(self) -> str | None:
        """The model's Jinja chat template (a nudging model needs one), if known."""

    @property
    def special_texts(self) -> Mapping[str, str]:
        """How the model spells ``bos_token``/``eos_token`` (chat templates write them)."""

    @property
    def counters(self) -> CallCounters: ...

    def complete(self, prompt: str, max_tokens: int, *, temperature: float = 0.0, top_p: float = 1.0,
                 seed: int | None = None) -> Completion:
        """Continue ``prompt`` (plain text; a chat-templated prompt is text too) by up to
        ``max_tokens`` tokens."""

    def count_tokens(self, text: str) -> int:
        """``text``'s length in this model's tokens (the server's tokenizer when it has one)."""

    def close(self) -> None: ...
