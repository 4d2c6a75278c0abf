"""A per-file lock across threads and processes, so two downloads of one model never race.

The lock is an OS lock on a small file in ``<models dir>/.locks/`` (``fcntl.flock`` on POSIX,
``msvcrt.locking`` on Windows). The OS drops it when its holder exits, even by ``kill -9``,
so a crashed download never leaves the model locked. Lock files are left in place: removing
one while another process waits on it would let a third process lock a different file.

``flock`` locks belong to an open file, not a process, so two threads of one process that
each open the lock file exclude each other as two processes do.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path
from types import TracebackType
from typing import IO

from ._download_progress import Tracker
from .paths import models_dir

POLL_S = 0.1


def lock_path(target: Path) -> Path:
    """The lock file that guards ``target`` (a file inside the models folder)."""
    root = models_dir()
    try:
        key = target.relative_to(root).as_posix()
    except ValueError:
        key = target.as_posix()
    return root / ".locks" / (key.replace("/", "--") + ".lock")


class ModelLock:
    """Held while one download writes ``target``; a second one waits (and can be cancelled).

    ``waiting`` says whether the lock was busy when first tried: the caller then looks again
    at what the other download left (usually the finished file) before fetching anything.
    """

    def __init__(self, target: Path, tracker: Tracker, who: str) -> None:
        self.path = lock_path(target)
        self.tracker, self.who = tracker, who
        self.waited = False
        self._file: IO[bytes] | None = None

    def __enter__(self) -> ModelLock:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        f = open(self.path, "a+b")  # held until __exit__
        try:
            while not _try_lock(f):
                if not self.waited:
                    self.waited = True
                    self.tracker.note(
                        "waiting", f"Another download of {self.who} is running; waiting for it "
                                   "to finish.")
                self.tracker.check_cancel()
                time.sleep(POLL_S)
        except BaseException:
            f.close()
            raise
        self._file = f
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        if self._file is not None:
            _unlock(self._file)
            self._file.close()
            self._file = None


if sys.platform == "win32":  # pragma: no cover - not run on the Linux CI
    import msvcrt

    def _try_lock(f: IO[bytes]) -> bool:
        f.seek(0)
        try:
            msvcrt.locking(f.fileno(), msvcrt.LK_NBLCK, 1)
        except OSError:
            return False
        return True

    def _unlock(f: IO[bytes]) -> None:
        f.seek(0)
        try:
            msvcrt.locking(f.fileno(), msvcrt.LK_UNLCK, 1)
        except OSError:
            pass

else:
    import fcntl

    def _try_lock(f: IO[bytes]) -> bool:
        try:
            fcntl.flock(f.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return False
        except OSError as e:  # e.g. a file system without locks: say so, don't spin
            raise OSError(e.errno, f"cannot lock {f.name}: {e.strerror}") from None
        return True

    def _unlock(f: IO[bytes]) -> None:
        fcntl.flock(f.fileno(), fcntl.LOCK_UN)

