"""The ``nudge-local`` command. Each sub-command lives in its own module with
``register(subparsers)``; a user mistake ends in one sentence and exit code 2."""

from __future__ import annotations

import argparse
import errno
import importlib
import logging
import os
import sys
import warnings

from .. import NudgeError

# Sub-command modules, in the order ``--help`` lists them.
COMMANDS = ["chat", "generate", "serve", "eval", "models", "download", "bench", "tune", "config", "doctor"]


def version() -> str:
    try:
        from importlib.metadata import version as dist_version

        return dist_version("nudge-local")
    except Exception:  # a frozen (PyInstaller) build has no distribution metadata
        from .. import __version__

        return __version__


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="nudge-local",
        description="A large base model nudged by a small instruction-tuned model, on llama.cpp. "
        "With no command, opens the chat UI.",
    )
    parser.add_argument("--version", action="version", version=f"nudge-local {version()}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMANDS:
        try:
            module = importlib.import_module(f".{name}", __name__)
        except ModuleNotFoundError as exc:
            if exc.name and exc.name.endswith(f"cli.{name}"):
                continue  # an optional command not present in this build
            raise
        module.register(sub)
    return parser


class _StderrNow(logging.Handler):
    """Our info messages ("measuring thread plans...") on whatever stderr is now: under the
    chat UI that is Textual's capture, not the terminal it draws on."""

    def emit(self, record: logging.LogRecord) -> None:
        try:
            print(f"nudge-local: {record.getMessage()}", file=sys.stderr)
        except Exception:
            pass


def _show_engine_messages() -> None:
    log = logging.getLogger("nudge_local.engine")  # the engine's own notes, not the server's log
    if not any(isinstance(h, _StderrNow) for h in log.handlers):
        log.addHandler(_StderrNow(logging.INFO))
        log.setLevel(logging.INFO)
        log.propagate = False
    logging.getLogger("nudge_local.llama_cpp").setLevel(logging.WARNING)


def sub_commands(parser: argparse.ArgumentParser) -> set[str]:
    """The sub-commands this build has (optional ones may be missing)."""
    for action in parser._actions:  # noqa: SLF001 - argparse offers no public way
        if isinstance(action, argparse._SubParsersAction):
            return set(action.choices)
    return set()


def main(argv: list[str] | None = None) -> int:
    _show_engine_messages()
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        if "chat" not in sub_commands(parser):
            parser.print_help()
            return 0
        args = parser.parse_args(["chat", *(argv if argv is not None else sys.argv[1:])])
    with warnings.catch_warnings():
        warnings.simplefilter("always")
        # llama-cpp-python keeps /dev/null open for the process's life; not the user's business.
        warnings.simplefilter("ignore", ResourceWarning)
        warnings.showwarning = _show_warning
        try:
            code = int(args.func(args) or 0)
            sys.stdout.flush()  # a full disk or a closed pipe shows here, not at exit
            return code
        except NudgeError as exc:
            print(f"nudge-local: error: {_one_line(exc)}", file=sys.stderr)
            return 2
        except KeyboardInterrupt:
            print("nudge-local: interrupted", file=sys.stderr)
            return 130
        except BrokenPipeError:
            # The reader went away (`| head`): stop quietly, as Unix tools do.
            _silence_stdout()
            return 141
        except OSError as exc:
            if exc.errno in (errno.ENOSPC, errno.EDQUOT, errno.EIO) and exc.filename is None:
                _silence_stdout()
                print(f"nudge-local: error: cannot write the output: {exc.strerror}.", file=sys.stderr)
                return 2
            raise


def _show_warning(message, category, filename, lineno, file=None, line=None):  # type: ignore[no-untyped-def]
    print(f"nudge-local: warning: {message}", file=sys.stderr)


def _one_line(exc: BaseException) -> str:
    """A user error's sentence, without control characters that could drive the terminal."""
    text = " ".join(str(exc).split())
    return "".join(ch if ch.isprintable() else "?" for ch in text)


def _silence_stdout() -> None:
    """Point stdout at /dev/null so that Python's final flush cannot fail again at exit."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
    except (OSError, ValueError):
        pass


def run() -> None:  # console-script entry point
    sys.exit(main())


if __name__ == "__main__":
    run()
