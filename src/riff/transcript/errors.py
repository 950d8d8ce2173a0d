"""Errors raised to users by riff.transcript.

Every error carries a one-line message that names the file, line or value
concerned and says what to do, so the CLI can print it as is.
"""

from __future__ import annotations

from pathlib import Path

from riff.errors import RiffError


class TranscriptError(RiffError):
    """Base of every user-facing error of riff.transcript."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def __str__(self) -> str:
        return self.message


class SessionNotFoundError(TranscriptError):
    def __init__(self, name: str, projects_dir: Path) -> None:
        super().__init__(
            f"no session matches {name!r} under {projects_dir}; "
            "run `riff scan` to list sessions, or pass the path of a .jsonl file"
        )
        self.name = name
        self.projects_dir = projects_dir


class NotATranscriptFileError(TranscriptError):
    """A path named as a transcript that is there but is no file to read (a pipe, a device...)."""

    def __init__(self, name: str, what: str) -> None:
        super().__init__(f"{name}: {what}; pass the path of a transcript .jsonl file")
        self.name = name


class AmbiguousSessionError(TranscriptError):
    def __init__(self, name: str, matches: list[str]) -> None:
        shown = ", ".join(matches[:5]) + (", …" if len(matches) > 5 else "")
        super().__init__(
            f"{name!r} matches {len(matches)} sessions ({shown}); type more of the session id"
        )
        self.name = name
        self.matches = matches


class TranscriptChangedError(TranscriptError):
    def __init__(self, path: Path, what: str) -> None:
        super().__init__(
            f"{path} changed since it was read ({what}); nothing was written. "
            "Close Claude Code on this session, scan it again and retry"
        )
        self.path = path


class RepairWriteError(TranscriptError):
    """A requested change cannot be applied to the file as it is."""


class TranscriptLineError(TranscriptError, ValueError):
    """A line read again by offset is not the JSON object it was (the file changed)."""
