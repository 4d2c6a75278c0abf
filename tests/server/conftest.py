"""Fixtures of the server tests: a scripted pair, a live server on it, an openai client."""

from __future__ import annotations

from collections.abc import Iterator

import openai
import pytest
from server_live import LiveServer
from server_pairs import ScriptedPair, scripted_pair

from nudge_local.server import create_app


@pytest.fixture
def pair() -> ScriptedPair:
    return scripted_pair()


@pytest.fixture
def live(pair: ScriptedPair) -> Iterator[LiveServer]:
    with LiveServer(create_app(pair.nudger)) as server:
        server.wait_ready()
        yield server


@pytest.fixture
def client(live: LiveServer) -> Iterator[openai.OpenAI]:
    with live.client() as c:
        yield c
