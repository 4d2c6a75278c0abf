"""Hub downloads under faults, against a real local HTTP server (tests/hub_server.py):
concurrent downloads of one model, catalog paths that try to leave the models folder, a Hub
that gives no sha256, cancel on a slow line, 429/5xx with Retry-After, a disk that fills up."""

from __future__ import annotations

import errno
import json
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from hub_server import FakeHub, fake_gguf, git_blob_sha1

from nudge_local import _http_fetch
from nudge_local._errors import CatalogError
from nudge_local.catalog import ModelEntry, hub_path, load_catalog, partial_path
from nudge_local.download import (
    DiskSpaceError,
    DownloadCancelledError,
    DownloadNetworkError,
    DownloadVerificationError,
    download,
)

BIG = fake_gguf(600_000, seed=3)
GIT = fake_gguf(200_000, seed=4)
SLOW = fake_gguf(3_000_000, seed=5)

CATALOG = f"""
[models.tiny-base]
role = "base"
repo = "acme/tiny-base-GGUF"
file = "tiny-base.gguf"
size = {len(BIG)}
license = "apache-2.0"

[models.tiny-git]
role = "instruct"
repo = "acme/tiny-git-GGUF"
file = "tiny-git.gguf"
size = {len(GIT)}
license = "apache-2.0"

[models.tiny-slow]
role = "base"
repo = "acme/tiny-slow-GGUF"
file = "tiny-slow.gguf"
size = {len(SLOW)}
license = "apache-2.0"
"""


def write_catalog(private_dirs: Path, text: str) -> None:
    conf = private_dirs / "xdg_config_home" / "nudge-local"
    conf.mkdir(parents=True, exist_ok=True)
    (conf / "models.toml").write_text(text)


@pytest.fixture
def hub(private_dirs, isolated_models_dir, monkeypatch):
    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    monkeypatch.delenv("HF_TOKEN", raising=False)
    write_catalog(private_dirs, CATALOG)
    server = FakeHub()
    server.add("acme/tiny-base-GGUF", "tiny-base.gguf", BIG)
    server.add("acme/tiny-git-GGUF", "tiny-git.gguf", GIT, git_etag_only=True)
    server.add("acme/tiny-slow-GGUF", "tiny-slow.gguf", SLOW)
    monkeypatch.setenv("HF_ENDPOINT", server.start())
    yield server
    server.stop()


@pytest.fixture
def quick_retries(monkeypatch):
    """Backoff pauses of 50 ms (a server's Retry-After is still honoured as sent)."""
    monkeypatch.setattr(_http_fetch, "DEFAULT_POLICY",
                        _http_fetch.RetryPolicy(attempts=5, budget_s=10, base_delay_s=0.05))


# ------------------------------------------------------------------ concurrency

def test_two_threads_downloading_one_model_fetch_it_once(hub):
    f = hub.files[("acme/tiny-git-GGUF", "tiny-git.gguf")]  # no sha256 known: only git sha1
    f.rate = 1_000_000  # 0.2 s: the two downloads overlap
    results: dict[int, object] = {}
    events: dict[int, list] = {0: [], 1: []}

    def run(i: int) -> None:
        try:
            results[i] = download("tiny-git", progress=events[i].append)
        except Exception as e:  # noqa: BLE001 - the test reports whatever happened
            results[i] = e

    threads = [threading.Thread(target=run, args=(i,)) for i in (0, 1)]
    threads[0].start()
    time.sleep(0.05)
    threads[1].start()
    for t in threads:
        t.join(30)
    path = hub_path(load_catalog().model("tiny-git"))
    assert results == {0: path, 1: path}
    assert path.read_bytes() == GIT
    assert len(hub.gets()) == 1  # the second download waited and reused the file
    waited = [e for e in events[1] if e.phase == "waiting"]
    assert waited and "Another download of tiny-git is running" in waited[0].detail
    assert events[1][-1].phase == "present"


CHILD = """
import json, sys
from nudge_local.download import download
events = []
path = download("tiny-base", progress=lambda p: events.append(p.phase))
print(json.dumps({"path": str(path), "phases": events}))
"""


