"""Conversions between the store's plain rows and the rows SurrealDB keeps (JSON text
for an edit, compact JSON text for the views' maps, NONE for null)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import orjson

from riff.store.protocol import EventRow, ViewRow
from riff.store.sdk import RecordID
from riff.store.view_maps import decode_view_maps, encode_view_maps

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


def view_to_row(view: Mapping[str, Any]) -> dict[str, Any]:
    """A view row as the table stores it: the three maps as their compact text
    (riff.store.view_maps), read from the view's maps without copying them."""
    row = {name: value for name, value in view.items() if value is not None}
    row["base_parents"], row["parents"], row["timestamps"] = encode_view_maps(
        view.get("base_parents") or {}, view.get("parents") or {}, view.get("timestamps") or {}
    )
    return row


def row_to_view(row: Mapping[str, Any]) -> ViewRow:
    view = {name: value for name, value in row.items() if value is not None and name != "id"}
    view["base_parents"], view["parents"], view["timestamps"] = decode_view_maps(
        str(row.get("session_id")),
        row.get("base_parents"),
        row.get("parents"),
        row.get("timestamps"),
    )
    return view
