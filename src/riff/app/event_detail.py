"""One event in full: what it did, and the bytes it took out of (or put into) a file.

A line edit names its lines by SHA-256; the bytes live in the store's blob
table. `riff show --event` and the TUI's event log read them here.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass, field
from typing import Any

from riff.app.repairs import find_event
from riff.app.sessions import session_events
from riff.app.workspace import Workspace
from riff.events import RepairEvent, reverted_event_ids


@dataclass(frozen=True)
class Segment:
    """One line an edit removed or inserted: its address, and its bytes when stored."""

    sha256: str
    size: int
    data: bytes | None

    def text(self) -> str | None:
        """The bytes as text: invalid UTF-8 shown as \\xNN (control characters are the
        printer's to escape)."""
        return None if self.data is None else self.data.decode("utf-8", "backslashreplace")

    def to_json(self) -> dict[str, Any]:
        return {
            "sha256": self.sha256,
            "size": self.size,
            "stored": self.data is not None,
            "text": self.text(),
            "base64": None if self.data is None else base64.b64encode(self.data).decode("ascii"),
        }


@dataclass(frozen=True)
class EventDetail:
    event: RepairEvent
    is_reverted: bool
    reverted_by: list[str] = field(default_factory=list)
    """Events that revert this one (the last one not itself reverted decides)."""
    removed: list[Segment] = field(default_factory=list)
    inserted: list[Segment] = field(default_factory=list)

    @property
    def line(self) -> int | None:
        return None if self.event.edit is None else int(self.event.edit["line"])

    def to_json(self) -> dict[str, Any]:
        return {
            "event": self.event.to_dict() | {"is_reverted": self.is_reverted},
            "reverted_by": self.reverted_by,
            "line": self.line,
            "removed": [s.to_json() for s in self.removed],
            "inserted": [s.to_json() for s in self.inserted],
        }


def event_detail(ws: Workspace, ref: str) -> EventDetail:
    """The event named by id (or unique prefix), its status and its segments' bytes."""
    event = find_event(ws, ref)
    log = session_events(ws, event.session_id)
    reverted = reverted_event_ids(log)
    by = [e.event_id for e in log if e.reverts_event_id == event.event_id]
    if event.edit is None:
        return EventDetail(event, event.event_id in reverted, by)
    edit = event.edit
    blobs = ws.store.get_blobs([r["sha256"] for r in (*edit["removed"], *edit["inserted"])])

    def segments(refs: list[dict[str, Any]]) -> list[Segment]:
        return [Segment(r["sha256"], int(r["size"]), blobs.get(r["sha256"])) for r in refs]

    return EventDetail(
        event,
        event.event_id in reverted,
        by,
        segments(edit["removed"]),
        segments(edit["inserted"]),
    )


__all__ = ["EventDetail", "Segment", "event_detail"]
