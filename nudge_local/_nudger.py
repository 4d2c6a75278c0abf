"""The public entry point: a base model and a nudging model, loaded once, answering many prompts."""

from __future__ import annotations

import contextlib
import threading
import time
import warnings
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any, Literal

from ._backend import Backend
from ._describe import is_text_model, looks_instruct, model_info, special_texts
from ._errors import BusyError, ChatTemplateError, ContextOverflowError, ModelClosedError
from ._generation import Generation
from ._plan import Calibration, PlanName, ThreadPlan, plan_named
from ._prompts import ChatTemplate, PromptFormat, base_prompt, normalize_messages
from ._rule import Controller, RuleConfig, RunConfig
from ._sampling import Sampler
from ._session import Session
from ._settings import ModelSettings, available_cores
from ._sources import ModelSource, RemoteSpec, configured, count_tokens_of, n_ctx_of, name_of, open_model
from ._stream import NudgeStream, stop_strings
from ._text_model import TextModel
from ._types import NudgeResult, PairInfo
from ._validate import check_generation, check_messages, check_stop, check_text

Only = Literal["base", "nudging"]
Model = Backend | TextModel


class InstructBaseWarning(UserWarning):
    """The model given as *base* looks instruction-tuned (allowed, but not what nudging expects)."""


class Nudger:
    """Two models and the nudging rule between them.

    One generation runs at a time (llama.cpp contexts are not re-entrant): a generation started
    from another thread waits for the running one; a second stream iterated in the thread that
    runs one raises :class:`BusyError`. After :meth:`close`, every call raises
    :class:`ModelClosedError`.
    """

    def __init__(
        self,
        base: Model,
        nudging: Model,
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
                f"The nudging model {names[1]} has no chat template in its metadata; "
                "pass one with chat_template= (or --chat-template FILE)."
            )
        self.template = ChatTemplate(source, **special_texts(nudging))
        if looks_instruct(base, names[0]):
            warnings.warn(
                f"The base model {names[0]} looks instruction-tuned; nudging expects a pretrained "
                "base model, but will run.",
                InstructBaseWarning,
                stacklevel=2,
            )
        self.load_seconds = 0.0
        self._gate = threading.Lock()
        self._owner: int | None = None
        self._closed = False
        self._running: NudgeStream | None = None

    # -- construction -------------------------------------------------------------------------
    @classmethod
    def from_paths(
        cls,
        base: ModelSource,
        nudging: ModelSource,
        *,
        base_settings: ModelSettings | None = None,
        nudging_settings: ModelSettings | None = None,
        chat_template: str | None = None,
        prompt_format: PromptFormat = PromptFormat(),
        verbose: bool = False,
        calibrate: bool = True,
    ) -> Nudger:
        """Load two GGUF files (or a :class:`~nudge_local.RemoteModel` for either side).

        When neither model's ``n_threads`` is set, the two share the cores by a thread plan
        (:meth:`tune`): the one measured fastest on this machine for this pair, kept from an
        earlier run; with ``calibrate`` (the default) a pair new to this machine is measured
        now (a few seconds), else the overlap plan is used until ``nudge-local tune`` runs."""
        from ._llama import check_gguf

        for source in (base, nudging):
            if not isinstance(source, RemoteSpec):
                check_gguf(source)  # also refuses what is not a path
        if base_settings is not None:
            base_settings.check()
        if nudging_settings is not None:
            nudging_settings.check()
        t0 = time.perf_counter()
        base_model = open_model(base, base_settings or configured(None), verbose)
        try:
            nudging_model = open_model(nudging, nudging_settings or configured(None), verbose)
        except BaseException:
            base_model.close()
            raise
        try:
            nudger = cls(base_model, nudging_model, chat_template=chat_template, prompt_format=prompt_format,
                         names=(name_of(base), name_of(nudging)))
        except BaseException:
            base_model.close()
            nudging_model.close()
            raise
        nudger.load_seconds = time.perf_counter() - t0
        fixed = any(st is not None and st.n_threads is not None for st in (base_settings, nudging_settings))
        if not fixed and isinstance(base_model, Backend) and isinstance(nudging_model, Backend):
            try:
                nudger._choose_plan(calibrate)
            except BaseException:
                nudger.close()
                raise
        return nudger

    @classmethod
    def from_catalog(
        cls,
        pair: str = "demo",
        *,
        base_settings: ModelSettings | None = None,
        nudging_settings: ModelSettings | None = None,
        **kwargs: Any,
    ) -> Nudger:
        """Load a pair named in models.toml (the packaged catalog plus the user's own).
        Settings not given come from the user's config file (``nudge-local config show``)."""
        from ._remote_catalog import remote_model
        from .catalog import load_catalog, locate_pair

        catalog = load_catalog()
        entry = catalog.pair(pair)
        # One message about the pair (both files, one download command), not its first model.
        files = iter(locate_pair(catalog, pair))
        base_source, nudging_source = (remote_model(m) if m.url else next(files) for m in catalog.pair_models(pair))
        nudger = cls.from_paths(
            base_source,
            nudging_source,
            base_settings=base_settings or configured(entry.base),
            nudging_settings=nudging_settings or configured(entry.nudging),
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
        return PairInfo(self.pair_name, model_info(self.base, self.names[0], "base"),
                        model_info(self.nudging, self.names[1], "nudging"), self.default_gamma)

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
        exact: bool = True,
        overlap: bool | None = None,
        prompt_format: PromptFormat | None = None,
        stop: str | Sequence[str] = (),
        stop_at_new_turn: bool | None = None,
        rule: RuleConfig | None = None,
    ) -> NudgeStream:
        """Start a generation; iterate the returned stream for :class:`Piece` objects as they
        are produced, then read ``stream.result``. Arguments are checked at once (a
        :class:`SettingError`); the models work only while the stream is iterated.

        ``exact`` (the default) gives the reference code's answers; ``exact=False`` is the
        faster lazy mode, which answers worse on the evaluation in docs/eval.md (README).
        ``stop_at_new_turn`` (default: on for ``messages``, off for a single ``prompt``) ends
        the answer where the base starts the transcript's next ``Question:`` turn."""
        self._checkopen_model()
        gamma = self.default_gamma if gamma is None else gamma
        check_generation(gamma=gamma, max_tokens=max_tokens, temperature=temperature, top_p=top_p, seed=seed,
                         only=only, exact=exact, overlap=overlap, prompt_format=prompt_format, stop=stop,
                         stop_at_new_turn=stop_at_new_turn)
        if rule is not None and not isinstance(rule, RuleConfig):
            from ._errors import SettingError

            raise SettingError(f"rule must be a RuleConfig, got {type(rule).__name__}.")
        fmt = self.prompt_format if prompt_format is None else prompt_format
        system_text, turns = normalize_messages(
            check_text("The prompt", prompt), None if messages is None else check_messages(messages),
            check_text("The system prompt", system))
        if overlap is None:
            overlap = self.overlap_fits()
        config = RunConfig(gamma=float(gamma), max_tokens=max_tokens, exact=exact, overlap=overlap,
                           rule=rule or RuleConfig())
        base_text = base_prompt(system_text, turns, fmt) if only != "nudging" else ""
        nudging_parts = self.template.render_parts(system_text, turns, fmt) if only != "base" else []
        samplers = (Sampler(temperature, top_p, seed), Sampler(temperature, top_p, None if seed is None else seed + 1))
        controller: Generation
        if is_text_model(self.base) or is_text_model(self.nudging):
            nudging_text = "".join(text for text, _ in nudging_parts)
            controller = self._reference_rule(base_text, nudging_text, config, temperature, top_p, seed)
        else:
            controller = self._controller(base_text, nudging_parts, only, config, samplers)
        stops = stop_strings(check_stop(stop), stop_at_new_turn, messages is not None, only, fmt)
        return NudgeStream(controller, only, stops, gate=self._enter)

    def generate(self, prompt: str | None = None, **kwargs: Any) -> NudgeResult:
        """Like :meth:`stream`, run to the end: the :class:`NudgeResult`."""
        stream = self.stream(prompt, **kwargs)
        for _ in stream:
            pass
        assert stream.result is not None
        return stream.result

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
        self._checkopen_model()
        fmt = self.prompt_format if prompt_format is None else prompt_format
        system_text, turns = normalize_messages(
            check_text("The prompt", prompt), None if messages is None else check_messages(messages),
            check_text("The system prompt", system))
        texts = (base_prompt(system_text, turns, fmt), self.template.render(system_text, turns, fmt))
        counts = [count_tokens_of(model, text, special=i == 1) for i, (model, text) in
                  enumerate(zip((self.base, self.nudging), texts, strict=True))]
        return {"base": counts[0], "nudging": counts[1], "base_n_ctx": n_ctx_of(self.base),
                "nudging_n_ctx": n_ctx_of(self.nudging)}

    # -- thread plans -------------------------------------------------------------------------
    plan: ThreadPlan | None = None
    #: What the last calibration measured (None when the plan came from elsewhere).
    calibration: Calibration | None = None

    def use_plan(self, plan: ThreadPlan | PlanName) -> ThreadPlan:
        """Share the cores by ``plan`` ("overlap" or "turns", see ``nudge_local._plan``)."""
        self._checkopen_model()
        if isinstance(plan, str):
            if plan not in ("overlap", "turns"):
                from ._errors import SettingError

                raise SettingError(f'A thread plan is "overlap" or "turns", got {plan!r}.')
            plan = plan_named(plan, available_cores())
        assert isinstance(self.base, Backend) and isinstance(self.nudging, Backend)
        with self._turn():
            self.base.set_threads(plan.base_threads)
            self.nudging.set_threads(plan.nudging_threads)
        self.plan = plan
        return plan

    def tune(self, *, busy_check: bool = True, save: bool = True) -> Calibration:
        """Measure the thread plans on this machine for this pair, use the fastest robust one
        and (with ``save``) keep it for next time."""
        from ._tune import tune

        return tune(self, busy_check=busy_check, save=save)

    def _choose_plan(self, calibrate: bool) -> None:
        from ._tune import initial_plan

        initial_plan(self, calibrate)

    def overlap_fits(self) -> bool:
        """Whether the two models compute side by side: the plan's choice, else whether their
        threads together fit in the cores this process may use (see ``_overlap``)."""
        if self.plan is not None:
            return self.plan.overlap
        threads = [b.settings.n_threads if isinstance(b, Backend) and b.settings is not None else None
                   for b in (self.base, self.nudging)]
        if threads[0] is None or threads[1] is None:
            return False
        return threads[0] + threads[1] <= available_cores()

    def _controller(self, base_text: str, nudging_parts: list[tuple[str, bool]], only: Only | None,
                    config: RunConfig, samplers: tuple[Sampler, Sampler]) -> Generation:
        assert isinstance(self.base, Backend) and isinstance(self.nudging, Backend)
        base_tokens = self._prompt_tokens(self.base, [(base_text, True)], who="base") if base_text else []
        base_session = Session(self.base, base_tokens)  # nudging alone still counts in base tokens
        nudging_session = None
        if only != "base":
            # The template's own text may spell control tokens; user text never does.
            parts = [(text, user) for text, user in nudging_parts]
            nudging_session = Session(self.nudging, self._prompt_tokens(self.nudging, parts, who="nudging"))
        return Controller(base_session, nudging_session, config, *samplers)

    def _reference_rule(self, base_text: str, nudging_text: str, config: RunConfig, temperature: float,
                        top_p: float, seed: int | None) -> Generation:
        from ._local_text import LocalTextModel
        from ._reference import ReferenceRule

        base = self.base if is_text_model(self.base) else LocalTextModel(self.base, special=False)  # type: ignore[arg-type]
        nudging = self.nudging if is_text_model(self.nudging) else LocalTextModel(self.nudging, special=True)  # type: ignore[arg-type]
        return ReferenceRule(base, nudging, base_text, nudging_text, config,  # type: ignore[arg-type]
                             temperature=temperature, top_p=top_p, seed=seed)

    def _prompt_tokens(self, backend: Backend, parts: list[tuple[str, bool]], *, who: str) -> list[int]:
        """Tokens of a prompt given as (text, is_user_text) parts; control tokens are parsed
        only in the template's parts. The base prompt is one user-text part."""
        bos = backend.bos_id
        tokens: list[int] = []
        for i, (text, user) in enumerate(parts):
            tokens += backend.tokenize(text, special=not user, add_bos=i == 0 and bos is not None)
        if bos is not None and len(tokens) > 1 and tokens[0] == tokens[1] == bos:
            tokens = tokens[1:]  # the chat template wrote the BOS itself
        if len(tokens) >= backend.n_ctx:
            name = self.names[0] if who == "base" else self.names[1]
            raise ContextOverflowError(
                f"The prompt is {len(tokens)} tokens but the {who} model ({name}) has a context of "
                f"{backend.n_ctx}; shorten the prompt or raise n_ctx."
            )
        return tokens

    # -- one generation at a time -------------------------------------------------------------
    @contextlib.contextmanager
    def _turn(self) -> Iterator[None]:
        """Hold the models for something other than a stream (changing threads)."""
        leave = self._enter()
        try:
            yield
        finally:
            leave()

    def _enter(self) -> Callable[[], None]:
        """Called when a stream starts generating; returns the function that ends its turn."""
        self._checkopen_model()
        me = threading.get_ident()
        if self._owner == me:
            raise BusyError("Another stream of this Nudger is still running in this thread; "
                            "iterate it to the end or call its close() first (one generation at a time).")
        self._gate.acquire()
        if self._closed:
            self._gate.release()
            raise ModelClosedError("The models were closed while this generation waited for its turn.")
        self._owner = me

        def leave() -> None:
            self._owner = None
            self._gate.release()
            if self._closed:
                self._free()

        return leave

    def _checkopen_model(self) -> None:
        if self._closed:
            raise ModelClosedError("This Nudger was closed; load the models again to generate.")

    # -- lifetime -----------------------------------------------------------------------------
    def close(self) -> None:
        """Free both models. A generation running in another thread is waited for; one running
        in this thread frees them when it ends. Safe to call twice."""
        if self._closed:
            return
        self._closed = True
        if self._owner == threading.get_ident():
            return  # the running stream frees the models when it ends (see _enter)
        with self._gate:
            self._free()

    def _free(self) -> None:
        self.base.close()
        self.nudging.close()

    def __enter__(self) -> Nudger:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
