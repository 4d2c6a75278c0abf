"""Faults of a remote base model's server (issue 10, item 6) and the start-up probe (item 5).

Every test talks to a scripted server on 127.0.0.1 and is bounded by the client's timeouts and
retry limits (a few seconds at most): each fault gives its documented outcome - retried, or one
sentence in a typed error with the partial answer kept - never a traceback, never a hang.
"""

from __future__ import annotations

import email.utils
import socket
import time

import pytest
from cases import SIXTEEN, words
from fake_server import FakeCompletionServer
from fakes import BASE_MARK, QUESTION, SYSTEM, make_pair

from nudge_local import ContextOverflowError, Nudger, RemoteError, SettingError
from nudge_local.remote import RemoteModel, probe

# The base takes over after "Sure," and writes 40 confident tokens: a check and three chunk calls.
LONG_RUN = " the answer is x y z w v u t s A B C D E F G H one two three four five six seven eight nine ten Q S"
CASE = ({**words("Sure,", LONG_RUN, p=0.95), "Sure," + LONG_RUN: {".": 0.1}}, words("", SIXTEEN), {})
PREFIX = f"{SYSTEM}\n{BASE_MARK}"  # the base prompt, before the answer
PROBE = None  # the probe's own 1-token completion goes first through a completion path
COMPLETION = {"openai": "/v1/completions", "vllm": "/v1/completions", "llama-server": "/completion"}


def run(server: FakeCompletionServer, **model_kw) -> object:
    _, nudging = make_pair({}, CASE[1])
    model = RemoteModel(server.url, role="base", **{"timeout": 5.0, **model_kw})
    with Nudger(model.open(), nudging) as n:
        return n.generate(QUESTION, system=SYSTEM, exact=True)


def serve(shape: str = "llama-server", **kw) -> FakeCompletionServer:
    base, _ = make_pair(CASE[0], {})
    return FakeCompletionServer(base, shape=shape, name="scripted-base", **kw)


@pytest.fixture(scope="module")
def clean_answer():
    with serve() as server:
        return run(server)


def one_sentence(exc: BaseException) -> str:
    text = str(exc)
    assert "\n" not in text and "Traceback" not in text
    assert text.endswith(".")
    return text


# -- retried faults -----------------------------------------------------------------------------
@pytest.mark.parametrize("shape", ["llama-server", "vllm"])
def test_dropped_connection_is_retried(shape, clean_answer):
    with serve(shape) as server:
        server.fault_path = COMPLETION[shape]
        server.faults = [PROBE, None, "drop"]  # the second completion call loses its connection once
        r = run(server)
    assert r.text == clean_answer.text and r.spans == clean_answer.spans


def test_retry_after_seconds_is_honoured(clean_answer):
    with serve() as server:
        server.fault_path = "/completion"
        server.faults = [PROBE, None, ("status", 429, {"Retry-After": "1"}, {"error": {"message": "slow down"}})]
        t0 = time.monotonic()
        r = run(server, max_wait=5)
        elapsed = time.monotonic() - t0
    assert r.text == clean_answer.text
    assert 0.9 <= elapsed < 5


def test_retry_after_http_date_is_honoured(clean_answer):
    when = email.utils.formatdate(time.time() + 2, usegmt=True)  # whole seconds: waits 1-2 s
    with serve() as server:
        server.fault_path = "/completion"
        server.faults = [PROBE, ("status", 503, {"Retry-After": when}, {"error": {"message": "Loading model"}})]
        t0 = time.monotonic()
        r = run(server, max_wait=5)
        elapsed = time.monotonic() - t0
    assert r.text == clean_answer.text
    assert 0.5 <= elapsed < 6


def test_a_slow_answer_times_out_and_is_retried(clean_answer):
    with serve() as server:
        server.fault_path = "/completion"
        server.faults = [PROBE, None, ("sleep", 2.0)]
        t0 = time.monotonic()
        _, nudging = make_pair({}, CASE[1])
        model = RemoteModel(server.url, role="base", timeout=0.5, retries=2).open()
        with Nudger(model, nudging) as n:
            r = n.generate(QUESTION, system=SYSTEM, exact=True)
        assert model.counters.retries == 1
    assert r.text == clean_answer.text
    assert time.monotonic() - t0 < 10


