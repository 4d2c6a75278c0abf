"""A model behind an HTTP completions server, as a :class:`~nudge_local._text_model.TextModel`."""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any

from ._errors import RemoteError
from ._remote_flavours import BadAnswer, Flavour, NoLogprobs, is_context_error
from ._remote_http import HttpClient, ServerError
from ._remote_probe import NO_LOGPROBS_FIX, ServerInfo
from ._session import ContextFull
from ._text_model import CallCounters, Completion, ModelDescription, TokenChoice


class RemoteTextModel:
    """Completions from one server (``info`` from the probe). ``chat_template`` overrides the
    server's; the HTTP client is closed with the model."""

    def __init__(self, http: HttpClient, info: ServerInfo, flavour: Flavour, *, chat_template: str | None = None):
        self.http = http
        self.info = info
        self.flavour = flavour
        self._template = chat_template or info.chat_template
        self._counters = CallCounters()
        self._counts: dict[str, int] = {}

    @property
    def description(self) -> ModelDescription:
        meta: dict[str, str] = {"general.name": self.info.model, "remote.server": self.info.flavour}
        if self.info.build:
            meta["remote.build"] = self.info.build
        return ModelDescription(engine="remote", url=self.info.url, n_ctx=self.info.n_ctx or 0, metadata=meta)

    @property
    def chat_template(self) -> str | None:
        return self._template

    @property
    def special_texts(self) -> Mapping[str, str]:
        return self.info.special_texts

    @property
    def counters(self) -> CallCounters:
        return self._counters

    def complete(self, prompt: str, max_tokens: int, *, temperature: float = 0.0, top_p: float = 1.0,
                 seed: int | None = None) -> Completion:
        t0 = time.perf_counter()
        retries0 = self.http.retries_used
        try:
            if self.info.logprobs:
                completion, usage = self.flavour.complete(self.http, prompt, max_tokens, temperature, top_p, seed)
            else:
                completion, usage = self._text_only(prompt, max_tokens, temperature, top_p, seed)
        except ServerError as exc:
            if is_context_error(exc):
                raise ContextFull() from None
            raise
        except NoLogprobs:
            raise RemoteError(f"The server at {self.info.url} stopped returning logprobs; {NO_LOGPROBS_FIX}.") from None
        except BadAnswer as exc:
            raise RemoteError(f"The server at {self.info.url} answered a completion without the expected fields "
                              f"({exc}).") from None
        finally:
            c = self._counters
            c.seconds += time.perf_counter() - t0
            c.retries += self.http.retries_used - retries0
        c.calls += 1
        c.generated_tokens += len(completion.tokens)
        c.prompt_tokens += usage.evaluated
        return completion

    def _text_only(self, prompt: str, max_tokens: int, temperature: float, top_p: float,
                   seed: int | None) -> tuple[Completion, Any]:
        """A nudging model on a server without logprobs: the draft's text and its token count
        are all the rule reads (its probabilities are never used)."""
        from ._remote_flavours import Usage

        body: dict[str, Any] = {"model": self.info.model, "prompt": prompt, "max_tokens": max_tokens,
                                "temperature": temperature, "top_p": top_p, "stream": False, **self.flavour.extra}
        if seed is not None:
            body["seed"] = seed
        data = self.http.post("/v1/completions", body)
        choices = data.get("choices") if isinstance(data, dict) else None
        if not isinstance(choices, list) or not choices or not isinstance(choices[0], dict):
            raise BadAnswer("no choices")
        text = choices[0].get("text")
        if not isinstance(text, str):
            raise BadAnswer("no text")
        usage = data.get("usage") if isinstance(data.get("usage"), dict) else {}
        n = usage.get("completion_tokens")
        n = n if isinstance(n, int) and n > 0 else (1 if text else 0)
        tokens = (TokenChoice(text, 0.0),) + (TokenChoice("", 0.0),) * (n - 1) if text else ()
        prompt_tokens = usage.get("prompt_tokens") if isinstance(usage.get("prompt_tokens"), int) else None
        return Completion(tokens, choices[0].get("finish_reason") == "stop", prompt_tokens), Usage(prompt_tokens or 0)

    def count_tokens(self, text: str) -> int:
        """Through the server's tokenizer (its tokenize endpoint, else the usage of 1-token
        completions); answers are remembered, as the same texts are counted again."""
        n = self._counts.get(text)
        if n is None:
            try:
                n = self.flavour.count(self.http, text)
            except ServerError as exc:
                if is_context_error(exc):
                    raise ContextFull() from None
                raise
            except BadAnswer as exc:
                raise RemoteError(f"The server at {self.info.url} could not count tokens ({exc}).") from None
            if len(self._counts) > 64:
                self._counts.clear()
            self._counts[text] = n
        return n

    def close(self) -> None:
        self.http.close()
