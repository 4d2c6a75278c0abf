"""Every error a client can meet, in the OpenAI shape, from a real uvicorn."""

from __future__ import annotations

import json
import logging
import threading
import time

import httpx
import openai
import pytest
from server_live import LiveServer
from server_pairs import answer_text, scripted_pair

from nudge_local.server import create_app

USER = [{"role": "user", "content": "3 1 4?"}]


def assert_error(response: httpx.Response, status: int, *, param: str | None = None, code: str | None = None) -> dict:
    assert response.status_code == status, response.text
    body = response.json()
    assert set(body) == {"error"}
    error = body["error"]
    assert set(error) == {"message", "type", "param", "code"}
    assert isinstance(error["message"], str) and error["message"].endswith(".")
    assert "\n" not in error["message"] and "Traceback" not in error["message"]
    assert error["type"] == ("invalid_request_error" if status < 500 else "server_error")
    if param is not None:
        assert error["param"] == param
    if code is not None:
        assert error["code"] == code
    return error


def chat(live: LiveServer, body: dict, **kw) -> httpx.Response:
    return httpx.post(live.url + "/v1/chat/completions", json=body, timeout=30, **kw)


@pytest.mark.parametrize("body, param, fragment", [
    ({"model": "fake"}, "messages", "required"),
    ({"model": "fake", "messages": []}, "messages", "empty"),
    ({"model": "fake", "messages": [{"role": "wizard", "content": "hi"}]}, "messages[0].role", "wizard"),
    ({"model": "fake", "messages": [{"role": "tool", "content": "hi"}]}, "messages[0].role", "roles"),
    ({"model": "fake", "messages": [{"role": "user"}]}, "messages[0].content", "text content"),
    ({"model": "fake", "messages": ["hi"]}, "messages[0]", "dictionary"),
    ({"model": "fake", "messages": [{"role": "assistant", "content": "hi"}]}, "messages", "user"),
    ({"model": "fake", "messages": [{"role": "user", "content": "  "}]}, "messages", "empty"),
    ({"model": "fake", "messages": USER, "gamma": 1.5}, "gamma", "[0, 1]"),
    ({"model": "fake", "messages": USER, "gamma": -0.1}, "gamma", "[0, 1]"),
    ({"model": "fake", "messages": USER, "max_tokens": 0}, "max_tokens", "positive"),
    ({"model": "fake", "messages": USER, "max_tokens": -5}, "max_tokens", "positive"),
    ({"model": "fake", "messages": USER, "max_completion_tokens": 0}, "max_completion_tokens", "positive"),
    ({"model": "fake", "messages": USER, "n": 2}, "n", "n=1"),
    ({"model": "fake", "messages": USER, "temperature": "hot"}, "temperature", "number"),
    ({"model": "fake", "messages": USER, "temperature": 3}, "temperature", "[0, 2]"),
    ({"model": "fake", "messages": USER, "top_p": 0}, "top_p", "(0, 1]"),
    ({"model": "fake", "messages": USER, "seed": -1}, "seed", "seed"),
    ({"model": "fake", "messages": USER, "only": "both"}, "only", "only"),
    ({"model": "fake:base", "messages": USER, "only": "nudging"}, "only", "base model alone"),
    ({"model": "fake", "messages": USER, "stop": [1, 2]}, "stop", "strings"),
    ({"model": "fake", "messages": USER, "stop": ["x"] * 17}, "stop", "16"),
    ({"model": "fake", "messages": USER, "logprobs": True}, "logprobs", "not supported"),
    ({"model": "fake", "messages": USER, "tools": [{"type": "function"}]}, "tools", "not supported"),
    ({"model": "fake", "messages": USER, "stream": "yes"}, "stream", "boolean"),
])
def test_bad_chat_requests_are_400(live, body, param, fragment):
    error = assert_error(chat(live, body), 400, param=param)
    assert fragment in error["message"]


@pytest.mark.parametrize("body, param", [
    ({"model": "fake"}, "prompt"),
    ({"model": "fake", "prompt": ""}, "prompt"),
    ({"model": "fake", "prompt": ["a", "b"]}, "prompt"),
    ({"model": "fake", "prompt": "1?", "echo": True}, "echo"),
    ({"model": "fake", "prompt": "1?", "logprobs": 2}, "logprobs"),
    ({"model": "fake", "prompt": "1?", "best_of": 3}, "best_of"),
    ({"model": "fake", "prompt": "1?", "max_tokens": 0}, "max_tokens"),
])
def test_bad_completion_requests_are_400(live, body, param):
    assert_error(httpx.post(live.url + "/v1/completions", json=body), 400, param=param)


