"""Result and event types shared by the engine, the CLI, the TUI and scripts."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Literal

from ._backend import EvalCounters

Source = Literal["base", "nudging"]
Mode = Literal["nudged", "base", "nudging"]

#: Why a generation ended.
#:  - ``"nudging_eos"``: the nudging model ended its answer (the normal end of a nudged answer).
#:  - ``"eos"``: the only model running (``only=...``) emitted its end-of-sequence token.
#:  - ``"length"``: the answer reached ``max_tokens`` (counted in the base model's tokenizer).
#:  - ``"stuck"``: the same nudge text was kept in consecutive rounds (the reference's guard).
#:  - ``"rounds"``: the round limit (150) was reached.
#:  - ``"context"``: the context window of a model is full.
#:  - ``"cancelled"``: the caller cancelled the stream.
#:  - ``"stop"``: the answer reached one of the caller's stop strings (which it does not include).
#:  - ``"new_turn"``: the base model began the transcript's next ``Question:`` turn; the answer
#:    ends before it (``stop_at_new_turn``).
#:  - ``"interrupted"``: the generation failed part-way (see ``GenerationError.partial``).
StopReason = Literal["nudging_eos", "eos", "length", "stuck", "rounds", "context", "cancelled", "stop",
                     "new_turn", "interrupted"]


@dataclass(frozen=True)
class Piece:
    """One streamed piece of an answer.

    ``confidence`` is the base model's top-1 probability at the position where the piece
    starts (``None`` where the base model was not consulted, e.g. ``only="nudging"``).
    """

    text: str
    source: Source
    confidence: float | None = None


@dataclass(frozen=True)
class Span:
    """A run of consecutive answer text written by one model."""

    text: str
    source: Source


@dataclass
class Stats:
    """Counters and timings of one generation. Token counts are in each model's own tokenizer,
    except ``output_tokens`` which counts the answer in the base model's tokenizer (the unit
    ``max_tokens`` limits and the benchmark reports)."""

    output_tokens: int = 0
    base_generated_tokens: int = 0
    #: base tokens generated and then dropped by the repetition guards
    base_discarded_tokens: int = 0
    base_evaluated_tokens: int = 0
    nudging_generated_tokens: int = 0
    nudging_evaluated_tokens: int = 0
    rounds: int = 0
    nudges: int = 0
    seconds: float = 0.0
    prompt_seconds: float = 0.0
    #: seconds the main thread waited for the nudging model's thread (overlap)
    wait_seconds: float = 0.0
    #: what each model computed during this generation (decode calls, rows, seconds in llama.cpp)
    base_work: EvalCounters = field(default_factory=EvalCounters)
    nudging_work: EvalCounters = field(default_factory=EvalCounters)

    @property
    def tokens_per_second(self) -> float:
        return self.output_tokens / self.seconds if self.seconds > 0 else 0.0

    def as_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["tokens_per_second"] = round(self.tokens_per_second, 3)
        for key in ("seconds", "prompt_seconds", "wait_seconds"):
            d[key] = round(getattr(self, key), 4)
        d["base_work"] = self.base_work.as_dict()
        d["nudging_work"] = self.nudging_work.as_dict()
        return d


@dataclass
class NudgeResult:
    """A finished answer. ``"".join(s.text for s in spans) == text`` always holds."""

    text: str
    spans: list[Span]
    stop_reason: StopReason
    stats: Stats = field(default_factory=Stats)
    mode: Mode = "nudged"

    @property
    def nudge_ratio(self) -> float:
        """Share of the answer's words that the nudging model wrote (a word belongs to the
        model that wrote its first character)."""
        return nudge_ratio(self.spans)

    def as_dict(self) -> dict[str, Any]:
        return {
            "text": self.text,
            "spans": [{"text": s.text, "source": s.source} for s in self.spans],
            "nudge_ratio": round(self.nudge_ratio, 4),
            "stop_reason": self.stop_reason,
            "mode": self.mode,
            "stats": self.stats.as_dict(),
        }


@dataclass(frozen=True)
class ModelInfo:
    """What the public layers may know about one loaded model (``Nudger.info``)."""

    #: The catalog name, else the file name.
    name: str
    role: Literal["base", "nudging"]
    #: Where it runs: ``"llama.cpp"`` (in this process), ``"remote"`` or ``"fake"`` (tests).
    engine: str
    #: The model file (local models only).
    path: str | None
    file_bytes: int
    n_ctx: int
    n_vocab: int
    #: llama.cpp threads and GPU layers (local models only).
    n_threads: int | None = None
    n_gpu_layers: int | None = None
    #: Where a remote model is served.
    url: str | None = None
    #: Estimated f16 KV cache size at ``n_ctx`` (None when unknown).
    kv_cache_bytes: int | None = None
    architecture: str = ""
    quantization: str = ""

    def as_dict(self) -> dict[str, object]:
        return asdict(self)


@dataclass(frozen=True)
class PairInfo:
    """The loaded pair: its catalog name (None for two paths), both models, the default γ."""

    name: str | None
    base: ModelInfo
    nudging: ModelInfo
    gamma: float

    @property
    def label(self) -> str:
        return self.name or f"{self.base.name} + {self.nudging.name}"

    def as_dict(self) -> dict[str, object]:
        return {"name": self.name, "label": self.label, "gamma": self.gamma,
                "base": self.base.as_dict(), "nudging": self.nudging.as_dict()}


def nudge_ratio(spans: list[Span]) -> float:
    words = nudged = 0
    prev_space = True
    for span in spans:
        for ch in span.text:
            is_space = ch.isspace()
            if prev_space and not is_space:
                words += 1
                nudged += span.source == "nudging"
            prev_space = is_space
    return nudged / words if words else 0.0


def merge_spans(pieces: list[Piece] | list[Span]) -> list[Span]:
    """Join consecutive pieces from the same model into spans; drop empty ones."""
    spans: list[Span] = []
    for p in pieces:
        if not p.text:
            continue
        if spans and spans[-1].source == p.source:
            spans[-1] = Span(spans[-1].text + p.text, p.source)
        else:
            spans.append(Span(p.text, p.source))
    return spans
