"""Exact mode's step 2: the reference's answers.

The reference drafts all 16 tokens, ends the answer if the nudging model's EOS is anywhere in
them, and otherwise checks every word boundary. Only the result has to match, not the order of
work, so this checks all boundaries in one batched base evaluation (logits at each boundary).
"""

from __future__ import annotations

from collections.abc import Generator
from typing import TYPE_CHECKING

from ._draft import Draft
from ._text import kept_text
from ._types import Piece

if TYPE_CHECKING:
    from ._rule import Controller, Takeover


def find_takeover_exact(rule: Controller, draft: Draft) -> Generator[Piece, None, Takeover | None]:
    draft.fill()
    if draft.eos:
        yield from rule.finish_with(draft)
    prefix, words = draft.words()
    checks = [i for i in range(1, len(words)) if words[i]]
    texts = [rule.answer + kept_text(prefix, words, i) for i in checks]
    rows = rule.base.sync_prefixes(texts) if texts else []
    for k, (i, logits) in enumerate(zip(checks, rows)):
        candidate = rule.base_candidate(logits)
        if candidate is None:
            continue
        token, p, piece = candidate
        if p >= rule.cfg.gamma or (piece and (" " + words[i]).startswith(piece)):
            rule.base.rewind_to_prefix(k, texts[k])
            return (i, token, p)
    return None
