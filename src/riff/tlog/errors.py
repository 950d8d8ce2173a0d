"""Errors of the transparency log."""

from __future__ import annotations

from riff.errors import RiffError


class TlogError(RiffError, ValueError):
    """Base class of every transparency-log error (malformed input, failed proof)."""


class NoteError(TlogError):
    """A signed note or key that is malformed or does not verify."""


class CheckpointError(TlogError):
    """A checkpoint body that does not follow the tlog-checkpoint format."""


class ProofError(TlogError):
    """A proof that is malformed or does not verify; the message says which part."""
