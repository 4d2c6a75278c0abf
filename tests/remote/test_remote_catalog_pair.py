"""Remote catalog entries end to end: a pair whose base is on a (scripted) server is one name.

Uses the real demo nudging model locally, so it is marked ``real``."""

from __future__ import annotations

import pytest
from fake_server import FakeCompletionServer
from fakes import make_pair

from nudge_local import CatalogError, Nudger
from nudge_local.catalog import load_catalog, locate_pair, model_status, user_catalog_path


@pytest.mark.real
def test_pair_with_remote_base(monkeypatch):
    b, _ = make_pair(lambda a: " x" if a is None else "<eos>", {})
    with FakeCompletionServer(b, shape="llama-server", name="lab-base", api_key="sk-lab") as s:
        path = user_catalog_path()
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(f'''
[models.lab-base]
role = "base"
url = "{s.url}"
api_key_env = "LAB_KEY"

[pairs.lab]
base = "lab-base"
nudging = "smollm2-135m-instruct"
''')
        monkeypatch.setenv("LAB_KEY", "sk-lab")
        c = load_catalog()
        e = c.model("lab-base")
        assert e.url == s.url and e.api_key_env == "LAB_KEY"
        assert model_status(e).state == "present" and model_status(e).source == "remote"
        assert len(locate_pair(c, "lab")) == 1
        with Nudger.from_catalog("lab") as n:
            assert n.names == ("lab-base", "smollm2-135m-instruct")
            assert n.info.base.engine == "remote" and n.info.base.url == s.url.removesuffix("/v1")
            r = n.generate("What is 2 plus 2?", max_tokens=8)
            assert r.text
        from nudge_local.doctor import collect, format_report
        text = format_report(collect())
        assert "model lab-base at" in text and "ok, model 'lab-base', server llama-server" in text


def test_key_in_file_refused():
    path = user_catalog_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text('[models.x]\nrole = "base"\nurl = "https://h/v1"\napi_key = "sk-oops"\n')
    with pytest.raises(CatalogError) as info:
        load_catalog()
    assert "keys never go in models.toml" in str(info.value) and "sk-oops" not in str(info.value)
