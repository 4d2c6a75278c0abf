"""Downloads against a real local HTTP server that answers like the Hugging Face Hub."""

from __future__ import annotations

import hashlib
import socket
import threading

import pytest
from hub_server import FakeHub, fake_gguf

from nudge_local._errors import CatalogError, ModelNotInstalledError
from nudge_local.catalog import hub_path, load_catalog, locate_model, model_status, partial_path
from nudge_local.download import (
    DiskSpaceError,
    DownloadAccessError,
    DownloadCancelledError,
    DownloadNetworkError,
    DownloadNotFoundError,
    DownloadOfflineError,
    DownloadVerificationError,
    download,
)

DATA = fake_gguf(300_000, seed=1)
OTHER = fake_gguf(200_000, seed=2)

USER_CATALOG = f"""
[models.tiny-base]
role = "base"
repo = "acme/tiny-base-GGUF"
file = "tiny-base.Q4_K_M.gguf"
size = {len(DATA)}
license = "apache-2.0"

[models.tiny-chat]
role = "instruct"
repo = "acme/tiny-chat-GGUF"
file = "tiny-chat.Q8_0.gguf"
size = {len(OTHER)}
sha256 = "{hashlib.sha256(OTHER).hexdigest()}"
license = "apache-2.0"

[models.gated-base]
role = "base"
repo = "bigco/gated-GGUF"
file = "gated.gguf"
size = 1000
license = "other"

[models.no-such-file]
role = "base"
repo = "acme/tiny-base-GGUF"
file = "missing.gguf"
size = 1000
license = "apache-2.0"

[models.no-such-repo]
role = "base"
repo = "nobody/nothing-GGUF"
file = "x.gguf"
size = 1000
license = "apache-2.0"

[pairs.tiny]
base = "tiny-base"
nudging = "tiny-chat"
gamma = 0.3
description = "test pair"
"""


@pytest.fixture
def hub(tmp_path, monkeypatch, isolated_models_dir):
    for var in ("XDG_CONFIG_HOME", "XDG_CACHE_HOME", "XDG_DATA_HOME"):
        monkeypatch.setenv(var, str(tmp_path / var.lower()))
    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    monkeypatch.delenv("HF_TOKEN", raising=False)
    # huggingface-hub hands over 10 MB chunks; our files are 300 KB, so use small chunks to
    # get the partial writes a real multi-GB transfer has.
    from huggingface_hub import constants

    monkeypatch.setattr(constants, "DOWNLOAD_CHUNK_SIZE", 16 * 1024)
    conf = tmp_path / "xdg_config_home" / "nudge-local"
    conf.mkdir(parents=True)
    (conf / "models.toml").write_text(USER_CATALOG)
    server = FakeHub()
    server.add("acme/tiny-base-GGUF", "tiny-base.Q4_K_M.gguf", DATA)
    server.add("acme/tiny-chat-GGUF", "tiny-chat.Q8_0.gguf", OTHER)
    server.add("bigco/gated-GGUF", "gated.gguf", b"GGUF" + bytes(996), gated=401)
    monkeypatch.setenv("HF_ENDPOINT", server.start())
    yield server
    server.stop()


def test_download_lands_verified_with_progress(hub):
    events = []
    path = download("tiny-base", progress=events.append)
    assert path == hub_path(load_catalog().model("tiny-base"))
    assert path.read_bytes() == DATA
    assert not partial_path(load_catalog().model("tiny-base")).exists()
    phases = [e.phase for e in events]
    assert phases[0] == "connecting" and phases[-1] == "done"
    assert "downloading" in phases and "verifying" in phases
    last_dl = [e for e in events if e.phase == "downloading"][-1]
    assert last_dl.downloaded == last_dl.total == len(DATA)
    assert locate_model(load_catalog().model("tiny-base")) == path
    st = model_status(load_catalog().model("tiny-base"))
    assert (st.state, st.size_on_disk, st.source) == ("present", len(DATA), "hub")


def test_pair_download_returns_both_and_second_run_needs_no_network(hub):
    paths = download("tiny")
    assert [p.read_bytes() for p in paths] == [DATA, OTHER]
    n = len(hub.requests)
    hub.stop()  # present files must not need the Hub
    events = []
    assert download("tiny", progress=events.append) == paths
    assert [e.phase for e in events] == ["present", "present"]
    assert len(hub.requests) == n


