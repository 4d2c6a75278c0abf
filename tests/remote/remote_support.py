"""Running one scripted pair through each engine the remote tests compare."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

from fake_server import FakeCompletionServer
from fakes import QUESTION, SYSTEM, TEMPLATE, make_pair

from nudge_local import Nudger, NudgeResult, RuleConfig
from nudge_local._local_text import LocalTextModel
from nudge_local.remote import RemoteModel

#: base model on a scripted server of each shape (the nudging model local)
SHAPES = ("openai", "vllm", "llama-cpp-python", "llama-server")


def options(opts: dict) -> dict:
    opts = dict(opts)
    if "rule" in opts:
        opts["rule"] = RuleConfig(**opts["rule"])
    opts.setdefault("max_tokens", 200)
    return opts


def exact_local(base_table, nudging_table, opts: dict) -> NudgeResult:
    """The local engine's exact mode over two FakeBackends."""
    b, n = make_pair(base_table, nudging_table)
    return Nudger(b, n).generate(QUESTION, system=SYSTEM, exact=True, **options(opts))


def reference_adapter(base_table, nudging_table, opts: dict) -> NudgeResult:
    """The reference-order rule over the same FakeBackends (the base behind LocalTextModel)."""
    b, n = make_pair(base_table, nudging_table)
    return Nudger(LocalTextModel(b, special=False), n).generate(QUESTION, system=SYSTEM, exact=True,
                                                               **options(opts))


@contextlib.contextmanager
def remote_base(base_table, shape: str) -> Iterator[FakeCompletionServer]:
    b, _ = make_pair(base_table, {})
    with FakeCompletionServer(b, shape=shape, name="scripted-base") as server:
        yield server


def reference_http(base_table, nudging_table, opts: dict, shape: str, *, remote_nudging: bool = False
                   ) -> NudgeResult:
    """The base on a scripted HTTP server of ``shape``; the nudging model local, or remote too
    (a llama-server publishes the chat template; others get it passed)."""
    b, n = make_pair(base_table, nudging_table)
    with FakeCompletionServer(b, shape=shape, name="scripted-base") as base_server:
        base = RemoteModel(base_server.url, role="base", timeout=10)
        if not remote_nudging:
            with _nudger_with(base, n) as nudger:
                return nudger.generate(QUESTION, system=SYSTEM, exact=True, **options(opts))
        template = TEMPLATE if shape == "llama-server" else None
        with FakeCompletionServer(n, shape=shape, name="scripted-nudging", special=True,
                                  chat_template=template) as nudging_server:
            nudging = RemoteModel(nudging_server.url, role="nudging", timeout=10,
                                  chat_template=None if template else TEMPLATE)
            with Nudger.from_paths(base, nudging) as nudger:
                return nudger.generate(QUESTION, system=SYSTEM, exact=True, **options(opts))


def _nudger_with(base: RemoteModel, nudging_backend) -> Nudger:
    return Nudger(base.open(), nudging_backend, names=(base.name, "scripted-nudging"))


def same(a: NudgeResult, b: NudgeResult) -> bool:
    return (a.text, a.spans, a.stop_reason) == (b.text, b.spans, b.stop_reason)


def show(r: NudgeResult) -> str:
    return f"{r.stop_reason}: " + " | ".join(f"{s.source[0]}:{s.text!r}" for s in r.spans)
