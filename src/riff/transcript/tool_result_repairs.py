"""Planning insert_tool_result: a synthetic, failed result for a tool call nobody answered.

Claude Code refuses (or silently drops) a conversation whose assistant turn
called a tool and got no result. The repair writes one new user row right
after the row holding the call (after the last row of a reply split over
several rows sharing `message.id`), with an `is_error` tool_result per
unanswered call saying the call was interrupted, and re-links the row that
followed the call to the new row. Only the new row and that one
`parentUuid` value change; the row holding the call is not touched.

Server tools (`server_tool_use`, which the API runs itself and answers
inside the assistant's own message with a `*_tool_result` block): an
assistant row of the same response (same `message.id`) is written right after
the row holding the call, with an error result of the tool's result type
(`{"type": "web_search_tool_result_error", "error_code": "unavailable"}` for
web_search), and the next row re-linked to it.

neutralize_tool_result: a `tool_result` the API would refuse because the
assistant message right before it made no such call (its call was compacted
away, or is on another branch) becomes a text block holding its content,
placed after the row's other blocks (tool results come first in a user
message). Only that row's line changes.
"""

from __future__ import annotations

import io
import uuid
from dataclasses import dataclass
from typing import Any

import orjson

from riff.events.line_edit import LineEdit, apply_edits, split_segments
from riff.transcript import json_line
from riff.transcript.findings import (
    API_SERVER_TOOL_NOT_ANSWERED,
    API_TOOL_RESULT_NOT_AFTER_USE,
    API_TOOL_USE_NOT_ANSWERED,
)
from riff.transcript.line_repairs import PlannedLineEdit
from riff.transcript.write import replace_parent

INSERT_TOOL_RESULT = "insert_tool_result"
NEUTRALIZE_TOOL_RESULT = "neutralize_tool_result"
SERVER_RESULT_TYPES = {
    name: f"{name}_tool_result"
    for name in (
        "web_search",
        "web_fetch",
        "code_execution",
        "bash_code_execution",
        "text_editor_code_execution",
    )
}
"""Server tools riff can answer: the name of the call → the type of its result block."""
NEUTRAL_HEADER = "[Result of tool call {call_id}, whose call is no longer in the conversation:]"
INTERRUPTED_TEXT = (
    "The tool call was interrupted and no result was recorded. "
    "(Result written by riff to keep the conversation resumable.)"
)
_COPIED_KEYS = ("isSidechain", "userType", "cwd", "sessionId", "version", "gitBranch")


_Planned = tuple[int, int, list[bytes], list[bytes], str, str, tuple[str, ...]]
"""(0-based start, removed count, removed, inserted, new uuid, origin row, call ids)."""


@dataclass(slots=True)
class TranscriptRow:
    """One parsed row of a transcript and where it sits (0-based segment index)."""

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

    def ids(self, kind: str, key: str) -> list[str]:
        """The `key` of each content block of type `kind` (tool ids, as text)."""
        return [str(b.get(key)) for b in self.blocks() if b.get("type") == kind]

    @property
    def reply_id(self) -> str | None:
        message = self.value.get("message")
        found = message.get("id") if isinstance(message, dict) else None
        return found if isinstance(found, str) else None


def _last_compaction(rows: list[TranscriptRow]) -> int:
    """Index of the file's last compact_boundary (-1: none). Resume never sends what
    lies before it, so a call left there (compacted while it ran) harms nothing."""
    return max((r.index for r in rows if r.value.get("subtype") == "compact_boundary"), default=-1)


def transcript_rows(segments: list[bytes]) -> list[TranscriptRow]:
    """The JSON-object lines of ``segments``, with their 0-based line index."""
    rows = []
    for index, segment in enumerate(segments):
        try:
            value = json_line.loads(segment)
        except orjson.JSONDecodeError:
            continue
        if isinstance(value, dict):
            rows.append(TranscriptRow(index, value))
    return rows


def _resume_chain(rows: list[TranscriptRow]) -> set[str]:
    """Uuids on the chain resume follows: from the file's last main user or
    assistant row up its parents (a loop, bounded by the rows seen)."""
    parent_of = {r.uuid: r.parent for r in rows if r.uuid is not None}
    leaf = next(
        (
            r.uuid
            for r in reversed(rows)
            if r.value.get("type") in ("user", "assistant")
            and not r.value.get("isSidechain")
            and r.uuid is not None
        ),
        None,
    )
    chain: set[str] = set()
    while leaf is not None and leaf not in chain:
        chain.add(leaf)
        leaf = parent_of.get(leaf)
    return chain


