"""The request bodies of ``/v1/chat/completions`` and ``/v1/completions``, and their
translation into one generation's arguments.

Pydantic checks the types; the ranges and combinations are checked here by hand so that each
mistake gets a sentence of its own (and the same 400 an OpenAI server would give). Fields an
OpenAI client may send that do not change a nudged answer (``user``, ``presence_penalty``...)
are accepted and ignored; fields whose meaning we cannot honour (``n`` > 1, ``logprobs``,
``tools``, ``echo``) are refused.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict

from ._errors import bad_request

Only = Literal["base", "nudging"]

#: The engine's own bounds (``Nudger.stream`` checks them again).
MAX_STOP_STRINGS = 16
MAX_SEED = 2**63 - 1
ROLES = {"system": "system", "developer": "system", "user": "user", "assistant": "assistant"}


class _Body(BaseModel):
    model_config = ConfigDict(extra="allow", strict=True)

    model: str | None = None
    max_tokens: int | None = None
    temperature: float | None = None
    top_p: float | None = None
    seed: int | None = None
    stop: Any = None
    stream: bool = False
    stream_options: dict[str, Any] | None = None
    n: int | None = None
    logprobs: Any = None
    # Nudging controls (the openai client sends them with extra_body=...).
    gamma: float | None = None
    exact: bool | None = None
    only: str | None = None


class ChatCompletionRequest(_Body):
    """``POST /v1/chat/completions``."""

    messages: list[dict[str, Any]]
    max_completion_tokens: int | None = None
    top_logprobs: int | None = None
    tools: list[Any] | None = None
    response_format: dict[str, Any] | None = None


class CompletionRequest(_Body):
    """``POST /v1/completions`` (the prompt is answered as one user turn)."""

    prompt: Any
    echo: bool = False
    best_of: int | None = None
    suffix: str | None = None


@dataclass(frozen=True)
class GenerationParams:
    """What one request asks the engine for (``Nudger.stream``'s arguments). ``max_tokens``
    None means "what is left of the context" (decided when the prompt has been counted)."""

    messages: list[dict[str, str]] | None = None
    prompt: str | None = None
    max_tokens: int | None = None
    gamma: float | None = None
    temperature: float = 0.0
    top_p: float = 1.0
    seed: int | None = None
    only: Only | None = None
    exact: bool | None = None  # None: the engine's default (the reference's rule)
    stop: list[str] = field(default_factory=list)

    def stream_kwargs(self, max_tokens: int) -> dict[str, Any]:
        kwargs = {"prompt": self.prompt, "messages": self.messages, "gamma": self.gamma, "max_tokens": max_tokens,
                  "temperature": self.temperature, "top_p": self.top_p, "seed": self.seed, "only": self.only,
                  "stop": self.stop}
        if self.exact is not None:
            kwargs["exact"] = self.exact
        return kwargs


def include_usage(body: _Body) -> bool:
    options = body.stream_options or {}
    value = options.get("include_usage", False)
    if not isinstance(value, bool):
        raise bad_request("stream_options.include_usage must be true or false.", "stream_options")
    return value


def chat_params(body: ChatCompletionRequest, only_from_model: Only | None) -> GenerationParams:
    if body.top_logprobs is not None or body.logprobs not in (None, False):
        raise bad_request("logprobs are not supported by this server.", "logprobs", "unsupported_parameter")
    if body.tools:
        raise bad_request("Tools (function calling) are not supported by this server.", "tools",
                          "unsupported_parameter")
    if body.response_format and body.response_format.get("type", "text") != "text":
        raise bad_request("Only the text response format is supported.", "response_format", "unsupported_parameter")
    limit = body.max_completion_tokens if body.max_completion_tokens is not None else body.max_tokens
    name = "max_completion_tokens" if body.max_completion_tokens is not None else "max_tokens"
    params = _common(body, only_from_model, limit, name)
    return replace(params, messages=_messages(body.messages))


def completion_params(body: CompletionRequest, only_from_model: Only | None) -> GenerationParams:
    if body.logprobs is not None:
        raise bad_request("logprobs are not supported by this server.", "logprobs", "unsupported_parameter")
    if body.echo:
        raise bad_request("echo is not supported by this server.", "echo", "unsupported_parameter")
    if body.best_of not in (None, 1):
        raise bad_request("Only best_of=1 is supported (one answer per request).", "best_of")
    if body.suffix:
        raise bad_request("suffix is not supported by this server.", "suffix", "unsupported_parameter")
    prompt = body.prompt
    if isinstance(prompt, list) and len(prompt) == 1:
        prompt = prompt[0]
    if not isinstance(prompt, str):
        raise bad_request("prompt must be a string (or a list of exactly one string).", "prompt")
    if not prompt.strip():
        raise bad_request("The prompt is empty.", "prompt")
    return replace(_common(body, only_from_model, body.max_tokens, "max_tokens"), prompt=prompt)


def _common(body: _Body, only_from_model: Only | None, max_tokens: int | None, max_name: str) -> GenerationParams:
    if body.n not in (None, 1):
        raise bad_request(f"Only n=1 is supported (one answer per request), got {body.n}.", "n")
    if max_tokens is not None and max_tokens <= 0:
        raise bad_request(f"{max_name} must be a positive whole number, got {max_tokens}.", max_name)
    temperature = _in_range("temperature", body.temperature, 0.0, 2.0, default=0.0)
    top_p = _in_range("top_p", body.top_p, 0.0, 1.0, default=1.0, open_low=True)
    gamma = None if body.gamma is None else _in_range("gamma", body.gamma, 0.0, 1.0, default=0.0)
    if body.seed is not None and not 0 <= body.seed <= MAX_SEED:
        raise bad_request(f"seed must be a whole number from 0 to 2**63-1, got {body.seed}.", "seed")
    return GenerationParams(max_tokens=max_tokens, gamma=gamma, temperature=temperature, top_p=top_p,
                            seed=body.seed, only=_only(body.only, only_from_model), exact=body.exact,
                            stop=_stop(body.stop))


def _in_range(name: str, value: float | None, low: float, high: float, *, default: float,
              open_low: bool = False) -> float:
    if value is None:
        return default
    too_low = value <= low if open_low else value < low
    if not math.isfinite(value) or too_low or value > high:
        bounds = f"({low:g}, {high:g}]" if open_low else f"[{low:g}, {high:g}]"
        raise bad_request(f"{name} must be in {bounds}, got {value:g}.", name)
    return float(value)


def _only(requested: str | None, from_model: Only | None) -> Only | None:
    if requested is not None and requested not in ("base", "nudging"):
        raise bad_request(f'only must be "base" or "nudging", got "{requested}".', "only")
    if from_model is not None and requested is not None and requested != from_model:
        raise bad_request(f'The model id selects the {from_model} model alone but only is "{requested}".', "only")
    chosen = from_model or requested
    return "base" if chosen == "base" else "nudging" if chosen == "nudging" else None


def _stop(stop: Any) -> list[str]:
    if stop is None:
        return []
    if isinstance(stop, str):
        stop = [stop]
    if not isinstance(stop, list) or not all(isinstance(s, str) for s in stop):
        raise bad_request("stop must be a string or a list of strings.", "stop")
    if len(stop) > MAX_STOP_STRINGS:
        raise bad_request(f"At most {MAX_STOP_STRINGS} stop strings, got {len(stop)}.", "stop")
    return [s for s in stop if s]


def _messages(messages: list[dict[str, Any]]) -> list[dict[str, str]]:
    if not messages:
        raise bad_request("messages is empty; send at least one user message.", "messages")
    out = []
    for i, message in enumerate(messages):
        role = message.get("role")
        if role not in ROLES:
            shown = role if isinstance(role, str) else type(role).__name__
            raise bad_request(f"messages[{i}] has the role '{shown}'; the roles are system, developer, user "
                              "and assistant.", f"messages[{i}].role")
        out.append({"role": ROLES[role], "content": _content(message.get("content"), i)})
    if out[-1]["role"] != "user":
        raise bad_request("The last message must be the user's.", "messages")
    if not out[-1]["content"].strip():
        raise bad_request("The last message (the user's) is empty.", "messages")
    return out


def _content(content: Any, i: int) -> str:
    """A message's text: a string, or the text parts of a list of content parts."""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        texts = []
        for part in content:
            if not isinstance(part, dict) or part.get("type") != "text" or not isinstance(part.get("text"), str):
                raise bad_request(f"messages[{i}] has a content part that is not text; only text is supported.",
                                  f"messages[{i}].content")
            texts.append(part["text"])
        return "".join(texts)
    raise bad_request(f"messages[{i}] needs a text content.", f"messages[{i}].content")
