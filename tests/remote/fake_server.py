"""A scripted completions server for the remote tests (real HTTP on 127.0.0.1, an ephemeral port).

It serves one scripted model (a ``nudge_local.testing.FakeBackend``) in the response shapes of
the servers nudge-local speaks to, as their documentation describes them:

* ``"openai"``: OpenAI legacy completions (``logprobs.tokens/top_logprobs/text_offset``),
  ``usage``; nothing else (no tokenize endpoint);
* ``"vllm"``: the same, with ``max_model_len``/``owned_by: vllm`` in ``/v1/models``,
  ``POST /tokenize`` (``count``/``tokens``), a partial character as U+FFFD in its token
  string, the end-of-sequence token kept in the token list, ``prompt_tokens_details``;
* ``"llama-cpp-python"``: token strings of partial characters empty, ``text_offset`` in
  characters, ``POST /extras/tokenize/count`` (counts a BOS);
* ``"llama-server"``: ``GET /props``, native ``POST /completion`` with
  ``completion_probabilities`` (``token``, ``bytes``, ``logprob``, ``top_logprobs``),
  ``stop_type``, ``timings``, and ``POST /tokenize``;
* ``"ollama"``: OpenAI completions without logprobs (``logprobs: null``);
* ``"old-llama-server"``: ``/props`` and native completions with post-sampling ``probs``.

Faults for the next requests go in ``faults`` (consumed in order, one per request; ``None`` lets a
request through; with ``fault_path`` set, only requests to that path consume them):
``"drop"`` (close the connection without an answer), ``("status", code, headers, body)``,
``("sleep", seconds)`` (then answer normally), ``"garbage"`` (HTTP 200 that is not JSON).
"""

from __future__ import annotations

import codecs
import json
import threading
import time
from collections.abc import Sequence
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import numpy as np

from nudge_local.testing import FakeBackend

CHAR_SLACK = 3


class Generated:
    """One completion as the scripted model wrote it, token by token."""

    def __init__(self, ids: list[int], pieces: list[bytes], logprobs: list[float], top_ids: list[int],
                 eos: bool, eos_logprob: float, prompt_tokens: int):
        self.ids, self.pieces, self.logprobs, self.top_ids = ids, pieces, logprobs, top_ids
        self.eos, self.eos_logprob, self.prompt_tokens = eos, eos_logprob, prompt_tokens

    @property
    def text(self) -> str:
        return b"".join(self.pieces).decode("utf-8", "replace")


def generate(model: FakeBackend, prompt: str, max_tokens: int, special: bool) -> Generated:
    """Greedy decoding with the top-1 log-probability at temperature 1 (what servers report)."""
    bos = model.bos_id
    tokens = model.tokenize(prompt, special=special, add_bos=bos is not None)
    logits = model.begin(tokens)
    ids, pieces, lps, tops = [], [], [], []
    eos, eos_lp = False, 0.0
    pending = b""
    while True:
        lp = logits - np.logaddexp.reduce(logits.astype(np.float64))
        best = int(np.argmax(lp))
        if model.is_eog(best):
            eos, eos_lp = True, float(lp[best])
            break
        piece = model.token_bytes(best)
        ids.append(best)
        pieces.append(piece)
        lps.append(float(lp[best]))
        tops.append(best)
        pending = _pending(pending + piece)
        if len(ids) >= max_tokens and (not pending or len(ids) >= max_tokens + CHAR_SLACK):
            break
        logits = model.push(best)
    return Generated(ids, pieces, lps, tops, eos, eos_lp, len(tokens))


def _pending(data: bytes) -> bytes:
    """The bytes of an unfinished character at the end of ``data``."""
    decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
    decoder.decode(data)
    return decoder.getstate()[0]


