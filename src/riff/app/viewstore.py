"""Materialized views kept in the store: riff.app reads the log and the stored view,
riff.views computes, and the store keeps what comes back.

`rebuild` (from a base state and the whole log), `update` (only the events
after the view's through_seq) and `check_drift` (recompute and compare, and
mark the stored view) are the only places a view is written.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from riff.app.eventlog import EventLog
from riff.events.chain import Clock
from riff.events.model import format_event_timestamp
from riff.store.errors import NoViewError
from riff.views import (
    DriftReport,
    SourceState,
    ViewRecord,
    advance_view,
    build_view,
    drift_of,
    marked_with,
    read_source,
)


def _now(clock: Clock | None) -> str:
    return format_event_timestamp((clock or (lambda: datetime.now(UTC)))())


def rebuild(
    store: EventLog,
    session_id: str,
    source: SourceState,
    *,
    clock: Clock | None = None,
    save: bool = True,
) -> ViewRecord:
    """Recompute a session's view from its base state and all of its events."""
    view = build_view(session_id, source, store.events(session_id), now=_now(clock))
    if save:
        store.put_view(view)
    return view


def rebuild_from_file(
    store: EventLog, path: Path | str, session_id: str | None = None, **kw: Any
) -> ViewRecord:
    source = read_source(path)
    sid = session_id or source.session_id or Path(path).stem
    return rebuild(store, sid, source, **kw)


def update(store: EventLog, session_id: str, *, clock: Clock | None = None) -> ViewRecord:
    """Bring a stored view up to date with the events after its through_seq.

    NoViewError without a view; ViewChainError if the log does not continue
    the view's head (rebuild then).
    """
    view = store.get_view(session_id)
    if view is None:
        raise NoViewError(session_id)
    later = store.events(session_id, from_seq=view.through_seq + 1)
    updated = advance_view(view, later, now=_now(clock))
    if updated is not view:
        store.put_view(updated)
    return updated


def check_drift(
    store: EventLog,
    session_id: str,
    *,
    transcript: Path | str | SourceState | None = None,
    clock: Clock | None = None,
    save: bool = True,
) -> DriftReport:
    """Recompute the stored view from scratch and compare (and with the file when given).

    The stored view gets `drift_detected` and the report when `save`.
    """
    view = store.get_view(session_id)
    if view is None:
        raise NoViewError(session_id)
    report = drift_of(view, store.events(session_id), transcript=transcript)
    if save:
        store.put_view(marked_with(view, report, now=_now(clock)))
    return report


__all__ = ["check_drift", "rebuild", "rebuild_from_file", "update"]