def _continuation(
    row: TranscriptRow,
    anchor: TranscriptRow,
    children: dict[str, list[TranscriptRow]],
    on_chain: set[str],
) -> tuple[TranscriptRow, list[TranscriptRow] | None]:
    """(the row the inserted result hangs under, the rows that then hang under it).

    Where resume's chain goes on from the reply: under the row holding the
    unanswered call (1.x and 2.0.x hang each parallel call's result under its
    call, so a lost result's child is re-linked there) or under the reply's last
    row, through the child on that chain (not a hook's attachment or a call's
    progress row written before it). Off that chain: the reply's last row and
    its first child in file order."""
    for parent in (row, anchor) if row is not anchor else (anchor,):
        onward = [
            c
            for c in children.get(parent.uuid or "", [])
            if c.uuid in on_chain
            and not (c.value.get("type") == "assistant" and c.reply_id == row.reply_id)
        ]
        if onward:
            return parent, onward
    return anchor, None


def _synthetic_row(
    anchor: TranscriptRow,
    call_ids: list[str],
    new_uuid: str,
    *,
    parent: TranscriptRow | None = None,
) -> bytes:
    """The interrupted-call result for `call_ids`, shaped after `anchor`, under
    `parent` (default: the anchor)."""
    row: dict[str, Any] = {"parentUuid": (parent or anchor).uuid}
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


def _insert_after(
    segments: list[bytes],
    children: dict[str, list[TranscriptRow]],
    anchor: TranscriptRow,
    new_row: bytes,
    fresh: str,
    next_rows: list[TranscriptRow] | None = None,
) -> tuple[int, list[bytes], list[bytes]]:
    """(0-based start, removed, inserted) putting `new_row` right after `anchor` and
    re-linking the first of `next_rows` (default: the anchor's children) in file
    order to it."""
    if next_rows is None:
        next_rows = children.get(anchor.uuid or "", [])
    next_rows = sorted(next_rows, key=lambda r: r.index)
    first_child = next_rows[0] if next_rows else None
    start = anchor.index + 1
    if first_child is None or first_child.index < start:
        return start, [], [new_row]
    removed = segments[start : first_child.index + 1]
    relinked = replace_parent(
        segments[first_child.index], fresh, where=f"line {first_child.index + 1}"
    )
    return start, removed, [new_row, *removed[:-1], relinked]


def plan_tool_results(data: bytes, *, new_uuid: Any = uuid.uuid4) -> list[PlannedLineEdit]:
    """Every tool-pairing edit `data` needs: neutralize_tool_result edits first, then
    insert_tool_result edits planned on the file as those leave it."""
    if not may_need_tool_pairing(data):
        return []
    neutralized = plan_neutralize(data)
    if neutralized:
        blobs = {key: value for p in neutralized for key, value in p.edit.blobs().items()}
        data = apply_edits(data, [p.edit.to_value() for p in neutralized], blobs)
    return [*neutralized, *plan_inserts(data, new_uuid=new_uuid)]


def may_need_tool_pairing(data: bytes) -> bool:
    """False only when neither planner below would plan an edit for `data`: one pass
    reading each line once and keeping only tool ids, so a healthy file costs no
    rows held in memory and no API-rule check (see ToolPairingCheck)."""
    check = ToolPairingCheck()
    for index, segment in enumerate(io.BytesIO(data)):
        try:
            value = json_line.loads(segment)
        except orjson.JSONDecodeError:
            check.unreadable(segment)
        else:
            check.add(index, value)
        if check.needed:
            return True
    return check.may_need()