class FakeCompletionServer:
    """``with FakeCompletionServer(model, shape=...) as server: server.url`` (ends in ``/v1``)."""

    def __init__(self, model: FakeBackend, *, shape: str = "openai", name: str = "fake-model",
                 special: bool = False, api_key: str | None = None, n_ctx: int = 4096,
                 chat_template: str | None = None, extra_models: Sequence[str] = ()):
        self.model = model
        self.shape = shape
        self.name = name
        self.special = special
        self.api_key = api_key
        self.n_ctx = n_ctx
        self.chat_template = chat_template
        self.extra_models = list(extra_models)
        self.faults: list[Any] = []
        #: when set, only requests to this path consume faults (None entries let one through)
        self.fault_path: str | None = None
        self.requests: list[tuple[str, str, dict[str, Any] | None, dict[str, str]]] = []
        self._lock = threading.Lock()  # the scripted model is not re-entrant
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def port(self) -> int:
        return self._server.server_address[1]

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    def paths(self, method: str | None = None) -> list[str]:
        return [p for m, p, _, _ in self.requests if method is None or m == method]

    def __enter__(self) -> FakeCompletionServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    # -- request handling ---------------------------------------------------------------------
    def _handler(self) -> type[BaseHTTPRequestHandler]:
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            # One write per answer, sent at once (no Nagle/delayed-ACK stall per request).
            wbufsize = 1 << 16
            disable_nagle_algorithm = True

            def log_message(self, *args: object) -> None:
                pass

            def do_GET(self) -> None:
                self._serve("GET")

            def do_POST(self) -> None:
                self._serve("POST")

            def _serve(self, method: str) -> None:
                length = int(self.headers.get("content-length") or 0)
                raw = self.rfile.read(length) if length else b""
                body = json.loads(raw) if raw else None
                server.requests.append((method, self.path, body, dict(self.headers)))
                wanted = server.fault_path is None or self.path == server.fault_path
                fault = server.faults.pop(0) if server.faults and wanted else None
                if fault == "drop":
                    self.close_connection = True
                    self.connection.shutdown(2)
                    return
                if isinstance(fault, tuple) and fault[0] == "sleep":
                    time.sleep(fault[1])
                if isinstance(fault, tuple) and fault[0] == "status":
                    _, code, headers, payload = fault
                    return self._send(code, payload, headers)
                if fault == "garbage":
                    return self._send(200, "<html>not json</html>", {"Content-Type": "text/html"})
                if server.api_key and self.headers.get("authorization") != f"Bearer {server.api_key}":
                    return self._send(401, {"error": {"message": "Invalid API key", "type": "auth"}})
                code, payload = server.route(method, self.path, body)
                self._send(code, payload)

            def _send(self, code: int, payload: Any, headers: dict[str, str] | None = None) -> None:
                data = payload.encode() if isinstance(payload, str) else json.dumps(payload).encode()
                self.send_response(code)
                self.send_header("Content-Type", (headers or {}).get("Content-Type", "application/json"))
                for k, v in (headers or {}).items():
                    if k != "Content-Type":
                        self.send_header(k, v)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        return Handler

    def route(self, method: str, path: str, body: dict[str, Any] | None) -> tuple[int, Any]:
        shape = self.shape
        native = shape in ("llama-server", "old-llama-server")
        if method == "GET" and path == "/v1/models":
            return 200, {"object": "list", "data": [self._model_entry(n) for n in [self.name, *self.extra_models]]}
        if method == "GET" and path == "/props" and native:
            props: dict[str, Any] = {"default_generation_settings": {"n_ctx": self.n_ctx, "params": {}},
                                     "total_slots": 1, "model_path": "/models/fake.gguf", "build_info": "b9999-fake"}
            if self.chat_template:
                props["chat_template"] = self.chat_template
            return 200, props
        if method == "POST" and path == "/v1/completions" and body is not None:
            return self._openai(body)
        if method == "POST" and path == "/completion" and native and body is not None:
            return self._native(body)
        if method == "POST" and path == "/tokenize" and body is not None:
            if shape == "vllm":
                ids = self.model.tokenize(body["prompt"], special=True)
                return 200, {"count": len(ids), "max_model_len": self.n_ctx, "tokens": ids}
            if native:
                return 200, {"tokens": self.model.tokenize(body["content"], special=body.get("parse_special", True))}
        if method == "POST" and path == "/extras/tokenize/count" and shape == "llama-cpp-python" and body:
            bos = self.model.bos_id
            return 200, {"count": len(self.model.tokenize(body["input"], special=True, add_bos=bos is not None)) + 1}
        return 404, {"detail": "Not Found"}

    def _model_entry(self, name: str) -> dict[str, Any]:
        entry: dict[str, Any] = {"id": name, "object": "model", "created": 0, "owned_by": "me"}
        if self.shape == "vllm":
            entry.update(owned_by="vllm", max_model_len=self.n_ctx)
        return entry

    def _complete(self, prompt: str, max_tokens: int) -> Generated | None:
        with self._lock:
            tokens = self.model.tokenize(prompt, special=self.special)
            if len(tokens) + max_tokens > self.n_ctx:
                return None
            return generate(self.model, prompt, max_tokens, self.special)

    def _context_error(self) -> tuple[int, Any]:
        if self.shape == "vllm":
            return 400, {"object": "error", "message": f"This model's maximum context length is {self.n_ctx} tokens.",
                         "type": "BadRequestError", "code": 400}
        if self.shape in ("llama-server", "old-llama-server"):
            return 400, {"error": {"code": 400, "message": "the request exceeds the available context size, "
                                   "try increasing it", "type": "exceed_context_size_error"}}
        return 400, {"error": {"message": f"Requested tokens exceed context window of {self.n_ctx}"}}

    def _openai(self, body: dict[str, Any]) -> tuple[int, Any]:
        g = self._complete(body["prompt"], int(body.get("max_tokens", 16)))
        if g is None:
            return self._context_error()
        text = g.text
        choice: dict[str, Any] = {"index": 0, "text": text, "finish_reason": "stop" if g.eos else "length",
                                  "logprobs": None}
        if body.get("logprobs") is not None and self.shape != "ollama":
            choice["logprobs"] = self._legacy_logprobs(g)
        usage: dict[str, Any] = {"prompt_tokens": g.prompt_tokens, "completion_tokens": len(g.ids) + g.eos,
                                 "total_tokens": g.prompt_tokens + len(g.ids)}
        if self.shape == "vllm":
            usage["prompt_tokens_details"] = {"cached_tokens": 0}
        return 200, {"id": "cmpl-1", "object": "text_completion", "created": 0, "model": self.name,
                     "choices": [choice], "usage": usage}

    def _legacy_logprobs(self, g: Generated) -> dict[str, Any]:
        if self.shape == "llama-cpp-python":
            strings = [p.decode("utf-8", "ignore") for p in g.pieces]
        else:
            strings = [p.decode("utf-8", "replace") for p in g.pieces]
        lps = list(g.logprobs)
        if self.shape == "vllm" and g.eos:
            strings.append("")  # vLLM keeps the stop token, decoded without special tokens
            lps.append(g.eos_logprob)
        offsets, at = [], 0
        for s in strings:
            offsets.append(at)
            at += len(s)
        if self.shape == "llama-cpp-python":  # offsets in characters of the decoded prefix
            offsets = [len(b"".join(g.pieces[:i]).decode("utf-8", "ignore")) for i in range(len(strings))]
        return {"tokens": strings, "token_logprobs": lps, "text_offset": offsets,
                "top_logprobs": [{s: lp} for s, lp in zip(strings, lps, strict=True)]}

    def _native(self, body: dict[str, Any]) -> tuple[int, Any]:
        g = self._complete(body["prompt"], int(body.get("n_predict", 16)))
        if g is None:
            return self._context_error()
        if self.shape == "old-llama-server":
            probs = [{"content": p.decode("utf-8", "ignore"), "probs": [{"tok_str": p.decode("utf-8", "ignore"),
                                                                          "prob": 1.0}]} for p in g.pieces]
            return 200, {"content": g.text, "completion_probabilities": probs, "stop": True,
                         "stopped_eos": g.eos, "stopped_limit": not g.eos}
        items = []
        for tid, piece, lp in zip(g.ids, g.pieces, g.logprobs, strict=True):
            entry = {"id": tid, "token": piece.decode("utf-8", "replace"), "bytes": list(piece), "logprob": lp}
            items.append({**entry, "top_logprobs": [dict(entry)]})
        return 200, {"content": g.text, "tokens": [], "id_slot": 0, "stop": True, "model": self.name,
                     "tokens_predicted": len(g.ids), "tokens_evaluated": g.prompt_tokens, "tokens_cached": 0,
                     "stop_type": "eos" if g.eos else "limit", "stopping_word": "", "truncated": False,
                     "timings": {"prompt_n": g.prompt_tokens, "predicted_n": len(g.ids)},
                     "completion_probabilities": items}
