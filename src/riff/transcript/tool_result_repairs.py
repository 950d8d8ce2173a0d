"""Planning insert_tool_result: a synthetic, failed result for a tool call nobody answered.

Claude Code refuses (or silently drops) a conversation whose assistant turn
called a tool and got no result. The repair writes one new user row right
after the row holding the call (after the last row of a reply split over
several rows sharing `message.id`), with an `is_error` tool_result per
unanswered call saying the call was interrupted, and re-links the row that
followed the call to the new row. Only the new row and that one
`parentUuid` value change; the row holding the call is not touched.

Server tools (`server_tool_use`, answered inside the assistant's own
message) are not repaired here.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

import orjson

from riff.events.line_edit import LineEdit, split_segments
from riff.transcript.line_repairs import PlannedLineEdit
from riff.transcript.write import replace_parent

INSERT_TOOL_RESULT = "insert_tool_result"
INTERRUPTED_TEXT = (
    "The tool call was interrupted and no result was recorded. "
    "(Result written by riff to keep the conversation resumable.)"
)
_COPIED_KEYS = ("isSidechain", "userType", "cwd", "sessionId", "version", "gitBranch")


@dataclass(slots=True)
class _Row:
    index: int
    value: dict[str, Any]

    @property
    def uuid(self) -> str | None:
        found = self.value.get("uuid")
        return found if isinstance(found, str) else None

    @property
    def parent(self) -> str | None:
        found = self.value.get("parentUuid")
        return found if isinstance(found, str) else None

    def blocks(self) -> list[dict[str, Any]]:
        message = self.value.get("message")
        content = message.get("content") if isinstance(message, dict) else None
        return [b for b in content if isinstance(b, dict)] if isinstance(content, list) else []

    @property
    def reply_id(self) -> str | None:
        message = self.value.get("message")
        found = message.get("id") if isinstance(message, dict) else None
        return found if isinstance(found, str) else None


def _rows(segments: list[bytes]) -> list[_Row]:
    rows = []
    for index, segment in enumerate(segments):
        try:
            value = orjson.loads(segment)
        except orjson.JSONDecodeError:
            continue
        if isinstance(value, dict):
            rows.append(_Row(index, value))
    return rows


def _synthetic_row(anchor: _Row, call_ids: list[str], new_uuid: str) -> bytes:
    row: dict[str, Any] = {"parentUuid": anchor.uuid}
    for key in _COPIED_KEYS:
        if key in anchor.value:
            row[key] = anchor.value[key]
    row["type"] = "user"
    row["message"] = {
        "role": "user",
        "content": [
            {
                "type": "tool_result",
                "tool_use_id": call_id,
                "content": INTERRUPTED_TEXT,
                "is_error": True,
            }
            for call_id in call_ids
        ],
    }
    row["uuid"] = new_uuid
    if "timestamp" in anchor.value:
        row["timestamp"] = anchor.value["timestamp"]
    row["toolUseResult"] = "Error: " + INTERRUPTED_TEXT
    return orjson.dumps(row) + b"\n"


def plan_tool_results(data: bytes, *, new_uuid: Any = uuid.uuid4) -> list[PlannedLineEdit]:
    """One insert per assistant reply with unanswered tool calls, in file order.

    `message_id` of each planned edit is the uuid of the new row. Edits whose
    lines would overlap an earlier one are left for the next run.
    """
    segments = split_segments(data)
    rows = _rows(segments)
    answered = {
        b.get("tool_use_id") for r in rows for b in r.blocks() if b.get("type") == "tool_result"
    }
    children: dict[str, list[_Row]] = {}
    for row in rows:
        if row.parent is not None:
            children.setdefault(row.parent, []).append(row)
    planned: list[tuple[int, int, list[bytes], list[bytes], str, str, list[str]]] = []
    done: set[int] = set()
    for row in rows:
        if row.value.get("type") != "assistant" or row.uuid is None:
            continue
        calls = [
            b["id"]
            for b in row.blocks()
            if b.get("type") == "tool_use" and isinstance(b.get("id"), str)
        ]
        unanswered = [c for c in calls if c not in answered]
        if not unanswered:
            continue
        # The last row of this reply (split replies continue under the row before).
        anchor = row
        while True:
            following = [
                c
                for c in children.get(anchor.uuid or "", [])
                if c.value.get("type") == "assistant"
                and c.reply_id is not None
                and c.reply_id == row.reply_id
            ]
            if not following:
                break
            anchor = following[0]
        if anchor.index in done:
            continue  # one synthetic row per reply (its first unanswered row found them)
        done.add(anchor.index)
        # Every unanswered call of the whole reply goes into the one row.
        reply_calls = unanswered
        if anchor is not row:
            reply_calls = _calls_of_reply(rows, row.reply_id, answered)
        fresh = str(new_uuid())
        new_row = _synthetic_row(anchor, reply_calls, fresh)
        next_rows = sorted(children.get(anchor.uuid or "", []), key=lambda r: r.index)
        first_child = next_rows[0] if next_rows else None
        start = anchor.index + 1
        if first_child is None or first_child.index < start:
            removed: list[bytes] = []
            inserted = [new_row]
        else:
            removed = segments[start : first_child.index + 1]
            relinked = replace_parent(
                segments[first_child.index], fresh, where=f"line {first_child.index + 1}"
            )
            inserted = [new_row, *removed[:-1], relinked]
        planned.append((start, len(removed), removed, inserted, fresh, row.uuid, reply_calls))
    result: list[PlannedLineEdit] = []
    shift = 0
    taken_until = 0
    for start, count, removed, inserted, fresh, origin, call_ids in sorted(planned):
        if start < taken_until:
            continue
        taken_until = start + max(count, 1)
        result.append(
            PlannedLineEdit(
                INSERT_TOOL_RESULT,
                fresh,
                LineEdit(start + 1 + shift, tuple(removed), tuple(inserted)),
                f"line {start}: {len(call_ids)} tool call(s) of {origin} had no result; "
                "an interrupted-call result is inserted after it",
            )
        )
        shift += len(inserted) - len(removed)
    return result


def _calls_of_reply(rows: list[_Row], reply_id: str | None, answered: set[Any]) -> list[str]:
    return [
        b["id"]
        for r in rows
        if r.value.get("type") == "assistant" and r.reply_id == reply_id
        for b in r.blocks()
        if b.get("type") == "tool_use" and isinstance(b.get("id"), str) and b["id"] not in answered
    ]
