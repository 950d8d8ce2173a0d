"""Reverts undo a row's events newest first, across kinds.

The events of one row apply in log order, each against the bytes the one
before left; so they undo in the opposite order. The fold over the log keeps
that order among re-links (riff.events.fold) and among line edits (a stack of
edits per file); what it cannot see is a line edit's bytes, which live in the
blob store. This module checks the two mixed cases before a revert is appended:

- a re-link of a row that a later line edit then wrote (the edit's bytes hold
  the row as the re-link left it: undoing the re-link under it would change a
  line the edit's own revert must find as it wrote it);
- a line edit whose rows a later re-link moved, or made the parent of another
  row (undoing the edit would take out bytes a later event stands on).
"""

from __future__ import annotations

import orjson

from riff.app.errors import AppError
from riff.app.sessions import session_events
from riff.app.workspace import Workspace
from riff.events import RepairEvent, reverted_event_ids
from riff.transcript import json_line


def refuse_out_of_order_revert(ws: Workspace, target: RepairEvent) -> None:
    """AppError naming the later event to revert first, when reverting `target` now
    would undo it out of order; None when it may be reverted."""
    if target.is_revert:
        return  # re-applying an event: the fold's own rules decide
    log = session_events(ws, target.session_id)
    reverted = reverted_event_ids(log)
    later = [
        e
        for e in reversed(log)
        if e.seq > target.seq and not e.is_revert and e.event_id not in reverted
    ]
    if target.edit is None:
        for event in later:
            if event.edit is not None and target.message_id in rows_written(ws, event):
                raise AppError(
                    f"line edit {event.event_id} ({event.kind}) rewrote message "
                    f"{target.message_id} after this re-link; revert {event.event_id} first, "
                    f"then {target.event_id}"
                )
        return
    rows = rows_written(ws, target)
    if not rows:
        return
    for event in later:
        if event.edit is not None:
            continue
        if event.message_id in rows:
            raise AppError(
                f"event {event.event_id} re-linked message {event.message_id}, a row this "
                f"line edit wrote; revert {event.event_id} first, then {target.event_id}"
            )
        if event.new_parent_uuid in rows:
            raise AppError(
                f"event {event.event_id} put message {event.message_id} under "
                f"{event.new_parent_uuid}, a row this line edit wrote; revert "
                f"{event.event_id} first, then {target.event_id}"
            )


def rows_written(ws: Workspace, event: RepairEvent) -> set[str]:
    """The uuids of the rows a line edit wrote (its inserted lines), from the blob store."""
    if event.edit is None:
        return set()
    wanted = [ref["sha256"] for ref in event.edit["inserted"]]
    blobs = ws.store.get_blobs(wanted)
    return {row_id for key in wanted if (row_id := row_uuid(blobs.get(key, b""))) is not None}


def row_uuid(segment: bytes) -> str | None:
    """The uuid of the row a line holds, or None."""
    try:
        value = json_line.loads(segment)
    except orjson.JSONDecodeError:
        return None
    found = value.get("uuid") if isinstance(value, dict) else None
    return found if isinstance(found, str) else None
