"""Is a transcript live? Another process writing it, or a change a moment ago.

Claude Code appends to a session's transcript while the session runs; a
rewrite of that file under it would lose the lines it writes next (it keeps
its file descriptor on the old inode after riff's atomic rename). So before
riff writes a transcript it asks two things, here and nowhere else (the CLI,
the TUI, `riff guard --auto` and the jobs all come through this module):

- Linux: does any other process hold the file open for writing? Every
  `/proc/PID/fd/N` that links to the file is looked up in
  `/proc/PID/fdinfo/N`, whose `flags` say the access mode (a reader, such as
  `tail -f` or an editor viewing it, does not count). Processes of other
  users are not visible to an unprivileged riff; the second check covers them.
- Everywhere: did the file change in the last few seconds (its mtime)?
"""

from __future__ import annotations

import contextlib
import os
import time
from dataclasses import dataclass
from pathlib import Path

from riff.app.errors import AppError
from riff.settings import LIVE_QUIET_SECONDS

QUIET_SECONDS = LIVE_QUIET_SECONDS
"""A file untouched this long is taken as quiet (Claude Code writes a line per turn step);
`live_quiet_seconds` in the settings."""

_COMMAND_CHARS = 80

_own_writes: dict[str, tuple[int, int, int]] = {}
"""(inode, size, mtime_ns) of each transcript as this process last wrote it."""


class LiveFileError(AppError):
    """The transcript is being written by another process (or was, seconds ago)."""


@dataclass(frozen=True)
class Writer:
    """A process holding the file open for writing."""

    pid: int
    command: str

    def describe(self) -> str:
        return f"process {self.pid} ({self.command})" if self.command else f"process {self.pid}"


def _command_of(pid: int) -> str:
    """The process's command line (its name when that is hidden), shortened."""
    try:
        raw = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        raw = b""
    text = raw.replace(b"\x00", b" ").decode("utf-8", "replace").strip()
    if not text:
        try:
            text = Path(f"/proc/{pid}/comm").read_text(errors="replace").strip()
        except OSError:
            text = ""
    return text if len(text) <= _COMMAND_CHARS else text[: _COMMAND_CHARS - 1] + "…"


def _opened_for_writing(pid: int, fd: str) -> bool:
    try:
        with open(f"/proc/{pid}/fdinfo/{fd}") as info:
            for line in info:
                if line.startswith("flags:"):
                    flags = int(line.split()[1], 8)
                    return bool(flags & (os.O_WRONLY | os.O_RDWR))
    except (OSError, ValueError, IndexError):
        return False
    return False


def writers_of(path: Path | str) -> list[Writer]:
    """Other processes holding `path` open for writing (Linux /proc; [] where there is none)."""
    target = os.path.realpath(path)
    found: list[Writer] = []
    me = os.getpid()
    try:
        pids = sorted(int(p) for p in os.listdir("/proc") if p.isdigit())
    except OSError:
        return found
    for pid in pids:
        if pid == me:
            continue
        fd_dir = f"/proc/{pid}/fd"
        try:
            fds = os.listdir(fd_dir)
        except OSError:
            continue  # gone, or another user's
        for fd in fds:
            try:
                if os.readlink(f"{fd_dir}/{fd}") != target:
                    continue
            except OSError:
                continue
            if _opened_for_writing(pid, fd):
                found.append(Writer(pid, _command_of(pid)))
                break
    return found


def _identity(stat: os.stat_result) -> tuple[int, int, int]:
    return (stat.st_ino, stat.st_size, stat.st_mtime_ns)


def note_own_write(path: Path | str) -> None:
    """riff just wrote `path`: a change this recent is its own, not another writer's
    (so an undo right after a repair, in the same process, is not refused)."""
    with contextlib.suppress(OSError):  # gone already: nothing to remember
        _own_writes[os.path.realpath(path)] = _identity(os.stat(path))


def live_reason(path: Path | str, quiet_seconds: float = QUIET_SECONDS) -> str | None:
    """Why `path` must not be rewritten now, or None when it is quiet."""
    try:
        stat = os.stat(path)
    except OSError as exc:
        return f"cannot stat it ({exc.strerror})"
    writers = writers_of(path)
    if writers:
        return f"{writers[0].describe()} has it open for writing"
    age = time.time() - stat.st_mtime
    own = _own_writes.get(os.path.realpath(path)) == _identity(stat)
    if age < quiet_seconds and not own:
        return f"it changed {max(age, 0.0):.1f} s ago"
    return None


def refuse_if_live(
    path: Path | str, *, quiet_seconds: float = QUIET_SECONDS, force_live: bool = False
) -> None:
    """Raise LiveFileError, one line saying what to do, unless the file is quiet or forced."""
    if force_live:
        return
    reason = live_reason(path, quiet_seconds)
    if reason is None:
        return
    what = (
        "quit that program (e.g. Claude Code in this session) and retry"
        if "open for writing" in reason
        else f"wait until it has been quiet for {quiet_seconds:g} s and retry"
    )
    raise LiveFileError(f"{path} is live: {reason}; {what}, or add --force-live to write it anyway")


__all__ = [
    "QUIET_SECONDS",
    "LiveFileError",
    "Writer",
    "live_reason",
    "note_own_write",
    "refuse_if_live",
    "writers_of",
]
