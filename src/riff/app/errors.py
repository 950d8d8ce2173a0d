"""Errors of the service layer: the user's input or environment, never a riff bug."""

from __future__ import annotations

from riff.errors import ProblemsFound, RiffError


class AppError(RiffError):
    """A one-line, actionable message; `exit_code` 2 (usage/input) unless said otherwise."""


class ClaudeSettingsError(AppError):
    """Claude Code's settings file cannot be read or has a shape riff will not guess about."""


class GuardInputError(AppError):
    """A hook's stdin is not the JSON object Claude Code sends."""


__all__ = ["AppError", "ClaudeSettingsError", "GuardInputError", "ProblemsFound"]
