"""One process per embedded store: an flock'ed file beside the store holding the pid.

The kernel drops an flock when its process dies, so a lock file left behind
by a killed process never blocks anyone; only a live holder does.
"""

from __future__ import annotations

import fcntl
import os
import sys
from pathlib import Path
from types import TracebackType

from riff.store.errors import StoreInUseError


def lock_path_for(store_dir: Path) -> Path:
    return store_dir.with_name(store_dir.name + ".lock")


def _describe_self() -> str:
    argv = [Path(sys.argv[0]).name, *sys.argv[1:2]] if sys.argv and sys.argv[0] else []
    return " ".join(argv)[:80]


class StoreLock:
    """Exclusive, non-blocking lock on `<store dir>.lock`."""

    def __init__(self, store_dir: Path) -> None:
        self.store_dir = store_dir
        self.path = lock_path_for(store_dir)
        self._fd: int | None = None

    @property
    def held(self) -> bool:
        return self._fd is not None

    def acquire(self) -> None:
        if self._fd is not None:
            return
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            pid, command = _read_holder(fd)
            os.close(fd)
            raise StoreInUseError(str(self.store_dir), pid, command) from None
        except BaseException:
            os.close(fd)
            raise
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()}\n{_describe_self()}\n".encode(), 0)
        self._fd = fd

    def release(self) -> None:
        if self._fd is None:
            return
        fd, self._fd = self._fd, None
        try:
            os.ftruncate(fd, 0)
        finally:
            fcntl.flock(fd, fcntl.LOCK_UN)
            os.close(fd)

    def __enter__(self) -> StoreLock:
        self.acquire()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.release()


def _read_holder(fd: int) -> tuple[int | None, str]:
    try:
        text = os.pread(fd, 4096, 0).decode("utf-8", "replace")
    except OSError:
        return None, ""
    first, _, rest = text.partition("\n")
    try:
        pid: int | None = int(first.strip())
    except ValueError:
        pid = None
    return pid, rest.strip()
