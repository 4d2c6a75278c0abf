"""A local model (a :class:`~nudge_local._backend.Backend`) behind the text-level seam.

When one model of a pair is remote, the pair runs the reference's order of work
(``_reference``), which speaks :class:`~nudge_local._text_model.TextModel`; the other, local
model is adapted here. Each :meth:`LocalTextModel.complete` call tokenizes its whole prompt
and starts from it with ``Backend.begin`` (the backend reuses what its cache already holds), so
the numbers depend only on the text, as they do on a server.

How tokens become text (the same convention as the remote clients): a character that the
tokenizer split over several byte tokens is given, whole, to the token that completes it; the
tokens before it have empty text. The rule never cuts the base's text at a token that follows
an empty one (see ``_reference``), which is how the local engine's "never cut a character" reads
at the text level.
"""

from __future__ import annotations

import time
from collections.abc import Mapping

from ._backend import Backend
from ._draft import CHAR_SLACK
from ._sampling import Sampler, top1
from ._session import ContextFull
from ._text import Utf8Assembler
from ._text_model import CallCounters, Completion, ModelDescription, TokenChoice

# Put before a text that is counted on its own, then subtracted (as ``_session`` does): a
# newline never merges with the next word and stops SentencePiece's dummy-prefix space.
_ANCHOR = "\n"


class LocalTextModel:
    """Completes text with a local backend. ``special``: parse control tokens written as text
    in prompts (the nudging model's chat-templated prompt needs it; a base prompt is plain)."""

    def __init__(self, backend: Backend, *, special: bool):
        self.backend = backend
        self.special = special
        self._counters = CallCounters()

    # -- what the public layer shows ------------------------------------------------------------
    @property
    def description(self) -> ModelDescription:
        b = self.backend
        return ModelDescription(engine=b.engine, path=b.path, n_ctx=b.n_ctx, metadata=b.metadata)

    @property
    def chat_template(self) -> str | None:
        return self.backend.chat_template

    @property
    def special_texts(self) -> Mapping[str, str]:
        b = self.backend
        texts = {}
        if b.bos_id is not None:
            texts["bos_token"] = b.token_text(b.bos_id)
        if b.eos_id is not None:
            texts["eos_token"] = b.token_text(b.eos_id)
        return texts

    @property
    def counters(self) -> CallCounters:
        return self._counters

    # -- the seam -----------------------------------------------------------------------------
    def prompt_tokens(self, prompt: str) -> list[int]:
        b = self.backend
        bos = b.bos_id
        tokens = b.tokenize(prompt, special=self.special, add_bos=bos is not None)
        if bos is not None and len(tokens) > 1 and tokens[0] == tokens[1] == bos:
            tokens = tokens[1:]  # a chat template wrote the BOS itself
        return tokens

    def complete(self, prompt: str, max_tokens: int, *, temperature: float = 0.0, top_p: float = 1.0,
                 seed: int | None = None) -> Completion:
        b = self.backend
        tokens = self.prompt_tokens(prompt)
        if len(tokens) >= b.n_ctx:
            raise ContextFull()
        sampler = Sampler(temperature, top_p, seed)
        t0 = time.perf_counter()
        before = b.counters.evaluated_tokens
        logits = b.begin(tokens)
        evaluated = b.counters.evaluated_tokens - before
        utf8 = Utf8Assembler()
        out: list[TokenChoice] = []
        finished = False
        n = len(tokens)
        while True:
            best, p = top1(logits)
            token = sampler.pick(logits, best)
            if b.is_eog(token):
                finished = True
                break
            out.append(TokenChoice(utf8.feed(b.token_bytes(token)), p))
            n += 1
            # As the local engine does: finish a character split across tokens (a few more).
            if len(out) >= max_tokens and (not utf8.pending or len(out) >= max_tokens + CHAR_SLACK):
                break
            if n >= b.n_ctx:
                break  # the context is full: the next call's prompt will not fit
            logits = b.push(token)
        c = self._counters
        c.calls += 1
        c.generated_tokens += len(out)
        c.prompt_tokens += evaluated  # what the prompt cost: the part the cache did not hold
        c.seconds += time.perf_counter() - t0
        return Completion(tuple(out), finished, prompt_tokens=len(tokens))

    def count_tokens(self, text: str) -> int:
        """``text``'s length as a continuation (no BOS, no dummy-prefix space)."""
        if not text:
            return 0
        b = self.backend
        anchor = b.tokenize(_ANCHOR, special=self.special)
        tokens = b.tokenize(_ANCHOR + text, special=self.special)
        if tokens[: len(anchor)] == anchor:
            return len(tokens) - len(anchor)
        return len(b.tokenize(text, special=self.special))

    def close(self) -> None:
        self.backend.close()
