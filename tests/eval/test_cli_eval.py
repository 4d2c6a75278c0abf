"""``nudge-local eval`` on the scripted fake pair: user errors, kill -9 and resume, Ctrl+C."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from fake_pair import standard_pair

import nudge_local.cli.eval as eval_command
from nudge_local.cli import main
from nudge_local.eval import BUILTIN, resolve_tasks

MAIN = Path(__file__).with_name("fake_eval_main.py")
RUN = ["--tasks", "coin_flip,arithmetic", "--systems", "base,nudged", "--gammas", "0.4", "--limit", "3"]


@pytest.fixture
def fake_models(monkeypatch):
    monkeypatch.setattr(eval_command, "load_nudger", lambda args: standard_pair(resolve_tasks(list(BUILTIN))))


@pytest.mark.parametrize(("argv", "message"), [
    (["--tasks", "gsm9k"], "Unknown task 'gsm9k'; known tasks: coin_flip"),
    (["--tasks", "gsm8k"], "No data file for gsm8k: put the GSM8K test split at "),
    (["--gammas", "0.3,abc"], "--gammas takes numbers between 0 and 1 separated by commas; 'abc' is not a number."),
    (["--gammas", "0.3,1.5"], "Each γ must be between 0 and 1; got 1.5."),
    (["--systems", "base,magic"], "Unknown system 'magic'; the systems are base, nudging, nudged, fast."),
    (["--limit", "ten"], "--limit takes a whole number or all; got 'ten'."),
    (["--max-tokens", "0"], "--max-tokens must be at least 1; got 0."),
    (["--resume"], "--resume needs --out DIR, the folder of the run to continue."),
    (["--data", "gsm8k"], "--data takes TASK=FILE"),
])
def test_user_errors_are_one_sentence_and_exit_2(argv, message, capsys, fake_models):
    assert main(["eval", *argv]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"nudge-local: error: {message}")
    assert err.count("\n") == 1 and "Traceback" not in err


def test_missing_dataset_error_names_file_and_fields(tmp_path, capsys, fake_models):
    assert main(["eval", "--tasks", "arc_challenge", "--data-dir", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert str(tmp_path / "arc_challenge.jsonl") in err
    assert "fields question, choices.label, choices.text, answerKey" in err


def test_a_full_run_prints_the_table_and_writes_the_files(tmp_path, capsys, fake_models):
    out = tmp_path / "run"
    assert main(["eval", *RUN, "--out", str(out), "--quiet", "--no-plot"]) == 0  # the PNG: test_real_eval
    printed = capsys.readouterr().out
    assert "coin_flip (3 items, scorer coin; 0 answers no rule could read)" in printed
    assert "average over 2 tasks" in printed and "accuracy vs γ" in printed
    assert {p.name for p in out.iterdir()} == {"config.json", "samples.jsonl", "results.json"}


def _start(args, env_extra):
    env = {**os.environ, **env_extra}
    return subprocess.Popen([sys.executable, str(MAIN), *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, env=env)


def _wait_for_lines(path: Path, n: int, proc, timeout: float = 20.0) -> int:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if path.exists():
            lines = path.read_bytes().count(b"\n")
            if lines >= n:
                return lines
        assert proc.poll() is None, proc.communicate()
        time.sleep(0.01)
    raise AssertionError(f"no {n} samples within {timeout} s")


def _comparable(path: Path) -> dict:
    data = json.loads(path.read_text())
    data.pop("timing")  # wall-clock figures: seconds, tokens/s, start time
    return data


def test_kill_9_then_resume_ends_with_the_uninterrupted_results(tmp_path, fake_models):
    whole = tmp_path / "whole"
    assert main(["eval", *RUN, "--out", str(whole), "--quiet", "--no-plot"]) == 0
    cut = tmp_path / "cut"
    proc = _start([*RUN, "--out", str(cut), "--no-plot"], {"FAKE_EVAL_DELAY": "0.01"})
    try:
        done = _wait_for_lines(cut / "samples.jsonl", 4, proc)
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.communicate()
    assert proc.returncode == -signal.SIGKILL
    assert not (cut / "results.json").exists() and done < 12
    assert main(["eval", *RUN, "--out", str(cut), "--resume", "--no-plot", "--quiet"]) == 0
    assert _comparable(cut / "results.json") == _comparable(whole / "results.json")
    lines = (cut / "samples.jsonl").read_text().splitlines()
    assert len(lines) == 12  # nothing answered twice


def test_ctrl_c_saves_what_is_done_and_prints_how_to_resume(tmp_path, capsys, fake_models):
    out = tmp_path / "run"
    proc = _start([*RUN, "--out", str(out), "--no-plot"], {"FAKE_EVAL_DELAY": "0.01"})
    try:
        _wait_for_lines(out / "samples.jsonl", 2, proc)
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    assert proc.returncode == 130
    assert "Traceback" not in err
    command = err.split("Resume with:\n", 1)[1].strip()
    assert command.startswith("nudge-local eval --tasks coin_flip,arithmetic --gammas 0.4 --systems base,nudged")
    assert command.endswith(f"--out {out} --resume")
    partial = json.loads((out / "results.json").read_text())
    assert partial["partial"] is True and 0 < partial["done"] < 12
    # The printed command, run, finishes the job.
    assert main(["eval", *command.split()[2:], "--quiet", "--no-plot"]) == 0
    assert json.loads((out / "results.json").read_text())["done"] == 12
    assert "coin_flip" in capsys.readouterr().out
