"""Generation settings and the engine adapter."""

from __future__ import annotations

import threading

import pytest
from fake_engine import FakeNudger

from nudge_local_tui.engine import Engine, ModelSpec
from nudge_local_tui.settings import GenerationSettings, InvalidSetting


def test_settings_validate_and_step():
    s = GenerationSettings()
    assert s.step_gamma(0.05).gamma == 0.45 and s.step_gamma(-1).gamma == 0.0 and s.step_gamma(5).gamma == 1.0
    for bad in (dict(gamma=1.5), dict(max_tokens=0), dict(temperature=-1), dict(mode="x")):
        with pytest.raises(InvalidSetting):
            GenerationSettings(**bad).validated()
    assert s.stream_kwargs("base")["only"] == "base" and s.stream_kwargs()["only"] is None
    assert s.stream_kwargs()["system"] is None


def test_settings_round_trip_and_bad_saved_settings_fall_back():
    s = GenerationSettings(gamma=0.25, max_tokens=9, system="hi", mode="nudging")
    assert GenerationSettings.from_json(s.to_json()) == s
    assert GenerationSettings.from_json('{"gamma": 7}') == GenerationSettings()
    assert GenerationSettings.from_json("not json") == GenerationSettings()


def test_model_spec_round_trip():
    for spec in (ModelSpec(pair="demo"), ModelSpec(base="/a.gguf", nudging="/b.gguf")):
        assert ModelSpec.from_json(spec.to_json()) == spec
    assert ModelSpec(base="/x/a.gguf", nudging="/y/b.gguf").label == "a.gguf + b.gguf"
    assert ModelSpec.from_json('{"pair": null}') is None


def test_engine_cancel_from_another_thread_and_reload_closes_the_old_pair():
    first, second = FakeNudger(filler=100, hold_after=2), FakeNudger()
    loaded = iter([first, second])
    engine = Engine(lambda spec: next(loaded))
    engine.load(ModelSpec(pair="a"))
    threading.Thread(target=lambda: (first.holding.wait(5), engine.cancel())).start()
    pieces = []
    result = engine.run([{"role": "user", "content": "q"}], GenerationSettings(), pieces.append)
    assert result.stop_reason == "cancelled" and len(pieces) == 2
    engine.load(ModelSpec(pair="b"))
    assert first.closed and engine.spec == ModelSpec(pair="b")
    result = engine.run([{"role": "user", "content": "q"}], GenerationSettings(gamma=0.2), pieces.append)
    assert result.stop_reason == "nudging_eos" and second.calls[0]["gamma"] == 0.2


def test_a_failed_load_keeps_the_old_pair():
    good = FakeNudger()

    def loader(spec):
        if spec.pair == "bad":
            raise RuntimeError("nope")
        return good

    engine = Engine(loader)
    engine.load(ModelSpec(pair="good"))
    with pytest.raises(RuntimeError):
        engine.load(ModelSpec(pair="bad"))
    assert engine.ready and engine.spec == ModelSpec(pair="good") and not good.closed


async def test_starts_on_the_last_pair_used_else_the_default(tmp_path):
    from tui_helpers import wait_ready

    from nudge_local_tui.app import NudgeApp
    from nudge_local_tui.store import ChatStore

    store = ChatStore(tmp_path / "c.sqlite3")
    loaded = []

    def loader(spec):
        loaded.append(spec)
        return FakeNudger()

    app = NudgeApp(store=store, loader=loader, default_spec=lambda: ModelSpec(pair="demo"))
    async with app.run_test() as pilot:
        await wait_ready(pilot)
    app = NudgeApp(store=store, spec=ModelSpec(pair="other"), loader=loader, default_spec=lambda: None)
    async with app.run_test() as pilot:
        await wait_ready(pilot)
    app = NudgeApp(store=store, loader=loader, default_spec=lambda: ModelSpec(pair="demo"))
    async with app.run_test() as pilot:
        await wait_ready(pilot)
    assert [s.pair for s in loaded] == ["demo", "other", "other"]
    empty = NudgeApp(store=ChatStore(tmp_path / "e.sqlite3"), loader=loader, default_spec=lambda: None)
    async with empty.run_test() as pilot:
        await pilot.pause(0.2)
        assert not empty.engine.ready and "F2" in empty.model_state
