"""The public entry point: a base model and a nudging model, loaded once, answering many prompts."""

from __future__ import annotations

import os
import time
import warnings
from typing import Iterator, Literal, Mapping, Sequence

from ._backend import Backend
from ._controller import Controller, RuleConfig
from ._errors import ChatTemplateError, ContextOverflowError, SettingError
from ._prompts import ChatTemplate, PromptFormat, base_prompt, normalize_messages
from ._sampling import Sampler
from ._session import Session
from ._settings import ModelSettings, available_cores
from ._text import strip_repeated_suffix
from ._types import NudgeResult, Piece, Span, Stats, merge_spans

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
        source = chat_template or getattr(nudging, "chat_template", None)
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
        return nudger

    default_gamma: float = 0.4

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
    ) -> "NudgeStream":
        """Start a generation; iterate the returned stream for :class:`Piece` objects as they
        are produced, then read ``stream.result``."""
        gamma = self.default_gamma if gamma is None else gamma
        _validate(gamma, max_tokens, temperature, top_p, only)
        system_text, turns = normalize_messages(prompt, messages, system)
        base_session = nudging_session = None
        if only in (None, "base"):
            text = base_prompt(system_text, turns, self.prompt_format)
            base_session = Session(self.base, self._prompt_tokens(self.base, text, special=False, who="base"))
        else:  # nudging alone still counts its answer in base tokens
            base_session = Session(self.base, [])
        if only in (None, "nudging"):
            text = self.template.render(system_text, turns, self.prompt_format)
            nudging_session = Session(
                self.nudging, self._prompt_tokens(self.nudging, text, special=True, who="nudging")
            )
        if overlap is None:
            overlap = self.overlap_fits()
        config = RuleConfig(gamma=gamma, max_tokens=max_tokens, exact=exact,
                            overlap=overlap)
        base_sampler = Sampler(temperature, top_p, seed)
        nudging_sampler = Sampler(temperature, top_p, None if seed is None else seed + 1)
        controller = Controller(base_session, nudging_session, config, base_sampler, nudging_sampler)
        return NudgeStream(controller, only)

    def generate(self, prompt: str | None = None, **kwargs) -> NudgeResult:
        stream = self.stream(prompt, **kwargs)
        for _ in stream:
            pass
        return stream.result

    def overlap_fits(self) -> bool:
        """Whether the two models can compute at the same time without sharing cores: their
        threads together fit in the cores this process may use (see ``RuleConfig.overlap``).
        Both on a GPU also qualify: the CPU threads then mostly wait."""
        threads = [getattr(getattr(b, "settings", None), "n_threads", None) for b in (self.base, self.nudging)]
        if None in threads:
            return False
        return sum(threads) <= available_cores()

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

    def __init__(self, controller: Controller, only: Only | None):
        self._controller = controller
        self._only = only
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
        evaluated0 = [getattr(b, "evaluated_tokens", 0) for b in backends]
        t0 = time.perf_counter()
        for piece in c.run(self._only):
            self._pieces.append(piece)
            yield piece
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
        if self._only == "nudging":
            output_tokens = c.base.count(text)
        evaluated = [getattr(b, "evaluated_tokens", 0) - e for b, e in zip(backends, evaluated0)]
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


def _configured(model_name: str | None) -> ModelSettings:
    """Settings from the user's config file (its [defaults], then the model's own section)."""
    from .config import resolve_settings

    return resolve_settings(model_name, {})[0]


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


def _special_texts(backend) -> dict[str, str]:
    texts = {}
    token_text = getattr(backend, "token_text", None)
    if token_text is None:
        return texts
    bos = backend.bos_id
    if bos is not None:
        texts["bos_token"] = token_text(bos)
    eos = getattr(backend, "eos_id", None)
    if eos is None and hasattr(backend, "llm"):
        eos = backend.llm.token_eos()
    if eos is not None and eos >= 0:
        texts["eos_token"] = token_text(eos)
    return texts


_INSTRUCT_MARKERS = ("instruct", "-it", "_it", "chat", "-sft", "-dpo", "rlhf")


def _looks_instruct(backend, name: str) -> bool:
    meta = getattr(backend, "metadata", {}) or {}
    fields = [name, meta.get("general.name", ""), meta.get("general.finetune", ""),
              meta.get("general.basename", "")]
    text = " ".join(fields).lower()
    if meta.get("general.finetune", "").lower() in ("it", "instruct", "chat"):
        return True
    return any(marker in text for marker in _INSTRUCT_MARKERS)
