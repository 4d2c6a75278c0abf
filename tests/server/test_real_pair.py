"""The server on the real demo pair (llama.cpp): what comes through HTTP is what the engine wrote."""

from __future__ import annotations

import pytest
from server_live import LiveServer

from nudge_local.server import create_app

pytestmark = pytest.mark.real

MESSAGES = [{"role": "user", "content": "Give two tips for sleeping better."}]


def test_streamed_answer_matches_the_python_api(demo_nudger):
    direct = demo_nudger.generate(messages=MESSAGES, max_tokens=32)
    with LiveServer(create_app(demo_nudger)) as live, live.client(timeout=300) as client:
        live.wait_ready()
        chunks = list(client.chat.completions.create(model="demo", messages=MESSAGES, max_tokens=32, stream=True,
                                                     stream_options={"include_usage": True}))
        plain = client.chat.completions.create(model="demo:base", messages=MESSAGES, max_tokens=8)
    content = [c for c in chunks if c.choices and c.choices[0].delta.content]
    streamed = "".join(c.choices[0].delta.content for c in content)
    summary = chunks[-2].choices[0].model_extra["nudge"]
    assert streamed == direct.text == "".join(s["text"] for s in summary["spans"])
    assert summary["nudge_ratio"] == round(direct.nudge_ratio, 4)
    assert summary["stop_reason"] == direct.stop_reason
    sources = {c.choices[0].model_extra["nudge"]["source"] for c in content}
    assert sources <= {"base", "nudging"} and "nudging" in sources
    assert chunks[-1].usage.completion_tokens == direct.stats.output_tokens
    assert chunks[-1].usage.prompt_tokens == demo_nudger.count_tokens(messages=MESSAGES)["base"]
    assert plain.choices[0].model_extra["nudge"]["mode"] == "base" and plain.usage.completion_tokens <= 8
