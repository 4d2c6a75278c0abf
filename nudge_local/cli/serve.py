"""``nudge-local serve``: the pair behind an OpenAI-compatible HTTP API (docs/server.md)."""

from __future__ import annotations

import argparse
import ipaddress
import logging
import os
import socket
import sys
import threading
from typing import TYPE_CHECKING, Any

from nudge_local import NudgeError, Nudger, SettingError

from ._common import add_model_args, check_args, load_nudger

if TYPE_CHECKING:
    import uvicorn

    from nudge_local.server import GenerationQueue

API_KEY_ENV = "NUDGE_LOCAL_API_KEY"
INSTALL_HINT = "The server needs FastAPI and uvicorn: install them with pip install 'nudge-local[server]'."


def register(sub: Any) -> None:
    p = sub.add_parser("serve", help="serve the pair over an OpenAI-compatible HTTP API",
                       description="Serve the nudged pair at /v1/chat/completions, /v1/completions and "
                       "/v1/models (OpenAI's API), plus /health. See docs/server.md.")
    add_model_args(p)
    g = p.add_argument_group("server")
    g.add_argument("--host", default="127.0.0.1", help="address to listen on (127.0.0.1: this machine only)")
    g.add_argument("--port", type=int, default=8080, help="port (8080; 0 picks a free one and prints it)")
    g.add_argument("--api-key", metavar="KEY",
                   help=f"require 'Authorization: Bearer KEY' on /v1/* (default: ${API_KEY_ENV}, else none)")
    g.add_argument("--cors-origins", metavar="ORIGINS",
                   help="comma-separated origins a browser page may call from ('*': any)")
    g.add_argument("--queue", type=int, default=8, metavar="N",
                   help="requests that may wait behind the running one; more get 503 (8)")
    g.add_argument("--max-tokens", type=int, metavar="N", dest="default_max_tokens",
                   help="answer limit for requests that set none (default: the rest of the context)")
    g.add_argument("--log-level", default="info", choices=["debug", "info", "warning", "error"],
                   help="server log on stderr (info: one line per request)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    try:
        import uvicorn

        from nudge_local.server import create_app
    except ImportError:
        raise NudgeError(INSTALL_HINT) from None
    if not 0 <= args.port <= 65535:
        raise SettingError(f"--port must be between 0 and 65535, got {args.port}.")
    if args.queue < 0:
        raise SettingError(f"--queue must be 0 or more, got {args.queue}.")
    if args.default_max_tokens is not None and args.default_max_tokens <= 0:
        raise SettingError(f"--max-tokens must be a positive number of tokens, got {args.default_max_tokens}.")
    check_args(args)  # the model flags, before anything binds or loads
    api_key = args.api_key if args.api_key is not None else os.environ.get(API_KEY_ENV) or None
    warning = exposure_warning(args.host, api_key)
    if warning:
        print(f"nudge-local: warning: {warning}", file=sys.stderr)
    origins = [o.strip() for o in (args.cors_origins or "").split(",") if o.strip()]

    def load() -> Nudger:
        nudger: Nudger = load_nudger(args)
        return nudger

    app = create_app(load, api_key=api_key, cors_origins=origins, max_waiting=args.queue,
                     default_max_tokens=args.default_max_tokens)
    sock = bind(args.host, args.port)
    port = sock.getsockname()[1]
    _configure_log(args.log_level)
    config = uvicorn.Config(app, host=args.host, port=port, log_level=args.log_level, access_log=False,
                            lifespan="on", timeout_graceful_shutdown=3)
    server = uvicorn.Server(config)
    generations = app.state.generations
    threading.Thread(target=_stop_if_load_fails, args=(generations, server), daemon=True).start()
    print(f"nudge-local: serving at {_url(args.host, port)}/v1 (models loading; GET /health is 200 once they are "
          "ready; Ctrl-C stops)", flush=True)
    try:
        server.run(sockets=[sock])
    except KeyboardInterrupt:
        pass  # Ctrl-C is how a server stops: uvicorn re-raises it once it has shut down cleanly
    finally:
        sock.close()
    if generations.load_error is not None:
        raise generations.load_error
    return 0


def exposure_warning(host: str, api_key: str | None) -> str | None:
    """The sentence to print when the server is reachable from other machines without a key."""
    if api_key or _is_loopback(host):
        return None
    return (f"listening on {host} without an API key: anyone who can reach this machine can use the models "
            f"(set --api-key or ${API_KEY_ENV}, or keep the default --host 127.0.0.1).")


def bind(host: str, port: int) -> socket.socket:
    """The listening socket (bound here so that --port 0 is known before the server starts and
    a busy port is one sentence)."""
    try:
        family, kind, proto, _, address = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0]
    except socket.gaierror:
        raise SettingError(f"--host {host} is not an address or name this machine can listen on.") from None
    sock = socket.socket(family, kind, proto)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(address)
    except OSError as exc:
        sock.close()
        raise SettingError(f"Cannot listen on {host}:{port}: {exc.strerror or exc} (pick another --port; "
                           "0 picks a free one).") from None
    return sock


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _url(host: str, port: int) -> str:
    shown = f"[{host}]" if ":" in host else host
    return f"http://{shown}:{port}"


def _configure_log(level: str) -> None:
    logger = logging.getLogger("nudge_local.server")
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(asctime)s %(message)s", datefmt="%H:%M:%S"))
    logger.addHandler(handler)
    logger.setLevel(level.upper())
    logger.propagate = False


def _stop_if_load_fails(generations: GenerationQueue, server: uvicorn.Server) -> None:
    generations.wait_loaded()
    if generations.load_error is not None:
        server.should_exit = True
