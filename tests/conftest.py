from __future__ import annotations

import pytest


@pytest.fixture(scope="session")
def demo_nudger():
    """The real demo pair (Gemma-3-270M base + SmolLM2-135M-Instruct), loaded once."""
    from nudge_local import ModelSettings, Nudger

    settings = ModelSettings(n_ctx=2048)
    with Nudger.from_catalog("demo", base_settings=settings, nudging_settings=settings) as n:
        yield n
