"""A nudge draft: the nudging model's next words, written on demand."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ._sampling import Sampler
from ._session import Session
from ._text import Utf8Assembler, split_draft

# A model may write this many tokens past a limit to finish a character split across tokens.
CHAR_SLACK = 3


@dataclass
class Draft:
    """The nudging model's continuation of the answer, one token per :meth:`step`, up to
    ``limit`` tokens (plus :data:`CHAR_SLACK` to finish a character). ``eos`` is set when the
    nudging model ended its turn - the normal end of a nudged answer."""

    session: Session
    logits: np.ndarray
    sampler: Sampler
    limit: int
    text: str = ""
    tokens: int = 0
    finished: bool = False
    eos: bool = False
    _pending: int | None = None
    _utf8: Utf8Assembler = field(default_factory=Utf8Assembler)

    def step(self) -> None:
        if self.finished:
            return
        if self._pending is not None:
            # Evaluate the previous token only now that the next one is wanted: the last
            # token of a draft is never evaluated for nothing.
            self.logits = self.session.push(self._pending)
            self._pending = None
        token = self.sampler.pick(self.logits, int(np.argmax(self.logits)))
        if self.session.backend.is_eog(token):
            self.finished = self.eos = True
            return
        self.text += self._utf8.feed(self.session.backend.token_bytes(token))
        self.tokens += 1
        self._pending = token
        over = self.tokens >= self.limit
        if (over and not self._utf8.pending) or self.tokens >= self.limit + CHAR_SLACK:
            self.finished = True
        elif not self.session.room(2):
            self.finished = True

    def fill(self) -> None:
        while not self.finished:
            self.step()

    def words(self) -> tuple[str, list[str]]:
        """(leading spaces, words) as the reference splits a draft (see ``split_draft``)."""
        return split_draft(self.text)
