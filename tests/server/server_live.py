"""A real uvicorn server on 127.0.0.1 (an ephemeral port) in a background thread."""

from __future__ import annotations

import socket
import threading
import time

import httpx
import openai
import uvicorn


class LiveServer:
    """uvicorn serving ``app`` until the block ends (``should_exit``, as Ctrl-C would)."""

    def __init__(self, app):
        self.app = app
        self._sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._sock.bind(("127.0.0.1", 0))
        self.port = self._sock.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"
        config = uvicorn.Config(app, host="127.0.0.1", port=self.port, log_config=None, log_level="warning",
                                access_log=False, lifespan="on", ws="none", timeout_graceful_shutdown=5)
        self.server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self.server.run, kwargs={"sockets": [self._sock]}, daemon=True)

    def __enter__(self) -> LiveServer:
        self._thread.start()
        deadline = time.monotonic() + 10
        while not self.server.started:
            assert time.monotonic() < deadline and self._thread.is_alive(), "uvicorn did not start"
            time.sleep(0.01)
        return self

    def __exit__(self, *exc) -> None:
        self.server.should_exit = True
        self._thread.join(15)
        self._sock.close()
        assert not self._thread.is_alive(), "uvicorn did not stop"

    def wait_ready(self, timeout: float = 10.0) -> None:
        deadline = time.monotonic() + timeout
        while httpx.get(self.url + "/health").status_code != 200:
            assert time.monotonic() < deadline, "the server never became ready"
            time.sleep(0.02)

    def client(self, **kw) -> openai.OpenAI:
        kw.setdefault("api_key", "unused")
        kw.setdefault("timeout", 30)
        return openai.OpenAI(base_url=self.url + "/v1", max_retries=0, **kw)
