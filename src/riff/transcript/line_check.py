"""One streaming pass that shows a transcript's line repairs would plan nothing.

A repair plan is made on the file's bytes as the log says they are (the
re-links recorded earlier applied) and then as the plan's re-links leave them
(riff.app.repair_plan). Made the long way, that holds the whole file in memory
two or three times over and parses every line twice (torn lines and
duplicates, then tool pairing). For the common case, a file none of whose
line repairs applies, `nothing_to_edit` reads the file once, a line at a time,
and holds per line only a bit for its uuid (plus the tool ids the pairing
check keeps), with the same rules the planners apply:

- the re-links apply as `replace_parents_in_bytes` applies them (every message
  found, each of its lines with a parentUuid to change): the recorded ones to
  the file, then the new ones to the result;
- quarantine_line: no line holds a NUL byte or is neither blank nor JSON
  (plan_line_edits);
- drop_duplicate: no uuid is on two lines (plan_line_edits);
- tool pairing: `ToolPairingCheck` finds nothing on the file as the re-links
  leave it (plan_tool_results plans nothing then);
- the file is still the one scanned (size, modification time and SHA-256).

Any doubt answers False, and the caller plans the long way, which also
raises whatever is wrong. Only the lines of re-linked messages are rewritten
(in memory, one line at a time) to be judged as the plan would see them.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Collection, Mapping
from pathlib import Path
from typing import Any

import orjson

from riff.transcript.errors import RepairWriteError
from riff.transcript.line_repairs import DROP_DUPLICATE, QUARANTINE_LINE
from riff.transcript.records import Fingerprint
from riff.transcript.tool_result_repairs import INSERT_TOOL_RESULT, ToolPairingCheck
from riff.transcript.write import relink_line

_BLANK = b" \t\r\n"
_UNREAD = object()
"""The parse of a line that does not read as JSON."""


def _loads(body: bytes) -> Any:
    try:
        return orjson.loads(body)
    except orjson.JSONDecodeError:
        return _UNREAD


def _may_hold_tools(segment: bytes) -> bool:
    """Whether a line can hold what the tool-pairing check reads: a block type with
    `tool_` in it (tool_use, tool_result, server_tool_use, *_tool_result), a
    compact_boundary, or an escape that could spell either. ToolPairingCheck.add
    does nothing for any other row (it reads no other value)."""
    return b"tool_" in segment or b"compact_boundary" in segment or b"\\u" in segment


def _relinked(
    segment: bytes, changes: Mapping[str, str | None], line_no: int
) -> tuple[bytes, str | None]:
    """(the line as `replace_parents_in_bytes` leaves it, the uuid it re-linked or None)."""
    newline = segment.endswith(b"\n")
    again = relink_line(segment[:-1] if newline else segment, changes, line_no=line_no)
    if again is None:
        return segment, None
    return again[0] + (b"\n" if newline else b""), again[1]


def _row_uuid(value: Any) -> str | None:
    """The uuid drop_duplicate compares (line_repairs._uuid_of of a parsed line)."""
    found = value.get("uuid") if isinstance(value, dict) else None
    return found if isinstance(found, str) else None


def nothing_to_edit(
    path: Path | str,
    expected: Fingerprint,
    *,
    recorded: Mapping[str, str | None],
    relinks: Mapping[str, str | None],
    kinds: Collection[str],
    uuid_index: Mapping[str, int] | None = None,
) -> bool:
    """True only when the line repairs of `kinds` (quarantine_line, drop_duplicate,
    insert_tool_result for tool pairing) plan no edit and the re-links apply, on the
    file as scanned (`expected`): `recorded` (the re-links recorded earlier, not yet
    written) to the file, then `relinks` to the result. `uuid_index` (the scan's
    uuid -> node numbers, optional) keeps the duplicate check to a bit per uuid.
    False: plan the long way."""
    path = Path(path)
    if expected.sha256 is None:
        return False
    try:
        stat = os.stat(path)
    except OSError:
        return False
    if stat.st_size != expected.size or stat.st_mtime_ns != expected.mtime_ns:
        return False
    torn = QUARANTINE_LINE in kinds
    duplicates = DROP_DUPLICATE in kinds
    tools = ToolPairingCheck() if INSERT_TOOL_RESULT in kinds else None
    wanted = recorded.keys() | relinks.keys()
    found_recorded: set[str] = set()
    found_relinks: set[str] = set()
    index = uuid_index or {}
    seen = bytearray(len(index))
    seen_elsewhere: set[str] = set()
    hasher = hashlib.sha256()
    size = 0
    parse = bool(kinds) or bool(wanted)
    try:
        with path.open("rb", buffering=1 << 20) as source:
            for line_no, segment in enumerate(source, start=1):
                hasher.update(segment)
                size += len(segment)
                if not parse:
                    continue
                # orjson reads a line with or without its newline alike.
                value = _loads(segment)
                row_id = None if value is _UNREAD else _row_uuid(value)
                tool_segment, tool_value = segment, value
                if wanted and (b'"uuid"' in segment if value is _UNREAD else row_id in wanted):
                    # The writer reads a valid JSON line's uuid as this parse does (or
                    # sees none: riff.transcript.write._line_uuid), so only these lines
                    # can be re-linked; each is rewritten as the plan would rewrite it.
                    segment, found = _relinked(segment, recorded, line_no)
                    if found is not None:
                        found_recorded.add(found)
                        value = _loads(segment)
                        row_id = None if value is _UNREAD else _row_uuid(value)
                    tool_segment, found = _relinked(segment, relinks, line_no)
                    tool_value = value
                    if found is not None:
                        found_relinks.add(found)
                        tool_value = _loads(tool_segment)
                if torn and (
                    b"\x00" in segment
                    or (segment.strip(_BLANK) and (value is _UNREAD or value is None))
                ):
                    return False
                if duplicates and row_id is not None:
                    node = index.get(row_id)
                    if node is None:
                        if row_id in seen_elsewhere:
                            return False
                        seen_elsewhere.add(row_id)
                    elif seen[node]:
                        return False
                    else:
                        seen[node] = 1
                if tools is not None and (tool_value is _UNREAD or _may_hold_tools(tool_segment)):
                    if tool_value is _UNREAD:
                        tools.unreadable(tool_segment)
                    else:
                        tools.add(line_no - 1, tool_value)
                    if tools.needed:
                        return False
    except (OSError, RepairWriteError):
        return False
    return (
        size == expected.size
        and hasher.hexdigest() == expected.sha256
        and found_recorded == recorded.keys()
        and found_relinks == relinks.keys()
        and (tools is None or not tools.may_need())
    )


__all__ = ["nothing_to_edit"]
