"""``nudge-local serve``: its mistakes (one sentence, exit 2), and the real command end to end."""

from __future__ import annotations

import re
import signal
import socket
import subprocess
import sys
import time

import httpx
import openai
import pytest

from nudge_local.cli import main
from nudge_local.cli.serve import exposure_warning


def one_error_line(stderr: str) -> str:
    assert "Traceback" not in stderr
    lines = [line for line in stderr.splitlines() if line.startswith("nudge-local: error: ")]
    assert len(lines) == 1, stderr
    return lines[0]


def test_without_the_server_extra_it_says_how_to_install_it(monkeypatch, capsys):
    monkeypatch.setitem(sys.modules, "uvicorn", None)  # `import uvicorn` now fails as if not installed
    assert main(["serve"]) == 2
    line = one_error_line(capsys.readouterr().err)
    assert "pip install 'nudge-local[server]'" in line


@pytest.mark.parametrize("args, fragment", [
    (["--queue", "-1"], "--queue"),
    (["--port", "70000"], "--port"),
    (["--max-tokens", "0"], "--max-tokens"),
    (["--n-ctx", "0"], "--n-ctx"),  # a model flag, checked before the port is bound
])
def test_bad_settings_are_one_sentence(args, fragment, capsys):
    assert main(["serve", *args]) == 2
    assert fragment in one_error_line(capsys.readouterr().err)


def test_a_busy_port_is_one_sentence(capsys):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        assert main(["serve", "--port", str(port)]) == 2
    line = one_error_line(capsys.readouterr().err)
    assert f"127.0.0.1:{port}" in line and "--port" in line


def test_binding_beyond_this_machine_without_a_key_warns():
    assert exposure_warning("127.0.0.1", None) is None
    assert exposure_warning("localhost", None) is None
    assert exposure_warning("::1", None) is None
    assert exposure_warning("0.0.0.0", "key") is None
    warning = exposure_warning("0.0.0.0", None)
    assert warning is not None and "--api-key" in warning and "0.0.0.0" in warning


def serve(*args: str) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "nudge_local", "serve", "--port", "0", *args],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def served_url(proc: subprocess.Popen) -> str:
    line = proc.stdout.readline()
    match = re.search(r"serving at (http://127\.0\.0\.1:\d+)/v1", line)
    assert match, line
    return match.group(1)


def test_models_that_fail_to_load_stop_the_server_with_one_sentence(tmp_path):
    proc = serve("--base", str(tmp_path / "missing.gguf"), "--nudging", str(tmp_path / "also-missing.gguf"))
    try:
        served_url(proc)
        _, stderr = proc.communicate(timeout=60)
    finally:
        proc.kill()
    assert proc.returncode == 2, stderr
    assert "missing.gguf" in one_error_line(stderr)


@pytest.mark.real
def test_serve_the_demo_pair_then_stop_with_ctrl_c():
    proc = serve("--pair", "demo", "--n-ctx", "1024", "--api-key", "k3y")
    try:
        url = served_url(proc)
        deadline = time.monotonic() + 120
        while httpx.get(url + "/health").status_code != 200:
            assert time.monotonic() < deadline and proc.poll() is None
            time.sleep(0.2)
        with openai.OpenAI(base_url=url + "/v1", api_key="k3y", max_retries=0, timeout=120) as client:
            assert [m.id for m in client.models.list().data] == ["demo", "demo:base", "demo:nudging"]
            r = client.chat.completions.create(model="demo", max_tokens=12,
                                               messages=[{"role": "user", "content": "What is 15 plus 27?"}])
        assert r.choices[0].message.content.strip() and r.usage.completion_tokens <= 12
        proc.send_signal(signal.SIGINT)
        _, stderr = proc.communicate(timeout=30)
    finally:
        proc.kill()
    assert proc.returncode == 0, stderr
    assert "Traceback" not in stderr and "k3y" not in stderr
    assert re.search(r"POST /v1/chat/completions 200 \d+ tokens \d+\.\d\d s", stderr), stderr