class ToolPairingCheck:
    """may_need_tool_pairing a line at a time: `add` each line's parsed value (or
    `unreadable` its bytes when it does not read as JSON) in file order, then
    `may_need`.

    The conditions are those of the planners, loosened, never tightened: every
    tool_result's id is a call of an assistant row after the last compaction
    (plan_neutralize turns only results whose call is not there into text);
    every tool call of an assistant row with a uuid at or after it has a result
    in a user row (plan_inserts), every server tool call it can answer has its
    result block in the same response. A line that is not blank and does not
    read as JSON, or a tool id that is not text, sends the file to the
    planners themselves (`needed` is then True at once).
    """

    __slots__ = (
        "answered",
        "calls",
        "compacted",
        "needed",
        "results",
        "served",
        "server_calls",
        "unanswered_candidates",
    )

    def __init__(self) -> None:
        self.needed = False
        self.compacted = -1
        self.calls: list[tuple[int, Any]] = []  # (index, id) of tool_use blocks of assistant rows
        self.unanswered_candidates: list[tuple[int, str]] = []  # ... of rows with a uuid
        self.server_calls: list[tuple[int, str | None, str]] = []  # (index, reply id, call id)
        self.answered: set[Any] = set()
        self.served: set[tuple[str | None, Any]] = set()
        self.results: set[str] = set()

    def unreadable(self, segment: bytes) -> None:
        """A line that does not read as JSON: the planners decide unless it is blank."""
        if segment.strip(b" \t\r\n"):
            self.needed = True

    def add(self, index: int, value: Any) -> None:
        """The parsed value of line `index` (0-based)."""
        if self.needed or not isinstance(value, dict):
            return
        try:
            self._add(index, value)
        except TypeError:  # an id that cannot be a set member: the planners decide
            self.needed = True

    def _add(self, index: int, value: dict[str, Any]) -> None:
        # TranscriptRow's blocks, reply_id and uuid, read once per row (a hot loop).
        if value.get("subtype") == "compact_boundary":
            self.compacted = max(self.compacted, index)  # rows may come out of file order
        message = value.get("message")
        content = message.get("content") if isinstance(message, dict) else None
        if not isinstance(content, list):
            return
        blocks = [b for b in content if isinstance(b, dict)]
        if not blocks:
            return
        kind = value.get("type")
        reply_id = message.get("id") if isinstance(message, dict) else None
        if not isinstance(reply_id, str):
            reply_id = None
        has_uuid = isinstance(value.get("uuid"), str)
        for block in blocks:
            block_type = block.get("type")
            if block_type == "tool_result":
                result_id = block.get("tool_use_id")
                if not isinstance(result_id, str):
                    self.needed = True  # the API check may read such an id its own way
                    return
                self.results.add(result_id)
                if kind == "user":
                    self.answered.add(result_id)
            if str(block.get("type", "")).endswith("_tool_result"):
                self.served.add((reply_id, block.get("tool_use_id")))
            if kind != "assistant":
                continue
            call_id = block.get("id")
            if block_type == "tool_use":
                self.calls.append((index, call_id))
                if isinstance(call_id, str) and has_uuid:
                    self.unanswered_candidates.append((index, call_id))
            elif (
                block_type == "server_tool_use"
                and isinstance(call_id, str)
                and has_uuid
                and block.get("name") in SERVER_RESULT_TYPES
            ):
                self.server_calls.append((index, reply_id, call_id))

    def add_compaction(self, index: int) -> None:
        """Line `index` (0-based) is a compact_boundary row (as `add` of its value notes)."""
        self.compacted = max(self.compacted, index)

    def add_tool_block(
        self, index: int, row_type: str | None, has_uuid: bool, tool_id: str, is_result: bool
    ) -> None:
        """One plain block of line `index`: a `tool_result` answering `tool_id` or a
        `tool_use` with id `tool_id` (both ids text), in a row of `row_type`; what
        `add` of the row's value notes of that block. For rows read as columns
        (riff.transcript.line_check), which hold no other tool block."""
        if is_result:
            self.results.add(tool_id)
            if row_type == "user":
                self.answered.add(tool_id)
        elif row_type == "assistant":
            self.calls.append((index, tool_id))
            if has_uuid:
                self.unanswered_candidates.append((index, tool_id))

    def may_need(self) -> bool:
        """Whether the planners could plan an edit for the lines added."""
        if self.needed:
            return True
        compacted = self.compacted
        try:
            calls_present = {call_id for index, call_id in self.calls if index > compacted}
            return (
                any(result not in calls_present for result in self.results)
                or any(
                    index >= compacted and call_id not in self.answered
                    for index, call_id in self.unanswered_candidates
                )
                or any(
                    index >= compacted and (reply_id, call_id) not in self.served
                    for index, reply_id, call_id in self.server_calls
                )
            )
        except TypeError:  # an id that cannot be a set member: the planners decide
            return True


