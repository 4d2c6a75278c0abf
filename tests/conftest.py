"""Fixtures shared by the whole suite.

Every test runs with its own user directories (config, cache, data, HOME) so that nothing a
test does touches the developer's real ones, and nothing there changes a test's outcome. The
one exception is where model files live: ``NUDGE_LOCAL_MODELS_DIR`` keeps pointing at the real
models folder, so the demo pair (assembled once, ~240 MB) is not copied for every test. Tests
of downloads take the ``isolated_models_dir`` fixture to get an empty one.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from nudge_local._plan import PLAN_ENV
from nudge_local.paths import MODELS_DIR_ENV, models_dir

# Read before any test changes the environment.
_REAL_MODELS_DIR = models_dir()
# pip's cache, so that installs made by tests (pipx, the standalone build) reuse the wheel of
# llama-cpp-python built for this machine instead of compiling llama.cpp again.
_REAL_PIP_CACHE = os.environ.get("PIP_CACHE_DIR") or str(
    Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "pip")


@pytest.fixture(autouse=True)
def private_dirs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Never touch the real user config/cache/data dirs or home."""
    for var in ("XDG_CONFIG_HOME", "XDG_CACHE_HOME", "XDG_DATA_HOME", "XDG_STATE_HOME"):
        d = tmp_path / var.lower()
        d.mkdir()
        monkeypatch.setenv(var, str(d))
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv(MODELS_DIR_ENV, str(_REAL_MODELS_DIR))
    monkeypatch.setenv("PIP_CACHE_DIR", _REAL_PIP_CACHE)
    # A pair new to a machine is calibrated at load (a few seconds); tests pin the plan
    # instead, except those of the calibration itself (tests/test_plan.py).
    monkeypatch.setenv(PLAN_ENV, "overlap")
    # Hugging Face must never be reached from a test, whatever a test forgets to set.
    monkeypatch.setenv("HF_HUB_DISABLE_TELEMETRY", "1")
    return tmp_path


@pytest.fixture
def isolated_models_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty models folder of the test's own (for download and catalog tests)."""
    d = tmp_path / "models"
    d.mkdir()
    monkeypatch.setenv(MODELS_DIR_ENV, str(d))
    return d


@pytest.fixture
def real_models_dir(monkeypatch: pytest.MonkeyPatch) -> Path:
    """The real models folder (where `nudge-local download demo` put the demo pair), for a test
    of a module whose other tests take ``isolated_models_dir``."""
    monkeypatch.setenv(MODELS_DIR_ENV, str(_REAL_MODELS_DIR))
    return _REAL_MODELS_DIR


@pytest.fixture(scope="session")
def demo_nudger():
    """The real demo pair (Gemma-3-270M base + SmolLM2-135M-Instruct), loaded once."""
    from nudge_local import ModelSettings, Nudger

    settings = ModelSettings(n_ctx=2048)
    with Nudger.from_catalog("demo", base_settings=settings, nudging_settings=settings) as n:
        yield n


# Test modules that start servers, the chat app, other processes or builds: `slow` (seconds to
# minutes each). What is left, `-m "not real and not slow"`, is the in-process tests on scripted
# models, which run in seconds; .ci/run runs everything.
_SLOW_FOLDERS = ("tui", "server", "remote", "packaging")
_SLOW_MODULES = {
    "test_download.py", "test_download_faults.py", "test_pypi_download.py", "test_doctor.py",
    "test_cli_eval.py", "test_eval_store.py",
    "test_download_cli.py", "test_models_cli.py", "test_generate_cli.py", "test_bench_cli.py",
}


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    tests_dir = Path(__file__).parent
    for item in items:
        path = Path(str(item.fspath))
        parts = path.relative_to(tests_dir).parts if path.is_relative_to(tests_dir) else ()
        if (parts and parts[0] in _SLOW_FOLDERS) or path.name in _SLOW_MODULES:
            item.add_marker(pytest.mark.slow)
