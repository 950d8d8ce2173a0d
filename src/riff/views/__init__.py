"""Materialized views of sessions: rebuild, incremental update, drift checks."""

from riff.store.protocol import SourceFingerprint, ViewRecord
from riff.views.materialize import (
    DriftReport,
    ViewChainError,
    check_drift,
    rebuild,
    rebuild_from_file,
    update,
)
from riff.views.source import SourceState, read_source

__all__ = [
    "DriftReport",
    "SourceFingerprint",
    "SourceState",
    "ViewChainError",
    "ViewRecord",
    "check_drift",
    "read_source",
    "rebuild",
    "rebuild_from_file",
    "update",
]