def plan_inserts(data: bytes, *, new_uuid: Any = uuid.uuid4) -> list[PlannedLineEdit]:
    """One insert per assistant reply with unanswered tool calls, and one per unanswered
    server tool call, in file order.

    `message_id` of each planned edit is the uuid of the new row. Edits whose
    lines would overlap an earlier one are left for the next run.
    """
    segments = split_segments(data)
    rows = transcript_rows(segments)
    answered = {  # by a conversation row (2.1.x api-request-blob rows copy requests)
        b.get("tool_use_id")
        for r in rows
        if r.value.get("type") == "user"
        for b in r.blocks()
        if b.get("type") == "tool_result"
    }
    children: dict[str, list[TranscriptRow]] = {}
    for row in rows:
        if row.parent is not None:
            children.setdefault(row.parent, []).append(row)
    planned: list[_Planned] = []
    planned += _server_inserts(segments, rows, children, new_uuid)
    done: set[int] = set()
    compacted = _last_compaction(rows)
    on_chain = _resume_chain(rows)
    for row in rows:
        if row.value.get("type") != "assistant" or row.uuid is None or row.index < compacted:
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
        under, continued = _continuation(row, anchor, children, on_chain)
        new_row = _synthetic_row(anchor, reply_calls, fresh, parent=under)
        start, removed, inserted = _insert_after(
            segments, children, anchor, new_row, fresh, continued
        )
        planned.append(
            (start, len(removed), removed, inserted, fresh, row.uuid, tuple(reply_calls))
        )
    result: list[PlannedLineEdit] = []
    shift = 0
    taken_until = 0
    for start, count, removed, inserted, fresh, origin, call_ids in sorted(planned):
        if start < taken_until:
            continue
        taken_until = start + max(count, 1)
        server = call_ids[0].startswith(SERVER_PREFIX)
        ids = tuple(c.removeprefix(SERVER_PREFIX) for c in call_ids)
        rule = API_SERVER_TOOL_NOT_ANSWERED if server else API_TOOL_USE_NOT_ANSWERED
        result.append(
            PlannedLineEdit(
                INSERT_TOOL_RESULT,
                fresh,
                LineEdit(start + 1 + shift, tuple(removed), tuple(inserted)),
                (
                    f"line {start}: server tool call {ids[0]} of {origin} had no result; "
                    "an unavailable-tool result is inserted after it"
                    if server
                    else f"line {start}: {len(ids)} tool call(s) of {origin} had no result; "
                    "an interrupted-call result is inserted after it"
                ),
                tuple((rule, i) for i in ids),
            )
        )
        shift += len(inserted) - len(removed)
    return result


SERVER_PREFIX = "server:"
"""Marks a server tool call among planned inserts (internal)."""


def _server_inserts(
    segments: list[bytes],
    rows: list[TranscriptRow],
    children: dict[str, list[TranscriptRow]],
    new_uuid: Any,
) -> list[_Planned]:
    """An assistant row of the same response holding a `*_tool_result` error block right
    after each `server_tool_use` row whose result block no row of that response holds."""
    served: set[tuple[str | None, Any]] = set()
    for row in rows:
        for block in row.blocks():
            if str(block.get("type", "")).endswith("_tool_result"):
                served.add((row.reply_id, block.get("tool_use_id")))
    out: list[_Planned] = []
    compacted = _last_compaction(rows)
    for row in rows:
        if row.value.get("type") != "assistant" or row.uuid is None or row.index < compacted:
            continue
        for block in row.blocks():
            call_id = block.get("id")
            name = block.get("name")
            if (
                block.get("type") != "server_tool_use"
                or not isinstance(call_id, str)
                or (row.reply_id, call_id) in served
                or name not in SERVER_RESULT_TYPES
            ):
                continue
            fresh = str(new_uuid())
            new_row = _server_result_row(row, call_id, str(name), fresh)
            start, removed, inserted = _insert_after(segments, children, row, new_row, fresh)
            out.append(
                (
                    start,
                    len(removed),
                    removed,
                    inserted,
                    fresh,
                    row.uuid,
                    (SERVER_PREFIX + call_id,),
                )
            )
            break  # one per row per run: a second call of the row is planned next run
    return out


