"""`nudge-local doctor` facts, and the GGUF header reader it uses, checked against llama.cpp."""

from __future__ import annotations

import os
import subprocess
import sys

import llama_cpp
import pytest

from nudge_local._errors import ModelFileError
from nudge_local._gguf_meta import kv_cache_bytes, read_metadata
from nudge_local.catalog import load_catalog, locate_model


@pytest.fixture(autouse=True)
def isolated_dirs(isolated_models_dir):
    """User dirs are private to each test (tests/conftest.py); so is the models folder here."""
    return isolated_models_dir


@pytest.fixture(scope="module")
def smollm2_path():
    return locate_model(load_catalog().model("smollm2-135m-instruct"))


def test_gguf_reader_agrees_with_llama_cpp(smollm2_path):
    ours = read_metadata(smollm2_path)
    llm = llama_cpp.Llama(str(smollm2_path), vocab_only=True, verbose=False)
    try:
        theirs = llm.metadata  # llama.cpp's own reading, values as strings
    finally:
        llm.close()
    scalars = {k: v for k, v in ours.items() if isinstance(v, (int, float, str))
               and not isinstance(v, bool) and k in theirs and not k.startswith("tokenizer.")}
    assert len(scalars) >= 8
    for key, value in scalars.items():
        expected = theirs[key]
        if isinstance(value, float):
            assert value == pytest.approx(float(expected), rel=1e-6), key
        else:
            assert str(value) == expected, key


def test_kv_cache_estimate_uses_the_model_shape(smollm2_path):
    meta = read_metadata(smollm2_path)
    arch = meta["general.architecture"]
    head_dim = meta[f"{arch}.embedding_length"] // meta[f"{arch}.attention.head_count"]
    per_token = meta[f"{arch}.block_count"] * meta[f"{arch}.attention.head_count_kv"] * head_dim * 2 * 2
    assert kv_cache_bytes(meta, 1000) == 1000 * per_token
    assert kv_cache_bytes(meta, 2000) == 2 * kv_cache_bytes(meta, 1000)


def test_not_a_gguf_is_one_clear_error(tmp_path):
    bad = tmp_path / "x.gguf"
    bad.write_bytes(b"PK\x03\x04 not a model")
    with pytest.raises(ModelFileError, match="not a GGUF file"):
        read_metadata(bad)
    bad.write_bytes(b"GGUF\x03\x00\x00\x00\x00")
    with pytest.raises(ModelFileError, match="truncated or malformed"):
        read_metadata(bad)


def _mem_total() -> int:
    return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")


def test_doctor_prints_true_facts_of_this_machine(capsys, real_models_dir):
    from nudge_local.cli import main
    from nudge_local.config import config_path

    config_path().parent.mkdir(parents=True)
    config_path().write_text("[defaults]\nn_ctx = 2048\n")
    assert main(["doctor"]) == 0
    out = capsys.readouterr().out
    if llama_cpp.llama_supports_gpu_offload():
        assert "GPU offload: supported" in out
    else:
        assert "GPU offload: not supported" in out
    assert f"llama-cpp-python: {llama_cpp.__version__}" in out
    cores = len(os.sched_getaffinity(0))
    assert f"Default threads: {max(1, cores // 2)} per model (half the {cores} cores" in out
    ram_line = next(line for line in out.splitlines() if line.startswith("RAM: "))
    reported = float(ram_line.split()[1]) * 1e9
    assert reported == pytest.approx(_mem_total(), rel=0.02)
    assert "Pairs present: demo" in out
    demo = out.split("Memory estimate for demo:")[1]
    base, nudging = load_catalog().pair_models("demo")
    for entry in (base, nudging):
        meta = read_metadata(locate_model(entry))
        kv_mb = kv_cache_bytes(meta, 2048) / 1e6
        assert f"{entry.name}: weights {entry.size / 1e6:.0f} MB + KV cache {kv_mb:.0f} MB (n_ctx 2048" in demo


def test_console_entry_runs_doctor_in_a_subprocess(tmp_path):
    env = {**os.environ, "XDG_CONFIG_HOME": str(tmp_path / "c"), "XDG_CACHE_HOME": str(tmp_path / "k")}
    proc = subprocess.run([sys.executable, "-m", "nudge_local", "doctor"], env=env,
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    expected = "supported" if llama_cpp.llama_supports_gpu_offload() else "not supported"
    assert f"GPU offload: {expected}" in proc.stdout
