"""Conversions between the store's plain rows and the rows SurrealDB keeps (JSON text
for an edit and the views' parent maps, NONE for null)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import orjson

from riff.store.protocol import EventRow, ViewRow
from riff.store.sdk import RecordID

EVENTS_TABLE = "repairs_events"
VIEWS_TABLE = "sessions_materialized"
# The columns of `repairs_events` that hold an event's fields (001_init.surql,
# 003_line_edits.surql): the event format's fields, in its order, `edit` last.
# tests/store/test_rows.py keeps this list equal to riff.events' field lists.
EVENT_COLUMNS: tuple[str, ...] = (
    "format",
    "event_id",
    "kind",
    "session_id",
    "seq",
    "timestamp",
    "message_id",
    "old_parent_uuid",
    "new_parent_uuid",
    "operator",
    "reason",
    "similarity_score",
    "validation_passed",
    "reverts_event_id",
    "prev_digest",
    "event_digest",
    "edit",
)
# Column lists are constants of the code, never input: safe inside query text.
EVENT_SELECT = ", ".join(EVENT_COLUMNS)
MAX_SEQ = 2**53 - 1


def event_record_id(session_id: str, seq: int) -> RecordID:
    return RecordID(EVENTS_TABLE, [session_id, seq])


def event_to_body(row: Mapping[str, Any]) -> dict[str, Any]:
    """An event row as the table stores it (NONE for null), without record id and edge ends.

    A format-2 `edit` is stored as its JSON text, so the database keeps its
    numbers and key order exactly as sealed.
    """
    body = {name: row[name] for name in EVENT_COLUMNS if row.get(name) is not None}
    if "edit" in body:
        body["edit"] = orjson.dumps(body["edit"]).decode()
    return body


def event_to_row(row: Mapping[str, Any]) -> dict[str, Any]:
    """The stored body with its record id and graph edge ends (session -> message)."""
    body = event_to_body(row)
    body["id"] = event_record_id(row["session_id"], row["seq"])
    body["in"] = RecordID("session", row["session_id"])
    body["out"] = RecordID("message", [row["session_id"], row["message_id"]])
    return body


def decoded_event_row(row: Mapping[str, Any]) -> dict[str, Any]:
    """A stored event row with its `edit` decoded from JSON text (as the digest covers it)."""
    decoded = dict(row)
    if decoded.get("edit") is not None:
        decoded["edit"] = orjson.loads(decoded["edit"])
    return decoded


def stored_event(row: Mapping[str, Any]) -> EventRow:
    """An event row as read: its columns that hold a value, `edit` decoded."""
    return decoded_event_row(
        {name: row[name] for name in EVENT_COLUMNS if row.get(name) is not None}
    )


def encode_parents(parents: Mapping[str, str | None]) -> str:
    """A view's map as JSON text (nulls kept: a root's parent is null)."""
    return orjson.dumps(dict(parents)).decode()


def decode_parents(stored: str | None) -> dict[str, str | None]:
    if not stored:
        return {}
    decoded: dict[str, str | None] = orjson.loads(stored)
    return decoded


def view_to_row(view: Mapping[str, Any]) -> dict[str, Any]:
    """A view row as the table stores it: the parent maps as JSON text."""
    row = {name: value for name, value in view.items() if value is not None}
    for name in ("base_parents", "parents", "timestamps"):
        row[name] = encode_parents(view.get(name) or {})
    return row


def row_to_view(row: Mapping[str, Any]) -> ViewRow:
    view = {name: value for name, value in row.items() if value is not None and name != "id"}
    for name in ("base_parents", "parents", "timestamps"):
        view[name] = decode_parents(row.get(name))
    return view
