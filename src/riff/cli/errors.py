"""Exit codes and the one-line error every user-facing failure becomes."""

from __future__ import annotations

from enum import IntEnum

from riff.errors import RiffError


class ExitCode(IntEnum):
    OK = 0
    PROBLEMS = 1  # problems found: broken sessions, tampered log, refused repair
    USAGE = 2  # bad usage or unreadable input


class CliError(RiffError):
    """A usage error of the command line, reported as one line with its exit code."""

    def __init__(self, message: str, code: ExitCode = ExitCode.USAGE) -> None:
        super().__init__(message)
        self.code = code
        self.exit_code = int(code)


UsageError = CliError