def test_bad_json_and_bodies_that_are_not_json_objects(live):
    url = live.url + "/v1/chat/completions"
    error = assert_error(httpx.post(url, content=b'{"messages": [', headers={"content-type": "application/json"}),
                         400, code="invalid_json")
    assert "not valid JSON" in error["message"]
    assert_error(httpx.post(url, content=b"[1, 2]", headers={"content-type": "application/json"}), 400,
                 code="invalid_body")
    # curl -d without -H 'Content-Type: application/json' (refused: browsers send such forms cross-site)
    error = assert_error(httpx.post(url, content=json.dumps({"messages": USER}).encode()), 400, code="invalid_body")
    assert "Content-Type: application/json" in error["message"]


def test_unknown_model_is_404(live, client):
    error = assert_error(chat(live, {"model": "gpt-4", "messages": USER}), 404, param="model", code="model_not_found")
    assert "'gpt-4'" in error["message"] and "'fake'" in error["message"]
    assert_error(httpx.post(live.url + "/v1/completions", json={"model": "Fake", "prompt": "1?"}), 404,
                 code="model_not_found")
    assert_error(httpx.get(live.url + "/v1/models/nope"), 404, code="model_not_found")
    with pytest.raises(openai.NotFoundError) as raised:
        client.chat.completions.create(model="fake:both", messages=USER)
    assert raised.value.body["code"] == "model_not_found"


def test_unknown_route_and_method(live):
    assert_error(httpx.get(live.url + "/v1/embeddings"), 404, code="not_found")
    assert_error(httpx.get(live.url + "/v1/chat/completions"), 405)


def test_context_limits_are_400():
    pair = scripted_pair(n_ctx=256)
    with LiveServer(create_app(pair.nudger)) as live:
        live.wait_ready()
        error = assert_error(chat(live, {"messages": USER, "max_tokens": 1000}), 400, param="max_tokens",
                             code="context_length_exceeded")
        assert "max_tokens is 1000" in error["message"] and "256" in error["message"]
        long_question = [{"role": "user", "content": " ".join(["7"] * 200) + "?"}]
        error = assert_error(chat(live, {"messages": long_question}), 400, code="context_length_exceeded")
        assert "256" in error["message"]
        # Without max_tokens the answer may use what is left of the context.
        r = chat(live, {"messages": USER})
        assert r.status_code == 200 and r.json()["choices"][0]["message"]["content"] == answer_text("3 1 4")


def test_api_key_guards_v1_but_not_health(pair):
    with LiveServer(create_app(pair.nudger, api_key="s3cret")) as live:
        live.wait_ready()
        assert httpx.get(live.url + "/health").status_code == 200
        error = assert_error(chat(live, {"messages": USER}), 401, code="invalid_api_key")
        assert "Authorization: Bearer" in error["message"]
        assert_error(chat(live, {"messages": USER}, headers={"Authorization": "Bearer wrong"}), 401,
                     code="invalid_api_key")
        assert_error(httpx.get(live.url + "/v1/models", headers={"Authorization": "Basic s3cret"}), 401)
        # The key is checked before the body: a stranger learns nothing about what is valid.
        assert_error(chat(live, {"nonsense": 1}), 401)
        with live.client(api_key="wrong") as bad, pytest.raises(openai.AuthenticationError):
            bad.models.list()
        with live.client(api_key="s3cret") as good:
            assert good.chat.completions.create(model="fake", messages=USER).choices[0].message.content


def test_loading_is_503_until_the_models_are_ready(pair):
    release = threading.Event()

    def slow_load():
        release.wait(10)
        return pair.nudger

    with LiveServer(create_app(slow_load)) as live:
        health = httpx.get(live.url + "/health")
        assert_error(health, 503, code="model_loading")
        assert health.headers["retry-after"]
        assert_error(httpx.get(live.url + "/v1/models"), 503, code="model_loading")
        assert_error(chat(live, {"messages": USER}), 503, code="model_loading")
        release.set()
        live.wait_ready()
        assert chat(live, {"messages": USER}).status_code == 200


def test_a_load_failure_is_503_with_its_sentence():
    def broken_load():
        from nudge_local import ModelFileError

        raise ModelFileError("Model file not found: /nowhere/base.gguf.")

    with LiveServer(create_app(broken_load)) as live:
        app_queue = live.app.state.generations
        assert app_queue.wait_loaded(5)
        error = assert_error(httpx.get(live.url + "/health"), 503, code="model_load_failed")
        assert "/nowhere/base.gguf" in error["message"]


