"""Errors of the service layer: the user's input or environment, never a riff bug."""

from __future__ import annotations


class AppError(Exception):
    """A one-line, actionable message; `exit_code` 2 (usage/input) unless said otherwise."""

    exit_code = 2


class ProblemsFound(AppError):
    """The request was fine but what it checked is not (exit 1)."""

    exit_code = 1
