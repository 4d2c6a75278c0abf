"""A scripted model pair that answers eval questions (built on nudge_local.testing.FakeBackend).

Each model has a fixed answer per question, "The answer is X.", written one word-token at a
time. The base model writes its tokens with probability 0.9 (never 1, so at γ = 1 it is never
confident); the nudging model with probability 1. Both see the question on the line after
"Question: " (the chat template below ends the user turn with a newline), so the script can
tell the question from the answer so far.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterable

from nudge_local import Nudger
from nudge_local.eval import Item, Task
from nudge_local.testing import FakeBackend

EOS = "<eos>"
SPECIALS = [EOS, "<|system|>", "<|user|>", "<|assistant|>"]
TEMPLATE = (
    "{% for m in messages %}<|{{ m.role }}|>{{ m.content }}\n{% endfor %}"
    "{% if add_generation_prompt %}<|assistant|>{% endif %}"
)
BASE_P = 0.9

Answers = dict[str, str]


def wrong(target: str) -> str:
    """A wrong answer of the same kind as ``target``."""
    if re.fullmatch(r"-?\d+", target):
        return str(int(target) + 1)
    if target in ("yes", "no"):
        return "no" if target == "yes" else "yes"
    return target + "x"


def answers_for(tasks: Iterable[Task], right: Callable[[Item], bool]) -> Answers:
    return {item.question: f"The answer is {item.target if right(item) else wrong(item.target)}."
            for task in tasks for item in task.items}


def _pieces(answer: str) -> list[str]:
    return re.findall(r"\s*\S+", answer)


def _script(answers: Answers, prob: float, delay: float, lenient: bool = False) -> Callable[[str], dict[str, float]]:
    def script(text: str) -> dict[str, float]:
        if delay:
            time.sleep(delay)
        head, sep, rest = text.rpartition("Question: ")
        question, newline, so_far = rest.partition("\n")
        target = answers.get(question) if sep and newline else None
        if lenient and target is not None and not target.startswith(so_far) and so_far:
            # Carry on after a first word the other model wrote.
            mine, theirs = _pieces(target), _pieces(so_far)
            target, so_far = "".join(mine[1:]), "".join(theirs[1:])
        if target is None or not target.startswith(so_far) or target == so_far:
            return {EOS: prob}
        nxt = next(p for p in _pieces(target[len(so_far):]))
        return {nxt: prob}

    return script


def make_eval_nudger(base_answers: Answers, nudging_answers: Answers, *, delay: float = 0.0,
                     lenient_base: bool = False) -> Nudger:
    """``lenient_base``: the base also continues its answer after someone else's first word."""
    vocab = sorted({p for a in [*base_answers.values(), *nudging_answers.values()] for p in _pieces(a)})
    vocab += ["Question", ":", " ", "\n"]
    base = FakeBackend(vocab, _script(base_answers, BASE_P, delay, lenient_base), specials=SPECIALS)
    nudging = FakeBackend(vocab, _script(nudging_answers, 1.0, 0.0), specials=SPECIALS, chat_template=TEMPLATE)
    return Nudger(base, nudging, names=("fake-base", "fake-nudging"))


def standard_pair(tasks: Iterable[Task], *, delay: float = 0.0) -> Nudger:
    """Base right on even doc ids, nudging model right on multiples of 3."""
    tasks = list(tasks)
    return make_eval_nudger(answers_for(tasks, lambda it: it.doc_id % 2 == 0),
                            answers_for(tasks, lambda it: it.doc_id % 3 == 0), delay=delay)
