"""The OpenAI endpoints on a scripted pair, through a real uvicorn and the openai client."""

from __future__ import annotations

import json

import httpx
from server_live import LiveServer
from server_pairs import answer_text, scripted_pair

from nudge_local.server import create_app

QUESTION = "3 1 4?"
ANSWER = answer_text("3 1 4")  # "three one four."
USER = [{"role": "user", "content": QUESTION}]


def test_models_lists_the_pair_and_each_model_alone(client):
    ids = [m.id for m in client.models.list().data]
    assert ids == ["fake", "fake:base", "fake:nudging"]
    card = client.models.retrieve("fake:base")
    assert card.id == "fake:base" and card.owned_by == "nudge-local"
    assert card.model_extra["nudge"]["mode"] == "base"


def test_chat_completion(client, pair):
    # exact=False: this scripted answer ends within one 16-token draft, which exact mode (the
    # default) keeps whole; the lazy mode lets both models write it
    r = client.chat.completions.create(model="fake", messages=USER, extra_body={"exact": False})
    choice = r.choices[0]
    assert choice.message.role == "assistant"
    assert choice.message.content == ANSWER
    assert choice.finish_reason == "stop"
    assert r.object == "chat.completion" and r.model == "fake" and r.id.startswith("chatcmpl-")
    nudge = choice.model_extra["nudge"]
    assert nudge["stop_reason"] == "nudging_eos" and nudge["mode"] == "nudged"
    assert "".join(s["text"] for s in nudge["spans"]) == ANSWER
    assert nudge["spans"][0] == {"text": "three", "source": "nudging"}  # the first word is always nudged
    assert {s["source"] for s in nudge["spans"]} == {"base", "nudging"}
    assert nudge["stats"]["output_tokens"] == r.usage.completion_tokens == 4
    # The same generation through the Python API: the server reports what the engine did.
    direct = pair.nudger.generate(messages=USER, exact=False)
    assert direct.text == ANSWER and round(direct.nudge_ratio, 4) == nudge["nudge_ratio"]
    assert r.usage.prompt_tokens == pair.nudger.count_tokens(messages=USER)["base"]
    assert r.usage.total_tokens == r.usage.prompt_tokens + r.usage.completion_tokens


def test_missing_or_empty_model_means_the_pair(live):
    for body in ({"messages": USER}, {"model": "", "messages": USER}):
        r = httpx.post(live.url + "/v1/chat/completions", json=body)
        assert r.status_code == 200, r.text
        assert r.json()["choices"][0]["message"]["content"] == ANSWER
        assert r.json()["model"] == "fake"


def test_streaming_deltas_join_to_the_final_text_with_provenance(client):
    chunks = list(client.chat.completions.create(model="fake", messages=USER, stream=True))
    assert chunks[0].choices[0].delta.role == "assistant"
    content = [c for c in chunks if c.choices and c.choices[0].delta.content]
    assert "".join(c.choices[0].delta.content for c in content) == ANSWER
    assert [c.choices[0].model_extra["nudge"]["source"] for c in content] == ["nudging", "base", "base", "base"]
    assert len({c.id for c in chunks}) == 1
    last = chunks[-1].choices[0]
    assert last.finish_reason == "stop"
    assert all(c.choices[0].finish_reason is None for c in chunks[:-1])
    summary = last.model_extra["nudge"]
    assert "".join(s["text"] for s in summary["spans"]) == ANSWER
    assert summary["stop_reason"] == "nudging_eos" and 0 < summary["nudge_ratio"] < 1


def test_streaming_raw_sse_ends_with_done(live):
    with httpx.stream("POST", live.url + "/v1/chat/completions",
                      json={"model": "fake", "messages": USER, "stream": True}) as r:
        assert r.status_code == 200
        assert r.headers["content-type"].startswith("text/event-stream")
        lines = [line for line in r.iter_lines() if line]
    assert all(line.startswith("data: ") for line in lines)
    assert lines[-1] == "data: [DONE]"
    assert json.loads(lines[-2][6:])["choices"][0]["finish_reason"] == "stop"