def test_two_processes_downloading_one_model_fetch_it_once(hub):
    hub.files[("acme/tiny-base-GGUF", "tiny-base.gguf")].rate = 1_500_000  # 0.4 s
    child = subprocess.Popen([sys.executable, "-c", CHILD], stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 30
        while not hub.gets() and time.monotonic() < deadline:  # the child is transferring
            time.sleep(0.01)
        assert hub.gets(), "the child process never started its download"
        events = []
        ours = download("tiny-base", progress=events.append)
        out, err = child.communicate(timeout=60)
    finally:
        child.kill()
    assert child.returncode == 0, err
    theirs = json.loads(out)
    assert Path(theirs["path"]) == ours and ours.read_bytes() == BIG
    assert theirs["phases"][-1] == "done"
    assert [e.phase for e in events][-2:] == ["waiting", "present"]
    assert len(hub.gets()) == 1


# ------------------------------------------------------------------ paths stay inside

@pytest.mark.parametrize("line, key", [
    ('file = "../../../../victim.gguf"', "file"),
    ('file = "/tmp/victim.gguf"', "file"),
    ('file = "sub/../../victim.gguf"', "file"),
    ('file = "..\\\\..\\\\victim.gguf"', "file"),
    ('file = "C:victim.gguf"', "file"),
])
def test_catalog_file_outside_the_models_folder_is_refused(hub, private_dirs, line, key):
    victim = private_dirs / "victim.gguf"
    victim.write_bytes(b"the user's own file")
    write_catalog(private_dirs, f"""
[models.evil]
role = "base"
repo = "acme/tiny-base-GGUF"
{line}
size = 10
""")
    with pytest.raises(CatalogError) as err:
        download("evil")
    msg = str(err.value)
    assert "[models.evil]" in msg and f"{key} must be" in msg and len(msg.splitlines()) == 1
    assert victim.read_bytes() == b"the user's own file"
    assert hub.requests == []


@pytest.mark.parametrize("line, key", [
    ('repo = "../../evil"\nfile = "x.gguf"', "repo"),
    ('repo = "acme/../.."\nfile = "x.gguf"', "repo"),
    ('repo = "a--b/c"\nfile = "x.gguf"', "repo"),
    ('pypi = "../evil"\npypi_file = "x.gguf"\npypi_version = "1.0"', "pypi"),
    ('pypi = "evil"\npypi_file = "../x.gguf"\npypi_version = "1.0"', "pypi_file"),
    ('pypi = "evil"\npypi_file = "x.gguf"\npypi_version = "../1.0"', "pypi_version"),
    ('pypi = "evil"\npypi_file = "x.gguf"\npypi_version = "1.0"\npypi_parts = ["../p"]',
     "pypi_parts"),
])
def test_repo_and_package_names_that_leave_the_folder_are_refused(hub, private_dirs, line, key):
    write_catalog(private_dirs, f'[models.evil]\nrole = "base"\nsize = 10\n{line}\n')
    with pytest.raises(CatalogError, match=rf"\[models\.evil\]: {key} must be"):
        load_catalog()


def test_an_entry_built_in_code_cannot_escape_either(hub):
    entry = ModelEntry(name="x", role="base", repo="acme/x", file="../../../x.gguf", size=1,
                       license="")
    with pytest.raises(CatalogError, match="outside the models folder"):
        hub_path(entry)


# ------------------------------------------------------------------ no sha256 from the Hub

def test_without_a_sha256_the_git_blob_sha1_size_and_header_are_checked(hub):
    events = []
    path = download("tiny-git", progress=events.append)
    assert path.read_bytes() == GIT
    done = events[-1]
    assert done.phase == "done"
    assert done.checks == ("size", "gguf-header", "git-sha1")  # and never "sha256"
    sidecar = json.loads(path.with_name(path.name + ".json").read_text())
    assert sidecar["verified"] is False and sidecar["checks"] == ["size", "gguf-header", "git-sha1"]


def test_corrupt_bytes_are_caught_by_the_git_blob_sha1(hub):
    f = hub.files[("acme/tiny-git-GGUF", "tiny-git.gguf")]
    f.served = GIT[:1000] + bytes(100) + GIT[1100:]  # same size, same header, other bytes
    entry = load_catalog().model("tiny-git")
    with pytest.raises(DownloadVerificationError, match="git blob sha1"):
        download("tiny-git")
    assert not hub_path(entry).exists() and not partial_path(entry).exists()
    assert git_blob_sha1(GIT) != git_blob_sha1(f.served)


# ------------------------------------------------------------------ cancel at 1 MB/s

def test_cancel_at_1_mb_per_s_returns_fast_and_keeps_the_bytes(hub):
    hub.files[("acme/tiny-slow-GGUF", "tiny-slow.gguf")].rate = 1_000_000
    cancel = threading.Event()
    seen: list[int] = []
    outcome: list[BaseException] = []

    def run() -> None:
        try:
            download("tiny-slow", cancel=cancel, progress=lambda p: seen.append(p.downloaded))
        except BaseException as e:  # noqa: BLE001
            outcome.append(e)

    t = threading.Thread(target=run)
    t.start()
    deadline = time.monotonic() + 20
    while (not seen or max(seen) < 300_000) and time.monotonic() < deadline:
        time.sleep(0.01)
    pressed = time.monotonic()
    cancel.set()
    t.join(10)
    took = time.monotonic() - pressed
    assert not t.is_alive()
    assert len(outcome) == 1 and isinstance(outcome[0], DownloadCancelledError), outcome
    assert took < 0.5, f"cancel took {took:.2f} s"
    part = partial_path(load_catalog().model("tiny-slow"))
    kept = part.read_bytes()
    assert 300_000 <= len(kept) < len(SLOW) and kept == SLOW[:len(kept)]
    assert len(kept) >= max(seen)  # every byte reported as received is on disk

    hub.files[("acme/tiny-slow-GGUF", "tiny-slow.gguf")].rate = None
    assert download("tiny-slow").read_bytes() == SLOW
    assert hub.gets()[-1][2] == f"bytes={len(kept)}-"  # resumed, not started over


# ------------------------------------------------------------------ 429 / 5xx

def test_head_429_then_500_is_retried_honouring_retry_after(hub, quick_retries):
    f = hub.files[("acme/tiny-base-GGUF", "tiny-base.gguf")]
    f.head_errors = [(429, "1"), (500, None)]
    events = []
    path = download("tiny-base", progress=events.append)
    assert path.read_bytes() == BIG
    heads = [t for (m, _, _), t in zip(hub.requests, hub.times, strict=True) if m == "HEAD"]
    assert len(heads) >= 3
    assert heads[1] - heads[0] >= 0.95  # waited as the server asked
    notes = [e.detail for e in events if e.phase == "retrying"]
    assert notes[0].startswith("The Hub answered HTTP 429; retrying in 1 s")
    assert "HTTP 500" in notes[1]


def test_get_503_is_retried_too(hub, quick_retries):
    hub.files[("acme/tiny-base-GGUF", "tiny-base.gguf")].get_errors = [(503, "0"), (502, None)]
    assert download("tiny-base").read_bytes() == BIG
    assert len(hub.gets()) == 3


def test_retries_are_bounded(hub, quick_retries):
    hub.files[("acme/tiny-base-GGUF", "tiny-base.gguf")].head_errors = [(500, None)] * 20
    started = time.monotonic()
    with pytest.raises(DownloadNetworkError, match="HTTP 500 .*even after retrying"):
        download("tiny-base")
    assert len([r for r in hub.requests if r[0] == "HEAD"]) == 5
    assert time.monotonic() - started < 5


def test_a_retry_after_longer_than_the_budget_fails_at_once(hub):
    hub.files[("acme/tiny-base-GGUF", "tiny-base.gguf")].head_errors = [(503, "3600")]
    started = time.monotonic()
    with pytest.raises(DownloadNetworkError, match="HTTP 503"):
        download("tiny-base")
    assert time.monotonic() - started < 5


# ------------------------------------------------------------------ disk full

def _assert_disk_full_then_resume(err: pytest.ExceptionInfo, kept_at_least: int) -> Path:
    msg = str(err.value)
    assert msg.startswith("The disk is full: tiny-base needs ") and "network" not in msg
    assert "MB more" in msg and len(msg.splitlines()) == 1
    part = partial_path(load_catalog().model("tiny-base"))
    kept = part.read_bytes()
    assert len(kept) >= kept_at_least and kept == BIG[:len(kept)]
    return part


def test_disk_full_mid_download_on_a_small_tmpfs(hub, tmp_path, monkeypatch):
    small = tmp_path / "small"
    small.mkdir()
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", str(small)],
                             capture_output=True)
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {mounted.stderr.decode().strip()}")
    try:
        monkeypatch.setenv("NUDGE_LOCAL_MODELS_DIR", str(small / "models"))
        monkeypatch.setattr(_http_fetch, "DISK_MARGIN", 0)  # 600 KB fit in 1 MB at the start
        hub.files[("acme/tiny-base-GGUF", "tiny-base.gguf")].rate = 2_000_000  # progress events
        filler = small / "filler"

        def fill_the_disk(p) -> None:  # another program fills the disk mid-download
            if p.phase == "downloading" and p.downloaded > 100_000 and not filler.exists():
                with open(filler, "wb") as f:
                    try:
                        f.write(bytes(1024 * 1024))
                    except OSError as e:
                        assert e.errno == errno.ENOSPC

        with pytest.raises(DiskSpaceError) as err:
            download("tiny-base", progress=fill_the_disk)
        _assert_disk_full_then_resume(err, 100_000)
        filler.unlink()
        hub.files[("acme/tiny-base-GGUF", "tiny-base.gguf")].rate = None
        assert download("tiny-base").read_bytes() == BIG
    finally:
        subprocess.run(["umount", "-l", str(small)], check=False)


def test_disk_full_through_a_filesystem_that_fails_at_a_byte_count(hub, monkeypatch):
    budget = {"left": 250_000}
    real_write_all = _http_fetch.write_all

    def write_all(out, data):  # a file system with 250 KB free
        if len(data) > budget["left"]:
            real_write_all(out, data[:budget["left"]])
            budget["left"] = 0
            raise OSError(errno.ENOSPC, "No space left on device")
        budget["left"] -= len(data)
        real_write_all(out, data)

    monkeypatch.setattr(_http_fetch, "write_all", write_all)
    with pytest.raises(DiskSpaceError) as err:
        download("tiny-base")
    part = _assert_disk_full_then_resume(err, 250_000)
    assert part.stat().st_size == 250_000
    monkeypatch.setattr(_http_fetch, "write_all", real_write_all)
    assert download("tiny-base").read_bytes() == BIG
    assert hub.gets()[-1][2] == "bytes=250000-"
