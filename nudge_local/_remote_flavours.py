"""The kinds of completion server we speak to, and how each one's answers become a Completion.

* ``llama-server`` (llama.cpp): its native ``POST /completion`` with ``n_probs`` (each token's
  bytes and top log-probabilities, pre-sampling), ``cache_prompt`` (only the unseen suffix of a
  prompt is evaluated), ``POST /tokenize``; ``GET /props`` tells it apart and publishes the
  chat template and context size.
* ``vllm``: OpenAI ``POST /v1/completions`` with ``logprobs=1``; ``POST /tokenize``; the context
  size is ``max_model_len`` in ``GET /v1/models``; prefix caching (on by default) makes the
  reference's repeated prompt prefixes cheap, and ``usage.prompt_tokens_details.cached_tokens``
  (``--enable-prompt-tokens-details``) says how much it saved.
* ``llama-cpp-python``: OpenAI completions plus ``POST /extras/tokenize/count``.
* ``openai``: any other server with OpenAI completions and logprobs; lengths are measured from
  the ``usage`` of a 1-token completion.

Token texts: the server's ``text`` (``content``) is authoritative; each token gets the part of
it that it spells, and a character split over several tokens goes, whole, to the token that
completes it (the others get ""), as ``_local_text`` does. Servers that include the
end-of-sequence token in the token list (with no text in the answer) have it dropped.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from ._remote_http import HttpClient, ServerError
from ._text import Utf8Assembler
from ._text_model import Completion, TokenChoice

_ANCHOR = "\n"
# Phrases servers use when a prompt does not fit (vLLM, llama-cpp-python, llama-server).
_CONTEXT_PHRASES = ("context length", "context window", "context size", "exceed_context")


class NoLogprobs(Exception):
    """Internal: a completion came without the top-1 probabilities the rule needs."""


class OldLlamaServer(NoLogprobs):
    """Internal: a llama-server that reports post-sampling probabilities only (before 2025)."""


class BadAnswer(Exception):
    """Internal: a completion answer without the expected fields."""


@dataclass
class Usage:
    #: prompt tokens the server evaluated for this call (its prefix cache excluded, where known)
    evaluated: int = 0
    #: prompt length in tokens, when reported
    prompt_tokens: int | None = None


def is_context_error(exc: ServerError) -> bool:
    detail = exc.detail.lower()
    return exc.status in (400, 413, 422) and any(p in detail for p in _CONTEXT_PHRASES)


class Flavour:
    """OpenAI completions (``/v1/completions``); subclasses add what their server offers."""

    name = "openai"
    #: extra request fields that make the server sample like the local engine
    extra: dict[str, Any] = {}

    def __init__(self, model: str):
        self.model = model
        self._anchor: int | None = None

    # -- completions --------------------------------------------------------------------------
    def complete(self, http: HttpClient, prompt: str, max_tokens: int, temperature: float, top_p: float,
                 seed: int | None) -> tuple[Completion, Usage]:
        body: dict[str, Any] = {"model": self.model, "prompt": prompt, "max_tokens": max_tokens,
                                "temperature": temperature, "top_p": top_p, "logprobs": 1, "echo": False,
                                "stream": False, **self.extra}
        if seed is not None:
            body["seed"] = seed
        return parse_openai(http.post("/v1/completions", body))

    # -- lengths ------------------------------------------------------------------------------
    def count(self, http: HttpClient, text: str) -> int:
        """``text``'s length in the model's tokens as a continuation (the BOS a server adds
        and SentencePiece's leading space cancel out against the anchor's own count)."""
        if not text:
            return 0
        if self._anchor is None:
            self._anchor = self._tokens(http, _ANCHOR)
        return max(0, self._tokens(http, _ANCHOR + text) - self._anchor)

    def _tokens(self, http: HttpClient, text: str) -> int:
        body = {"model": self.model, "prompt": text, "max_tokens": 1, "temperature": 0.0, **self.extra}
        data = http.post("/v1/completions", body)
        usage = data.get("usage") if isinstance(data, dict) else None
        if not isinstance(usage, dict) or not isinstance(usage.get("prompt_tokens"), int):
            raise BadAnswer("no usage.prompt_tokens")
        return int(usage["prompt_tokens"])


class VllmFlavour(Flavour):
    name = "vllm"

    def _tokens(self, http: HttpClient, text: str) -> int:
        data = http.post("/tokenize", {"model": self.model, "prompt": text, "add_special_tokens": False})
        return _count_field(data)


class LlamaCppPythonFlavour(Flavour):
    name = "llama-cpp-python"
    # Its server's defaults would penalise repeats and cut the tail (repeat_penalty 1.1,
    # top_k 40, min_p 0.05); the local engine samples with temperature and top-p only.
    extra = {"repeat_penalty": 1.0, "top_k": 0, "min_p": 0.0}

    def _tokens(self, http: HttpClient, text: str) -> int:
        return _count_field(http.post("/extras/tokenize/count", {"model": self.model, "input": text}))


class LlamaServerFlavour(Flavour):
    name = "llama-server"

    def complete(self, http: HttpClient, prompt: str, max_tokens: int, temperature: float, top_p: float,
                 seed: int | None) -> tuple[Completion, Usage]:
        body: dict[str, Any] = {
            "prompt": prompt, "n_predict": max_tokens, "n_probs": 1, "post_sampling_probs": False,
            "temperature": temperature, "top_p": top_p, "top_k": 0, "min_p": 0.0, "typical_p": 1.0,
            "repeat_penalty": 1.0, "cache_prompt": True, "stream": False,
        }
        if seed is not None:
            body["seed"] = seed
        return parse_llama_server(http.post("/completion", body))

    def _tokens(self, http: HttpClient, text: str) -> int:
        data = http.post("/tokenize", {"content": text, "add_special": False, "parse_special": False})
        tokens = data.get("tokens") if isinstance(data, dict) else None
        if not isinstance(tokens, list):
            raise BadAnswer("no tokens")
        return len(tokens)


FLAVOURS: dict[str, type[Flavour]] = {
    f.name: f for f in (Flavour, VllmFlavour, LlamaCppPythonFlavour, LlamaServerFlavour)
}


# -- parsing ------------------------------------------------------------------------------------
def parse_openai(data: Any) -> tuple[Completion, Usage]:
    choice = _first_choice(data)
    text = choice.get("text")
    if not isinstance(text, str):
        raise BadAnswer("no text")
    logprobs = choice.get("logprobs")
    if not isinstance(logprobs, dict):
        raise NoLogprobs()
    pieces = logprobs.get("tokens") or []
    tops = logprobs.get("top_logprobs") or []
    if not isinstance(pieces, list) or not isinstance(tops, list) or (text and not pieces):
        raise NoLogprobs()
    top1 = []
    for i in range(len(pieces)):
        top = tops[i] if i < len(tops) else None
        values = [v for v in top.values() if isinstance(v, (int, float))] if isinstance(top, dict) else []
        if not values:
            raise NoLogprobs()
        top1.append(_prob(max(values)))
    finished = choice.get("finish_reason") == "stop"
    texts = align(text, [p if isinstance(p, str) else "" for p in pieces])
    tokens = _drop_eos(texts, top1, finished)
    usage = data.get("usage") if isinstance(data.get("usage"), dict) else {}
    prompt_tokens = usage.get("prompt_tokens") if isinstance(usage.get("prompt_tokens"), int) else None
    details = usage.get("prompt_tokens_details")
    cached = details.get("cached_tokens") if isinstance(details, dict) else None
    evaluated = (prompt_tokens or 0) - (cached if isinstance(cached, int) else 0)
    return Completion(tokens, finished, prompt_tokens), Usage(max(0, evaluated), prompt_tokens)


def parse_llama_server(data: Any) -> tuple[Completion, Usage]:
    if not isinstance(data, dict) or not isinstance(data.get("content"), str):
        raise BadAnswer("no content")
    content = data["content"]
    items = data.get("completion_probabilities")
    if not isinstance(items, list) or (content and not items):
        raise NoLogprobs()
    top1: list[float] = []
    strings: list[str] = []
    raw: list[Any] = []
    for item in items:
        if not isinstance(item, dict):
            raise BadAnswer("a probability entry is not an object")
        top = item.get("top_logprobs")
        if top is None:
            if "probs" in item or "top_probs" in item:
                raise OldLlamaServer()  # post-sampling probabilities: 1.0 for every greedy token
            raise NoLogprobs()
        candidates = [e.get("logprob") for e in top if isinstance(e, dict)] + [item.get("logprob")]
        values = [float(v) for v in candidates if isinstance(v, (int, float))]
        if not values:
            raise NoLogprobs()
        top1.append(_prob(max(values)))
        token = item.get("token")
        strings.append(token if isinstance(token, str) else "")
        raw.append(item.get("bytes"))
    stop_type = data.get("stop_type")
    finished = stop_type in ("eos", "word") if isinstance(stop_type, str) else bool(
        data.get("stopped_eos") or data.get("stopped_word"))
    texts = _texts_from_bytes(raw, content)
    if texts is None:
        texts = align(content, strings)
    tokens = _drop_eos(texts, top1, finished)
    timings = data.get("timings")
    timings = timings if isinstance(timings, dict) else {}
    total = data.get("tokens_evaluated")
    evaluated = timings.get("prompt_n", total)
    return (Completion(tokens, finished, total if isinstance(total, int) else None),
            Usage(evaluated if isinstance(evaluated, int) else 0, total if isinstance(total, int) else None))


def align(text: str, pieces: list[str]) -> list[str]:
    """Give each token the part of ``text`` it spells (see the module doc). Tokens whose own
    string is not found where they should be (a partial character, ``bytes:...``, a special
    token) get ""; the characters they made go to the last of them."""
    out: list[str] = []
    pos = 0
    unsettled: list[int] = []
    for piece in pieces:
        clean = bool(piece) and "\ufffd" not in piece and not piece.startswith("bytes:")
        if clean and text.startswith(piece, pos) and not unsettled:
            out.append(piece)
            pos += len(piece)
            continue
        if clean and unsettled:
            # The characters the unsettled tokens made come first, then this token.
            at = text.find(piece, pos, pos + len(piece) + 8)
            if at >= pos:
                out[unsettled[-1]] = text[pos:at]
                out.append(piece)
                pos = at + len(piece)
                unsettled = []
                continue
        unsettled.append(len(out))
        out.append("")
    rest = text[pos:]
    if rest:
        if unsettled:
            out[unsettled[-1]] += rest
        elif out:
            out[-1] += rest
    return out


def _texts_from_bytes(raw: list[Any], content: str) -> list[str] | None:
    """Token texts from llama-server's per-token ``bytes``, if every token has them and they
    spell ``content`` (an end-of-sequence token at the end may spell nothing or a marker)."""
    if not all(isinstance(b, list) and all(isinstance(x, int) and 0 <= x < 256 for x in b) for b in raw):
        return None
    utf8 = Utf8Assembler()
    texts = [utf8.feed(bytes(b)) for b in raw]
    # Blank trailing tokens (a spelled-out end marker) while that makes them spell ``content``.
    for keep in range(len(texts), -1, -1):
        if "".join(texts[:keep]) == content:
            return texts[:keep] + [""] * (len(texts) - keep)
    return None


def _drop_eos(texts: list[str], top1: list[float], finished: bool) -> tuple[TokenChoice, ...]:
    tokens = [TokenChoice(t, p) for t, p in zip(texts, top1, strict=True)]
    while finished and tokens and not tokens[-1].text:
        tokens.pop()  # the end-of-sequence token itself (or tokens that spelled nothing after it)
    return tuple(tokens)


def _first_choice(data: Any) -> dict[str, Any]:
    choices = data.get("choices") if isinstance(data, dict) else None
    if not isinstance(choices, list) or not choices or not isinstance(choices[0], dict):
        raise BadAnswer("no choices")
    return choices[0]


def _prob(logprob: float) -> float:
    return min(1.0, math.exp(logprob)) if math.isfinite(logprob) else 0.0


def _count_field(data: Any) -> int:
    count = data.get("count") if isinstance(data, dict) else None
    if isinstance(count, int):
        return count
    tokens = data.get("tokens") if isinstance(data, dict) else None
    if isinstance(tokens, list):
        return len(tokens)
    raise BadAnswer("no count")
