"""Errors raised by the event core."""

from __future__ import annotations

from riff.errors import RiffError


class EventError(RiffError):
    """Base class for every error of the event core."""


class EventValidationError(EventError, ValueError):
    """A value does not fit the event format; names the field and the value."""

    def __init__(self, field: str, value: object, problem: str) -> None:
        self.field = field
        self.value = value
        self.problem = problem
        super().__init__(f"field {field!r}: {problem} (got {value!r})")


class RevertError(EventError):
    """A revert that the spec does not allow (already reverted, moved since, ...)."""


class ImmutableEventError(EventError):
    """An attempt to change or delete an appended event."""


class ExportFormatError(EventError):
    """An export file that cannot be read; the message names the file and line."""
