"""Loading llama.cpp models safely: file checks, memory checks, llama.cpp's log, and the
workaround for its AMX kernels. ``LlamaCppBackend`` (``_llama``) and ``bench``'s plain
llama-cpp-python baseline both load through here."""

from __future__ import annotations

import contextlib
import ctypes
import io
import logging
import os
import stat
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

from ._errors import ModelFileError, SettingError
from ._settings import ModelSettings

#: Tokens handed to llama.cpp in one batch at most.
N_BATCH = 512


def check_gguf(path: str | os.PathLike[str]) -> Path:
    """One clear sentence for the usual ways a model path is wrong."""
    if isinstance(path, bytes) or not isinstance(path, (str, os.PathLike)):
        raise ModelFileError(f"A model path must be a str or a path, got {type(path).__name__}.")
    p = Path(path).expanduser()
    try:
        st = p.stat()
    except FileNotFoundError:
        raise ModelFileError(f"Model file not found: {p}.") from None
    except (OSError, ValueError) as exc:
        raise ModelFileError(f"Cannot read model file {p}: {getattr(exc, 'strerror', None) or exc}.") from None
    if stat.S_ISDIR(st.st_mode):
        raise ModelFileError(f"{p} is a folder; give the path of a .gguf file.")
    if not stat.S_ISREG(st.st_mode):
        # A FIFO or a device would block (or stream for ever) when read.
        raise ModelFileError(f"{p} is not a regular file (a pipe or a device?); give the path of a .gguf file.")
    try:
        with p.open("rb") as f:
            magic = f.read(4)
    except OSError as exc:
        raise ModelFileError(f"Cannot read model file {p}: {exc.strerror}.") from None
    if magic != b"GGUF":
        raise ModelFileError(f"{p} is not a GGUF model file (llama.cpp needs .gguf files).")
    return p


def _check_memory(path: Path, settings: ModelSettings) -> None:
    """Refuse a context whose KV cache cannot fit in this machine's memory before llama.cpp
    tries (it would allocate for a minute, then fail blaming the file). CPU only: with GPU
    offload the cache lives in GPU memory, which llama.cpp checks itself."""
    if settings.n_gpu_layers:
        return
    from ._gguf_meta import read_metadata
    from ._memory import available_memory_bytes, kv_cache_bytes
    from .units import format_bytes

    available = available_memory_bytes()
    kv = kv_cache_bytes(read_metadata(path), settings.n_ctx)
    if available is None or kv is None:
        return
    need = kv + path.stat().st_size
    if need > available:
        raise SettingError(
            f"n_ctx {settings.n_ctx:,} needs about {format_bytes(kv)} of KV cache for {path.name} "
            f"(plus its {format_bytes(path.stat().st_size)} file), more than the {format_bytes(available)} "
            "of memory available; lower n_ctx."
        )


# -- llama.cpp's AMX kernels ----------------------------------------------------------------------
# On CPUs with AMX (Intel Sapphire Rapids and later) a llama.cpp built with -march=native moves
# quantized weights into an "AMX buffer" at load, and its AMX matrix multiply then crashes the
# process on the first evaluation (llama.cpp issue #20824, open upstream; seen here with
# llama-cpp-python 0.3.36 on Q4_K_M and Q4_1 files). Until that is fixed we load without extra
# buffer types when this build has AMX kernels and the CPU would use them: the weights stay in
# plain CPU buffers and the ordinary AVX-512/AVX2 kernels run. `nudge-local doctor` says so.
_build_info: dict[str, str] = {}


def system_info() -> str:
    """llama.cpp's one-line description of the CPU features it was built for."""
    if "system" not in _build_info:
        import llama_cpp

        raw = llama_cpp.llama_print_system_info()
        _build_info["system"] = raw.decode("utf-8", "replace") if isinstance(raw, bytes) else str(raw)
    return _build_info["system"]


def amx_is_safe() -> bool:
    """False when this llama.cpp would run its AMX kernels (see above)."""
    if os.environ.get("NUDGE_LOCAL_ALLOW_AMX") == "1":  # for whoever wants to try a fixed build
        return True
    return "AMX_INT8 = 1" not in system_info()


