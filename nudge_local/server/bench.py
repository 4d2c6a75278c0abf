"""Time to first token and tokens/s through the server against the same generations through
the Python API, measured in one run on one loaded pair::

    python -m nudge_local.server.bench [--pair demo] [--max-tokens 128] [--rounds 2]

The server runs in this process on 127.0.0.1 (an ephemeral port) over the same Nudger; each
prompt is answered greedily through both paths, alternating which goes first, so that the two
see the same machine. Tokens are the base model's (the answer's ``output_tokens``); a path's
tokens/s is its tokens over the wall time from the request to the end of the answer.
"""

from __future__ import annotations

import argparse
import http.client
import json
import socket
import sys
import threading
import time
from dataclasses import dataclass, field
from typing import Any

from nudge_local import ModelSettings, Nudger

PROMPTS = [
    "What is 15 plus 27?",
    "Give two tips for sleeping better.",
    "Why is the sky blue?",
    "Name three primary colors.",
]


@dataclass
class PathTotals:
    """What one path (the Python API or the server) produced over the run."""

    tokens: int = 0
    seconds: float = 0.0
    first_token_seconds: list[float] = field(default_factory=list)

    def add(self, tokens: int, seconds: float, ttft: float | None) -> None:
        self.tokens += tokens
        self.seconds += seconds
        if ttft is not None:
            self.first_token_seconds.append(ttft)

    @property
    def tokens_per_second(self) -> float:
        return self.tokens / self.seconds if self.seconds else 0.0

    @property
    def mean_ttft(self) -> float:
        return sum(self.first_token_seconds) / len(self.first_token_seconds) if self.first_token_seconds else 0.0


def through_api(nudger: Nudger, prompt: str, max_tokens: int) -> tuple[str, int, float, float | None]:
    t0 = time.perf_counter()
    ttft = None
    stream = nudger.stream(messages=[{"role": "user", "content": prompt}], max_tokens=max_tokens)
    for piece in stream:
        if ttft is None and piece.text.strip():
            ttft = time.perf_counter() - t0
    seconds = time.perf_counter() - t0
    assert stream.result is not None
    return stream.result.text, stream.result.stats.output_tokens, seconds, ttft


def through_server(port: int, prompt: str, max_tokens: int) -> tuple[str, int, float, float | None]:
    body = json.dumps({"messages": [{"role": "user", "content": prompt}], "max_tokens": max_tokens,
                       "stream": True, "stream_options": {"include_usage": True}})
    t0 = time.perf_counter()
    ttft = None
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=600)
    connection.request("POST", "/v1/chat/completions", body, {"Content-Type": "application/json"})
    response = connection.getresponse()
    if response.status != 200:
        raise RuntimeError(f"the server answered {response.status}: {response.read()[:200]!r}")
    text, tokens = "", 0
    for raw in response:
        line = raw.decode("utf-8").strip()
        if not line.startswith("data: "):
            continue
        if line == "data: [DONE]":
            break
        chunk: dict[str, Any] = json.loads(line[6:])
        if chunk.get("usage"):
            tokens = chunk["usage"]["completion_tokens"]
        for choice in chunk.get("choices", []):
            delta = choice["delta"].get("content") or ""
            if ttft is None and delta.strip():
                ttft = time.perf_counter() - t0
            text += delta
    seconds = time.perf_counter() - t0
    connection.close()
    return text, tokens, seconds, ttft


def run_bench(nudger: Nudger, *, max_tokens: int = 128, rounds: int = 2, prompts: list[str] | None = None,
              log: Any = sys.stderr) -> dict[str, Any]:
    """Measure both paths on ``nudger``; returns the figures (see :func:`main` for the table)."""
    import uvicorn

    from . import create_app

    prompts = prompts or PROMPTS
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    config = uvicorn.Config(create_app(nudger), host="127.0.0.1", port=port, log_level="warning",
                            access_log=False, lifespan="on", ws="none")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    try:
        _wait_started(server)
        through_api(nudger, prompts[0], 8)  # warm-up (both paths, both models), not measured
        through_server(port, prompts[0], 8)
        api, served = PathTotals(), PathTotals()
        same_text = 0
        runs = 0
        for r in range(rounds):
            for i, prompt in enumerate(prompts):
                order = [("api", api), ("server", served)]
                if (i + r) % 2:
                    order.reverse()
                texts = {}
                for name, totals in order:
                    if name == "api":
                        text, tokens, seconds, ttft = through_api(nudger, prompt, max_tokens)
                    else:
                        text, tokens, seconds, ttft = through_server(port, prompt, max_tokens)
                    totals.add(tokens, seconds, ttft)
                    texts[name] = text
                same_text += texts["api"] == texts["server"]
                runs += 1
                print(f"  round {r + 1}, prompt {i + 1}/{len(prompts)} done", file=log)
    finally:
        server.should_exit = True
        thread.join(30)
        sock.close()
    ratio = served.tokens_per_second / api.tokens_per_second if api.tokens_per_second else None
    return {
        "pair": nudger.info.label, "max_tokens": max_tokens, "answers": runs, "same_text": same_text,
        "api": {"tokens": api.tokens, "seconds": round(api.seconds, 3),
                "tokens_per_second": round(api.tokens_per_second, 2), "mean_ttft_ms": round(api.mean_ttft * 1e3, 1)},
        "server": {"tokens": served.tokens, "seconds": round(served.seconds, 3),
                   "tokens_per_second": round(served.tokens_per_second, 2),
                   "mean_ttft_ms": round(served.mean_ttft * 1e3, 1)},
        "server_over_api": None if ratio is None else round(ratio, 4),
    }


def _wait_started(server: Any) -> None:
    deadline = time.monotonic() + 30
    while not server.started:
        if time.monotonic() > deadline:
            raise RuntimeError("the server did not start")
        time.sleep(0.01)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m nudge_local.server.bench", description=__doc__.split("::")[0])
    parser.add_argument("--pair", default="demo", help="catalog pair (demo)")
    parser.add_argument("--n-ctx", type=int, default=2048, help="context of each model (2048)")
    parser.add_argument("--max-tokens", type=int, default=128, help="per answer (128)")
    parser.add_argument("--rounds", type=int, default=2, help=f"times through the {len(PROMPTS)} prompts (2)")
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    args = parser.parse_args(argv)
    settings = ModelSettings(n_ctx=args.n_ctx)
    with Nudger.from_catalog(args.pair, base_settings=settings, nudging_settings=settings) as nudger:
        figures = run_bench(nudger, max_tokens=args.max_tokens, rounds=max(1, args.rounds))
    if args.json:
        print(json.dumps(figures))
        return 0
    print(f"{figures['pair']}: {figures['answers']} greedy answers per path, up to {args.max_tokens} tokens each "
          f"({figures['same_text']} of {figures['answers']} identical through both paths)")
    print(f"{'path':<12} {'tokens':>7} {'seconds':>8} {'tokens/s':>9} {'first token':>12}")
    for name, key in (("Python API", "api"), ("server", "server")):
        f = figures[key]
        print(f"{name:<12} {f['tokens']:>7} {f['seconds']:>8.2f} {f['tokens_per_second']:>9.2f} "
              f"{f['mean_ttft_ms']:>9.1f} ms")
    if figures["server_over_api"] is not None:
        print(f"server / API tokens/s: {figures['server_over_api']:.3f}x; first token "
              f"{figures['server']['mean_ttft_ms'] - figures['api']['mean_ttft_ms']:+.1f} ms through the server")
    return 0


if __name__ == "__main__":
    sys.exit(main())
