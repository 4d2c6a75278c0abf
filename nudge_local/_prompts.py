"""Prompts for the two models, built from the same conversation.

* The nudging model gets its own chat template (the GGUF's ``tokenizer.chat_template``), rendered
  in Jinja's immutable sandbox so a template cannot run code or touch our objects.
* The base model gets plain text (``shared/docs/nudging.md``)::

      {system}\\n{context}Question: {question}\\n{answer so far}

  For a multi-turn chat the same format continues: each past question and its answer, joined
  by ``turn_separator``, then the new ``Question:`` line::

      {system}\\nQuestion: {q1}\\n{a1}\\n\\nQuestion: {q2}\\n{answer so far}

Both models see user turns as ``"Question: {text}"``, as in the paper.
"""

from __future__ import annotations

import time
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, NoReturn

from jinja2 import TemplateError
from jinja2.sandbox import ImmutableSandboxedEnvironment

from ._errors import ChatTemplateError, SettingError

#: The paper's system prompt for open-ended instructions (its reasoning-task prompt is
#: "Answer the question by walking through the reasoning steps.").
DEFAULT_SYSTEM = "You are a helpful assistant."

Message = Mapping[str, str]


@dataclass(frozen=True)
class PromptFormat:
    question_prefix: str = "Question: "
    turn_separator: str = "\n\n"
    context: str = ""


def normalize_messages(
    prompt: str | None, messages: Sequence[Message] | None, system: str | None
) -> tuple[str, list[dict[str, str]]]:
    """Return (system prompt, user/assistant turns ending with a user turn)."""
    if (prompt is None) == (messages is None):
        raise SettingError("Give either a prompt or messages, not both and not neither.")
    if prompt is not None:
        if not prompt.strip():
            raise SettingError("The prompt is empty.")
        turns = [{"role": "user", "content": prompt}]
    else:
        turns = []
        for m in messages or ():
            role, content = m.get("role"), m.get("content")
            if role not in ("system", "user", "assistant") or not isinstance(content, str):
                raise SettingError(
                    "Each message needs a role of system, user or assistant and a text content."
                )
            if role == "system":
                if system is None:
                    system = content
                continue
            turns.append({"role": role, "content": content})
        if not turns or turns[-1]["role"] != "user":
            raise SettingError("The last message must be the user's.")
        if not turns[-1]["content"].strip():
            raise SettingError("The last message (the user's) is empty.")
    return (DEFAULT_SYSTEM if system is None else system), turns


def base_prompt(system: str, turns: Sequence[Message], fmt: PromptFormat = PromptFormat()) -> str:
    parts = []
    for t in turns:
        if t["role"] == "user":
            parts.append(f"{fmt.question_prefix}{t['content']}\n")
        else:
            parts[-1:] = [(parts[-1] if parts else "") + t["content"] + fmt.turn_separator]
    head = f"{system}\n" if system else ""
    return head + fmt.context + "".join(parts)


# Bounds on rendering a chat template. A template comes from a model file downloaded from the
# internet: the sandbox stops it from touching our objects, these stop it from hanging or eating
# memory (nested loops, "x" * 10**9, a macro calling itself).
RENDER_SECONDS = 2.0
RENDER_STEPS = 1_000_000
RENDER_CHARS = 1_000_000
# Noncharacters (never assigned by Unicode): they mark where user text starts and ends in a
# rendered prompt, so that only the template's own text is parsed for control tokens.
_OPEN, _CLOSE = "\ufdd0", "\ufdd1"


class _Budget:
    def __init__(self) -> None:
        self.steps = 0
        self.deadline = time.monotonic() + RENDER_SECONDS

    def tick(self) -> None:
        self.steps += 1
        if self.steps > RENDER_STEPS:
            raise _TooCostly("takes too many steps")
        if self.steps % 256 == 0 and time.monotonic() > self.deadline:
            raise _TooCostly(f"takes longer than {RENDER_SECONDS:g} s")

    def range(self, *args: int) -> Iterator[int]:
        if len(args) > 3 or not all(isinstance(a, int) for a in args):
            raise _TooCostly("calls range() with arguments that are not whole numbers")
        for value in range(*args):
            self.tick()
            yield value


class _TooCostly(Exception):
    pass


class _BoundedEnvironment(ImmutableSandboxedEnvironment):
    """The immutable sandbox, plus a step/time budget and size checks on what can allocate."""

    intercepted_binops = frozenset(["*", "**", "%", "+"])

    def __init__(self) -> None:
        super().__init__(trim_blocks=True, lstrip_blocks=True)
        self.budget = _Budget()
        self.filters["center"] = self._bounded_filter(self.filters["center"])
        self.filters["indent"] = self._bounded_filter(self.filters["indent"])

    def _bounded_filter(self, fn: Any) -> Any:
        def bounded(value: Any, width: Any = 80, *args: Any, **kwargs: Any) -> Any:
            if isinstance(width, int) and width > RENDER_CHARS:
                raise _TooCostly("pads text to an enormous width")
            return fn(value, width, *args, **kwargs)

        return bounded

    def call_binop(self, context: Any, operator: str, left: Any, right: Any) -> Any:
        self.budget.tick()
        if operator == "*":
            for seq, n in ((left, right), (right, left)):
                if isinstance(seq, (str, list, tuple)) and isinstance(n, int) and len(seq) * n > RENDER_CHARS:
                    raise _TooCostly("builds an enormous string or list")
        elif operator == "**" and isinstance(right, int) and abs(right) > 64:
            raise _TooCostly("computes an enormous power")
        elif operator == "%" and isinstance(left, str) and len(left) > RENDER_CHARS:
            raise _TooCostly("formats an enormous string")
        result = super().call_binop(context, operator, left, right)
        if isinstance(result, (str, list, tuple)) and len(result) > RENDER_CHARS:
            raise _TooCostly("builds an enormous string or list")
        return result

    def call(__self, __context: Any, __obj: Any, *args: Any, **kwargs: Any) -> Any:  # noqa: N805
        __self.budget.tick()
        return super().call(__context, __obj, *args, **kwargs)

    def getattr(self, obj: Any, attribute: str) -> Any:
        self.budget.tick()
        return super().getattr(obj, attribute)

    def getitem(self, obj: Any, argument: Any) -> Any:
        self.budget.tick()
        return super().getitem(obj, argument)


