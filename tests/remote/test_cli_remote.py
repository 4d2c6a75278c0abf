"""The command line with remote models: every mistake is one sentence and exit code 2, and the
checks that need no model run before any server is asked anything (issue 10, items 1 and 5).
The real end-to-end run (`generate --base-url ... --nudging PATH`) is in test_real_server.py."""

from __future__ import annotations

import os
import socket
import subprocess
import sys

import pytest
from fake_server import FakeCompletionServer
from fakes import make_pair


def cli(*args: str, env: dict | None = None, timeout: float = 120) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "nudge_local", *args], capture_output=True, text=True,
                          timeout=timeout, env={**os.environ, **(env or {})})


def one_sentence_error(proc: subprocess.CompletedProcess, fragment: str) -> str:
    assert proc.returncode == 2, proc.stderr
    assert "Traceback" not in proc.stderr
    lines = [line for line in proc.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("nudge-local: error: "), proc.stderr
    assert fragment in lines[0], lines[0]
    return lines[0]


@pytest.fixture
def gguf(tmp_path):
    """A file that passes the GGUF magic check (it is never loaded: the base fails first)."""
    path = tmp_path / "small.gguf"
    path.write_bytes(b"GGUF" + b"\0" * 64)
    return str(path)


@pytest.fixture
def server():
    base, _ = make_pair({}, {})
    with FakeCompletionServer(base, shape="ollama") as s:
        yield s


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_unreachable_server(gguf):
    url = f"http://127.0.0.1:{free_port()}/v1"
    line = one_sentence_error(cli("generate", "--base-url", url, "--nudging", gguf, "hi"), "Cannot reach")
    assert url.removesuffix("/v1") in line and "--base-url" in line


def test_server_without_logprobs(server, gguf):
    line = one_sentence_error(cli("generate", "--base-url", server.url, "--nudging", gguf, "hi"), "no logprobs")
    assert "Ollama" in line


@pytest.mark.parametrize("args, fragment", [
    (["--gamma", "1.5"], "gamma must be between 0 and 1"),
    (["--max-tokens", "0"], "max_tokens must be a positive"),
    (["--top-p", "0"], "top_p must be in (0, 1]"),
    (["--n-ctx", "100"], "n_ctx must be between"),
    (["--threads", "100000"], "n_threads must be between"),
    (["--timeout", "0"], "--timeout must be"),
])
def test_settings_are_checked_before_any_server_is_asked(server, gguf, args, fragment):
    one_sentence_error(cli("generate", "--base-url", server.url, "--nudging", gguf, *args, "hi"), fragment)
    assert server.requests == []


def test_empty_pair_name_is_an_error():
    one_sentence_error(cli("generate", "--pair", "", "hi"), "--pair needs a pair name")


@pytest.mark.parametrize("args, fragment", [
    (["--base", "GGUF", "--base-url", "URL", "--nudging", "GGUF"], "either --base PATH or --base-url URL"),
    (["--base", "GGUF", "--base-model", "m", "--nudging", "GGUF"], "--base-model goes with --base-url"),
    (["--base-url", "URL", "--nudging", "GGUF", "--nudging-api-key", "k"], "--nudging-api-key goes with --nudging-url"),
    (["--pair", "demo", "--base-url", "URL", "--nudging", "GGUF"], "either --pair or the two models"),
])
def test_conflicting_model_flags(server, gguf, args, fragment):
    args = [{"URL": server.url, "GGUF": gguf}.get(a, a) for a in args]
    one_sentence_error(cli("generate", *args, "hi"), fragment)
    assert server.requests == []


def test_only_one_model_given(server):
    one_sentence_error(cli("generate", "--base-url", server.url, "hi"), "Give both models")


def test_api_key_never_sent_over_plain_http_to_another_host(gguf):
    proc = cli("generate", "--base-url", "http://192.0.2.7:8000/v1", "--base-api-key", "sk-do-not-show",
               "--nudging", gguf, "hi")
    line = one_sentence_error(proc, "plain HTTP")
    assert "sk-do-not-show" not in proc.stderr + proc.stdout and "sk-do-not-show" not in line


def test_api_key_from_the_environment(gguf):
    base, _ = make_pair({}, {})
    with FakeCompletionServer(base, shape="vllm", api_key="sk-env") as s:
        # wrong key: refused by the server, named flag in the sentence
        one_sentence_error(cli("generate", "--base-url", s.url, "--nudging", gguf, "hi"), "--base-api-key")
        # right key from NUDGE_LOCAL_BASE_API_KEY: the probe passes, the fake nudging file then fails to load
        proc = cli("generate", "--base-url", s.url, "--nudging", gguf, "hi", env={"NUDGE_LOCAL_BASE_API_KEY": "sk-env"})
        assert proc.returncode == 2 and "Traceback" not in proc.stderr
        assert "--base-api-key" not in proc.stderr and "sk-env" not in proc.stderr
        assert any(h.get("Authorization") == "Bearer sk-env" for _, _, _, h in s.requests)


def test_doctor_shows_the_probe(server):
    base, _ = make_pair(lambda answer: " x" if answer is None else "<eos>", {})
    with FakeCompletionServer(base, shape="llama-server", name="lab-70b") as good:
        proc = cli("doctor", "--base-url", good.url, "--nudging-url", server.url)
    assert proc.returncode == 0, proc.stderr
    lines = [line for line in proc.stdout.splitlines() if "--base-url at" in line or "--nudging-url at" in line]
    assert len(lines) == 2, proc.stdout
    assert "ok, model 'lab-70b', server llama-server, context 4096, logprobs ok" in lines[0]
    # an Ollama-like server is fine for a nudging model: it is reported as such
    assert "no logprobs (usable as a nudging model only)" in lines[1]


def test_doctor_unreachable_server_is_reported_not_fatal():
    url = f"http://127.0.0.1:{free_port()}/v1"
    proc = cli("doctor", "--base-url", url)
    assert proc.returncode == 0, proc.stderr
    assert f"--base-url at {url.removesuffix('/v1')}: not usable: Cannot reach" in proc.stdout
