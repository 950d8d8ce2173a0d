"""A transcript read once more, in a forked child, while this process scans and plans.

Planning `repair --write` reads the file twice: the scan builds its columns,
and the one-pass line check (riff.transcript.line_check) has orjson read every
line and hashes the bytes, to prove the columns answer for the very bytes the
planners would parse. The second read needs nothing from the first, so it runs
in a child forked before the scan, on the other core; the parent takes its
answer when the line check asks for it.

A shortcut only: without fork (or with other threads running, Python's or
native ones such as an open embedded store's, whose locks a child would
inherit held), or when the child fails or is not asked, the line
check reads the file itself, as it would have anyway.
"""

from __future__ import annotations

import contextlib
import os
import pickle
import signal
from pathlib import Path
from typing import NoReturn

from riff.transcript.line_check import FileReading, read_every_line
from riff.transcript.split_read import may_fork


class BackgroundReading:
    """`read_every_line(path)` in a forked child; `result()` waits for it."""

    def __init__(self, pid: int, pipe: int) -> None:
        self._pid = pid
        self._pipe = pipe
        self._reaped = False

    @classmethod
    def start(cls, path: Path) -> BackgroundReading | None:
        """The child reading `path`, or None when this process may not fork."""
        if not may_fork():
            return None
        read_end, write_end = os.pipe()
        try:
            pid = os.fork()
        except OSError:
            os.close(read_end)
            os.close(write_end)
            return None
        if pid == 0:  # the child: never returns
            os.close(read_end)
            _child_main(path, write_end)
        os.close(write_end)
        return cls(pid, read_end)

    def result(self) -> FileReading | None:
        """What the child read (None: it failed; read the file here instead)."""
        if self._pipe < 0:
            return None
        try:
            with os.fdopen(self._pipe, "rb", closefd=True) as pipe:
                self._pipe = -1
                size, sha256, lines_read = pickle.load(pipe)
            found: FileReading | None = FileReading(size, sha256, lines_read)
        except Exception:  # a child that died half-way
            found = None
        self.stop()
        return found

    def stop(self) -> None:
        """Reap the child (killed first if it has not finished) and close the pipe."""
        if self._pipe >= 0:
            os.close(self._pipe)
            self._pipe = -1
        if not self._reaped:
            with contextlib.suppress(ProcessLookupError):
                os.kill(self._pid, signal.SIGKILL)
            with contextlib.suppress(ChildProcessError):
                os.waitpid(self._pid, 0)
            self._reaped = True


def _child_main(path: Path, pipe: int) -> NoReturn:
    code = 1
    try:
        signal.signal(signal.SIGINT, signal.SIG_DFL)
        found = read_every_line(path)
        with os.fdopen(pipe, "wb") as out:
            pickle.dump((found.size, found.sha256, found.lines_read), out)
        code = 0
    except BaseException:  # the parent reads the file itself instead
        pass
    finally:
        os._exit(code)


__all__ = ["BackgroundReading"]
