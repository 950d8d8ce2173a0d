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

import pickle
from pathlib import Path
from typing import BinaryIO

from riff.transcript.forked import ForkedWork, may_fork
from riff.transcript.line_check import FileReading, read_every_line


class BackgroundReading:
    """`read_every_line(path)` in a forked child; `result()` waits for it."""

    def __init__(self, child: ForkedWork[FileReading]) -> None:
        self._child = child

    @classmethod
    def start(cls, path: Path) -> BackgroundReading | None:
        """The child reading `path`, or None when this process may not fork."""
        if not may_fork():
            return None
        child = ForkedWork.start(lambda out: _send_reading(path, out), _receive_reading)
        return None if child is None else cls(child)

    def result(self) -> FileReading | None:
        """What the child read (None: it failed, or was asked before; read the file here)."""
        return self._child.result()

    def stop(self) -> None:
        """Reap the child (killed first if it has not finished) and close the pipe."""
        self._child.stop()


def _send_reading(path: Path, out: BinaryIO) -> bool:
    found = read_every_line(path)
    pickle.dump((found.size, found.sha256, found.lines_read), out)
    return True


def _receive_reading(pipe: BinaryIO) -> FileReading:
    size, sha256, lines_read = pickle.load(pipe)
    return FileReading(size, sha256, lines_read)


__all__ = ["BackgroundReading"]