def test_transfer_cut_halfway_resumes_and_completes(hub):
    hub.files[("acme/tiny-base-GGUF", "tiny-base.Q4_K_M.gguf")].cut_after = len(DATA) // 2
    path = download("tiny-base")
    assert path.read_bytes() == DATA
    gets = [r for r in hub.requests if r[0] == "GET"]
    assert len(gets) == 2
    resumed_at = int(gets[1][2].removeprefix("bytes=").split("-")[0])
    assert 0 < resumed_at <= len(DATA) // 2  # continued, did not start over


def test_cancel_keeps_partial_and_next_run_resumes(hub):
    entry = load_catalog().model("tiny-base")
    chunks = []

    def cancel() -> bool:  # the UI's "cancel" pressed after three chunks
        chunks.append(1)
        return len(chunks) > 3

    with pytest.raises(DownloadCancelledError, match="run it again to resume"):
        download("tiny-base", cancel=cancel)
    assert not hub_path(entry).exists()
    st = model_status(entry)
    assert st.state == "partial" and 0 < st.size_on_disk < len(DATA)
    with pytest.raises(ModelNotInstalledError):
        locate_model(entry)  # a partial file is never offered to the engine
    assert download("tiny-base").read_bytes() == DATA
    assert hub.requests[-1][2] == f"bytes={st.size_on_disk}-"


def test_cancel_with_an_event(hub):
    cancel = threading.Event()
    cancel.set()
    with pytest.raises(DownloadCancelledError):
        download("tiny-chat", cancel=cancel)
    assert not hub_path(load_catalog().model("tiny-chat")).exists()


def test_corrupt_transfer_is_rejected_and_not_left_loadable(hub):
    hub.files[("acme/tiny-base-GGUF", "tiny-base.Q4_K_M.gguf")].advertised_sha256 = "0" * 64
    entry = load_catalog().model("tiny-base")
    with pytest.raises(DownloadVerificationError, match="corrupt"):
        download("tiny-base")
    assert not hub_path(entry).exists() and not partial_path(entry).exists()
    assert model_status(entry).state == "missing"


def test_catalog_sha256_is_checked_too(hub):
    # The Hub advertises the same (wrong) sha as the content, but the catalog knows better.
    f = hub.files[("acme/tiny-chat-GGUF", "tiny-chat.Q8_0.gguf")]
    f.data = fake_gguf(len(OTHER), seed=9)
    with pytest.raises(DownloadVerificationError, match="catalog"):
        download("tiny-chat")
    assert not hub_path(load_catalog().model("tiny-chat")).exists()


def test_404_file_and_repo_have_their_own_messages(hub):
    with pytest.raises(DownloadNotFoundError, match=r"missing\.gguf is not in acme/tiny-base-GGUF"):
        download("no-such-file")
    with pytest.raises(DownloadNotFoundError, match=r"nobody/nothing-GGUF was not found"):
        download("no-such-repo")
    with pytest.raises(DownloadNotFoundError, match=r"Revision 'v9'"):
        download("tiny-base", revision="v9")


@pytest.mark.parametrize("status", [401, 403])
def test_gated_repo_explains_license_and_token(hub, status):
    hub.files[("bigco/gated-GGUF", "gated.gguf")].gated = status
    with pytest.raises(DownloadAccessError) as err:
        download("gated-base")
    msg = str(err.value)
    assert f"HTTP {status}" in msg and "accept the model's license" in msg and "HF_TOKEN" in msg
    assert "bigco/gated-GGUF" in msg


def test_connection_refused_is_a_network_error(hub, monkeypatch):
    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    monkeypatch.setenv("HF_ENDPOINT", f"http://127.0.0.1:{port}")
    with pytest.raises(DownloadNetworkError, match="connection refused") as err:
        download("tiny-base")
    assert "already present keep working" in str(err.value)


def test_offline_mode_uses_present_files_and_explains_missing_ones(hub, monkeypatch):
    base = download("tiny-base")
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    n = len(hub.requests)
    assert download("tiny-base", revision="main") == base  # even an explicit revision
    assert locate_model(load_catalog().model("tiny-base")) == base
    with pytest.raises(DownloadOfflineError, match="HF_HUB_OFFLINE is set"):
        download("tiny-chat")
    assert len(hub.requests) == n


def test_not_enough_disk_space(hub, monkeypatch):
    import shutil
    from collections import namedtuple

    usage = namedtuple("usage", "total used free")
    monkeypatch.setattr(shutil, "disk_usage", lambda p: usage(10**9, 10**9 - 1000, 1000))
    with pytest.raises(DiskSpaceError, match="free disk space"):
        download("tiny-base")
    assert not hub_path(load_catalog().model("tiny-base")).exists()


def test_unknown_name_lists_pairs_and_models(hub):
    with pytest.raises(CatalogError, match="neither a pair"):
        download("nope")