def test_usage_chunk_when_asked(client):
    chunks = list(client.chat.completions.create(model="fake", messages=USER, stream=True,
                                                 stream_options={"include_usage": True}))
    assert chunks[-1].choices == [] and chunks[-1].usage.completion_tokens == 4
    assert chunks[-1].usage.prompt_tokens > 0
    without = list(client.chat.completions.create(model="fake", messages=USER, stream=True))
    assert all(c.usage is None for c in without)


def test_completions_plain_and_streamed(client):
    r = client.completions.create(model="fake", prompt=QUESTION)
    assert r.object == "text_completion" and r.choices[0].text == ANSWER
    assert r.choices[0].finish_reason == "stop"
    assert r.choices[0].model_extra["nudge"]["spans"][0]["source"] == "nudging"
    chunks = list(client.completions.create(model="fake", prompt=QUESTION, stream=True,
                                            stream_options={"include_usage": True}))
    assert "".join(c.choices[0].text for c in chunks if c.choices) == ANSWER
    sources = [c.choices[0].model_extra["nudge"].get("source") for c in chunks if c.choices and c.choices[0].text]
    assert sources == ["nudging", "base", "base", "base"]
    assert chunks[-1].usage.completion_tokens == 4


def test_gamma_from_extra_body_changes_the_nudge_ratio():
    # The base is 60% sure of each word: below a γ of 0.9 the nudging model writes every
    # other word; above a γ of 0.3 the base writes all but the first.
    pair = scripted_pair(base_confidence=0.6)
    question = [{"role": "user", "content": "1 2 3 4 5 6 7 8?"}]
    with LiveServer(create_app(pair.nudger)) as live, live.client() as client:
        live.wait_ready()
        ratios = {}
        for gamma in (0.3, 0.9):
            r = client.chat.completions.create(model="fake", messages=question,
                                               extra_body={"gamma": gamma, "exact": False})
            nudge = r.choices[0].model_extra["nudge"]
            assert nudge["gamma"] == gamma
            assert r.choices[0].message.content == answer_text("1 2 3 4 5 6 7 8")
            ratios[gamma] = nudge["nudge_ratio"]
            direct = pair.nudger.generate(messages=question, gamma=gamma, exact=False)
            assert ratios[gamma] == round(direct.nudge_ratio, 4)
        default = client.chat.completions.create(model="fake", messages=question).choices[0].model_extra["nudge"]
    assert ratios[0.3] == 0.125  # 1 of the 8 words
    assert ratios[0.9] > 0.4
    assert default["gamma"] == pair.nudger.default_gamma == 0.4


def test_single_model_ids_and_only(client):
    for model, only in (("fake:base", "base"), ("fake:nudging", "nudging")):
        r = client.chat.completions.create(model=model, messages=USER)
        nudge = r.choices[0].model_extra["nudge"]
        assert nudge["mode"] == only and {s["source"] for s in nudge["spans"]} == {only}
        assert r.model == model
        r = client.chat.completions.create(model="fake", messages=USER, extra_body={"only": only})
        assert r.choices[0].model_extra["nudge"]["mode"] == only
        # One model alone is not stripped: its leading space is part of the answer.
        assert r.choices[0].message.content == " " + ANSWER
    streamed = list(client.chat.completions.create(model="fake:base", messages=USER, stream=True))
    assert "".join(c.choices[0].delta.content or "" for c in streamed) == " " + ANSWER


def test_exact_from_extra_body(client):
    r = client.chat.completions.create(model="fake", messages=USER, extra_body={"exact": True})
    assert r.choices[0].message.content == ANSWER


def test_stop_strings_end_the_answer_before_them(client):
    r = client.chat.completions.create(model="fake", messages=[{"role": "user", "content": "1 2 3 4?"}],
                                       stop=[" three"])
    assert r.choices[0].message.content == "one two"
    assert r.choices[0].finish_reason == "stop"
    assert r.choices[0].model_extra["nudge"]["stop_reason"] == "stop"
    chunks = list(client.chat.completions.create(model="fake", messages=[{"role": "user", "content": "1 2 3 4?"}],
                                                 stop=" three", stream=True))
    assert "".join(c.choices[0].delta.content or "" for c in chunks) == "one two"


