"""The public entry point: a base model and a nudging model, loaded once, answering many prompts."""

from __future__ import annotations

import os
import time
import warnings
from typing import Iterator, Literal, Mapping, Sequence

from ._backend import Backend
from ._rule import Controller, RuleConfig, RunConfig
from ._errors import ChatTemplateError, ContextOverflowError, SettingError
from ._prompts import ChatTemplate, PromptFormat, base_prompt, normalize_messages
from ._sampling import Sampler
from ._session import Session
from ._settings import ModelSettings, available_cores
from ._stops import StopFilter, StopString
from ._text import strip_repeated_suffix
from ._types import ModelInfo, NudgeResult, PairInfo, Piece, Span, Stats, merge_spans

Only = Literal["base", "nudging"]


class InstructBaseWarning(UserWarning):
    """The model given as *base* looks instruction-tuned (allowed, but not what nudging expects)."""


class Nudger:
    """Two models and the nudging rule between them. Not re-entrant: one generation at a time."""

    def __init__(
        self,
        base: Backend,
        nudging: Backend,
        *,
        chat_template: str | None = None,
        prompt_format: PromptFormat = PromptFormat(),
        names: tuple[str, str] = ("base", "nudging"),
    ):
        self.base = base
        self.nudging = nudging
        self.names = names
        self.prompt_format = prompt_format
        source = chat_template or nudging.chat_template
        if not source:
            raise ChatTemplateError(
                f"The nudging model {names[1]} has no chat template in its GGUF metadata; "
                "pass one with chat_template= (or --chat-template FILE)."
            )
        self.template = ChatTemplate(source, **_special_texts(nudging))
        if _looks_instruct(base, names[0]):
            warnings.warn(
                f"The base model {names[0]} looks instruction-tuned; nudging expects a pretrained "
                "base model, but will run.",
                InstructBaseWarning,
                stacklevel=2,
            )
        self.load_seconds = 0.0

    # -- construction -------------------------------------------------------------------------
    @classmethod
    def from_paths(
        cls,
        base: str | os.PathLike,
        nudging: str | os.PathLike,
        *,
        base_settings: ModelSettings | None = None,
        nudging_settings: ModelSettings | None = None,
        chat_template: str | None = None,
        prompt_format: PromptFormat = PromptFormat(),
        verbose: bool = False,
    ) -> "Nudger":
        from ._llama import LlamaCppBackend, check_gguf

        check_gguf(base)
        check_gguf(nudging)
        base_settings = base_settings or _configured(None)
        nudging_settings = nudging_settings or _configured(None)
        t0 = time.perf_counter()
        base_backend = LlamaCppBackend(base, base_settings, verbose=verbose)
        try:
            nudging_backend = LlamaCppBackend(nudging, nudging_settings, verbose=verbose)
        except BaseException:
            base_backend.close()
            raise
        try:
            nudger = cls(
                base_backend,
                nudging_backend,
                chat_template=chat_template,
                prompt_format=prompt_format,
                names=(os.path.basename(base), os.path.basename(nudging)),
            )
        except BaseException:
            base_backend.close()
            nudging_backend.close()
            raise
        nudger.load_seconds = time.perf_counter() - t0
        return nudger

    @classmethod
    def from_catalog(
        cls,
        pair: str = "demo",
        *,
        base_settings: ModelSettings | None = None,
        nudging_settings: ModelSettings | None = None,
        **kwargs,
    ) -> "Nudger":
        """Load a pair named in models.toml (the packaged catalog plus the user's own).
        Settings not given come from the user's config file (``nudge-local config show``)."""
        from .catalog import load_catalog, locate_model

        catalog = load_catalog()
        entry = catalog.pair(pair)
        base_path = locate_model(catalog.model(entry.base))
        nudging_path = locate_model(catalog.model(entry.nudging))
        nudger = cls.from_paths(
            base_path,
            nudging_path,
            base_settings=base_settings or _configured(entry.base),
            nudging_settings=nudging_settings or _configured(entry.nudging),
            **kwargs,
        )
        nudger.names = (entry.base, entry.nudging)
        nudger.default_gamma = entry.gamma
        nudger.pair_name = pair
        return nudger

    default_gamma: float = 0.4
    #: The catalog pair's name when loaded with :meth:`from_catalog`.
    pair_name: str | None = None

    @property
    def info(self) -> PairInfo:
        """What is loaded: both models (name, file, size, context, threads, ...) and the γ."""
        return PairInfo(self.pair_name, _model_info(self.base, self.names[0], "base"),
                        _model_info(self.nudging, self.names[1], "nudging"), self.default_gamma)

    # -- generation ---------------------------------------------------------------------------
    def stream(
        self,
        prompt: str | None = None,
        *,
        messages: Sequence[Mapping[str, str]] | None = None,
        gamma: float | None = None,
        max_tokens: int = 256,
        system: str | None = None,
        temperature: float = 0.0,
        top_p: float = 1.0,
        seed: int | None = None,
        only: Only | None = None,
        exact: bool = False,
        overlap: bool | None = None,
        prompt_format: PromptFormat | None = None,
        stop: Sequence[str] = (),
        stop_at_new_turn: bool | None = None,
        rule: RuleConfig | None = None,
    ) -> "NudgeStream":
        """Start a generation; iterate the returned stream for :class:`Piece` objects as they
        are produced, then read ``stream.result``."""
        gamma = self.default_gamma if gamma is None else gamma
        _validate(gamma, max_tokens, temperature, top_p, only)
        fmt = self.prompt_format if prompt_format is None else prompt_format
        system_text, turns = normalize_messages(prompt, messages, system)
        base_session = nudging_session = None
        if only in (None, "base"):
            text = base_prompt(system_text, turns, fmt)
            base_session = Session(self.base, self._prompt_tokens(self.base, text, special=False, who="base"))
        else:  # nudging alone still counts its answer in base tokens
            base_session = Session(self.base, [])
        if only in (None, "nudging"):
            text = self.template.render(system_text, turns, fmt)
            nudging_session = Session(
                self.nudging, self._prompt_tokens(self.nudging, text, special=True, who="nudging")
            )
        if overlap is None:
            overlap = self.overlap_fits()
        config = RunConfig(gamma=gamma, max_tokens=max_tokens, exact=exact, overlap=overlap,
                           rule=rule or RuleConfig())
        base_sampler = Sampler(temperature, top_p, seed)
        nudging_sampler = Sampler(temperature, top_p, None if seed is None else seed + 1)
        controller = Controller(base_session, nudging_session, config, base_sampler, nudging_sampler)
        return NudgeStream(controller, only, _stop_strings(stop, stop_at_new_turn, exact, only, fmt))

    def count_tokens(
        self,
        prompt: str | None = None,
        *,
        messages: Sequence[Mapping[str, str]] | None = None,
        system: str | None = None,
        prompt_format: PromptFormat | None = None,
    ) -> dict[str, int]:
        """How many tokens the two models' prompts take for this conversation, and their
        contexts: ``{"base": n, "nudging": m, "base_n_ctx": ..., "nudging_n_ctx": ...}``.
        A UI uses it for a context meter and to drop old turns before they overflow."""
        fmt = self.prompt_format if prompt_format is None else prompt_format
        system_text, turns = normalize_messages(prompt, messages, system)
        base_text = base_prompt(system_text, turns, fmt)
        nudging_text = self.template.render(system_text, turns, fmt)
        return {
            "base": len(self.base.tokenize(base_text, add_bos=self.base.bos_id is not None)),
            "nudging": len(self.nudging.tokenize(nudging_text, special=True)),
            "base_n_ctx": self.base.n_ctx,
            "nudging_n_ctx": self.nudging.n_ctx,
        }

    def generate(self, prompt: str | None = None, **kwargs) -> NudgeResult:
        stream = self.stream(prompt, **kwargs)
        for _ in stream:
            pass
        return stream.result

    def overlap_fits(self) -> bool:
        """Whether the two models can compute at the same time without sharing cores: their
        threads together fit in the cores this process may use (see ``_overlap``).
        Both on a GPU also qualify: the CPU threads then mostly wait."""
        threads = [b.settings.n_threads if b.settings is not None else None for b in (self.base, self.nudging)]
        if threads[0] is None or threads[1] is None:
            return False
        return threads[0] + threads[1] <= available_cores()

    def _prompt_tokens(self, backend: Backend, text: str, *, special: bool, who: str) -> list[int]:
        bos = backend.bos_id
        tokens = backend.tokenize(text, special=special, add_bos=bos is not None)
        if bos is not None and len(tokens) > 1 and tokens[0] == tokens[1] == bos:
            tokens = tokens[1:]  # the chat template wrote the BOS itself
        if len(tokens) >= backend.n_ctx:
            name = self.names[0] if who == "base" else self.names[1]
            raise ContextOverflowError(
                f"The prompt is {len(tokens)} tokens but the {who} model ({name}) has a context of "
                f"{backend.n_ctx}; shorten the prompt or raise n_ctx."
            )
        return tokens

    # -- lifetime -----------------------------------------------------------------------------
    def close(self) -> None:
        self.base.close()
        self.nudging.close()

    def __enter__(self) -> "Nudger":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


