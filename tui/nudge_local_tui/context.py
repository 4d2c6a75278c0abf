"""Fitting a conversation into the models' contexts, and the numbers for the context meter.

A chat must never die because it grew: before each reply the oldest turns (a user message and
the replies after it) are left out until what remains fits both models' contexts with room
for the reply. Only a single message larger than the context is refused, with its size.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass

Messages = list[dict[str, str]]


@dataclass(frozen=True)
class TokenCounts:
    """Prompt tokens for each model, and each model's context size."""

    base: int
    nudging: int
    base_n_ctx: int
    nudging_n_ctx: int

    @property
    def tightest(self) -> tuple[int, int]:
        """(tokens, context) of the model whose context is fuller."""
        pairs = [(self.base, self.base_n_ctx), (self.nudging, self.nudging_n_ctx)]
        return max(pairs, key=lambda p: p[0] / p[1] if p[1] else 0.0)


@dataclass(frozen=True)
class Fit:
    messages: Messages  # what is sent
    dropped: int  # earlier messages left out
    counts: TokenCounts  # of what is sent


class PromptTooLongError(Exception):
    """Even the newest message alone does not fit; the message is one sentence."""


def reply_room(max_tokens: int, n_ctx: int) -> int:
    """Tokens kept free for the reply: its limit, but at most half the context (a reply that
    needs more simply stops at the context's end)."""
    return min(max_tokens, n_ctx // 2)


def fits(counts: TokenCounts, max_tokens: int) -> bool:
    return (counts.base + reply_room(max_tokens, counts.base_n_ctx) <= counts.base_n_ctx
            and counts.nudging + reply_room(max_tokens, counts.nudging_n_ctx) <= counts.nudging_n_ctx)


def engine_messages(messages: Iterable[Mapping[str, str]]) -> Messages:
    """The conversation as the engine wants it: no empty replies (cancelled at once), no reply
    before the first question, and no two turns of one role in a row (after deletions, they
    are joined), since some chat templates refuse roles that do not alternate."""
    out: Messages = []
    for m in messages:
        role, content = m["role"], m["content"]
        if role == "assistant" and (not content.strip() or not out):
            continue
        if out and out[-1]["role"] == role:
            out[-1] = {"role": role, "content": out[-1]["content"] + "\n\n" + content}
        else:
            out.append({"role": role, "content": content})
    return out


def _too_long(counts: TokenCounts, max_tokens: int) -> PromptTooLongError:
    tokens, n_ctx = counts.tightest
    room = reply_room(max_tokens, n_ctx)
    return PromptTooLongError(
        f"Your message takes {tokens} tokens, but the model's context holds {n_ctx} with {room} kept "
        f"for the reply; shorten it, or load the pair with a larger context (--n-ctx)."
    )


def fit_conversation(messages: Messages, count: Callable[[Messages], TokenCounts], max_tokens: int) -> Fit:
    """The newest part of ``messages`` (stored turns, ending with the prompt) that fits, as
    ``engine_messages``. Turns are cut before they are cleaned up, so a prompt whose reply failed
    (e.g. one far too long) is left out on its own instead of being joined to the next one."""

    def measure(part: Messages) -> TokenCounts:
        return count(engine_messages(part))

    counts = measure(messages)
    if fits(counts, max_tokens):
        return Fit(engine_messages(messages), 0, counts)
    starts = [i for i, m in enumerate(messages) if m["role"] == "user"]
    last = measure(messages[starts[-1]:])
    if not fits(last, max_tokens):
        raise _too_long(last, max_tokens)
    if len(starts) == 1:
        return Fit(engine_messages(messages[starts[0]:]), starts[0], last)
    # Leaving out more turns never makes the prompt longer: bisect for the fewest to leave out.
    lo, hi, best = 1, len(starts) - 1, (len(starts) - 1, last)
    while lo < hi:
        mid = (lo + hi) // 2
        trial = measure(messages[starts[mid]:])
        if fits(trial, max_tokens):
            hi, best = mid, (mid, trial)
        else:
            lo = mid + 1
    k, counts = best if best[0] == lo else (lo, measure(messages[starts[lo]:]))
    return Fit(engine_messages(messages[starts[k]:]), starts[k], counts)
