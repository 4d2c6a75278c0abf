"""`nudge-local generate` end to end on the real demo pair, and its errors (exit code 2)."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from nudge_local.catalog import load_catalog, locate_model

pytestmark = pytest.mark.real


def cli(*args, timeout=300):
    return subprocess.run([sys.executable, "-m", "nudge_local", *args], capture_output=True,
                          text=True, timeout=timeout)


@pytest.fixture(scope="module")
def demo_paths():
    c = load_catalog()
    pair = c.pair("demo")
    return locate_model(c.model(pair.base)), locate_model(c.model(pair.nudging))


def assert_one_sentence_error(proc, fragment):
    assert proc.returncode == 2, proc.stderr
    assert "Traceback" not in proc.stderr
    lines = [line for line in proc.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("nudge-local: error: "), proc.stderr
    assert fragment in lines[0]


def test_generate_json_on_demo_pair():
    proc = cli("generate", "--pair", "demo", "--max-tokens", "24", "--json", "What is 15 plus 27?")
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout)
    assert set(out) >= {"text", "spans", "nudge_ratio", "stop_reason", "stats"}
    assert "".join(s["text"] for s in out["spans"]) == out["text"]
    assert out["stats"]["output_tokens"] > 0


def test_generate_streams_plain_text_when_not_a_terminal():
    proc = cli("generate", "--max-tokens", "16", "--only", "base", "Why is the sky blue?")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() and "\x1b[" not in proc.stdout
    assert "tok/s" in proc.stderr


def test_missing_file(tmp_path, demo_paths):
    proc = cli("generate", "--base", str(tmp_path / "nope.gguf"), "--nudging", str(demo_paths[1]), "hi")
    assert_one_sentence_error(proc, "Model file not found")


def test_not_a_gguf(tmp_path, demo_paths):
    fake = tmp_path / "notes.gguf"
    fake.write_text("just text")
    proc = cli("generate", "--base", str(fake), "--nudging", str(demo_paths[1]), "hi")
    assert_one_sentence_error(proc, "is not a GGUF model file")


def test_nudging_model_without_chat_template(demo_paths):
    base, nudging = demo_paths
    # the pretrained Gemma GGUF carries no chat template
    proc = cli("generate", "--base", str(nudging), "--nudging", str(base), "hi")
    assert_one_sentence_error(proc, "has no chat template")


def test_chat_template_file_fixes_it(tmp_path, demo_paths):
    base, nudging = demo_paths
    tpl = tmp_path / "t.jinja"
    tpl.write_text("{% for m in messages %}{{ m.content }}\n{% endfor %}Answer:")
    proc = cli("generate", "--base", str(base), "--nudging", str(base), "--chat-template", str(tpl),
               "--max-tokens", "8", "hi")
    assert proc.returncode == 0, proc.stderr


def test_instruct_model_as_base_warns_but_runs(demo_paths):
    _, nudging = demo_paths
    proc = cli("generate", "--base", str(nudging), "--nudging", str(nudging), "--max-tokens", "8", "hi")
    assert proc.returncode == 0, proc.stderr
    assert "nudge-local: warning: The base model" in proc.stderr
    assert "instruction-tuned" in proc.stderr


@pytest.mark.parametrize("args, fragment", [
    (["--gamma", "1.5"], "gamma must be between 0 and 1"),
    (["--gamma", "-0.2"], "gamma must be between 0 and 1"),
    (["--max-tokens", "0"], "max_tokens must be a positive"),
    (["--max-tokens", "-5"], "max_tokens must be a positive"),
])
def test_bad_settings(args, fragment):
    proc = cli("generate", *args, "hi")
    assert_one_sentence_error(proc, fragment)


def test_prompt_longer_than_context():
    proc = cli("generate", "--n-ctx", "256", "word " * 600)  # llama.cpp pads n_ctx to 256
    assert_one_sentence_error(proc, "shorten the prompt or raise n_ctx")


def test_unknown_pair():
    proc = cli("generate", "--pair", "no-such-pair", "hi")
    assert proc.returncode == 2 and "no-such-pair" in proc.stderr and "Traceback" not in proc.stderr
