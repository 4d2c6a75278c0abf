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

from dataclasses import dataclass
from datetime import datetime
from typing import Mapping, Sequence

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
        for m in messages:
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


class ChatTemplate:
    def __init__(self, source: str, *, bos_token: str = "", eos_token: str = ""):
        env = ImmutableSandboxedEnvironment(trim_blocks=True, lstrip_blocks=True)
        env.globals["raise_exception"] = _raise
        env.globals["strftime_now"] = lambda fmt: datetime.now().strftime(fmt)
        try:
            self._template = env.from_string(source)
        except TemplateError as exc:
            raise ChatTemplateError(f"The nudging model's chat template does not parse: {exc}.") from exc
        self._bos, self._eos = bos_token, eos_token

    def render(self, system: str, turns: Sequence[Message], fmt: PromptFormat = PromptFormat()) -> str:
        chat = [
            {"role": t["role"], "content": (fmt.question_prefix + t["content"]) if t["role"] == "user" else t["content"]}
            for t in turns
        ]
        try:
            return self._render(([{"role": "system", "content": system}] if system else []) + chat)
        except TemplateError:
            if not system:
                raise ChatTemplateError("The nudging model's chat template failed to render.") from None
        # Templates without a system role (Gemma's) get the system prompt in the first user
        # turn, the way the reference code does for them.
        chat[0] = {"role": chat[0]["role"], "content": f"{system}\n{chat[0]['content']}"}
        try:
            return self._render(chat)
        except TemplateError as exc:
            raise ChatTemplateError(f"The nudging model's chat template failed to render: {exc}.") from None

    def _render(self, messages: list[dict[str, str]]) -> str:
        return self._template.render(
            messages=messages, add_generation_prompt=True, bos_token=self._bos, eos_token=self._eos
        )


def _raise(message: str):
    raise TemplateError(message)
