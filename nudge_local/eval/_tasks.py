"""What an evaluation task is: items (question, gold answer, source record) and a scorer."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

#: The paper's system prompt for its reasoning and knowledge tasks.
REASONING_SYSTEM = "Answer the question by walking through the reasoning steps."
QUESTION_PREFIX = "Question: "


@dataclass(frozen=True)
class Item:
    """One question. ``doc_id`` is its index in the whole task (what ``--limit`` samples)."""

    doc_id: int
    question: str
    #: The gold answer in the scorer's form ("42", "B", "yes", "03/25/2021", ...).
    target: str
    #: The source record, written to samples.jsonl as lm-evaluation-harness's ``doc``.
    doc: Mapping[str, Any] = field(default_factory=dict)
    #: What precedes the question in both models' prompts (MMLU adds its subject line).
    question_prefix: str = QUESTION_PREFIX
    #: Multiple choice: the labels shown ("A".."E", or ARC's "1".."4") and the choice texts.
    labels: tuple[str, ...] = ()
    choices: tuple[str, ...] = ()

    @property
    def doc_hash(self) -> str:
        return sha256_text(json.dumps(self.doc, sort_keys=True, ensure_ascii=False, default=str))


class Scorer(Protocol):
    """Reads the answer out of a model's output. ``extract`` returns None when no rule can
    read one (counted as wrong, and reported as unreadable)."""

    @property
    def name(self) -> str: ...

    def extract(self, output: str, item: Item) -> str | None: ...

    def matches(self, answer: str, item: Item) -> bool: ...


@dataclass(frozen=True)
class Scored:
    answer: str | None
    correct: bool


def score(scorer: Scorer, output: str, item: Item) -> Scored:
    answer = scorer.extract(output, item)
    return Scored(answer, answer is not None and scorer.matches(answer, item))


@dataclass
class Task:
    """A named list of items and the scorer for them. ``source`` says where the items came
    from ("built-in", or the data file); ``version`` changes when a built-in generator does."""

    name: str
    items: Sequence[Item]
    scorer: Scorer
    source: str = "built-in"
    version: str = "1"
    description: str = ""

    def describe(self) -> dict[str, Any]:
        return {"name": self.name, "source": self.source, "version": self.version,
                "scorer": self.scorer.name, "n_items": len(self.items)}


def sha256_text(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def prompt_hash(system: str, item: Item) -> str:
    """Hash of what both models are asked (system prompt, prefix, question)."""
    return sha256_text(f"{system}\n{item.question_prefix}{item.question}")


# A task made on demand: built-in generators and dataset loaders register one of these.
TaskFactory = Callable[..., Task]
