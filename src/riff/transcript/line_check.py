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

Given the scan's transcript, most of that is asked of its columns instead
(`_answer_from_columns`): only the rows they do not fully hold and the rows a
re-link names are read and judged as above; every other line is only read by
orjson (the planners' parser, which refuses a few lines the reader's decoder
takes) and hashed. When the columns are in doubt, every line is judged.
"""

from __future__ import annotations

import hashlib
import os
from collections import deque
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass
from io import BytesIO
from itertools import compress
from pathlib import Path
from typing import Any

import orjson

from riff.transcript import json_line
from riff.transcript.errors import RepairWriteError
from riff.transcript.line_repairs import DROP_DUPLICATE, QUARANTINE_LINE
from riff.transcript.reader import READ_CHUNK_BYTES
from riff.transcript.records import Columns, Fingerprint, Transcript
from riff.transcript.tool_result_repairs import INSERT_TOOL_RESULT, ToolPairingCheck
from riff.transcript.write import relink_line

_BLANK = b" \t\r\n"
_UNREAD = object()
"""The parse of a line that does not read as JSON."""


def _loads(body: bytes) -> Any:
    try:
        return json_line.loads(body)
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


class _LineRules:
    """The rules of one line as the planners would read it: the re-links applied to
    it (the recorded ones, then the new ones), its uuid and whether it is torn."""

    def __init__(
        self,
        recorded: Mapping[str, str | None],
        relinks: Mapping[str, str | None],
        *,
        torn: bool,
    ) -> None:
        self.recorded = recorded
        self.relinks = relinks
        self.wanted = recorded.keys() | relinks.keys()
        self.torn = torn
        self.found_recorded: set[str] = set()
        self.found_relinks: set[str] = set()

    def read(self, line_no: int, segment: bytes) -> tuple[bool, str | None, bytes, Any]:
        """(the line passes the torn rule, its uuid, the line and value tool pairing
        reads); RepairWriteError when a re-link names the line and cannot change it."""
        # orjson reads a line with or without its newline alike.
        value = _loads(segment)
        row_id = None if value is _UNREAD else _row_uuid(value)
        tool_segment, tool_value = segment, value
        wanted = self.wanted
        if wanted and (b'"uuid"' in segment if value is _UNREAD else row_id in wanted):
            # The writer reads a valid JSON line's uuid as this parse does (or
            # sees none: riff.transcript.write._line_uuid), so only these lines
            # can be re-linked; each is rewritten as the plan would rewrite it.
            segment, found = _relinked(segment, self.recorded, line_no)
            if found is not None:
                self.found_recorded.add(found)
                value = _loads(segment)
                row_id = None if value is _UNREAD else _row_uuid(value)
            tool_segment, found = _relinked(segment, self.relinks, line_no)
            tool_value = value
            if found is not None:
                self.found_relinks.add(found)
                tool_value = _loads(tool_segment)
        passes = not (
            self.torn and (b"\x00" in segment or (segment.strip(_BLANK) and value is _UNREAD))
        )
        return passes, row_id, tool_segment, tool_value

    def all_found(self) -> bool:
        return (
            self.found_recorded == self.recorded.keys()
            and self.found_relinks == self.relinks.keys()
        )


def nothing_to_edit(
    path: Path | str,
    expected: Fingerprint,
    *,
    recorded: Mapping[str, str | None],
    relinks: Mapping[str, str | None],
    kinds: Collection[str],
    uuid_index: Mapping[str, int] | None = None,
    transcript: Transcript | None = None,
    reading: Callable[[], FileReading | None] | None = None,
) -> bool:
    """True only when the line repairs of `kinds` (quarantine_line, drop_duplicate,
    insert_tool_result for tool pairing) plan no edit and the re-links apply, on the
    file as scanned (`expected`): `recorded` (the re-links recorded earlier, not yet
    written) to the file, then `relinks` to the result. `uuid_index` (the scan's
    uuid -> node numbers, optional) keeps the duplicate check to a bit per uuid.
    `transcript` (the scan that made `expected`, optional) lets the columns answer
    for every line they can (see `_answer_from_columns`); `reading` may then give what
    `read_every_line` finds (read beforehand, e.g. in another process; None: read here).
    False: plan the long way."""
    if transcript is not None:
        if _answer_from_columns(
            Path(path), expected, transcript, recorded, relinks, kinds, reading
        ):
            return True
        uuid_index = transcript.columns.index
    return _read_every_line(
        Path(path), expected, recorded=recorded, relinks=relinks, kinds=kinds, uuid_index=uuid_index
    )


def _read_every_line(
    path: Path,
    expected: Fingerprint,
    *,
    recorded: Mapping[str, str | None],
    relinks: Mapping[str, str | None],
    kinds: Collection[str],
    uuid_index: Mapping[str, int] | None,
) -> bool:
    """nothing_to_edit the plain way: every line parsed and judged as it comes."""
    if expected.sha256 is None or not _unchanged_stat(path, expected):
        return False
    rules = _LineRules(recorded, relinks, torn=QUARANTINE_LINE in kinds)
    duplicates = DROP_DUPLICATE in kinds
    tools = ToolPairingCheck() if INSERT_TOOL_RESULT in kinds else None
    index = uuid_index or {}
    seen = bytearray(len(index))
    seen_elsewhere: set[str] = set()
    hasher = hashlib.sha256()
    size = 0
    parse = bool(kinds) or bool(rules.wanted)
    try:
        with path.open("rb", buffering=1 << 20) as source:
            for line_no, segment in enumerate(source, start=1):
                hasher.update(segment)
                size += len(segment)
                if not parse:
                    continue
                passes, row_id, tool_segment, tool_value = rules.read(line_no, segment)
                if not passes:
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
        and rules.all_found()
        and (tools is None or not tools.may_need())
    )


def _unchanged_stat(path: Path, expected: Fingerprint) -> bool:
    try:
        stat = os.stat(path)
    except OSError:
        return False
    return stat.st_size == expected.size and stat.st_mtime_ns == expected.mtime_ns


def _answer_from_columns(
    path: Path,
    expected: Fingerprint,
    transcript: Transcript,
    recorded: Mapping[str, str | None],
    relinks: Mapping[str, str | None],
    kinds: Collection[str],
    reading: Callable[[], FileReading | None] | None = None,
) -> bool | None:
    """True when `_read_every_line` would say True, asking the scan's columns instead
    of parsing every line into objects; None when in doubt (it then decides).

    The columns were read from these very bytes (proven by the hash, below) by the
    reader's decoder; orjson, which the planners use, reads a line the same way
    unless it refuses it (invalid UTF-8, a number beyond a double's range), so
    every line still goes through orjson, once, its value thrown away. Read in
    full and judged by `_LineRules` are only the rows the columns cannot answer
    for: those the reader read its tolerant way or whose blocks it does not keep
    (`api_suspects`), and the rows a re-link names. The rest answer from the
    columns: uuids (no duplicate), and for tool pairing their tool_use and
    tool_result ids, row types and compaction rows.
    """
    try:
        return _columns_answer(path, expected, transcript, recorded, relinks, kinds, reading)
    except (OSError, RepairWriteError):
        return None


def _columns_answer(
    path: Path,
    expected: Fingerprint,
    transcript: Transcript,
    recorded: Mapping[str, str | None],
    relinks: Mapping[str, str | None],
    kinds: Collection[str],
    reading: Callable[[], FileReading | None] | None,
) -> bool | None:
    cols = transcript.columns
    if (
        expected.sha256 is None
        or transcript.fingerprint != expected
        or transcript.problems
        or not cols.api_complete
        or not _unchanged_stat(path, expected)
    ):
        return None
    rules = _LineRules(recorded, relinks, torn=QUARANTINE_LINE in kinds)
    if DROP_DUPLICATE in kinds and cols.duplicates:
        return None
    index, uid, node_rec = cols.index, cols.uid, cols.node_rec
    wanted_nodes = set()
    for message_id in rules.wanted:
        node = index.get(message_id)
        if node is None:
            return None  # not in the file: the re-link cannot apply
        wanted_nodes.add(node)
    read_apart = {node_rec[node] for node in wanted_nodes}
    read_apart.update(i for i in cols.duplicates if uid[i] in wanted_nodes)
    read_apart.update(cols.api_suspects)
    tools = ToolPairingCheck() if INSERT_TOOL_RESULT in kinds else None
    uuids = cols.uuids
    with path.open("rb", buffering=0) as source:
        for i in sorted(read_apart):
            line_no = cols.line[i]
            segment = os.pread(source.fileno(), cols.length[i] + 1, cols.offset[i])
            if len(segment) > cols.length[i] and not segment.endswith(b"\n"):
                return None  # not where the scan saw it
            passes, row_id, _, tool_value = rules.read(line_no, segment)
            if not passes or row_id != (uuids[uid[i]] if uid[i] >= 0 else None):
                return None
            if tools is not None:
                if tool_value is _UNREAD:
                    return None
                tools.add(line_no - 1, tool_value)
    if not rules.all_found():
        return None
    if tools is not None:
        _add_column_tools(tools, cols, read_apart)
        if tools.needed or tools.may_need():
            return None
    parse = bool(kinds) or bool(rules.wanted)
    read = (reading() if reading is not None else None) or read_every_line(path, parse=parse)
    if (
        read.size != expected.size
        or read.sha256 != expected.sha256
        or (parse and not read.lines_read)
    ):
        return None
    return True


def _add_column_tools(tools: ToolPairingCheck, cols: Columns, read_apart: set[int]) -> None:
    """What ToolPairingCheck.add would note of every row but `read_apart`: their plain
    tool blocks and compaction rows, from the columns."""
    line, shape, shapes, uid = cols.line, cols.shape, cols.shapes, cols.uid
    for rec, tool_id, is_result in zip(cols.tool_rec, cols.tool_ids, cols.tool_kind, strict=True):
        if rec not in read_apart:
            row_type = shapes[shape[rec]][0]
            tools.add_tool_block(line[rec] - 1, row_type, uid[rec] >= 0, tool_id, bool(is_result))
    compaction = {code for code, s in enumerate(shapes) if s[1] == "compact_boundary"}
    if compaction:
        for rec in compress(range(len(shape)), map(compaction.__contains__, shape)):
            if rec not in read_apart:
                tools.add_compaction(line[rec] - 1)


@dataclass(frozen=True, slots=True)
class FileReading:
    """What one plain read of a transcript found (`read_every_line`)."""

    size: int
    sha256: str
    lines_read: bool
    """Every line that is not blank reads as JSON (as the planners read it: json_line), and
    no line holds a NUL byte (False also when the read stopped at the first such line:
    size and hash are then of the bytes before it)."""


def read_every_line(path: Path | str, *, parse: bool = True) -> FileReading:
    """Size and SHA-256 of the file and, with `parse`, whether orjson reads every
    line (the planners' parser: it refuses a few lines the reader's decoder takes,
    such as invalid UTF-8 or a number beyond a double's range)."""
    hasher = hashlib.sha256()
    size = 0
    carry = b""
    with Path(path).open("rb", buffering=0) as source:
        while chunk := source.read(READ_CHUNK_BYTES):
            hasher.update(chunk)
            size += len(chunk)
            if not parse:
                continue
            if b"\x00" in chunk:
                return FileReading(size, hasher.hexdigest(), lines_read=False)
            # readlines finds newlines with memchr (bytes.split tests byte by
            # byte); orjson takes a line's trailing newline as whitespace.
            lines = BytesIO(chunk).readlines()
            if carry:
                lines[0] = carry + lines[0]
            carry = b"" if lines[-1][-1:] == b"\n" else lines.pop()
            if not _all_read(lines):
                return FileReading(size, hasher.hexdigest(), lines_read=False)
    lines_read = not (parse and carry) or _all_read([carry])
    return FileReading(size, hasher.hexdigest(), lines_read=lines_read)


def _all_read(lines: list[bytes]) -> bool:
    """Every line that is not blank reads as JSON (a value that is not an object too: the
    torn-line planner leaves it as it is)."""
    try:
        deque(map(json_line.loads, lines), maxlen=0)
        return True
    except orjson.JSONDecodeError:
        pass
    return not any(line.strip(_BLANK) and _loads(line) is _UNREAD for line in lines)


__all__ = ["FileReading", "nothing_to_edit", "read_every_line"]
