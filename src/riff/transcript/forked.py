"""Work done in a forked child on the other core, its answer sent back through a pipe.

Decoding is CPU-bound Python and C that holds the GIL, so a thread would not
help; a forked child shares the already-imported modules and open files for
free. Used by the two-core read of a big transcript (riff.transcript.split_read)
and by `repair --write`'s second read of the file (riff.app.file_reading).

Always a shortcut: a caller that gets None (no fork, a child that failed or
was killed, an answer cut short) does the work itself.
"""

from __future__ import annotations

import contextlib
import os
import signal
import threading
from collections.abc import Callable
from typing import BinaryIO, Generic, NoReturn, TypeVar

T = TypeVar("T")


def may_fork() -> bool:
    """Fork only from a process with one thread (a fork copies no other thread, and
    a lock another thread held would stay held in the child), native threads
    counted: an open embedded store's engine runs threads Python does not list."""
    if not hasattr(os, "fork") or threading.active_count() != 1:
        return False
    try:
        return len(os.listdir("/proc/self/task")) == 1
    except OSError:  # no /proc: Python's own count is all there is
        return True


class ForkedWork(Generic[T]):
    """A child running ``send(out)``, which writes its answer to the pipe ``out`` and
    returns True (False: nothing worth reading); ``result`` reads it back."""

    def __init__(self, pid: int, pipe: int, receive: Callable[[BinaryIO], T]) -> None:
        self._pid = pid
        self._pipe = pipe
        self._receive = receive
        self._reaped = False

    @classmethod
    def start(
        cls, send: Callable[[BinaryIO], bool], receive: Callable[[BinaryIO], T]
    ) -> ForkedWork[T] | None:
        """The child, forked now (None: no fork here). The caller checks `may_fork`."""
        read_end, write_end = os.pipe()
        try:
            pid = os.fork()
        except OSError:
            os.close(read_end)
            os.close(write_end)
            return None
        if pid == 0:  # the child: never returns
            os.close(read_end)
            _child(send, write_end)
        os.close(write_end)
        return cls(pid, read_end, receive)

    def result(self) -> T | None:
        """The child's answer, read by ``receive`` (None: it failed, or was asked before)."""
        if self._pipe < 0:
            return None
        try:
            with os.fdopen(self._pipe, "rb", closefd=True) as pipe:
                self._pipe = -1
                found: T | None = self._receive(pipe)
        except Exception:  # a child that died half-way: the caller does the work
            found = None
        _, status = os.waitpid(self._pid, 0)
        self._reaped = True
        return found if os.waitstatus_to_exitcode(status) == 0 else None

    def stop(self) -> None:
        """Reap the child (killed first if it has not finished), close the pipe."""
        if self._pipe >= 0:
            os.close(self._pipe)
            self._pipe = -1
        if not self._reaped:
            with contextlib.suppress(ProcessLookupError):
                os.kill(self._pid, signal.SIGKILL)
            with contextlib.suppress(ChildProcessError):
                os.waitpid(self._pid, 0)
            self._reaped = True


def _child(send: Callable[[BinaryIO], bool], pipe: int) -> NoReturn:
    """Run ``send`` and exit: 0 when it sent its answer, 1 otherwise (no cleanup of
    the parent's state, which the child shares)."""
    code = 1
    try:
        signal.signal(signal.SIGINT, signal.SIG_DFL)
        with os.fdopen(pipe, "wb") as out:
            if send(out):
                code = 0
    except BaseException:  # the parent does the work itself instead
        pass
    finally:
        os._exit(code)


__all__ = ["ForkedWork", "may_fork"]
