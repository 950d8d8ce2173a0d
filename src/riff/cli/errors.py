"""Exit codes and the one-line error every user-facing failure becomes."""

from __future__ import annotations

from enum import IntEnum


class ExitCode(IntEnum):
    OK = 0
    PROBLEMS = 1  # problems found: broken sessions, tampered log, refused repair
    USAGE = 2  # bad usage or unreadable input


class CliError(Exception):
    """A failure to report as one line on stderr with an exit code."""

    def __init__(self, message: str, code: ExitCode = ExitCode.USAGE) -> None:
        super().__init__(message)
        self.code = code
