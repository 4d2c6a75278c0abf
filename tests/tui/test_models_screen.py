"""The model manager: pair states from the catalog, download with progress and cancel, choosing a
pair, loading two local GGUF files by path. Downloads go to a real local HTTP server."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from fake_engine import FakeNudger
from textual.widgets import DataTable, Input, Static
from tui_helpers import make_app, wait_ready, wait_until

from nudge_local_tui.pairs import progress_text
from nudge_local_tui.screens import models as models_screen
from nudge_local_tui.screens.models import ModelsScreen

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # tests/, for hub_server
from hub_server import FakeHub  # noqa: E402

BASE = b"GGUF" + bytes(range(256)) * 2400  # ~600 KB
CHAT = b"GGUF" + bytes(reversed(range(256))) * 1200

USER_CATALOG = """
[models.tiny-base]
role = "base"
repo = "acme/tiny-base-GGUF"
file = "tiny-base.gguf"
size = {base}
license = "apache-2.0"

[models.tiny-chat]
role = "instruct"
repo = "acme/tiny-chat-GGUF"
file = "tiny-chat.gguf"
size = {chat}
license = "apache-2.0"

[models.local-base]
role = "base"
path = "{local}"
license = "apache-2.0"

[pairs.tiny]
base = "tiny-base"
nudging = "tiny-chat"
gamma = 0.3
description = "test pair"

[pairs.local]
base = "local-base"
nudging = "local-base"
description = "both files already here"
"""


@pytest.fixture
def hub(private_dirs, isolated_models_dir, monkeypatch):
    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    from huggingface_hub import constants

    monkeypatch.setattr(constants, "DOWNLOAD_CHUNK_SIZE", 16 * 1024)
    local = private_dirs / "local.gguf"
    local.write_bytes(b"GGUF" + bytes(100))
    conf = private_dirs / "xdg_config_home" / "nudge-local"
    conf.mkdir(parents=True)
    (conf / "models.toml").write_text(USER_CATALOG.format(base=len(BASE), chat=len(CHAT), local=local))
    server = FakeHub()
    server.add("acme/tiny-base-GGUF", "tiny-base.gguf", BASE)
    server.add("acme/tiny-chat-GGUF", "tiny-chat.gguf", CHAT)
    monkeypatch.setenv("HF_ENDPOINT", server.start())
    yield server
    server.stop()


def _row(table: DataTable, name: str) -> list[str]:
    return [str(c) for c in table.get_row(name)]


async def _open_models(pilot) -> tuple[ModelsScreen, DataTable]:
    await pilot.press("f2")
    screen = pilot.app.screen
    assert isinstance(screen, ModelsScreen)
    return screen, screen.query_one(DataTable)


async def _select(pilot, table: DataTable, name: str) -> None:
    table.move_cursor(row=table.get_row_index(name))
    await pilot.pause()


async def test_pairs_show_their_state_and_a_download_completes(tmp_path, hub, monkeypatch):
    app, _ = make_app(tmp_path)
    async with app.run_test(size=(120, 34)) as pilot:
        await wait_ready(pilot)
        screen, table = await _open_models(pilot)
        assert _row(table, "tiny")[4] == "missing" and _row(table, "tiny")[5] == "0 B"
        assert _row(table, "local")[4] == "present"
        assert _row(table, "demo")  # the packaged catalog is listed too
        labels: list[str] = []  # every progress line the screen showed

        def spy(progress):
            labels.append(progress_text(progress))
            return labels[-1]

        monkeypatch.setattr(models_screen, "progress_text", spy)
        await _select(pilot, table, "tiny")
        await pilot.press("d")
        await wait_until(pilot, lambda: screen._cancel is None and _row(table, "tiny")[4] == "present", 30)
        assert _row(table, "tiny")[5] == "921.6 KB"  # len(BASE) + len(CHAT) bytes
        assert any("downloading" in t and " of " in t and "/s" in t for t in labels)
        assert "tiny: downloaded." in str(screen.query_one("#download-label", Static).render())


async def test_a_download_can_be_cancelled_and_the_partial_file_is_shown(tmp_path, hub, monkeypatch):
    import time

    from nudge_local._download_progress import Tracker

    real_update = Tracker.update

    def slow_update(self, n):  # a slow network: 20 ms per 16 KB chunk
        time.sleep(0.02)
        return real_update(self, n)

    monkeypatch.setattr(Tracker, "update", slow_update)
    app, _ = make_app(tmp_path)
    async with app.run_test(size=(120, 34)) as pilot:
        await wait_ready(pilot)
        screen, table = await _open_models(pilot)
        await _select(pilot, table, "tiny")
        await pilot.press("d")
        label = screen.query_one("#download-label", Static)
        await wait_until(pilot, lambda: "downloading" in str(label.render()))
        await pilot.press("x")
        await wait_until(pilot, lambda: screen._cancel is None, 30)
        assert "cancel" in str(screen.query_one("#download-label", Static).render()).lower()
        assert _row(table, "tiny")[4] == "partial"


async def test_choose_a_present_pair_loads_it(tmp_path, hub):
    loaded = []
    nudger = FakeNudger()
    app, _ = make_app(tmp_path, nudger)
    app.engine._loader = lambda spec: (loaded.append(spec), nudger)[1]
    async with app.run_test(size=(120, 34)) as pilot:
        await wait_ready(pilot)
        screen, table = await _open_models(pilot)
        await _select(pilot, table, "tiny")
        await pilot.press("enter")  # not downloaded: refused with a message
        assert app.screen is screen
        await _select(pilot, table, "local")
        await pilot.press("enter")
        await wait_until(pilot, lambda: app.model_label == "local" and app.model_state == "ready")
        assert app.screen is app.chat
        assert loaded[-1].pair == "local"
        assert str(app.chat.query_one("StatusBar").render()).startswith("◆ local  ready")


async def test_two_local_files_by_path(tmp_path, hub):
    loaded = []
    nudger = FakeNudger()
    app, _ = make_app(tmp_path, nudger)
    app.engine._loader = lambda spec: (loaded.append(spec), nudger)[1]
    base, chat = tmp_path / "b.gguf", tmp_path / "c.gguf"
    base.write_bytes(b"GGUF")
    chat.write_bytes(b"GGUF")
    async with app.run_test(size=(120, 34)) as pilot:
        await wait_ready(pilot)
        screen, _ = await _open_models(pilot)
        screen.query_one("#base-path", Input).value = str(base)
        screen.query_one("#nudging-path", Input).value = str(tmp_path / "missing.gguf")
        await pilot.click("#load-paths")
        assert app.screen is screen  # a missing file is refused
        field = screen.query_one("#nudging-path", Input)
        field.value = str(chat)
        field.focus()
        await pilot.press("enter")  # (the error toast now covers the Load button)
        await wait_until(pilot, lambda: app.model_label == "b.gguf + c.gguf" and app.model_state == "ready")
        assert (loaded[-1].base, loaded[-1].nudging) == (str(base), str(chat))