class NudgeStream:
    """An iterator of :class:`Piece` objects; ``result`` is set when it is exhausted.
    ``cancel()`` may be called from any thread."""

    def __init__(self, controller: Controller, only: Only | None, stops: Sequence[StopString] = ()):
        self._controller = controller
        self._only = only
        self._stops = StopFilter(stops)
        self._pieces: list[Piece] = []
        self.result: NudgeResult | None = None
        self._iter = self._run()

    def __iter__(self) -> Iterator[Piece]:
        return self._iter

    def __next__(self) -> Piece:
        return next(self._iter)

    def cancel(self) -> None:
        self._controller.cancel.set()

    @property
    def cancelled(self) -> bool:
        return self._controller.cancel.is_set()

    def _run(self) -> Iterator[Piece]:
        c = self._controller
        backends = [s.backend for s in (c.base, c.nudging) if s is not None]
        evaluated0 = [b.counters.evaluated_tokens for b in backends]
        t0 = time.perf_counter()
        stops = self._stops
        pieces = c.run(self._only)
        try:
            for piece in pieces:
                for shown in stops.feed(piece):
                    self._pieces.append(shown)
                    yield shown
                if stops.reason is not None:
                    break
            else:
                for shown in stops.flush():
                    self._pieces.append(shown)
                    yield shown
        finally:
            pieces.close()  # ends the controller's generation (and its worker thread)
        if stops.reason is not None:
            c.stop_reason = stops.reason
        seconds = time.perf_counter() - t0
        self.result = self._finish(seconds, backends, evaluated0)

    def _finish(self, seconds, backends, evaluated0) -> NudgeResult:
        c = self._controller
        spans = merge_spans(self._pieces)
        raw = "".join(s.text for s in spans)
        if self._only is None:
            # The reference's final clean-up: strip, then drop immediate repeats of 30+ chars.
            start = len(raw) - len(raw.lstrip())
            cleaned = strip_repeated_suffix(raw)
            spans = _slice_spans(spans, start, start + len(cleaned))
        text = "".join(s.text for s in spans)
        counters = c.counters
        output_tokens = counters.output_tokens
        if self._only == "nudging" or self._stops.reason is not None:
            output_tokens = c.base.count(text)
        evaluated = [b.counters.evaluated_tokens - e for b, e in zip(backends, evaluated0)]
        stats = Stats(
            output_tokens=output_tokens,
            base_generated_tokens=counters.base_generated,
            base_discarded_tokens=counters.base_discarded,
            base_evaluated_tokens=evaluated[0] if c.base is not None and self._only != "nudging" else 0,
            nudging_generated_tokens=counters.nudging_generated,
            nudging_evaluated_tokens=evaluated[-1] if c.nudging is not None else 0,
            rounds=counters.rounds,
            nudges=counters.nudges,
            seconds=seconds,
            prompt_seconds=c.prompt_seconds,
        )
        mode = "nudged" if self._only is None else self._only
        return NudgeResult(text=text, spans=spans, stop_reason=c.stop_reason or "eos", stats=stats, mode=mode)


