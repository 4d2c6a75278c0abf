"""Run folders: the model-hash cache, the plot without matplotlib, folder names."""

from __future__ import annotations

import builtins
import hashlib
import os

from fake_pair import standard_pair

from nudge_local.eval import resolve_tasks, run_eval
from nudge_local.eval._plot import NO_MATPLOTLIB
from nudge_local.eval._store import default_out_dir, file_sha256, safe_label


def test_model_hash_is_cached_by_path_size_and_mtime(tmp_path):
    model = tmp_path / "m.gguf"
    model.write_bytes(b"a" * 1000)
    first = file_sha256(model, cache_dir=tmp_path)
    assert first == hashlib.sha256(b"a" * 1000).hexdigest()
    stat = model.stat()
    model.write_bytes(b"b" * 1000)                      # same size...
    os.utime(model, ns=(stat.st_atime_ns, stat.st_mtime_ns))  # ...and same mtime: the cache answers
    assert file_sha256(model, cache_dir=tmp_path) == first
    os.utime(model, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000_000))
    assert file_sha256(model, cache_dir=tmp_path) == hashlib.sha256(b"b" * 1000).hexdigest()


def test_without_matplotlib_the_report_is_still_written(tmp_path, monkeypatch):
    real_import = builtins.__import__

    def no_matplotlib(name, *args, **kwargs):
        if name.startswith("matplotlib"):
            raise ImportError("No module named 'matplotlib'")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_matplotlib)
    tasks = resolve_tasks(["coin_flip"])
    with standard_pair(tasks) as n:
        report = run_eval(n, tasks, gammas=[0.4], systems="base,nudged", limit=2, out_dir=tmp_path / "r")
    assert report.plot_note == NO_MATPLOTLIB
    assert NO_MATPLOTLIB == "No plot: matplotlib is not installed (pip install 'nudge-local[eval]')."
    assert (tmp_path / "r" / "results.json").is_file() and not (tmp_path / "r" / "accuracy_vs_gamma.png").exists()


def test_folder_names():
    assert safe_label("demo") == "demo"
    assert safe_label("gemma 27b.gguf + llama/7b.gguf") == "gemma_27b.gguf_llama_7b.gguf"
    a = default_out_dir("demo")
    a.mkdir(parents=True)
    b = default_out_dir("demo")
    assert a != b and b.parent == a.parent and b.name.startswith(a.name)
