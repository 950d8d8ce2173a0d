"""The event log as people and auditors read it: filtered listings and exports."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from riff.app.errors import AppError
from riff.app.workspace import Workspace
from riff.events import RepairEvent
from riff.events.export import ExportFormat, write_export
from riff.transcript import TranscriptError


@dataclass(frozen=True)
class LogFilter:
    session: str | None = None
    operator: str | None = None
    message: str | None = None
    since: str | None = None  # RFC 3339 prefix compare: events are UTC "...Z"
    until: str | None = None

    def __post_init__(self) -> None:
        for flag, value in (("--since", self.since), ("--until", self.until)):
            if value is not None and not _is_utc_time(value):
                raise AppError(
                    f"{flag} {value!r} is not a date or time; use UTC ISO 8601, e.g. "
                    "2026-01-31 or 2026-01-31T14:00:00Z"
                )

    def admits(self, event: RepairEvent) -> bool:
        return (
            (self.operator is None or event.operator == self.operator)
            and (self.message is None or event.message_id.startswith(self.message))
            and (self.since is None or event.timestamp >= self.since)
            and (self.until is None or event.timestamp <= self.until)
        )


def _is_utc_time(value: str) -> bool:
    try:
        datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return False
    return value[:4].isdigit()


def _session_ids(ws: Workspace, ref: str | None) -> list[str]:
    if ref is not None and ws.store.head_row(ref) is not None:
        return [ref]  # a session riff appended to: no need to list every session
    sessions = ws.store.sessions()
    if ref is None:
        return sorted(sessions)
    exact = [s for s in sessions if s == ref]
    if exact:
        return exact
    matches = [s for s in sessions if s.startswith(ref)]
    if matches:
        return matches
    # A transcript path or an id the store has no events for (an empty log).
    try:
        return [ws.resolve(ref).session_id]
    except (AppError, TranscriptError):
        return [ref]


def log_events(ws: Workspace, flt: LogFilter) -> Iterator[tuple[RepairEvent, bool]]:
    """(event, is_reverted) in (session, seq) order."""
    for session_id in _session_ids(ws, flt.session):
        reverted = ws.store.reverted_ids(session_id)
        for event in ws.store.events(session_id):
            if flt.admits(event):
                yield event, event.event_id in reverted


def export_log(ws: Workspace, path: Path, *, session: str | None, fmt: ExportFormat) -> int:
    """Write an export of the store's log (one session or all) with view digests."""
    events: list[RepairEvent] = []
    digests: dict[str, str | None] = {}
    for session_id in _session_ids(ws, session):
        events.extend(ws.store.events(session_id))
        view = ws.store.get_view(session_id)
        digests[session_id] = view.materialization_digest if view else None
    write_export(
        path,
        events,
        fmt=fmt,
        materialization_digests=digests,
        transparency_log=_newest_checkpoint_and_indexes(ws, events),
    )
    return len(events)


def _newest_checkpoint_and_indexes(
    ws: Workspace, events: list[RepairEvent]
) -> dict[str, object] | None:
    """What an export carries of the transparency log: the newest signed checkpoint and
    the log index of each exported event (None before the first checkpoint)."""
    tlog = getattr(ws.store.recorder, "tlog", None)  # only the SurrealDB recorder keeps the log
    if tlog is None:
        return None
    newest = tlog.newest_checkpoint()
    if newest is None:
        return None
    wanted = {event.event_id for event in events}
    indexes = {leaf.event_id: leaf.log_index for leaf in tlog.leaves() if leaf.event_id in wanted}
    return {"checkpoint": newest.note, "log_indexes": indexes}
