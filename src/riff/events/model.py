"""The repair event: one immutable record per re-parenting (spec: repair-events.md).

This module is the only place that knows the event's fields. Construction
validates every value, so an invalid event cannot exist in memory.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from riff.events.errors import EventValidationError

EVENT_FORMAT = "riff.repair-event/1"
EVENT_FORMAT_V2 = "riff.repair-event/2"
EVENT_FORMATS: tuple[str, ...] = (EVENT_FORMAT, EVENT_FORMAT_V2)
GENESIS_DIGEST = "0" * 64

_UUID7_RE = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$")
_TIMESTAMP_RE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{6}Z")
_DIGEST_RE = re.compile(r"^[0-9a-f]{64}$")
_MESSAGE_ID_RE = re.compile(
    r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$"
)


class EventKind(StrEnum):
    REPAIR = "repair"
    REVERT = "revert"
    # Line edits (format 2 only): bytes leave or enter the transcript file.
    QUARANTINE_LINE = "quarantine_line"
    DROP_DUPLICATE = "drop_duplicate"
    INSERT_TOOL_RESULT = "insert_tool_result"
    NEUTRALIZE_TOOL_RESULT = "neutralize_tool_result"


LINE_EDIT_KINDS: frozenset[str] = frozenset(
    {
        EventKind.QUARANTINE_LINE,
        EventKind.DROP_DUPLICATE,
        EventKind.INSERT_TOOL_RESULT,
        EventKind.NEUTRALIZE_TOOL_RESULT,
    }
)


# Field order of the spec's table; exports and the store keep it.
EVENT_FIELDS: tuple[str, ...] = (
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
)
DIGESTED_FIELDS: tuple[str, ...] = EVENT_FIELDS[:-1]
# Format 2 adds one field, `edit` (the line edit, or null for a re-parenting).
EVENT_FIELDS_V2: tuple[str, ...] = (*EVENT_FIELDS[:-1], "edit", "event_digest")
DIGESTED_FIELDS_V2: tuple[str, ...] = EVENT_FIELDS_V2[:-1]


def fields_of(format_name: str) -> tuple[str, ...]:
    """The spec's field list for an event of `format_name`."""
    return EVENT_FIELDS_V2 if format_name == EVENT_FORMAT_V2 else EVENT_FIELDS


def format_event_timestamp(moment: datetime) -> str:
    """RFC 3339 UTC with microseconds, the only timestamp form events carry."""
    if moment.tzinfo is None:
        raise EventValidationError("timestamp", moment, "needs a timezone")
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def parse_timestamp(text: str) -> datetime:
    return datetime.strptime(text, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=UTC)


def _check_text(field: str, value: object, *, allow_empty: bool = True) -> None:
    if not isinstance(value, str):
        raise EventValidationError(field, value, "must be a string")
    if not allow_empty and not value.strip():
        raise EventValidationError(field, value, "must not be empty")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise EventValidationError(field, value, "is not valid unicode text") from None


def _check_message_ref(field: str, value: object, *, nullable: bool) -> None:
    if value is None:
        if nullable:
            return
        raise EventValidationError(field, value, "must not be null")
    if not isinstance(value, str) or not _MESSAGE_ID_RE.match(value):
        raise EventValidationError(field, value, "must be a message uuid")


@dataclass(frozen=True, slots=True)
class RepairEvent:
    """One sealed event. Every field of the spec, nothing else."""

    event_id: str
    kind: str
    session_id: str
    seq: int
    timestamp: str
    message_id: str
    old_parent_uuid: str | None
    new_parent_uuid: str | None
    operator: str
    reason: str
    similarity_score: float | None
    validation_passed: bool
    reverts_event_id: str | None
    prev_digest: str
    event_digest: str
    format: str = EVENT_FORMAT
    edit: Mapping[str, Any] | None = None
    """Format 2 only: the line edit (see riff.events.line_edit), or None."""

    def __post_init__(self) -> None:
        check_event_values(self.to_dict())

    @property
    def is_revert(self) -> bool:
        return self.kind == EventKind.REVERT

    @property
    def is_line_edit(self) -> bool:
        return self.edit is not None

    def to_dict(self) -> dict[str, Any]:
        """The spec's fields of this event's format, in the spec's order."""
        return {name: getattr(self, name) for name in fields_of(self.format)}

    def digest_payload(self) -> dict[str, Any]:
        """Every field the digest covers (all but `event_digest`)."""
        return {name: getattr(self, name) for name in fields_of(self.format)[:-1]}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> RepairEvent:
        """Strict: every spec field present, no others except the derived `is_reverted`."""
        if not isinstance(data, Mapping):
            raise EventValidationError("event", data, "must be a JSON object")
        names = fields_of(data.get("format", EVENT_FORMAT))
        missing = [name for name in names if name not in data]
        if missing:
            raise EventValidationError(missing[0], None, "is missing")
        extra = sorted(set(data) - set(names) - {"is_reverted"})
        if extra:
            raise EventValidationError(extra[0], data[extra[0]], "is not an event field")
        return cls(**{name: data[name] for name in names})