def _stop_strings(stop: Sequence[str], new_turn: bool | None, exact: bool, only: Only | None,
                  fmt: PromptFormat) -> list[StopString]:
    """The caller's stop strings, plus the new-turn guard: unless turned off (and never in exact
    mode or for the nudging model alone), text that starts the transcript's next question
    (a newline, then the question prefix) ends the answer - a base model continuing its transcript writes the
    next question itself, and a reply must not contain it (README, deviations)."""
    if isinstance(stop, str):
        stop = [stop]
    if not all(isinstance(s, str) for s in stop):
        raise SettingError("stop must be a list of strings.")
    out = [StopString(s, "stop") for s in stop if s]
    if new_turn is None:
        new_turn = not exact
    marker = fmt.question_prefix.rstrip()
    if new_turn and only != "nudging" and marker:
        out.append(StopString("\n" + marker, "new_turn"))
    return out


def _configured(model_name: str | None) -> ModelSettings:
    """Settings from the user's config file (its [defaults], then the model's own section)."""
    from .config import resolve_settings

    return resolve_settings(model_name, {})[0]


def _model_info(backend: Backend, name: str, role: Literal["base", "nudging"]) -> ModelInfo:
    from ._memory import kv_cache_bytes

    path = backend.path
    size = os.path.getsize(path) if path and os.path.isfile(path) else 0
    meta = backend.metadata
    settings = backend.settings
    return ModelInfo(
        name=name, role=role, engine=backend.engine, path=path, file_bytes=size,
        n_ctx=backend.n_ctx, n_vocab=backend.n_vocab,
        n_threads=settings.n_threads if settings else None,
        n_gpu_layers=settings.n_gpu_layers if settings else None,
        kv_cache_bytes=kv_cache_bytes(meta, backend.n_ctx) if meta else None,
        architecture=meta.get("general.architecture", ""),
        quantization=_quantization(meta),
    )


