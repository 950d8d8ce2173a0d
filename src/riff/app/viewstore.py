"""Materialized views kept in the store: riff.app reads the log and the stored view,
riff.views computes, and the store keeps what comes back.

`rebuild` (from a base state and the whole log), `update` (only the events
after the view's through_seq), `save_after_append` (a view advanced past the
events just appended), `rebuild_after_append` (a view rebuilt past them) and
`check_drift` (recompute and compare, and mark the stored view) are the only
places a view is written.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from riff.app.eventlog import EventLog
from riff.events import RepairEvent
from riff.events.chain import Clock
from riff.events.model import format_event_timestamp
from riff.store.errors import NoViewError
from riff.views import (
    DriftReport,
    SourceState,
    ViewChainError,
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


def save_after_append(
    store: EventLog,
    view: ViewRecord,
    appended: list[RepairEvent],
    *,
    clock: Clock | None = None,
) -> ViewRecord | None:
    """Store `view`, the session's stored view just before `appended` were appended,
    advanced past them: what `update` stores after the append, without reading the
    whole view back.

    When the log moved on past those events meanwhile (another writer), or they
    do not continue the view, `update` takes the long way. None when the store
    keeps no view of the session (a record user may not store one).
    """
    try:
        advanced: ViewRecord | None = advance_view(view, appended, now=_now(clock))
    except ViewChainError:
        advanced = None
    if advanced is not None and store.put_view_if_current(advanced):
        return advanced
    if store.get_view(view.session_id) is None:
        return None
    return update(store, view.session_id, clock=clock)


def rebuild_after_append(
    store: EventLog,
    session_id: str,
    source: SourceState,
    events: list[RepairEvent],
    *,
    clock: Clock | None = None,
) -> ViewRecord | None:
    """Store the view `rebuild` makes just after the last of `events` (the session's
    whole log through the events just appended) was appended, built once past them.

    Built before the append and then advanced, every parent would be digested twice
    (a second for a million messages). When the log moved on meanwhile, the view is
    stored and `update` brings it up to date. None as for `save_after_append`.
    """
    view = build_view(session_id, source, events, now=_now(clock))
    if store.put_view_if_current(view):
        return view
    store.put_view(view)
    if store.get_view(session_id) is None:
        return None
    return update(store, session_id, clock=clock)


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
        store.mark_view(marked_with(view, report, now=_now(clock)))
    return report


__all__ = [
    "check_drift",
    "rebuild",
    "rebuild_after_append",
    "rebuild_from_file",
    "save_after_append",
    "update",
]
