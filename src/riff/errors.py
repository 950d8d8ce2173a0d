"""The one root of every error riff raises on purpose.

An error riff raises is about the user's input or environment, never a riff
bug: it carries a one-line message naming the file, line or value concerned
and what to do, and an exit code (2 for usage or input, 1 when the request was
fine but what it checked is not). The CLI and the TUI each catch
``(RiffError, OSError)`` in one place; anything else is a bug and shows its
traceback.

    RiffError                      exit 2 unless said otherwise
    ├── ProblemsFound              exit 1: what was checked is not sound
    ├── Interrupted                the caller asked to stop; nothing half-written
    │   ├── VerificationInterrupted    (riff.app.integrity)
    │   └── ArchiveInterrupted         (riff.app.archive)
    ├── UsageError                 (riff.cli.errors: CliError) carries its exit code
    ├── AppError                   (riff.app.errors) the service layer's refusals
    ├── SettingsError              (riff.settings) a bad configuration value
    ├── UnknownJobError            (riff.jobs.runner)
    ├── TranscriptError            (riff.transcript.errors) files, lines, sessions
    ├── EventError                 (riff.events.errors) the event format and rules
    ├── TlogError                  (riff.tlog.errors) signed notes, checkpoints, proofs
    ├── ViewChainError             (riff.views) a view that the log does not continue
    └── StoreError                 (riff.store.errors) the database

Only this module and the family modules named above define error classes.
"""

from __future__ import annotations


class RiffError(Exception):
    """A one-line, actionable message for the user; `exit_code` 2 unless said otherwise."""

    exit_code: int = 2


class ProblemsFound(RiffError):
    """The request was fine but what it checked is not (exit 1)."""

    exit_code = 1


class Interrupted(RiffError):
    """The caller asked to stop; the partial result is not a verdict and nothing was written."""


__all__ = ["Interrupted", "ProblemsFound", "RiffError"]
