"""The probe run before a remote model is used (and by ``nudge-local doctor``).

1. ``GET /v1/models``: is it an OpenAI-compatible server, and which model (a missing name takes
   the server's only model);
2. what kind of server it is (``/props``: llama-server; ``/tokenize``: vLLM;
   ``/extras/tokenize/count``: llama-cpp-python; else a generic OpenAI-compatible one);
3. one 1-token completion asking for ``logprobs``: a base model must report its tokens' top-1
   probabilities (Ollama's OpenAI layer and old llama-servers do not).

Every failure is one sentence naming the URL and what to do (a ``RemoteError``).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any, Literal

from ._errors import RemoteError
from ._remote_flavours import (
    BadAnswer,
    Flavour,
    LlamaCppPythonFlavour,
    LlamaServerFlavour,
    NoLogprobs,
    OldLlamaServer,
    VllmFlavour,
)
from ._remote_http import HttpClient, ServerError

Role = Literal["base", "nudging"]
_PROBE_PROMPT = "The capital of France is"

NO_LOGPROBS_FIX = (
    "nudging needs the base model's top-1 token probabilities: Ollama's OpenAI layer does not report "
    "them (serve the model with llama-server or vLLM instead), vLLM needs --max-logprobs 1 or more, "
    "and llama-server needs a build from 2025 or later")


@dataclass(frozen=True)
class ServerInfo:
    """What the probe learnt about one server."""

    url: str
    model: str
    flavour: str
    #: context size in tokens, when the server says
    n_ctx: int | None = None
    chat_template: str | None = None
    special_texts: dict[str, str] = field(default_factory=dict)
    #: whether completions carry top-1 probabilities (required of a base model)
    logprobs: bool = True
    #: seconds the probe's 1-token completion took (one round trip plus a token)
    latency: float = 0.0
    build: str | None = None


def _flag(role: Role | None, what: str) -> str:
    return f"--{role}-{what}" if role else f"the {what.replace('-', ' ')}"


def probe_server(http: HttpClient, model: str | None, role: Role | None = None) -> tuple[ServerInfo, Flavour]:
    """Probe the server behind ``http``; raises :class:`RemoteError` with one sentence."""
    listing = _models(http, role)
    ids = [m["id"] for m in listing if isinstance(m.get("id"), str)]
    chosen = _choose(http, ids, model, role)
    entry = next((m for m in listing if m.get("id") == chosen), {})
    flavour, props = _detect(http, chosen, entry)
    n_ctx = _n_ctx(props, entry)
    t0 = time.perf_counter()
    logprobs = True
    try:
        flavour.complete(http, _PROBE_PROMPT, 1, 0.0, 1.0, None)
    except NoLogprobs as exc:
        if isinstance(exc, OldLlamaServer):
            raise RemoteError(f"The llama-server at {http.shown} reports only post-sampling probabilities "
                              "(a build from before 2025); upgrade llama.cpp to a current release.") from None
        if role != "nudging":
            raise RemoteError(f"The server at {http.shown} returned no logprobs for a completion; "
                              f"{NO_LOGPROBS_FIX}.") from None
        logprobs = False
    except ServerError as exc:
        if "logprob" in exc.detail.lower() and role != "nudging":
            raise RemoteError(f"The server at {http.shown} refused logprobs ({exc.detail.rstrip('.')}); "
                              f"{NO_LOGPROBS_FIX}.") from None
        raise
    except BadAnswer as exc:
        raise RemoteError(f"The server at {http.shown} answered a completion without the fields of the "
                          f"OpenAI completions API ({exc}); check that it is an OpenAI-compatible server.") from None
    latency = time.perf_counter() - t0
    template = props.get("chat_template") if isinstance(props.get("chat_template"), str) else None
    specials = {k: v for k, v in props.items() if k in ("bos_token", "eos_token") and isinstance(v, str)}
    build = props.get("build_info") if isinstance(props.get("build_info"), str) else None
    info = ServerInfo(url=http.shown, model=chosen, flavour=flavour.name, n_ctx=n_ctx, chat_template=template or None,
                      special_texts=specials, logprobs=logprobs, latency=latency, build=build)
    return info, flavour


def _models(http: HttpClient, role: Role | None) -> list[dict[str, Any]]:
    try:
        data = http.get("/v1/models")
    except ServerError as exc:
        if exc.status in (401, 403):
            raise RemoteError(f"The server at {http.shown} refused us (HTTP {exc.status}); give its API key with "
                              f"{_flag(role, 'api-key')}.") from None
        if exc.status == 404:
            raise RemoteError(f"{http.shown} has no /v1/models, so it is not an OpenAI-compatible server (or the "
                              "URL is wrong); give the server's base URL, e.g. http://host:8000/v1.") from None
        raise
    except RemoteError as exc:
        raise RemoteError(f"Cannot reach the {role + ' model' if role else 'model'} server at {http.shown} "
                          f"({_reason(exc)}); start it, or fix {_flag(role, 'url')}.") from None
    listing = data.get("data") if isinstance(data, dict) else None
    if not isinstance(listing, list):
        raise RemoteError(f"{http.shown}/v1/models did not list models the OpenAI way; check that it is an "
                          "OpenAI-compatible server.")
    return [m for m in listing if isinstance(m, dict)]


def _choose(http: HttpClient, ids: list[str], model: str | None, role: Role | None) -> str:
    if model is not None:
        if model in ids or not ids:
            return model
        raise RemoteError(f"The server at {http.shown} does not serve {model!r}; it serves "
                          f"{', '.join(repr(i) for i in ids[:10])}.")
    if len(ids) == 1:
        return ids[0]
    if not ids:
        raise RemoteError(f"The server at {http.shown} lists no models; load one, or name it with "
                          f"{_flag(role, 'model')}.")
    raise RemoteError(f"The server at {http.shown} serves several models ({', '.join(repr(i) for i in ids[:10])}); "
                      f"choose one with {_flag(role, 'model')}.")


def _detect(http: HttpClient, model: str, entry: dict[str, Any]) -> tuple[Flavour, dict[str, Any]]:
    props = _optional(http, "GET", "/props", None)
    if isinstance(props, dict) and "default_generation_settings" in props:
        return LlamaServerFlavour(model), props
    if "max_model_len" in entry or entry.get("owned_by") == "vllm":
        return VllmFlavour(model), {}
    found = _optional(http, "POST", "/tokenize", {"model": model, "prompt": "a", "add_special_tokens": False})
    if isinstance(found, dict) and isinstance(found.get("count", found.get("tokens")), (int, list)):
        return VllmFlavour(model), {}
    found = _optional(http, "POST", "/extras/tokenize/count", {"model": model, "input": "a"})
    if isinstance(found, dict) and isinstance(found.get("count"), int):
        return LlamaCppPythonFlavour(model), {}
    return Flavour(model), {}


def _optional(http: HttpClient, method: str, path: str, body: dict[str, Any] | None) -> Any:
    """An endpoint that only some servers have: its JSON, or None when it is not there."""
    try:
        return http.request(method, path, body)
    except ServerError:
        return None
    except RemoteError as exc:
        if "not JSON" in str(exc):
            return None
        raise


def _n_ctx(props: dict[str, Any], entry: dict[str, Any]) -> int | None:
    settings = props.get("default_generation_settings")
    for value in (settings.get("n_ctx") if isinstance(settings, dict) else None, props.get("n_ctx"),
                  entry.get("max_model_len")):
        if isinstance(value, int) and not isinstance(value, bool) and value > 0:
            return value
    return None


def _reason(exc: RemoteError) -> str:
    text = str(exc)
    start, end = text.find("("), text.rfind(")")
    return text[start + 1 : end] if 0 <= start < end else "no answer"
