"""The materialized views as the interfaces and the jobs see them.

One place decides when a view is stale, how a stale view is brought up to
date (incrementally, else rebuilt from its transcript, else from its stored
base), and how drift is checked, so the CLI's `riff views`, the TUI and the
jobs agree.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from riff.app.eventlog import EventLog
from riff.app.repairs import source_file_of
from riff.app.sessions import SessionState, ensure_view, load_session
from riff.app.viewstore import check_drift, rebuild, update
from riff.app.workspace import Workspace
from riff.events import ChainHead
from riff.events.chain import Clock
from riff.store import NoViewError
from riff.transcript.errors import TranscriptError
from riff.views import DriftReport, SourceState, ViewChainError, ViewRecord, read_source

log = logging.getLogger("riff.jobs")


def is_stale(summary: dict[str, Any], head: ChainHead | None) -> bool:
    """A view is stale when marked so, or behind its session's head.

    A record user's append cannot mark a view stale (views are written by the
    owner only), so a view behind the head counts as stale too.
    """
    behind = head is not None and int(summary.get("through_seq") or 0) < head.seq
    return bool(summary.get("is_stale")) or behind


def stale_views(store: EventLog) -> list[dict[str, Any]]:
    """Summaries of every stale view, oldest update first."""
    heads = store.heads()
    stale = [
        row for row in store.view_summaries() if is_stale(row, heads.get(str(row["session_id"])))
    ]
    stale.sort(key=lambda r: (str(r.get("updated_at") or ""), str(r["session_id"])))
    return stale


def view_source_file(view: ViewRecord) -> Path | None:
    """The transcript a view was built from, if it is still there."""
    if view.source is None:
        return None
    path = Path(view.source.path)
    return path if path.is_file() else None


def _full_rebuild(store: EventLog, view: ViewRecord, clock: Clock | None) -> str:
    """Rebuild from the transcript on disk; from the stored base when the file is gone."""
    path = view_source_file(view)
    if path is not None:
        try:
            rebuild(store, view.session_id, read_source(path), clock=clock)
            return "rebuilt from file"
        except (TranscriptError, OSError) as exc:
            log.warning(
                "session %s: cannot read %s (%s); rebuilding from the stored base",
                view.session_id,
                path,
                exc,
            )
    base = SourceState(view.session_id, view.base_parents, view.timestamps, view.source)
    rebuild(store, view.session_id, base, clock=clock)
    return "rebuilt from stored base"


def refresh_view(
    store: EventLog, session_id: str, *, clock: Clock | None = None
) -> tuple[str, ViewRecord] | None:
    """Bring one view up to date: (how, the view), or None when the session has no view."""
    try:
        return "incremental", update(store, session_id, clock=clock)
    except ViewChainError:
        view = store.get_view(session_id)
        if view is None:
            return None
        how = _full_rebuild(store, view, clock)
        return how, store.get_view(session_id) or view
    except NoViewError:
        return None


def spot_check_view(
    store: EventLog, session_id: str, *, clock: Clock | None = None
) -> tuple[DriftReport, str | None, Path | None] | None:
    """Recompute a view from the log and from its file: (drift report, file digest, file)."""
    view = store.get_view(session_id)
    if view is None:
        return None
    path = view_source_file(view)
    source = read_source(path) if path is not None else None
    report = check_drift(store, session_id, transcript=source, clock=clock)
    file_digest: str | None = None
    if source is not None:
        # The view recomputed from the transcript on disk (through the log's head).
        file_digest = rebuild(store, session_id, source, save=False).materialization_digest
    return report, file_digest, path


# -- `riff views …` ----------------------------------------------------------


def view_summaries(ws: Workspace) -> list[dict[str, Any]]:
    """Every view with its seq, head and stale/drift flags (no parent maps)."""
    return ws.store.view_summaries()


def _target_states(ws: Workspace, session: str | None) -> Iterator[SessionState]:
    """The named session, or every session the store has events or a view for."""
    if session is not None:
        yield load_session(ws, session)
        return
    summaries = {str(row["session_id"]): row for row in ws.store.view_summaries()}
    for session_id in sorted(summaries.keys() | set(ws.store.sessions())):
        yield load_session(ws, source_file_of(summaries.get(session_id)) or session_id)


def rebuild_views(ws: Workspace, session: str | None = None) -> list[ViewRecord]:
    """Rebuild the views (one session's, or all) from the transcripts and the full log."""
    return [
        rebuild(ws.store, state.session_id, state.source_state())
        for state in _target_states(ws, session)
    ]


def validate_views(ws: Workspace, session: str | None = None) -> list[DriftReport]:
    """Recompute views from scratch and from the files on disk; a report per view."""
    reports = []
    for state in _target_states(ws, session):
        if ws.store.view_summary(state.session_id) is None:
            ensure_view(ws, state)
        # The file as this state read it: not read a second time.
        reports.append(check_drift(ws.store, state.session_id, transcript=state.file_source()))
    return reports


__all__ = [
    "is_stale",
    "rebuild_views",
    "refresh_view",
    "spot_check_view",
    "stale_views",
    "validate_views",
    "view_source_file",
    "view_summaries",
]
