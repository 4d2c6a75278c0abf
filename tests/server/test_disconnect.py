"""A client that goes away stops its generation within a word, and the next request starts at
once (llama.cpp #11720, Continue #764: generation that kept running after the client left)."""

from __future__ import annotations

import json
import re
import socket
import threading
import time

from server_live import LiveServer
from server_pairs import answer_text, scripted_pair, varied_digits

from nudge_local.server import create_app

LONG = varied_digits(300)  # 300 words: at 20 ms a model call, well over 10 s to write
SHORT = "1 2"
# Each model call takes DELAY; a word costs the engine two or three calls.
DELAY = 0.02


def open_request(port: int, body: dict) -> socket.socket:
    """A raw HTTP request on a socket of our own, so that closing it really drops the TCP connection."""
    data = json.dumps(body).encode()
    sock = socket.create_connection(("127.0.0.1", port), timeout=10)
    sock.sendall(b"POST /v1/chat/completions HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
                 b"Content-Length: %d\r\n\r\n" % len(data) + data)
    return sock


def read_until(sock: socket.socket, marker: bytes) -> bytes:
    received = b""
    deadline = time.monotonic() + 10
    while marker not in received:
        assert time.monotonic() < deadline, received[-300:]
        chunk = sock.recv(65536)
        assert chunk, received[-300:]
        received += chunk
    return received


def sse_text(raw: bytes) -> str:
    """The answer a raw chat stream spelled (each event is one line of JSON after "data: ")."""
    events = [json.loads(m) for m in re.findall(rb"data: (\{[^\n]*\})\n", raw)]
    return "".join(e["choices"][0]["delta"].get("content", "") for e in events if e.get("choices"))


class SecondClient(threading.Thread):
    """Streams the answer to SHORT with the openai client; notes when its first word came."""

    def __init__(self, live: LiveServer):
        super().__init__(daemon=True)
        self.live = live
        self.first_word_at: float | None = None
        self.text = ""

    def run(self) -> None:
        with self.live.client() as client:
            for chunk in client.chat.completions.create(model="fake", stream=True,
                                                        messages=[{"role": "user", "content": SHORT + "?"}]):
                if chunk.choices and chunk.choices[0].delta.content:
                    self.first_word_at = self.first_word_at or time.monotonic()
                    self.text += chunk.choices[0].delta.content


def wait_for(condition, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.005)


def assert_stopped_within_a_word(pair, words_at_drop: int) -> None:
    assert pair.script.furthest(LONG) <= words_at_drop + 1, (words_at_drop, pair.script.furthest(LONG))
    assert pair.script.furthest(LONG) < 30  # of 300
    work = pair.work()
    time.sleep(0.3)
    assert pair.work() == work, "the models are still computing"


def test_dropping_a_stream_stops_the_generation_and_the_next_request_starts_at_once():
    pair = scripted_pair(delay=DELAY)
    with LiveServer(create_app(pair.nudger)) as live:
        live.wait_ready()
        queue = live.app.state.generations
        sock = open_request(live.port, {"messages": [{"role": "user", "content": LONG + "?"}], "stream": True})
        read_until(sock, b'"content":"' + answer_text(LONG).split()[0].encode())  # the first word
        second = SecondClient(live)
        second.start()
        wait_for(lambda: queue.waiting == 1)  # the second request waits behind the first
        words_at_drop = pair.script.furthest(LONG)
        dropped_at = time.monotonic()
        sock.close()
        second.join(15)
        assert second.text == answer_text(SHORT)
        assert second.first_word_at is not None
        # Its first word came as soon as the first generation stopped, not when it would have ended.
        assert second.first_word_at - dropped_at < 1.0
        last_long_call = pair.script.last_call_time(LONG)
        assert last_long_call is not None and last_long_call < second.first_word_at
        assert_stopped_within_a_word(pair, words_at_drop)
        assert queue.waiting == 0 and not queue.busy


def test_closing_an_openai_stream_stops_the_generation(live, pair):
    pair.script.delay = DELAY
    with live.client() as client:
        stream = client.chat.completions.create(model="fake", stream=True,
                                                messages=[{"role": "user", "content": LONG + "?"}])
        chunks = iter(stream)
        while not next(chunks).choices[0].delta.content:
            pass
        words_at_drop = pair.script.furthest(LONG)
        stream.close()
    wait_for(lambda: not live.app.state.generations.busy, timeout=2)
    assert_stopped_within_a_word(pair, words_at_drop)


def test_dropping_a_plain_request_stops_its_generation(live, pair):
    pair.script.delay = DELAY
    sock = open_request(live.port, {"messages": [{"role": "user", "content": LONG + "?"}]})
    wait_for(lambda: pair.script.furthest(LONG) >= 3)
    words_at_drop = pair.script.furthest(LONG)
    sock.close()
    wait_for(lambda: not live.app.state.generations.busy, timeout=2)
    assert_stopped_within_a_word(pair, words_at_drop)


def test_a_client_that_leaves_while_waiting_is_withdrawn_from_the_queue():
    gate = threading.Event()
    pair = scripted_pair(gate=gate)
    with LiveServer(create_app(pair.nudger)) as live:
        gate.set()
        live.wait_ready()
        gate.clear()
        queue = live.app.state.generations
        first = open_request(live.port, {"messages": [{"role": "user", "content": "5?"}], "stream": True})
        wait_for(lambda: queue.busy)
        waiting = open_request(live.port, {"messages": [{"role": "user", "content": "6?"}], "stream": True})
        wait_for(lambda: queue.waiting == 1)
        waiting.close()
        wait_for(lambda: queue.waiting == 0, timeout=2)
        gate.set()
        assert sse_text(read_until(first, b"[DONE]")) == "five."  # the first one is answered
        first.close()
    assert "6" not in {question for _, _, question, _ in pair.script.calls}