@contextlib.contextmanager
def _weight_repack(allowed: bool) -> Iterator[None]:
    """Load with ``use_extra_bufts`` off unless ``allowed``. ``Llama`` takes its model
    parameters from ``llama_model_default_params()`` and offers no argument for this one, so
    the default is wrapped for the duration of the load (loads are serialized by ``_LOAD_LOCK``)."""
    if allowed:
        yield
        return
    import llama_cpp.llama_cpp as raw

    original = raw.llama_model_default_params

    def defaults() -> object:
        params = original()
        params.use_extra_bufts = False
        return params

    with _LOAD_LOCK:
        raw.llama_model_default_params = defaults
        try:
            yield
        finally:
            raw.llama_model_default_params = original


_LOAD_LOCK = threading.Lock()


# -- llama.cpp's log ------------------------------------------------------------------------------
# llama-cpp-python silences llama.cpp by pointing file descriptors 1 and 2 at /dev/null while a
# model loads (its ``verbose=False``). That also swallows whatever else the process writes
# meanwhile - a Textual screen drawn from another thread lost its footer that way. So we load
# with ``verbose=True`` (no descriptor is touched), route llama.cpp's own messages through its log
# callback into Python's logging (logger ``nudge_local.llama_cpp``; shown on stderr only when
# asked), and catch llama-cpp-python's Python-level prints of the same load in a buffer.
_log = logging.getLogger("nudge_local.llama_cpp")
_log_state = {"verbose": False, "installed": False}
_log_callback: object = None  # the ctypes callback must outlive every call into llama.cpp


def _install_log_callback(llama_cpp: object) -> None:
    global _log_callback
    if _log_state["installed"]:
        return

    @llama_cpp.llama_log_callback  # type: ignore[attr-defined, untyped-decorator]
    def _on_log(level: int, text: bytes, _user_data: object) -> None:
        try:
            message = text.decode("utf-8", "replace")
        except Exception:  # never raise into C
            return
        if _log_state["verbose"]:
            sys.__stderr__.write(message) if sys.__stderr__ else None
        elif level in (2, 3):  # GGML_LOG_LEVEL_WARN, _ERROR
            _log.debug(message.rstrip())

    _log_callback = _on_log
    llama_cpp.llama_log_set(_on_log, ctypes.c_void_p(0))  # type: ignore[attr-defined]
    _log_state["installed"] = True


@contextlib.contextmanager
def _quiet(verbose: bool) -> Iterator[None]:
    """Load a model without llama-cpp-python's Python-level prints reaching the terminal,
    unless ``verbose`` (llama.cpp's own messages go through the log callback)."""
    _log_state["verbose"] = verbose
    if verbose:
        yield
        return
    buffer = io.StringIO()
    with contextlib.redirect_stderr(buffer), contextlib.redirect_stdout(buffer):
        yield
    if buffer.getvalue():
        _log.debug(buffer.getvalue().rstrip())


class PlainLlama:
    """llama-cpp-python's ``Llama`` on its own, for ``bench``'s baseline: what a user would
    run instead of nudge-local (its own greedy sampling loop, its own batching)."""

    def __init__(self, path: str, n_ctx: int):
        import llama_cpp

        _install_log_callback(llama_cpp)
        with _quiet(False), _weight_repack(amx_is_safe()):
            self._llm = llama_cpp.Llama(model_path=path, n_ctx=n_ctx, n_batch=N_BATCH, verbose=True)
        self._llm.verbose = False  # loaded without fd redirects (see _quiet); now no per-call prints
        self._vocab = llama_cpp.llama_model_get_vocab(self._llm.model)
        self._lib = llama_cpp

    def set_threads(self, n: int) -> None:
        self._lib.llama_set_n_threads(self._llm.ctx, n, n)

    def tokenize(self, text: str) -> list[int]:
        return list(self._llm.tokenize(text.encode("utf-8"), add_bos=True, special=False))

    def greedy(self, tokens: list[int]) -> Iterator[int]:
        """llama-cpp-python's own generation loop, greedy (top-k 1, temperature 0)."""
        out: Iterator[int] = self._llm.generate(tokens, top_k=1, temp=0.0, reset=True)
        return out

    def is_eog(self, token: int) -> bool:
        return bool(self._lib.llama_vocab_is_eog(self._vocab, token))

    def close(self) -> None:
        self._llm.close()


def plain_llama(path: str, n_ctx: int) -> PlainLlama:
    return PlainLlama(path, n_ctx)
