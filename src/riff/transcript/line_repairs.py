"""Planning line edits: torn lines and NUL runs (quarantine_line), duplicate lines.

Each planned edit touches only the segments its finding names; every other
byte of the file stays as it is. Edits are planned against the file as it
stands and listed in file order, each with line numbers of the file as the
previous edits leave it, so applying them in order (riff.events.line_edit)
gives the repaired file and reverting them in reverse order gives the
original bytes back.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import Any

import orjson

from riff.events.line_edit import LineEdit, apply_edits, blob_id, split_segments
from riff.transcript import json_line
from riff.transcript.findings import byte_count

QUARANTINE_LINE = "quarantine_line"
DROP_DUPLICATE = "drop_duplicate"
LINE_KINDS = (QUARANTINE_LINE, DROP_DUPLICATE)

# Message ids of lines that have no uuid of their own (a torn line, a NUL run):
# a UUIDv5 of the removed bytes' SHA-256 in this namespace, so the same bytes
# always get the same id.
_LINE_NAMESPACE = uuid.UUID("6f1c2a52-9d0e-5b7a-8c3e-72696666a11e")
_BLANK = b" \t\r\n"


@dataclass(frozen=True, slots=True)
class PlannedLineEdit:
    kind: str
    message_id: str
    """The affected row's uuid, or a UUIDv5 of the removed bytes when it has none."""
    edit: LineEdit
    reason: str
    fixes: tuple[tuple[str, str], ...] = ()
    """API violations (rule, subject: see riff.transcript.api_rules) this edit claims to fix."""


@dataclass(slots=True)
class LinePlan:
    edits: list[PlannedLineEdit] = field(default_factory=list)
    needs_decision: list[str] = field(default_factory=list)
    """Same uuid, different content: riff does not choose which one to keep."""


def line_message_id(segment: bytes) -> str:
    return str(uuid.uuid5(_LINE_NAMESPACE, blob_id(segment)))


def _parse(body: bytes) -> Any:
    try:
        return json_line.loads(body)
    except orjson.JSONDecodeError:
        return None


def _uuid_of(value: Any) -> str | None:
    found = value.get("uuid") if isinstance(value, dict) else None
    return found if isinstance(found, str) else None


def _torn_edit(line: int, segment: bytes) -> PlannedLineEdit | None:
    """The edit for one segment, or None when the line reads as JSON as it is."""
    has_newline = segment.endswith(b"\n")
    body = segment[:-1] if has_newline else segment
    if not body.strip(_BLANK) and b"\x00" not in body:
        return None  # a blank line harms nothing
    # Whether the bytes after a first whole value are what keeps the line from reading: only
    # then is a row with bytes after it to be looked for (asking costs a second parse).
    after_a_value = True
    if b"\x00" not in body:
        try:
            json_line.loads(body)
            return None  # it reads as JSON
        except orjson.JSONDecodeError as exc:
            after_a_value = exc.msg.startswith(json_line.TRAILING)
    cleaned = body.strip(b"\x00" + _BLANK)
    if cleaned and b"\x00" in body and isinstance(value := _parse(cleaned), dict):
        # NULs around a whole row: the row stays, the NUL bytes leave.
        kept = cleaned + (b"\n" if has_newline else b"")
        return PlannedLineEdit(
            QUARANTINE_LINE,
            _uuid_of(value) or line_message_id(segment),
            LineEdit(line, (segment,), (kept,)),
            f"line {line}: {body.count(0)} NUL bytes removed around a readable row",
        )
    joined = json_line.split_rows(cleaned) if cleaned and b"\x00" not in cleaned else None
    if joined is not None:
        pieces = (
            *(row + b"\n" for row in joined[:-1]),
            joined[-1] + (b"\n" if has_newline else b""),
        )
        count = "two" if len(joined) == 2 else str(len(joined))
        return PlannedLineEdit(
            QUARANTINE_LINE,
            _uuid_of(_parse(joined[0])) or line_message_id(segment),
            LineEdit(line, (segment,), pieces),
            f"line {line}: {count} rows written onto one line, split into {count}",
        )
    end = json_line.junk_after_object(cleaned) if cleaned and after_a_value else None
    if end is not None:
        # A whole row, then bytes that are no JSON: the row stays (Claude Code 2.1 reads it,
        # 2.0 skips the line), the bytes after it leave.
        row = cleaned[:end].rstrip(_BLANK)
        return PlannedLineEdit(
            QUARANTINE_LINE,
            _uuid_of(_parse(row)) or line_message_id(segment),
            LineEdit(line, (segment,), (row + (b"\n" if has_newline else b""),)),
            f"line {line}: {byte_count(len(body) - len(row))} after a readable row removed",
        )
    start = json_line.row_ending_line(cleaned) if cleaned else None
    if start is not None:
        # A whole row after bytes that are no JSON: Claude Code 2.0 appends its next row
        # to a torn last line so. The row gets a line of its own; the bytes before it leave
        # (or, when they are a whole row too, keep theirs).
        before, row = cleaned[:start].rstrip(b"\x00" + _BLANK), cleaned[start:]
        tail = b"\n" if has_newline else b""
        rows: tuple[bytes, ...]
        if isinstance(_parse(before), dict):
            rows, what = (before + b"\n", row + tail), "two rows on one line, split into two"
        else:
            rows = (row + tail,)
            what = (
                f"{byte_count(len(body) - len(row))} before a whole row moved out of the file "
                "(kept in the blob store); the row stays"
            )
        return PlannedLineEdit(
            QUARANTINE_LINE,
            _uuid_of(_parse(row)) or line_message_id(segment),
            LineEdit(line, (segment,), rows),
            f"line {line}: {what}",
        )
    what = f"a run of {body.count(0)} NUL bytes" if not cleaned else "a torn, unreadable line"
    return PlannedLineEdit(
        QUARANTINE_LINE,
        line_message_id(segment),
        LineEdit(line, (segment,), ()),
        f"line {line}: {what} moved out of the file (kept in the blob store)",
    )