# GGUF general.file_type values (llama.cpp's llama_ftype) of the common quantizations.
_FILE_TYPES = {0: "F32", 1: "F16", 2: "Q4_0", 3: "Q4_1", 7: "Q8_0", 8: "Q5_0", 9: "Q5_1", 10: "Q2_K",
               11: "Q3_K_S", 12: "Q3_K_M", 13: "Q3_K_L", 14: "Q4_K_S", 15: "Q4_K_M", 16: "Q5_K_S",
               17: "Q5_K_M", 18: "Q6_K", 32: "BF16"}


def _quantization(meta: Mapping[str, str]) -> str:
    try:
        return _FILE_TYPES.get(int(meta.get("general.file_type", "")), "")
    except ValueError:
        return ""


def _slice_spans(spans: list[Span], start: int, end: int) -> list[Span]:
    out, pos = [], 0
    for s in spans:
        a, b = max(start, pos), min(end, pos + len(s.text))
        if a < b:
            out.append(Span(s.text[a - pos : b - pos], s.source))
        pos += len(s.text)
    return out


def _validate(gamma, max_tokens, temperature, top_p, only) -> None:
    if not isinstance(gamma, (int, float)) or not 0.0 <= gamma <= 1.0:
        raise SettingError(f"gamma must be between 0 and 1, got {gamma}.")
    if not isinstance(max_tokens, int) or max_tokens <= 0:
        raise SettingError(f"max_tokens must be a positive whole number, got {max_tokens}.")
    if temperature < 0:
        raise SettingError(f"temperature must be 0 or more, got {temperature}.")
    if not 0.0 < top_p <= 1.0:
        raise SettingError(f"top_p must be in (0, 1], got {top_p}.")
    if only not in (None, "base", "nudging"):
        raise SettingError(f'only must be "base" or "nudging", got {only!r}.')


def _special_texts(backend: Backend) -> dict[str, str]:
    """How the model spells its BOS/EOS tokens (chat templates write them as text)."""
    texts = {}
    bos, eos = backend.bos_id, backend.eos_id
    if bos is not None:
        texts["bos_token"] = backend.token_text(bos)
    if eos is not None:
        texts["eos_token"] = backend.token_text(eos)
    return texts


_INSTRUCT_MARKERS = ("instruct", "-it", "_it", "chat", "-sft", "-dpo", "rlhf")


def _looks_instruct(backend: Backend, name: str) -> bool:
    meta = backend.metadata
    fields = [name, meta.get("general.name", ""), meta.get("general.finetune", ""),
              meta.get("general.basename", "")]
    text = " ".join(fields).lower()
    if meta.get("general.finetune", "").lower() in ("it", "instruct", "chat"):
        return True
    return any(marker in text for marker in _INSTRUCT_MARKERS)
