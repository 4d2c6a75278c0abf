"""Bounded load: 40 chat requests from 8 concurrent clients on the scripted pair."""

from __future__ import annotations

import threading
import time

import httpx
import openai
from server_live import LiveServer
from server_pairs import answer_text, scripted_pair

from nudge_local.server import create_app

CLIENTS = 8
REQUESTS_PER_CLIENT = 5
QUEUE = 3  # fewer places than clients, so that some requests are refused


def rss_kib() -> int:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise AssertionError("no VmRSS in /proc/self/status")


def question(client: int, request: int) -> str:
    """A different question per request: answers that got mixed up would show."""
    return f"{client} {request} {client} {(client * 7 + request) % 10}"


def ask(client: openai.OpenAI, q: str, stream: bool) -> str:
    messages = [{"role": "user", "content": q + "?"}]
    if not stream:
        return client.chat.completions.create(model="fake", messages=messages).choices[0].message.content
    text = ""
    for chunk in client.chat.completions.create(model="fake", messages=messages, stream=True):
        if chunk.choices and chunk.choices[0].delta.content:
            assert chunk.choices[0].model_extra["nudge"]["source"] in ("base", "nudging")
            text += chunk.choices[0].delta.content
    return text


def test_forty_requests_from_eight_clients():
    pair = scripted_pair(delay=0.001)
    outcomes: list[tuple[str, str, str]] = []  # (question, "answered" | "refused", text)
    lock = threading.Lock()
    with LiveServer(create_app(pair.nudger, max_waiting=QUEUE)) as live:
        live.wait_ready()
        clients = [live.client() for _ in range(CLIENTS)]
        for c in clients:  # warm up every client and code path before measuring memory
            ask(c, "0 0", stream=True)
            ask(c, "0 0", stream=False)
        rss_before = rss_kib()

        def run(index: int) -> None:
            for j in range(REQUESTS_PER_CLIENT):
                q = question(index, j)
                try:
                    text = ask(clients[index], q, stream=j % 2 == 0)
                    outcome = (q, "answered", text)
                except openai.APIStatusError as exc:
                    assert exc.status_code == 503, exc
                    assert exc.body["code"] == "queue_full"
                    assert int(exc.response.headers["retry-after"]) >= 1
                    outcome = (q, "refused", "")
                with lock:
                    outcomes.append(outcome)

        t0 = time.monotonic()
        threads = [threading.Thread(target=run, args=(i,), daemon=True) for i in range(CLIENTS)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(60)
        elapsed = time.monotonic() - t0
        assert not any(t.is_alive() for t in threads)
        health = httpx.get(live.url + "/health")
        rss_after = rss_kib()
        for c in clients:
            c.close()
    assert len(outcomes) == CLIENTS * REQUESTS_PER_CLIENT
    answered = [(q, text) for q, kind, text in outcomes if kind == "answered"]
    refused = [q for q, kind, _ in outcomes if kind == "refused"]
    assert answered, "nothing was answered"
    for q, text in answered:
        assert text == answer_text(q), (q, text)  # each its own answer, whole, never mixed with another's
    assert health.status_code == 200 and health.json()["queue"] == {"running": False, "waiting": 0,
                                                                      "max_waiting": QUEUE}
    growth_mib = (rss_after - rss_before) / 1024
    print(f"\n{len(answered)} answered, {len(refused)} refused in {elapsed:.1f} s; RSS {rss_before / 1024:.1f} -> "
          f"{rss_after / 1024:.1f} MiB ({growth_mib:+.2f} MiB)")
    assert growth_mib < 4, f"memory grew by {growth_mib:.1f} MiB"
    assert elapsed < 30