def test_queue_full_is_503_with_retry_after_and_waiting_requests_run_in_order():
    gate = threading.Event()
    pair = scripted_pair(gate=gate)
    results: dict[str, httpx.Response] = {}
    with LiveServer(create_app(pair.nudger, max_waiting=2)) as live:
        gate.set()
        live.wait_ready()
        gate.clear()
        questions = ["1?", "2?", "3?"]

        def ask(q):
            results[q] = chat(live, {"messages": [{"role": "user", "content": q}]})

        threads = []
        for q in questions:  # one at a time, so that their order in the queue is known
            threads.append(threading.Thread(target=ask, args=(q,)))
            threads[-1].start()
            _wait_for(lambda: _queue_size(live) == len(threads))
        refused = chat(live, {"messages": [{"role": "user", "content": "4?"}]})
        error = assert_error(refused, 503, code="queue_full")
        assert int(refused.headers["retry-after"]) >= 1
        assert "busy" in error["message"]
        gate.set()
        for t in threads:
            t.join(20)
    assert [results[q].json()["choices"][0]["message"]["content"] for q in questions] == ["one.", "two.", "three."]
    first_seen = []
    for _, _, question, _ in pair.script.calls:
        if question not in first_seen:
            first_seen.append(question)
    assert first_seen == ["1", "2", "3"]


def test_an_engine_failure_is_500_and_the_server_stays_up(live, pair):
    pair.script.fail_after_words = 2
    error = assert_error(chat(live, {"messages": USER}), 500, code="generation_failed")
    assert "RuntimeError" in error["message"] and "scripted" not in error["message"]
    pair.script.fail_after_words = None
    assert chat(live, {"messages": USER}).json()["choices"][0]["message"]["content"] == answer_text("3 1 4")
    assert httpx.get(live.url + "/health").status_code == 200


def test_an_error_after_streaming_began_is_an_sse_error_event(live, pair, client):
    pair.script.fail_after_words = 2
    with httpx.stream("POST", live.url + "/v1/chat/completions",
                      json={"messages": USER, "stream": True}) as r:
        assert r.status_code == 200
        lines = [line for line in r.iter_lines() if line]
    assert all(line.startswith("data: ") for line in lines)
    assert "data: [DONE]" not in lines  # the stream ends with the error
    events = [json.loads(line[6:]) for line in lines]
    assert "".join(e["choices"][0]["delta"].get("content", "") for e in events[:-1]) == "three one"
    error = events[-1]["error"]
    assert set(error) == {"message", "type", "param", "code"} and error["code"] == "generation_failed"
    with pytest.raises(openai.APIError) as raised:
        for _ in client.chat.completions.create(model="fake", messages=USER, stream=True):
            pass
    assert raised.value.body["code"] == "generation_failed"
    pair.script.fail_after_words = None
    assert chat(live, {"messages": USER}).status_code == 200


def test_a_server_bug_is_a_500_sentence(live, monkeypatch):
    from nudge_local.server import _shapes

    def broken(self, result, prompt_tokens):
        raise KeyError("a bug")

    monkeypatch.setattr(_shapes.Responder, "answer", broken)
    error = assert_error(chat(live, {"messages": USER}), 500, code="internal_error")
    assert "still running" in error["message"]
    monkeypatch.undo()
    assert chat(live, {"messages": USER}).status_code == 200


def test_one_log_line_per_request_and_never_the_key(pair, caplog):
    caplog.set_level(logging.INFO)
    with LiveServer(create_app(pair.nudger, api_key="s3cret-key")) as live:
        live.wait_ready()
        key = {"Authorization": "Bearer s3cret-key"}
        caplog.clear()
        chat(live, {"messages": USER}, headers=key)
        chat(live, {"messages": USER})
        httpx.get(live.url + "/v1/models", headers=key)
        time.sleep(0.1)
        request_lines = [r.getMessage() for r in caplog.records if r.name == "nudge_local.server"]
    assert len(request_lines) == 3, request_lines
    assert request_lines[0].startswith("POST /v1/chat/completions 200 4 tokens ") and request_lines[0].endswith(" s")
    assert request_lines[1].startswith("POST /v1/chat/completions 401 - ")
    assert request_lines[2].startswith("GET /v1/models 200 - ")
    assert all("s3cret" not in r.getMessage() for r in caplog.records)


def _queue_size(live: LiveServer) -> int:
    queue = live.app.state.generations
    return queue.waiting + queue.busy


def _wait_for(condition, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.01)
