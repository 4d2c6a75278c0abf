"""`nudge-local models` and `nudge-local download` through the real CLI entry point."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from nudge_local import _pypi_models
from nudge_local.catalog import load_catalog
from nudge_local.cli import main


@pytest.fixture(autouse=True)
def isolated_dirs(tmp_path, monkeypatch):
    for var in ("XDG_CONFIG_HOME", "XDG_CACHE_HOME", "XDG_DATA_HOME"):
        monkeypatch.setenv(var, str(tmp_path / var.lower()))


def test_models_lists_pairs_with_presence(capsys):
    assert main(["models"]) == 0
    out = capsys.readouterr().out
    demo = out.split("olmo-2  (gamma")[0]
    assert "demo  (gamma 0.4)" in demo
    assert "smollm2-135m-instruct" in demo and "present, 98 MB (from PyPI)" in demo
    assert "olmo-2-7b" in out and "missing (4.47 GB)" in out


def test_models_json_matches_the_catalog(capsys):
    assert main(["models", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    catalog = load_catalog()
    assert [p["name"] for p in data["pairs"]] == list(catalog.pairs)
    demo = data["pairs"][0]
    assert demo["base"]["name"] == "gemma-3-270m" and demo["base"]["state"] == "present"
    assert demo["nudging"]["size_on_disk"] == catalog.model("smollm2-135m-instruct").size
    llama = next(p for p in data["pairs"] if p["name"] == "llama-3")
    assert llama["base"]["state"] == "missing" and llama["base"]["path"] is None


def test_download_demo_works_offline(capsys, monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("HF_ENDPOINT", "http://127.0.0.1:9")
    assert main(["download", "demo"]) == 0
    out = capsys.readouterr()
    paths = [Path(line) for line in out.out.splitlines()]
    assert len(paths) == 2 and all(p.read_bytes()[:4] == b"GGUF" for p in paths)
    assert "gemma-3-270m: present" in out.err


def test_download_demo_without_the_extra_says_pip_install(capsys, monkeypatch):
    monkeypatch.setattr(_pypi_models, "_dist", lambda name: None)
    assert main(["download", "demo"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("nudge-local: error: ") and len(err.splitlines()) == 1
    assert "pip install 'nudge-local[demo]'" in err


def test_download_unknown_name_is_one_sentence(capsys):
    assert main(["download", "no-such-pair"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("nudge-local: error: 'no-such-pair' is neither a pair")
    assert len(err.splitlines()) == 1
