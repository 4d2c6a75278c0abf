"""Models on a server: vLLM, llama.cpp's llama-server, llama-cpp-python's server, or any server
with the OpenAI completions API and logprobs.

A :class:`RemoteModel` goes wherever a model file goes::

    from nudge_local import Nudger
    from nudge_local.remote import RemoteModel

    base = RemoteModel("http://gpu-box:8000/v1", model="meta-llama/Llama-2-70b-hf")
    with Nudger.from_paths(base=base, nudging="smollm2-1.7b-instruct.gguf") as n:
        print(n.generate("What is 15 plus 27?").text)

A pair with a remote model runs the rule in the authors' order of work (one completion per
checked word, 16-token base chunks; see docs/remote.md). A server that fails part-way raises
:class:`~nudge_local.RemoteError` with the answer so far in ``exc.partial``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from ._errors import RemoteError, SettingError
from ._remote_http import HttpClient, RetryPolicy, check_url, shown_url
from ._remote_model import RemoteTextModel
from ._remote_probe import ServerInfo, probe_server
from ._text_model import TextModel

__all__ = ["ProbeResult", "RemoteModel", "RetryPolicy", "probe"]

Role = Literal["base", "nudging"]


class RemoteModel:
    """A model served over HTTP.

    ``url``: the server's base URL (``http://host:8000/v1``; with or without ``/v1``).
    ``model``: the served model's name (default: the server's only model).
    ``api_key``: sent as a Bearer token, only over HTTPS or to this machine; never shown.
    ``chat_template``: a Jinja chat template for a nudging model whose server does not publish
    one (llama-server does, in ``/props``); else ``template_repo`` (and ``template_revision``): a
    Hugging Face repo whose ``tokenizer_config.json`` holds it. ``role``: ``"base"`` or ``"nudging"`` when known -
    a nudging model may sit on a server without logprobs, and messages name the right flags.
    ``timeout``, ``connect_timeout``, ``retries``, ``max_wait``: see :class:`RetryPolicy`.
    """

    def __init__(self, url: str, model: str | None = None, api_key: str | None = None, *,
                 chat_template: str | None = None, role: Role | None = None, timeout: float = 120.0,
                 connect_timeout: float = 10.0, retries: int = 3, max_wait: float = 30.0,
                 template_repo: str | None = None, template_revision: str | None = None):
        self.url = check_url(url, role + " model" if role else "model server")
        if model is not None and (not isinstance(model, str) or not model.strip()):
            raise SettingError(f"A remote model name must be non-empty text, got {model!r}.")
        if api_key is not None and not isinstance(api_key, str):
            raise SettingError("An API key must be text.")
        if role not in (None, "base", "nudging"):
            raise SettingError(f'role must be "base" or "nudging", got {role!r}.')
        self.model = model
        self._api_key = api_key or None
        self.chat_template = chat_template
        self.template_repo = template_repo
        self.template_revision = template_revision
        self.role: Role | None = role
        self.policy = RetryPolicy(timeout=timeout, connect_timeout=connect_timeout, retries=retries,
                                  max_wait=max_wait).check()
        self.info: ServerInfo | None = None
        # Refuse a key over plain HTTP now, not when the models load.
        HttpClient(_root(self.url), api_key=self._api_key, policy=self.policy).close()

    @property
    def name(self) -> str:
        """The served model's name (known after :meth:`open`), else the URL."""
        if self.info is not None:
            return self.info.model
        return self.model or shown_url(self.url)

    def open(self) -> TextModel:
        """Probe the server (see ``nudge_local.remote.probe``) and return the model."""
        http = HttpClient(_root(self.url), api_key=self._api_key, policy=self.policy)
        try:
            info, flavour = probe_server(http, self.model, self.role)
        except BaseException:
            http.close()
            raise
        self.info = info
        template = self.chat_template
        if template is None and info.chat_template is None and self.template_repo:
            from ._remote_catalog import hub_chat_template

            try:
                template = hub_chat_template(self.template_repo, self.template_revision)
            except BaseException:
                http.close()
                raise
        return RemoteTextModel(http, info, flavour, chat_template=template)

    def __repr__(self) -> str:  # never the key
        key = ", api_key=<set>" if self._api_key else ""
        return f"RemoteModel({shown_url(self.url)!r}, model={self.model!r}{key})"


@dataclass(frozen=True)
class ProbeResult:
    """What ``probe`` found: ``ok`` and a one-line ``summary``, or ``error`` (one sentence)."""

    url: str
    ok: bool
    summary: str
    error: str | None = None
    model: str | None = None
    server: str | None = None
    n_ctx: int | None = None
    latency_seconds: float | None = None


def probe(url: str, model: str | None = None, api_key: str | None = None, *, role: Role | None = None,
          timeout: float = 10.0) -> ProbeResult:
    """Run the start-up probe on a server without loading anything (``nudge-local doctor``):
    ``GET /v1/models``, which kind of server, one 1-token completion with logprobs."""
    try:
        spec = RemoteModel(url, model, api_key, role=role, timeout=timeout, connect_timeout=min(timeout, 5.0),
                           retries=0)
        text_model = spec.open()
    except (RemoteError, SettingError) as exc:
        shown = shown_url(_root(url)) if isinstance(url, str) else repr(url)
        return ProbeResult(url=shown, ok=False, summary=f"not usable: {exc}", error=str(exc))
    try:
        info = spec.info
        assert info is not None
        parts = [f"model {info.model!r}", f"server {info.flavour}"]
        if info.n_ctx:
            parts.append(f"context {info.n_ctx}")
        parts.append("logprobs ok" if info.logprobs else "no logprobs (usable as a nudging model only)")
        if info.chat_template:
            parts.append("chat template published")
        parts.append(f"1-token completion {info.latency * 1000:.0f} ms")
        return ProbeResult(url=info.url, ok=True, summary=", ".join(parts), model=info.model, server=info.flavour,
                           n_ctx=info.n_ctx, latency_seconds=info.latency)
    finally:
        text_model.close()


def _root(url: str) -> str:
    """The server root for a base URL given with or without ``/v1``."""
    stripped = url.rstrip("/")
    return stripped[: -len("/v1")] if stripped.endswith("/v1") else stripped