def _server_result_row(anchor: TranscriptRow, call_id: str, name: str, new_uuid: str) -> bytes:
    row: dict[str, Any] = {"parentUuid": anchor.uuid}
    for key in _COPIED_KEYS:
        if key in anchor.value:
            row[key] = anchor.value[key]
    message = anchor.value.get("message")
    message = message if isinstance(message, dict) else {}
    result_type = SERVER_RESULT_TYPES[name]
    row["message"] = {key: message[key] for key in ("model", "id", "type") if key in message} | {
        "role": "assistant",
        "content": [
            {
                "type": result_type,
                "tool_use_id": call_id,
                "content": {"type": f"{result_type}_error", "error_code": "unavailable"},
            }
        ],
    }
    row["type"] = "assistant"
    row["uuid"] = new_uuid
    if "timestamp" in anchor.value:
        row["timestamp"] = anchor.value["timestamp"]
    return orjson.dumps(row) + b"\n"


def _calls_of_reply(
    rows: list[TranscriptRow], reply_id: str | None, answered: set[Any]
) -> list[str]:
    return [
        b["id"]
        for r in rows
        if r.value.get("type") == "assistant" and r.reply_id == reply_id
        for b in r.blocks()
        if b.get("type") == "tool_use" and isinstance(b.get("id"), str) and b["id"] not in answered
    ]


def _neutral_blocks(block: dict[str, Any]) -> list[dict[str, Any]]:
    """A tool_result block as user content the API accepts without its call."""
    header = NEUTRAL_HEADER.format(call_id=block.get("tool_use_id"))
    content = block.get("content")
    if isinstance(content, str):
        return [{"type": "text", "text": f"{header}\n{content}" if content else header}]
    out: list[dict[str, Any]] = [{"type": "text", "text": header}]
    if isinstance(content, list):
        for inner in content:
            if not isinstance(inner, dict):
                continue
            if inner.get("type") == "text" and inner.get("text") in ("", None):
                continue  # an empty text block is itself refused
            out.append(inner)
    return out


def plan_neutralize(data: bytes) -> list[PlannedLineEdit]:
    """One edit per row holding tool_result blocks the API refuses on the resumed chain."""
    from riff.transcript.api_rules import api_violations_of_bytes

    refused: dict[int, set[str]] = {}
    for violation in api_violations_of_bytes(data):
        if violation.rule == API_TOOL_RESULT_NOT_AFTER_USE:
            refused.setdefault(violation.line, set()).add(violation.subject)
    if not refused:
        return []
    segments = split_segments(data)
    # A result whose call is still in the part of the file resume can load is not
    # orphaned: a broken link keeps them apart, and the re-link (or a person, when
    # the suggestion is left for review) fixes that. Turning the real result into
    # text would rewrite a healthy row and invite an "interrupted" result beside it.
    rows = transcript_rows(segments)
    compacted = _last_compaction(rows)
    calls_present = {
        block.get("id")
        for row in rows
        if row.index > compacted and row.value.get("type") == "assistant"
        for block in row.blocks()
        if block.get("type") == "tool_use"
    }
    refused = {
        line: gone
        for line, ids in refused.items()
        if (gone := {i for i in ids if i not in calls_present})
    }
    out = []
    for line in sorted(refused):
        segment = segments[line - 1]
        body = segment.rstrip(b"\r\n")
        value = json_line.loads(body.strip(b" \t\x00"))
        content = value["message"]["content"]
        kept, moved = [], []
        for block in content:
            if (
                isinstance(block, dict)
                and block.get("type") == "tool_result"
                and str(block.get("tool_use_id")) in refused[line]
            ):
                moved += _neutral_blocks(block)
            else:
                kept.append(block)
        value["message"]["content"] = kept + moved
        try:
            rewritten = orjson.dumps(value) + segment[len(body) :]
        except orjson.JSONEncodeError:
            continue  # nested past what orjson writes: left for a decision by hand
        ids = sorted(refused[line])
        out.append(
            PlannedLineEdit(
                NEUTRALIZE_TOOL_RESULT,
                str(value.get("uuid")),
                LineEdit(line, (segment,), (rewritten,)),
                f"line {line}: tool result(s) {', '.join(ids)} answer no call of the message "
                "before; turned into text keeping their content",
                tuple((API_TOOL_RESULT_NOT_AFTER_USE, i) for i in ids),
            )
        )
    return out
