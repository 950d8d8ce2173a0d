"""Conversions between riff's values and the rows SurrealDB stores."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import orjson
from surrealdb import RecordID

from riff.events import EVENT_FIELDS, RepairEvent, fields_of
from riff.store.protocol import SourceFingerprint, ViewRecord

EVENTS_TABLE = "repairs_events"
VIEWS_TABLE = "sessions_materialized"
# Field lists are constants of the code, never input: safe inside query text.
EVENT_SELECT = ", ".join((*EVENT_FIELDS, "edit"))
MAX_SEQ = 2**53 - 1


def event_record_id(session_id: str, seq: int) -> RecordID:
    return RecordID(EVENTS_TABLE, [session_id, seq])


def event_to_body(event: RepairEvent) -> dict[str, Any]:
    """The event's spec fields (NONE for null): a row without its record id and edge ends.

    A format-2 `edit` is stored as its JSON text, so the database keeps its
    numbers and key order exactly as sealed.
    """
    body = {name: value for name, value in event.to_dict().items() if value is not None}
    if event.edit is not None:
        body["edit"] = orjson.dumps(event.edit).decode()
    return body


def event_to_row(event: RepairEvent) -> dict[str, Any]:
    row = event_to_body(event)
    row["id"] = event_record_id(event.session_id, event.seq)
    row["in"] = RecordID("session", event.session_id)
    row["out"] = RecordID("message", [event.session_id, event.message_id])
    return row


def decoded_event_row(row: Mapping[str, Any]) -> dict[str, Any]:
    """A stored event row with its `edit` decoded from JSON text (as the digest covers it)."""
    decoded = dict(row)
    if decoded.get("edit") is not None:
        decoded["edit"] = orjson.loads(decoded["edit"])
    return decoded


def row_to_event(row: Mapping[str, Any]) -> RepairEvent:
    values: dict[str, Any] = {name: row.get(name) for name in fields_of(row.get("format", ""))}
    if values.get("edit") is not None:
        values["edit"] = orjson.loads(values["edit"])
    return RepairEvent(**values)


def encode_parents(parents: Mapping[str, str | None]) -> str:
    """A view's map as JSON text (nulls kept: a root's parent is null)."""
    return orjson.dumps(dict(parents)).decode()


def decode_parents(stored: str | None) -> dict[str, str | None]:
    if not stored:
        return {}
    decoded: dict[str, str | None] = orjson.loads(stored)
    return decoded


def view_to_row(view: ViewRecord) -> dict[str, Any]:
    row: dict[str, Any] = {
        "session_id": view.session_id,
        "base_parents": encode_parents(view.base_parents),
        "parents": encode_parents(view.parents),
        "timestamps": encode_parents(view.timestamps),
        "through_seq": view.through_seq,
        "head_digest": view.head_digest,
        "materialization_digest": view.materialization_digest,
        "is_stale": view.is_stale,
        "drift_detected": view.drift_detected,
        "updated_at": view.updated_at,
    }
    if view.drift_report is not None:
        row["drift_report"] = dict(view.drift_report)
    if view.source is not None:
        row["source_path"] = view.source.path
        row["source_size"] = view.source.size
        row["source_mtime_ns"] = view.source.mtime_ns
        row["source_sha256"] = view.source.sha256
    return row


def row_to_view(row: Mapping[str, Any]) -> ViewRecord:
    source = None
    if row.get("source_path") is not None:
        source = SourceFingerprint(
            path=row["source_path"],
            size=int(row.get("source_size") or 0),
            mtime_ns=int(row.get("source_mtime_ns") or 0),
            sha256=row.get("source_sha256") or "",
        )
    return ViewRecord(
        session_id=row["session_id"],
        base_parents=decode_parents(row.get("base_parents")),
        parents=decode_parents(row.get("parents")),
        timestamps=decode_parents(row.get("timestamps")),
        through_seq=int(row["through_seq"]),
        head_digest=row["head_digest"],
        materialization_digest=row["materialization_digest"],
        updated_at=row["updated_at"],
        is_stale=bool(row.get("is_stale", False)),
        drift_detected=bool(row.get("drift_detected", False)),
        drift_report=row.get("drift_report"),
        source=source,
    )
