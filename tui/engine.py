"""The thin layer between the app and the engine.

It owns one ``Nudger`` (or a stand-in with the same ``stream`` contract), loads it off the UI
thread, runs one generation at a time and cancels it. The Textual side only ever calls
``load``/``run`` from worker threads and ``cancel`` from anywhere.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .settings import GenerationSettings


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
        return f"{Path(self.base or '?').name} + {Path(self.nudging or '?').name}"

    def to_json(self) -> str:
        return json.dumps({"pair": self.pair, "base": self.base, "nudging": self.nudging})

    @classmethod
    def from_json(cls, text: str | None) -> "ModelSpec | None":
        if not text:
            return None
        try:
            data = json.loads(text)
            spec = cls(data.get("pair"), data.get("base"), data.get("nudging"))
        except (ValueError, AttributeError):
            return None
        return spec if spec.pair or (spec.base and spec.nudging) else None


Loader = Callable[[ModelSpec], Any]


def load_nudger(spec: ModelSpec) -> Any:
    """The real loader: a ``nudge_local.Nudger`` for ``spec``."""
    from nudge_local import Nudger

    if spec.pair:
        return Nudger.from_catalog(spec.pair)
    return Nudger.from_paths(base=spec.base, nudging=spec.nudging)


class Engine:
    """One loaded model pair; one generation at a time."""

    def __init__(self, loader: Loader = load_nudger) -> None:
        self._loader = loader
        self._nudger: Any = None
        self._lock = threading.Lock()  # held for a whole load or generation
        self._stream: Any = None
        self._cancel = threading.Event()
        self.spec: ModelSpec | None = None

    @property
    def ready(self) -> bool:
        return self._nudger is not None

    def load(self, spec: ModelSpec) -> None:
        """Load ``spec`` (blocking: call from a worker thread). Keeps the old pair on failure."""
        self.cancel()
        with self._lock:
            nudger = self._loader(spec)
            old, self._nudger, self.spec = self._nudger, nudger, spec
        if old is not None and hasattr(old, "close"):
            old.close()

    def run(
        self,
        messages: list[dict[str, str]],
        settings: GenerationSettings,
        on_piece: Callable[[Any], None],
        mode: str | None = None,
    ) -> Any:
        """Generate one reply, calling ``on_piece`` per piece; return the ``NudgeResult``."""
        if self._nudger is None:
            raise RuntimeError("no model pair is loaded")
        with self._lock:
            self._cancel.clear()
            stream = self._nudger.stream(messages=messages, **settings.stream_kwargs(mode))
            self._stream = stream
            if self._cancel.is_set():  # Esc pressed while the stream was being created
                stream.cancel()
            try:
                for piece in stream:
                    on_piece(piece)
            finally:
                self._stream = None
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
        if nudger is not None and hasattr(nudger, "close"):
            nudger.close()