# -- faults that end the answer -------------------------------------------------------------------
def test_server_gone_mid_answer_keeps_the_partial_answer(clean_answer):
    with serve() as server:
        server.fault_path = "/completion"
        server.faults = [PROBE, None, None] + ["drop"] * 10  # gone for good after two completions
        _, nudging = make_pair({}, CASE[1])
        model = RemoteModel(server.url, role="base", timeout=5, retries=2).open()
        t0 = time.monotonic()
        with Nudger(model, nudging) as n:
            stream = n.stream(QUESTION, system=SYSTEM, exact=True)
            shown = []
            with pytest.raises(RemoteError) as info:
                for piece in stream:
                    shown.append(piece.text)
        assert time.monotonic() - t0 < 10
    message = one_sentence(info.value)
    assert server.url.removesuffix("/v1") in message and "after 3 tries" in message
    partial = info.value.partial
    assert partial.stop_reason == "interrupted"
    assert partial.text and clean_answer.text.startswith(partial.text)
    assert "".join(shown).strip() == partial.text
    assert stream.result is partial


def test_busy_longer_than_allowed_gives_up_at_once():
    with serve() as server:
        server.fault_path = "/completion"
        server.faults = [PROBE, ("status", 429, {"Retry-After": "3600"}, {"error": {"message": "quota"}})]
        t0 = time.monotonic()
        with pytest.raises(RemoteError) as info:
            run(server, max_wait=5)
    assert time.monotonic() - t0 < 3
    assert "asks to wait 3600 s" in one_sentence(info.value)
    assert info.value.partial is not None  # the stream attached what there was (nothing yet)


def test_busy_for_every_try_gives_up():
    with serve() as server:
        server.fault_path = "/completion"
        server.faults = [PROBE] + [("status", 503, {"Retry-After": "0"}, {"error": {"message": "busy"}})] * 10
        with pytest.raises(RemoteError) as info:
            run(server, retries=2)
    assert "busy (HTTP 503)" in one_sentence(info.value) and "after 3 tries" in str(info.value)


def test_server_error_message_is_passed_on():
    with serve() as server:
        server.fault_path = "/completion"
        server.faults = [PROBE, None, None, ("status", 500, {}, {"error": {"message": "CUDA error: out of memory"}})]
        with pytest.raises(RemoteError) as info:
            run(server)
    assert "HTTP 500" in str(info.value) and "CUDA error: out of memory" in one_sentence(info.value)
    assert info.value.partial.text  # what the first calls wrote was kept


def test_an_answer_that_is_not_json():
    with serve() as server:
        server.fault_path = "/completion"
        server.faults = [PROBE, "garbage"]
        with pytest.raises(RemoteError) as info:
            run(server)
    assert "not JSON" in one_sentence(info.value)


def test_context_full_mid_answer_stops_with_context():
    base, nudging = make_pair(CASE[0], CASE[1])
    with FakeCompletionServer(base, shape="vllm", n_ctx=40) as server:  # the prompt is ~15 tokens
        with Nudger(RemoteModel(server.url, timeout=5).open(), nudging) as n:
            r = n.generate(QUESTION, system=SYSTEM, exact=True)
    assert r.stop_reason == "context"
    assert r.text


def test_prompt_longer_than_the_context():
    base, nudging = make_pair(CASE[0], CASE[1])
    with FakeCompletionServer(base, shape="llama-server", n_ctx=256) as server:
        with Nudger(RemoteModel(server.url, timeout=5).open(), nudging) as n:
            with pytest.raises(ContextOverflowError):
                n.generate(QUESTION, system="long " * 400, exact=True)


# -- the probe ----------------------------------------------------------------------------------
def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_unreachable_server():
    url = f"http://127.0.0.1:{free_port()}/v1"
    t0 = time.monotonic()
    with pytest.raises(RemoteError) as info:
        RemoteModel(url, role="base", retries=1).open()
    assert time.monotonic() - t0 < 10
    message = one_sentence(info.value)
    assert message.startswith(f"Cannot reach the base model server at {url.removesuffix('/v1')}")
    assert "--base-url" in message


@pytest.mark.parametrize("shape, fix", [("ollama", "Ollama"), ("old-llama-server", "upgrade llama.cpp")])
def test_servers_without_usable_logprobs(shape, fix):
    base, _ = make_pair(lambda answer: " x" if answer is None else "<eos>", {})  # answers the probe
    with FakeCompletionServer(base, shape=shape) as server:
        with pytest.raises(RemoteError) as info:
            RemoteModel(server.url, role="base").open()
    message = one_sentence(info.value)
    assert server.url.removesuffix("/v1") in message and fix in message


def test_vllm_without_max_logprobs():
    with serve("vllm") as server:
        server.fault_path = "/v1/completions"
        server.faults = [("status", 400, {}, {"object": "error", "type": "BadRequestError", "code": 400,
                                              "message": "Requested sample logprobs of 1, which is greater "
                                              "than max allowed: 0"})]
        with pytest.raises(RemoteError) as info:
            RemoteModel(server.url, role="base").open()
    assert "--max-logprobs" in one_sentence(info.value)


