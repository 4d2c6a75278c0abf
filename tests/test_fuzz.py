"""Fuzzing the public API and the CLI's argument space (Hypothesis, bounded in examples and
time): every outcome is a result or a ``NudgeError`` (exit code 2 from the CLI), never another
exception, never a signal."""

from __future__ import annotations

import contextlib
import io
import math

from fakes import chain, make_nudger
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from nudge_local import NudgeError, NudgeResult, PromptFormat, RuleConfig

# Values of every type a caller might pass by mistake, and the usual edge values.
ANY = st.one_of(
    st.none(), st.booleans(), st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=True, allow_infinity=True), st.text(max_size=40), st.binary(max_size=8),
    st.lists(st.text(max_size=5), max_size=3), st.dictionaries(st.text(max_size=5), st.text(max_size=5), max_size=2),
)
NUMBER = st.one_of(st.floats(allow_nan=True, allow_infinity=True), st.integers(-5, 1000), ANY)
KWARGS = st.fixed_dictionaries({}, optional={
    "gamma": NUMBER, "max_tokens": NUMBER, "temperature": NUMBER, "top_p": NUMBER, "seed": NUMBER,
    "only": st.one_of(st.sampled_from(["base", "nudging", None, "both"]), ANY),
    "exact": st.one_of(st.booleans(), ANY), "system": st.one_of(st.text(max_size=30), ANY),
    "stop": st.one_of(st.lists(st.text(max_size=6), max_size=4), ANY),
    "stop_at_new_turn": st.one_of(st.booleans(), ANY),
    "prompt_format": st.one_of(st.builds(PromptFormat, st.text(max_size=12)), ANY),
    "rule": st.one_of(st.builds(RuleConfig, draft_tokens=st.integers(1, 20), chunk_tokens=st.integers(2, 20)),
                      ANY),
})
MESSAGES = st.one_of(
    ANY,
    st.lists(st.fixed_dictionaries({"role": st.sampled_from(["user", "assistant", "system", "robot"]),
                                    "content": st.one_of(st.text(max_size=30), ANY)}), max_size=4),
)


def _pair():
    base = chain("Sure,", *[{w: 0.9} for w in (" one", " two", " three", " \u00e9", " four")])
    return make_nudger(base, chain("", "Sure", ",", " the", *[" A"] * 13))


@settings(max_examples=400, deadline=2000, suppress_health_check=[HealthCheck.too_slow])
@given(prompt=st.one_of(st.text(max_size=60), ANY), messages=st.one_of(st.none(), MESSAGES), kwargs=KWARGS)
def test_the_api_gives_a_result_or_a_nudge_error(prompt, messages, kwargs):
    n = _pair()
    try:
        if messages is None:
            r = n.generate(prompt, **kwargs)
        else:
            r = n.generate(messages=messages, **kwargs)
    except NudgeError as exc:
        text = str(exc)
        assert text and "\n" not in text  # one sentence
        return
    assert isinstance(r, NudgeResult)
    assert "".join(s.text for s in r.spans) == r.text
    assert not (isinstance(kwargs.get("gamma"), float) and math.isnan(kwargs["gamma"]))


FLAGS = {
    "--gamma": st.one_of(st.floats(allow_nan=True, allow_infinity=True).map(str), st.text(max_size=6)),
    "--max-tokens": st.one_of(st.integers(-3, 10**12).map(str), st.text(max_size=6)),
    "--temperature": st.one_of(st.floats(allow_nan=True, allow_infinity=True).map(str), st.text(max_size=4)),
    "--top-p": st.floats(allow_nan=True, allow_infinity=True).map(str),
    "--seed": st.one_of(st.integers(-(2**70), 2**70).map(str), st.text(max_size=4)),
    "--n-ctx": st.one_of(st.integers(-5, 2**40).map(str), st.text(max_size=4)),
    "--threads": st.one_of(st.integers(-5, 10**6).map(str), st.text(max_size=4)),
    "--n-gpu-layers": st.integers(-10, 10**6).map(str),
    "--pair": st.one_of(st.just(""), st.text(max_size=8)),
    "--only": st.sampled_from(["base", "nudging", "both", ""]),
}
ARGS = st.lists(st.sampled_from(sorted(FLAGS)), max_size=4, unique=True).flatmap(
    lambda names: st.tuples(*[st.tuples(st.just(n), FLAGS[n]) for n in names]))


@settings(max_examples=200, deadline=5000,
          # the same tmp folder serves every example (nothing is written to it)
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(command=st.sampled_from(["generate", "bench", "eval", "tune"]), flags=ARGS,
       prompt=st.text(max_size=20))
def test_the_cli_refuses_bad_arguments_in_one_sentence_before_loading_models(command, flags, prompt,
                                                                              isolated_models_dir):
    """The models named are files that do not exist, so nothing can load: every combination
    ends in a usage error (argparse, exit 2) or one sentence and exit 2 - never a traceback."""
    from nudge_local.cli import main

    missing = str(isolated_models_dir / "missing.gguf")
    argv = [command, "--base", missing, "--nudging", missing]
    for name, value in flags:
        argv += [f"{name}={value}"]
    if command == "generate":
        argv += ["--", prompt or "hi"]
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            code = main(argv)
        except SystemExit as exc:  # argparse's own usage errors
            code = exc.code
    assert code == 2, (argv, err.getvalue())
    lines = [line for line in err.getvalue().splitlines() if line.strip()]
    assert "Traceback" not in err.getvalue()
    if not err.getvalue().startswith("usage:"):
        assert len(lines) == 1 and lines[0].startswith("nudge-local: error: "), (argv, err.getvalue())