def test_max_tokens_maps_to_finish_reason_length(client):
    r = client.chat.completions.create(model="fake", messages=[{"role": "user", "content": "1 2 3 4 5 6?"}],
                                       max_tokens=3)
    assert r.choices[0].finish_reason == "length"
    assert r.choices[0].model_extra["nudge"]["stop_reason"] == "length"
    assert r.choices[0].message.content == "one two three"
    r = client.chat.completions.create(model="fake", messages=[{"role": "user", "content": "1 2 3 4 5 6?"}],
                                       max_completion_tokens=2)
    assert r.choices[0].message.content == "one two"


def test_multi_turn_and_system_messages(client):
    messages = [{"role": "system", "content": "Spell digits."}, {"role": "user", "content": "1?"},
                {"role": "assistant", "content": "one."},
                {"role": "user", "content": [{"type": "text", "text": "2 2?"}]}]
    r = client.chat.completions.create(model="fake", messages=messages)
    assert r.choices[0].message.content == "two two."


def test_the_default_label_of_two_files_is_an_id_too():
    pair = scripted_pair(name=None)
    with LiveServer(create_app(pair.nudger)) as live, live.client() as client:
        live.wait_ready()
        ids = [m.id for m in client.models.list().data]
        assert ids == ["base + nudging", "base + nudging:base", "base + nudging:nudging"]
        assert client.models.retrieve("base + nudging:nudging").model_extra["nudge"]["mode"] == "nudging"
        r = client.chat.completions.create(model="base + nudging", messages=USER)
        assert r.choices[0].message.content == ANSWER


def test_health(live):
    r = httpx.get(live.url + "/health")
    assert r.status_code == 200
    assert r.json() == {"status": "ok", "model": "fake", "queue": {"running": False, "waiting": 0, "max_waiting": 8}}


def test_streamed_deltas_leave_out_the_repeat_the_final_answer_drops():
    # The answer ends with a 34-character run written twice; the final clean-up (as in the
    # reference) drops the second copy, so the stream must never have sent it.
    pair = scripted_pair(base_says=" zero", base_confidence=0.1, ending="")
    question = "9 1 2 3 4 5 6 7 1 2 3 4 5 6 7"
    with LiveServer(create_app(pair.nudger)) as live, live.client() as client:
        live.wait_ready()
        messages = [{"role": "user", "content": question + "?"}]
        final = client.chat.completions.create(model="fake", messages=messages).choices[0].message.content
        chunks = list(client.chat.completions.create(model="fake", messages=messages, stream=True))
    assert final == "nine one two three four five six seven"
    assert "".join(c.choices[0].delta.content or "" for c in chunks) == final
    spans = chunks[-1].choices[0].model_extra["nudge"]["spans"]
    assert "".join(s["text"] for s in spans) == final


def test_cors_origins_allow_a_browser_page():
    pair = scripted_pair()
    page = "http://localhost:3000"
    with LiveServer(create_app(pair.nudger, cors_origins=[page])) as live:
        live.wait_ready()
        preflight = httpx.options(live.url + "/v1/chat/completions", headers={
            "Origin": page, "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "authorization, content-type"})
        assert preflight.status_code == 200
        assert preflight.headers["access-control-allow-origin"] == page
        other = httpx.get(live.url + "/v1/models", headers={"Origin": "http://evil.example"})
        assert "access-control-allow-origin" not in other.headers
        allowed = httpx.get(live.url + "/v1/models", headers={"Origin": page})
        assert allowed.headers["access-control-allow-origin"] == page
    with LiveServer(create_app(pair.nudger)) as live:  # no --cors-origins: no CORS headers at all
        live.wait_ready()
        assert "access-control-allow-origin" not in httpx.get(live.url + "/v1/models",
                                                               headers={"Origin": page}).headers
