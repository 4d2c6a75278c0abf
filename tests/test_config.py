"""The user config file: per-model settings, precedence and where each value came from."""

from __future__ import annotations

import pytest

from nudge_local._settings import DEFAULT_N_CTX, ModelSettings
from nudge_local.config import ConfigError, config_path, resolve_settings


@pytest.fixture(autouse=True)
def isolated_dirs(isolated_models_dir):
    """User dirs are private to each test (tests/conftest.py); so is the models folder here."""
    return isolated_models_dir


def write_config(text: str):
    path = config_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def test_no_file_gives_defaults():
    settings, sources = resolve_settings("gemma-3-270m", {})
    assert settings == ModelSettings()
    assert set(sources.values()) == {"default"}


def test_precedence_and_sources():
    path = write_config("""
[defaults]
n_ctx = 2048
n_threads = 1

[models."qwen2.5-7b"]
n_ctx = 8192
n_gpu_layers = 20
""")
    file_source = f"config file ({path})"
    s, src = resolve_settings("qwen2.5-7b", {"n_threads": None, "n_gpu_layers": 10})
    assert (s.n_ctx, s.n_threads, s.n_gpu_layers) == (8192, 1, 10)
    assert src == {"n_ctx": file_source, "n_threads": file_source, "n_gpu_layers": "command line"}
    s, src = resolve_settings("gemma-3-270m", {})
    assert (s.n_ctx, s.n_threads, s.n_gpu_layers) == (2048, 1, None)
    assert src["n_gpu_layers"] == "default"
    s, _ = resolve_settings(None, {})
    assert s.n_ctx == 2048


@pytest.mark.parametrize("text, message", [
    ("[defaults]\nn_ctx = 'big'", "must be a whole number"),
    ("[defaults]\nn_gpu_layers = -2", ">= -1"),
    ("[defaults]\ngpu = 1", "unknown key 'gpu'"),
    ("[model.x]\nn_ctx = 1", "unknown section"),
    ("[defaults\n", "not valid TOML"),
    ("[models.qwen2.5-7b]\nn_ctx = 512", "quote it"),
])
def test_bad_config_names_the_file(text, message):
    path = write_config(text)
    with pytest.raises(ConfigError) as err:
        resolve_settings("x", {})
    assert str(path) in str(err.value) and message in str(err.value)


def test_bad_override_is_a_setting_error():
    with pytest.raises(ConfigError, match="n_ctx must be a whole number >= 256"):
        resolve_settings("x", {"n_ctx": 3})


def test_cli_config_show_prints_values_and_sources(capsys):
    from nudge_local.cli import main

    path = write_config('[models.smollm2-135m-instruct]\nn_ctx = 1024\n')
    assert main(["config", "show", "--pair", "demo", "--n-threads", "1"]) == 0
    out = capsys.readouterr().out
    base, nudging = out.split("(nudging model of demo)")
    assert f"n_ctx         {DEFAULT_N_CTX}  [default]" in base
    assert f"n_ctx         1024  [config file ({path})]" in nudging
    assert out.count("n_threads     1  [command line]") == 2
    assert main(["config", "path"]) == 0
    assert capsys.readouterr().out.strip() == str(path)


def test_cli_config_show_bad_file_is_one_sentence(capsys):
    write_config("[defaults]\nn_ctx = 0\n")
    from nudge_local.cli import main

    assert main(["config", "show"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("nudge-local: error: ") and len(err.splitlines()) == 1


def test_api_loads_models_with_the_config_files_settings(tmp_path, monkeypatch, real_models_dir):
    """Nudger.from_catalog honours the user's config file when no settings are passed."""
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    from nudge_local import Nudger
    from nudge_local.config import config_path

    path = config_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text('[defaults]\nn_ctx = 512\n\n[models.smollm2-135m-instruct]\nn_ctx = 768\n')
    with Nudger.from_catalog("demo") as n:
        assert n.base.settings.n_ctx == 512
        assert n.nudging.settings.n_ctx == 768
        assert n.base.n_ctx >= 512 and n.nudging.n_ctx >= 768
