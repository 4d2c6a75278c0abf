"""The thin layer between the app and the engine.

It owns one ``Nudger`` (or a stand-in with the same contract, ``PairModel``), loads it off the
UI thread, runs one generation at a time, cancels it, and fits a conversation into the
models' contexts. The Textual side only calls ``load``/``run``/``fit`` from worker threads
and ``cancel`` from anywhere.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal, Protocol
from urllib.parse import urlsplit

from nudge_local import NudgeResult, PairInfo, Piece

from .context import Fit, TokenCounts, fit_conversation
from .settings import GenerationSettings

Messages = list[dict[str, str]]


class PairStream(Protocol):
    """What ``Nudger.stream`` returns, as far as the UI uses it."""

    result: NudgeResult | None

    def __iter__(self) -> Iterator[Piece]: ...

    def cancel(self) -> None: ...


class PairModel(Protocol):
    """What the UI needs of a loaded pair: ``nudge_local.Nudger`` has all of it."""

    @property
    def info(self) -> PairInfo: ...

    def stream(self, prompt: str | None = None, *, messages: Sequence[Mapping[str, str]] | None = None,
               gamma: float | None = None, max_tokens: int = 256, system: str | None = None,
               temperature: float = 0.0, only: Literal["base", "nudging"] | None = None) -> PairStream: ...

    def count_tokens(self, prompt: str | None = None, *, messages: Sequence[Mapping[str, str]] | None = None,
                     system: str | None = None) -> dict[str, int]: ...

    def close(self) -> None: ...


@dataclass(frozen=True)
class ModelSpec:
    """Which models to load: a catalog pair name, or two GGUF paths."""

    pair: str | None = None
    base: str | None = None
    nudging: str | None = None

    @property
    def label(self) -> str:
        if self.pair:
            return self.pair
        return f"{_short(self.base)} + {_short(self.nudging)}"

    def to_json(self) -> str:
        return json.dumps({"pair": self.pair, "base": self.base, "nudging": self.nudging})

    @classmethod
    def from_json(cls, text: str | None) -> ModelSpec | None:
        if not text:
            return None
        try:
            data = json.loads(text)
            spec = cls(data.get("pair"), data.get("base"), data.get("nudging"))
        except (ValueError, AttributeError):
            return None
        return spec if spec.pair or (spec.base and spec.nudging) else None


def _short(where: str | None) -> str:
    """A file's name, or a server's host for a model behind a URL."""
    if where and where.startswith(("http://", "https://")):
        return urlsplit(where).netloc or where
    return Path(where or "?").name


Loader = Callable[[ModelSpec], PairModel]


def load_nudger(spec: ModelSpec) -> PairModel:
    """The real loader: a ``nudge_local.Nudger`` for ``spec``."""
    from nudge_local import Nudger

    if spec.pair:
        return Nudger.from_catalog(spec.pair)
    assert spec.base and spec.nudging
    return Nudger.from_paths(base=spec.base, nudging=spec.nudging)


class NoModelError(RuntimeError):
    """No model pair is loaded."""


class Engine:
    """One loaded model pair; one generation at a time."""

    def __init__(self, loader: Loader = load_nudger) -> None:
        self._loader = loader
        self._nudger: PairModel | None = None
        self._lock = threading.Lock()  # held for a whole load or generation
        self._stream: PairStream | None = None
        self._cancel = threading.Event()
        self.spec: ModelSpec | None = None
        self.info: PairInfo | None = None

    @property
    def ready(self) -> bool:
        return self._nudger is not None

    def load(self, spec: ModelSpec) -> None:
        """Load ``spec`` (blocking: call from a worker thread). Keeps the old pair on failure."""
        self.cancel()
        with self._lock:
            nudger = self._loader(spec)
            old, self._nudger, self.spec, self.info = self._nudger, nudger, spec, nudger.info
        if old is not None:
            old.close()

    def _loaded(self) -> PairModel:
        if self._nudger is None:
            raise NoModelError("No model pair is loaded.")
        return self._nudger

    def count(self, messages: Messages, system: str | None) -> TokenCounts:
        """The prompt sizes of ``messages`` (ending with a user turn) for both models."""
        with self._lock:  # not while a generation runs: a Nudger does one thing at a time
            counts = self._loaded().count_tokens(messages=messages, system=system)
        return TokenCounts(counts["base"], counts["nudging"], counts["base_n_ctx"], counts["nudging_n_ctx"])

    def fit(self, messages: Messages, settings: GenerationSettings) -> Fit:
        """The newest part of ``messages`` that fits both contexts with room for the reply."""
        system = settings.system or None
        return fit_conversation(messages, lambda ms: self.count(ms, system), settings.max_tokens)

    def run(self, messages: Messages, settings: GenerationSettings, on_piece: Callable[[Piece], object],
            mode: str | None = None) -> NudgeResult:
        """Generate one reply, calling ``on_piece`` per piece; return the ``NudgeResult``."""
        with self._lock:
            nudger = self._loaded()
            self._cancel.clear()
            stream = nudger.stream(messages=messages, **settings.stream_kwargs(mode))
            self._stream = stream
            if self._cancel.is_set():  # Esc pressed while the stream was being created
                stream.cancel()
            try:
                for piece in stream:
                    on_piece(piece)
            finally:
                self._stream = None
            assert stream.result is not None
            return stream.result

    def cancel(self) -> None:
        """Stop the running generation, if any (thread-safe, returns at once)."""
        self._cancel.set()
        stream = self._stream
        if stream is not None:
            stream.cancel()

    def close(self) -> None:
        self.cancel()
        with self._lock:
            nudger, self._nudger = self._nudger, None
        if nudger is not None:
            nudger.close()