def repairs_torn_line(segment: bytes) -> bool:
    """Whether quarantine_line changes this line: the rule behind the `repairable` flag of
    malformed_line and truncated_line findings (riff.transcript.detect)."""
    return _torn_edit(1, segment) is not None


def same_row_again(first: bytes, later: bytes) -> bool:
    """Whether drop_duplicate drops `later` as a copy of `first` (both one line): the same
    bytes, or the same row written differently. The rule behind the `repairable` flag of
    duplicate_uuid findings."""
    a, b = first.strip(_BLANK), later.strip(_BLANK)
    if a == b:
        return True
    value = _parse(a)
    return _uuid_of(value) is not None and value == _parse(b)


def plan_line_edits(data: bytes, kinds: tuple[str, ...] = LINE_KINDS) -> LinePlan:
    """Every line edit of `kinds` that `data` (a transcript's bytes) needs, in file order.

    Torn lines first; duplicates are then looked for in the file as those
    edits leave it, so a row rescued from a torn line is compared too.
    """
    plan = LinePlan()
    segments = split_segments(data)
    row_ids: list[str | None] | None = None
    if QUARANTINE_LINE in kinds:
        row_ids = []
        read_all = True  # every segment's uuid is in row_ids
        shift = 0  # how many segments earlier edits added (+) or removed (-)
        for index, segment in enumerate(segments):
            body = segment[:-1] if segment.endswith(b"\n") else segment
            if b"\x00" not in body:
                # The common case, read once: a line that reads as JSON (or is
                # blank) needs no edit; its uuid is kept for the duplicates.
                if not body.strip(_BLANK):
                    row_ids.append(None)
                    continue
                if (value := _parse(body)) is not None:
                    row_ids.append(_uuid_of(value))
                    continue
            read_all = False
            planned = _torn_edit(index + 1 + shift, segment)
            if planned is not None:
                plan.edits.append(planned)
                shift += len(planned.edit.inserted) - len(planned.edit.removed)
        if not read_all:
            row_ids = None  # the duplicates read the file (as the edits leave it) again
        if plan.edits:
            segments = split_segments(
                apply_edits(data, [p.edit.to_value() for p in plan.edits], _blobs_of(plan))
            )
    if DROP_DUPLICATE in kinds:
        _plan_duplicates(segments, plan, row_ids)
    return plan


def _blobs_of(plan: LinePlan) -> dict[str, bytes]:
    return {key: value for p in plan.edits for key, value in p.edit.blobs().items()}


def _plan_duplicates(
    segments: list[bytes], plan: LinePlan, row_ids: list[str | None] | None = None
) -> None:
    """Drop each later copy of a row. `row_ids`: each segment's uuid (None: no uuid or
    blank), when the caller has read them already.

    Only the first line of each uuid is remembered, by its index (no parsed row is
    kept): a later line is byte for byte the same as an earlier one only if it is
    the same as the first line of its uuid, since equal bytes read as equal rows.
    """
    dropped = 0
    first_line: dict[str, int] = {}
    for index, segment in enumerate(segments):
        body = segment.rstrip(b"\n")
        if row_ids is None:
            if not body.strip(_BLANK):
                continue
            value = _parse(body)
            row_id = _uuid_of(value)
        else:
            row_id = row_ids[index]
            value = None
        if row_id is None:
            # Lines without a uuid (queue operations, tool lists, snapshots…) are
            # state Claude Code legitimately writes again, byte for byte.
            continue
        first = first_line.get(row_id)
        if first is None:
            first_line[row_id] = index
            continue
        first_body = segments[first].rstrip(b"\n")
        if body.strip(_BLANK) == first_body.strip(_BLANK):
            why = "byte for byte the same as an earlier line"
        else:
            if value is None:
                value = _parse(body)
            if _parse(first_body) != value:
                plan.needs_decision.append(
                    f"line {index + 1}: uuid {row_id} appears again with different content; "
                    "riff leaves it for a decision by hand"
                )
                continue
            why = f"the same row (uuid {row_id}) as an earlier line"
        plan.edits.append(
            PlannedLineEdit(
                DROP_DUPLICATE,
                row_id,
                LineEdit(index + 1 - dropped, (segment,), ()),
                f"line {index + 1}: {why}",
            )
        )
        dropped += 1