def event_from_row(row: Mapping[str, Any]) -> RepairEvent:
    """The event a store row holds: the fields of its format, a missing one null.

    A store keeps no NONE fields, so absent is null here (unlike from_dict,
    which reads riff's own exports strictly). The values are checked as ever.
    """
    values: dict[str, Any] = {name: row.get(name) for name in fields_of(row.get("format", ""))}
    return RepairEvent(**values)


def event_to_row(event: RepairEvent) -> dict[str, Any]:
    """The event as a store row: its format's fields, `edit` as a plain dict."""
    row = event.to_dict()
    if event.edit is not None:
        row["edit"] = dict(event.edit)
    return row


def check_event_values(data: Mapping[str, Any]) -> None:
    """Raise EventValidationError naming the first field whose value is invalid."""
    fmt = data["format"]
    if fmt not in EVENT_FORMATS:
        raise EventValidationError("format", fmt, f"must be one of {list(EVENT_FORMATS)}")
    event_id = data["event_id"]
    if not isinstance(event_id, str) or not _UUID7_RE.match(event_id):
        raise EventValidationError("event_id", event_id, "must be a lowercase hyphenated UUIDv7")
    kind = data["kind"]
    if fmt == EVENT_FORMAT_V2:
        _check_v2_kind_and_edit(kind, data.get("edit"), data)
    elif kind not in (EventKind.REPAIR.value, EventKind.REVERT.value):
        raise EventValidationError("kind", kind, "must be 'repair' or 'revert'")
    _check_text("session_id", data["session_id"], allow_empty=False)
    seq = data["seq"]
    if not isinstance(seq, int) or isinstance(seq, bool) or seq < 1:
        raise EventValidationError("seq", seq, "must be an integer >= 1")
    if seq > 2**53 - 1:
        raise EventValidationError("seq", seq, "must fit in a JSON number (< 2**53)")
    timestamp = data["timestamp"]
    if not isinstance(timestamp, str) or not _TIMESTAMP_RE.fullmatch(timestamp):
        raise EventValidationError(
            "timestamp",
            timestamp,
            "must be RFC 3339 UTC with microseconds, e.g. 2026-11-26T00:16:59.123456Z",
        )
    try:
        parse_timestamp(timestamp)
    except ValueError:
        raise EventValidationError("timestamp", timestamp, "is not a real date and time") from None
    _check_message_ref("message_id", data["message_id"], nullable=False)
    _check_message_ref("old_parent_uuid", data["old_parent_uuid"], nullable=True)
    _check_message_ref("new_parent_uuid", data["new_parent_uuid"], nullable=True)
    _check_text("operator", data["operator"], allow_empty=False)
    _check_text("reason", data["reason"])
    score = data["similarity_score"]
    if score is not None:
        if isinstance(score, bool) or not isinstance(score, int | float):
            raise EventValidationError("similarity_score", score, "must be a number or null")
        if not math.isfinite(score) or not 0.0 <= score <= 1.0:
            raise EventValidationError("similarity_score", score, "must be within [0, 1]")
    if not isinstance(data["validation_passed"], bool):
        raise EventValidationError(
            "validation_passed", data["validation_passed"], "must be true or false"
        )
    reverts = data["reverts_event_id"]
    if kind == EventKind.REVERT.value:
        if not isinstance(reverts, str) or not _UUID7_RE.match(reverts):
            raise EventValidationError(
                "reverts_event_id", reverts, "a revert must name the UUIDv7 of the event it undoes"
            )
        if reverts == event_id:
            raise EventValidationError("reverts_event_id", reverts, "an event cannot revert itself")
    elif reverts is not None:
        raise EventValidationError("reverts_event_id", reverts, "must be null for a repair")
    for name in ("prev_digest", "event_digest"):
        value = data[name]
        if not isinstance(value, str) or not _DIGEST_RE.match(value):
            raise EventValidationError(name, value, "must be 64 lowercase hex characters")
    if seq == 1 and data["prev_digest"] != GENESIS_DIGEST:
        raise EventValidationError("prev_digest", data["prev_digest"], "must be 64 zeros at seq 1")


def _check_v2_kind_and_edit(kind: object, edit: object, data: Mapping[str, Any]) -> None:
    """Format 2: a line-edit kind carries an edit and no parents; a repair carries none."""
    from riff.events.line_edit import check_edit_value  # the edit's own rules live there

    if kind not in {k.value for k in EventKind}:
        raise EventValidationError("kind", kind, f"must be one of {[k.value for k in EventKind]}")
    if kind == EventKind.REPAIR:
        raise EventValidationError(
            "kind", kind, "format 2 carries line edits; a re-parenting is written as format 1"
        )
    check_edit_value(edit)
    for name in ("old_parent_uuid", "new_parent_uuid"):
        if data[name] is not None:
            raise EventValidationError(name, data[name], "must be null for a line edit")