class ChatTemplate:
    """A model's Jinja chat template, rendered in a bounded sandbox."""

    def __init__(self, source: str, *, bos_token: str = "", eos_token: str = ""):
        if not isinstance(source, str) or not source.strip():
            raise ChatTemplateError("The nudging model's chat template is empty.")
        self._source = source
        try:
            self._new_env().from_string(source)
        except TemplateError as exc:
            raise ChatTemplateError(f"The nudging model's chat template does not parse: {_first_line(exc)}.") from None
        except (RecursionError, MemoryError):
            raise ChatTemplateError("The nudging model's chat template is too deeply nested to parse.") from None
        self._bos, self._eos = bos_token, eos_token

    def render(self, system: str, turns: Sequence[Message], fmt: PromptFormat = PromptFormat()) -> str:
        """The prompt text (user text and template text alike)."""
        return "".join(text for text, _ in self.render_parts(system, turns, fmt))

    def render_parts(self, system: str, turns: Sequence[Message],
                     fmt: PromptFormat = PromptFormat()) -> list[tuple[str, bool]]:
        """The prompt as (text, is_user_text) parts: only the template's own parts may be
        parsed for control tokens (a user typing ``<|im_end|>`` must not end their turn)."""
        chat = [
            {"role": t["role"],
             "content": (fmt.question_prefix + t["content"]) if t["role"] == "user" else t["content"]}
            for t in turns
        ]
        marked = not any(_OPEN in t["content"] or _CLOSE in t["content"] for t in chat) and _OPEN not in system
        try:
            text = self._render_chat(system, chat, marked)
        except ChatTemplateError:
            if not marked:
                raise
            marked, text = False, self._render_chat(system, chat, False)
        parts = _split_marked(text) if marked else None
        if parts is None:  # the template changed the marks (sliced a message, say)
            parts = [(self._render_chat(system, chat, False), False)] if marked else [(text, False)]
        if not "".join(p for p, _ in parts).strip():
            raise ChatTemplateError("The nudging model's chat template rendered an empty prompt.")
        return parts

    def _render_chat(self, system: str, chat: list[dict[str, str]], marked: bool) -> str:
        def mark(t: str) -> str:
            return f"{_OPEN}{t}{_CLOSE}" if marked else t

        marked_chat = [{"role": m["role"], "content": mark(m["content"])} for m in chat]
        try:
            return self._render(([{"role": "system", "content": mark(system)}] if system else []) + marked_chat)
        except TemplateError:
            if not system:
                raise ChatTemplateError("The nudging model's chat template failed to render.") from None
        # Templates without a system role (Gemma's) get the system prompt in the first user
        # turn, the way the reference code does for them.
        first = chat[0]
        marked_chat[0] = {"role": first["role"], "content": mark(f"{system}\n{first['content']}")}
        try:
            return self._render(marked_chat)
        except TemplateError as exc:
            raise ChatTemplateError(
                f"The nudging model's chat template failed to render: {_first_line(exc)}.") from None

    def _new_env(self) -> _BoundedEnvironment:
        env = _BoundedEnvironment()
        env.globals["raise_exception"] = _raise
        env.globals["strftime_now"] = lambda fmt: datetime.now().strftime(fmt)
        env.globals["range"] = env.budget.range
        return env

    def _render(self, messages: list[dict[str, str]]) -> str:
        env = self._new_env()
        out: list[str] = []
        size = 0
        try:
            template = env.from_string(self._source)
            for chunk in template.generate(messages=messages, add_generation_prompt=True,
                                           bos_token=self._bos, eos_token=self._eos):
                size += len(chunk)
                if size > RENDER_CHARS:
                    raise _TooCostly(f"writes more than {RENDER_CHARS:,} characters")
                out.append(chunk)
        except _TooCostly as exc:
            raise ChatTemplateError(f"The nudging model's chat template {exc}; it was stopped.") from None
        except RecursionError:
            raise ChatTemplateError("The nudging model's chat template recurses too deeply; it was stopped.") from None
        except MemoryError:
            raise ChatTemplateError("The nudging model's chat template ran out of memory; it was stopped.") from None
        except (TypeError, ValueError, AttributeError, KeyError, IndexError, ZeroDivisionError) as exc:
            raise ChatTemplateError(f"The nudging model's chat template failed: {_first_line(exc)}.") from None
        return "".join(out)


def _split_marked(text: str) -> list[tuple[str, bool]] | None:
    """Split at the marks; None unless they pair up properly."""
    parts: list[tuple[str, bool]] = []
    rest = text
    while rest:
        start = rest.find(_OPEN)
        if start < 0:
            if _CLOSE in rest:
                return None
            parts.append((rest, False))
            break
        end = rest.find(_CLOSE, start)
        if end < 0 or _CLOSE in rest[:start] or _OPEN in rest[start + 1 : end]:
            return None
        if start:
            parts.append((rest[:start], False))
        if end > start + 1:
            parts.append((rest[start + 1 : end], True))
        rest = rest[end + 1 :]
    return parts


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return (text[0] if text else type(exc).__name__)[:200].rstrip(".")


def _raise(message: str) -> NoReturn:
    raise TemplateError(message)