def test_a_nudging_model_may_lack_logprobs():
    """A nudging model's drafts need text and finish_reason only (Ollama serves those)."""
    base, nudging = make_pair(CASE[0], CASE[1])
    with FakeCompletionServer(nudging, shape="ollama", special=True, name="small") as server:
        from fakes import TEMPLATE

        remote = RemoteModel(server.url, role="nudging", chat_template=TEMPLATE).open()
        with Nudger(base, remote) as n:  # closes both
            r = n.generate(QUESTION, system=SYSTEM, exact=True)
    b2, n2 = make_pair(CASE[0], CASE[1])
    assert r.text == Nudger(b2, n2).generate(QUESTION, system=SYSTEM, exact=True).text


def test_not_an_openai_server():
    with serve() as server:
        server.faults = [("status", 404, {}, "<html>no</html>")]
        with pytest.raises(RemoteError) as info:
            RemoteModel(server.url).open()
    assert "not an OpenAI-compatible server" in one_sentence(info.value)


def test_model_choice():
    with serve("vllm", extra_models=["other"]) as server:
        with pytest.raises(RemoteError) as info:
            RemoteModel(server.url, role="base").open()
        assert "--base-model" in one_sentence(info.value) and "'other'" in str(info.value)
        with pytest.raises(RemoteError) as info:
            RemoteModel(server.url, "missing", role="base").open()
        assert "does not serve 'missing'" in one_sentence(info.value)
        other = RemoteModel(server.url, "other").open()
        assert other.description.metadata["general.name"] == "other"
        other.close()


def test_url_forms():
    with serve() as server:
        root = server.url.removesuffix("/v1")
        for url in (server.url, server.url + "/", root, root + "/"):
            model = RemoteModel(url).open()
            assert model.description.url == root and model.complete(PREFIX + "Sure,", 2).text == " the answer"
            model.close()


def test_probe_summary_for_doctor():
    with serve() as server:
        result = probe(server.url, role="base")
    assert result.ok and result.server == "llama-server" and result.model == "scripted-base"
    assert "logprobs ok" in result.summary and "context 4096" in result.summary
    bad = probe(f"http://127.0.0.1:{free_port()}/v1", role="base")
    assert not bad.ok and bad.error and "Cannot reach" in bad.summary


# -- API keys -----------------------------------------------------------------------------------
def test_api_key_is_sent_as_bearer_and_never_shown():
    key = "sk-secret-123456"
    with serve("vllm", api_key=key) as server:
        with pytest.raises(RemoteError) as info:
            RemoteModel(server.url, role="base").open()
        assert "--base-api-key" in one_sentence(info.value)
        model = RemoteModel(server.url, api_key=key, role="base")
        assert key not in repr(model)
        opened = model.open()
        assert opened.complete(PREFIX + "Sure,", 1).text == " the"
        opened.close()
        assert all(h.get("Authorization") == f"Bearer {key}" for _, _, _, h in server.requests[-3:])
        server.fault_path = "/v1/completions"
        server.faults = [PROBE, ("status", 500, {}, {"error": {"message": "boom"}})]
        opened = model.open()
        with pytest.raises(RemoteError) as info:
            opened.complete(PREFIX + "Sure,", 1)
        opened.close()
        assert key not in str(info.value)


def test_api_key_refused_over_plain_http_to_another_machine():
    with pytest.raises(SettingError) as info:
        RemoteModel("http://192.0.2.10:8000/v1", api_key="sk-x")
    assert "plain HTTP" in one_sentence(info.value) and "sk-x" not in str(info.value)
    RemoteModel("https://192.0.2.10:8000/v1", api_key="sk-x")  # allowed (nothing is sent yet)
    RemoteModel("http://localhost:8000/v1", api_key="sk-x")


def test_password_in_url_is_never_shown():
    with serve() as server:
        url = server.url.replace("127.0.0.1", "user:hunter2@127.0.0.1")
        server.faults = [("status", 404, {}, {"detail": "Not Found"})]
        with pytest.raises(RemoteError) as info:
            RemoteModel(url).open()
    assert "hunter2" not in str(info.value) and "user" not in str(info.value)


@pytest.mark.parametrize("url", ["", "ftp://x/v1", "http://", "localhost:8000", "http://h:port/v1", 5])
def test_bad_urls(url):
    with pytest.raises(SettingError):
        RemoteModel(url)
