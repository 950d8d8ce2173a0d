"""Errors of the service layer: the user's input or environment, never a riff bug."""

from __future__ import annotations

from riff.errors import ProblemsFound, RiffError


class AppError(RiffError):
    """A one-line, actionable message; `exit_code` 2 (usage/input) unless said otherwise."""


__all__ = ["AppError", "ProblemsFound"]
