"""Materialized views of sessions: build, advance, drift checks (pure: riff.app stores them)."""

from riff.views.materialize import (
    DriftReport,
    ViewChainError,
    advance_view,
    build_view,
    drift_of,
    marked_with,
)
from riff.views.record import SourceFingerprint, ViewRecord
from riff.views.source import SourceState, read_source

__all__ = [
    "DriftReport",
    "SourceFingerprint",
    "SourceState",
    "ViewChainError",
    "ViewRecord",
    "advance_view",
    "build_view",
    "drift_of",
    "marked_with",
    "read_source",
]
