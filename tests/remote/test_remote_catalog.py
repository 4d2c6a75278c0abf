"""Remote entries in models.toml (parsed by nudge_local._remote_catalog until catalog.py takes
the remote fields) and a remote nudging model's chat template from the Hub (issue 10, items 1, 3)."""

from __future__ import annotations

import json
from types import SimpleNamespace

import pytest
from fake_server import FakeCompletionServer
from fakes import TEMPLATE, make_pair
from hub_server import FakeHub

from nudge_local import CatalogError, ChatTemplateError, SettingError
from nudge_local._remote_catalog import check_remote_entry, hub_chat_template, remote_model

WHERE = "models.toml: [models.lab]"


def test_a_good_entry_passes():
    check_remote_entry(WHERE, {"role": "base", "url": "https://vllm.lab:8000/v1", "model": "llama-70b",
                               "api_key_env": "LAB_KEY"})


@pytest.mark.parametrize("table, fragment", [
    ({"url": "https://h/v1", "api_key": "sk-1"}, "keys never go in models.toml"),
    ({"url": "ftp://h"}, "must start with http:// or https://"),
    ({"url": "https://h/v1", "model": ""}, "model must be"),
    ({"url": "https://h/v1", "api_key_env": "MY KEY"}, "api_key_env must name an environment variable"),
    ({"url": "https://h/v1", "file": "x.gguf"}, "names a server (url) and a file (file)"),
])
def test_bad_entries(table, fragment):
    with pytest.raises(CatalogError) as info:
        check_remote_entry(WHERE, {"role": "base", **table})
    assert fragment in str(info.value) and "sk-1" not in str(info.value)


def entry(**kw):
    base = dict(name="lab", role="base", url=None, model=None, api_key_env=None, repo=None, revision=None)
    return SimpleNamespace(**{**base, **kw})


def test_key_comes_from_the_named_variable(monkeypatch):
    b, _ = make_pair({}, {})
    with FakeCompletionServer(b, shape="vllm", api_key="sk-lab", name="llama-70b") as server:
        monkeypatch.delenv("LAB_KEY", raising=False)
        with pytest.raises(SettingError) as info:
            remote_model(entry(url=server.url, api_key_env="LAB_KEY"))
        assert "LAB_KEY" in str(info.value) and "not set" in str(info.value)
        monkeypatch.setenv("LAB_KEY", "sk-lab")
        spec = remote_model(entry(url=server.url, api_key_env="LAB_KEY", model="llama-70b"))
        model = spec.open()
        assert spec.name == "llama-70b" and spec.role == "base"
        model.close()


@pytest.fixture
def hub(monkeypatch):
    server = FakeHub()
    monkeypatch.setenv("HF_ENDPOINT", server.start())
    yield server
    server.stop()


def test_nudging_template_from_the_hub(hub):
    hub.add("org/small-instruct", "tokenizer_config.json", json.dumps({"chat_template": TEMPLATE}).encode())
    assert hub_chat_template("org/small-instruct") == TEMPLATE
    hub.add("org/named", "tokenizer_config.json", json.dumps(
        {"chat_template": [{"name": "tool_use", "template": "x"}, {"name": "default", "template": TEMPLATE}]}).encode())
    assert hub_chat_template("org/named") == TEMPLATE


def test_remote_nudging_model_gets_the_hub_template(hub):
    hub.add("org/small-instruct", "tokenizer_config.json", json.dumps({"chat_template": TEMPLATE}).encode())
    _, n = make_pair({}, {})
    with FakeCompletionServer(n, shape="vllm", special=True, name="small") as server:  # publishes none
        spec = remote_model(entry(role="instruct", url=server.url, repo="org/small-instruct"))
        model = spec.open()
        assert model.chat_template == TEMPLATE
        model.close()


def test_hub_without_template_is_one_sentence(hub):
    hub.add("org/base-only", "tokenizer_config.json", json.dumps({"bos_token": "<s>"}).encode())
    with pytest.raises(ChatTemplateError) as info:
        hub_chat_template("org/base-only")
    assert "--chat-template FILE" in str(info.value)
    with pytest.raises(ChatTemplateError) as info:
        hub_chat_template("org/missing")
    assert "Cannot fetch the chat template of org/missing" in str(info.value)
