"""Streaming, tolerant reader of Claude Code transcripts.

One pass over the file in binary lines: every line becomes a row of
:class:`riff.transcript.records.Columns` (or a :class:`LineProblem`), the
bytes are hashed for the writer's fingerprint, and nothing else is kept (no
object per line). Decoding goes through a msgspec Struct of only the needed
fields (fast: the rest of each line is skipped, not built); a line whose
fields have unexpected types falls back to a tolerant orjson path, and a line
that is not JSON at all becomes a problem with its line number and byte
offset. Previews are computed from a line's bytes when first asked for.
"""

from __future__ import annotations

import gc
import os
from array import array
from collections import deque
from collections.abc import Iterable, Iterator, Sequence
from io import BytesIO
from itertools import accumulate, chain, compress, count, repeat
from operator import add, and_, attrgetter, eq, ge, is_, is_not, lt, not_, truth
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO, cast

import msgspec
import orjson
from msgspec.structs import astuple

from riff.transcript import json_line
from riff.transcript.errors import TranscriptLineError
from riff.transcript.findings import byte_count
from riff.transcript.records import (
    COMPACT_SUMMARY,
    CONVERSATION,
    META,
    NO_TS,
    SIDECHAIN,
    TS_WIDTH,
    Columns,
    Fingerprint,
    LineProblem,
    MessageRecord,
    RecordList,
    Transcript,
    message_keys,
)
from riff.transcript.timestamps import normalize_timestamp

if TYPE_CHECKING:
    from concurrent.futures import Future

PREVIEW_CHARS = 80
READ_CHUNK_BYTES = (1 << 17) - 4096
"""Bytes read at a time: under glibc's threshold for mapping an allocation on its
own (128 KiB), so each chunk reuses freed heap memory. Chunks of 512 KiB were
each a fresh mapping, every page of it faulted in as the kernel copied the
file in: 73,000 page faults (~0.1 s CPU) over a 335 MB projects dir."""
_BATCH_BYTES = 1 << 19
"""Lines handed to the reader at a time, in bytes (a batch's fixed cost is paid
once per so many lines)."""
SPLIT_MIN_BYTES = 48 << 20
"""Files this large (read without a content hash) are read in two halves at once."""
_HASH_LAG = 2
"""Chunks handed to the hashing thread and not yet waited for."""
_STRIP = b" \t\r\n\x00"
_NO_RECORD = object()
"""Before the first record: equal to no uuid and to no missing one."""
_NO_TS_TEXT = NO_TS.decode("ascii")
_TOOL_BLOCKS = frozenset({"tool_use", "tool_result"})
_get_type = attrgetter("type")
_get_text = attrgetter("text")


def _server_tool_block(block_type: str) -> bool:
    """A block the API rules pair within its message (a server tool's call or result)."""
    return block_type == "server_tool_use" or block_type.endswith("_tool_result")


class _Block(msgspec.Struct, gc=False):
    type: str | None = None
    id: str | None = None
    tool_use_id: str | None = None
    text: str | None = None


class _Message(msgspec.Struct, gc=False):
    role: str | None = None
    content: str | list[_Block] | None = None
    id: str | None = None


class _Line(msgspec.Struct, gc=False):
    # The reader unpacks these fields positionally (astuple): keep the order.
    # Field names are the transcript's own keys, hence the camelCase. Only
    # what the columns keep is decoded; previews are computed from the line
    # on demand, so text outside ``message`` is skipped, not built.
    type: str | None = None
    uuid: str | None = None
    parentUuid: str | None = None
    logicalParentUuid: str | None = None
    subtype: str | None = None
    timestamp: str | None = None
    isSidechain: bool | None = None
    isMeta: bool | None = None
    message: _Message | None = None
    content: str | None = None
    leafUuid: str | None = None
    parentToolUseID: str | None = None
    toolUseID: str | None = None
    sessionId: str | None = None
    isCompactSummary: bool | None = None
    isApiErrorMessage: bool | None = None


_decoder = msgspec.json.Decoder(_Line)


def _short(text: str) -> str:
    return " ".join(text[: PREVIEW_CHARS * 3].split())[:PREVIEW_CHARS]


class _Extracted:
    """Fields pulled out of one line, whichever decoding path produced them."""

    __slots__ = (
        "blocks",
        "content_text",
        "data_type",
        "is_compact_summary",
        "is_meta",
        "is_sidechain",
        "leaf_uuid",
        "logical_parent",
        "message_id",
        "parent",
        "role",
        "session_id",
        "subtype",
        "summary",
        "timestamp",
        "tool_ref",
        "type",
        "uuid",
        "wrong_types",
    )

    def __init__(self) -> None:
        self.type: str | None = None
        self.uuid: str | None = None
        self.parent: str | None = None
        self.logical_parent: str | None = None
        self.subtype: str | None = None
        self.timestamp: str | None = None
        self.is_sidechain = False
        self.is_meta = False
        self.is_compact_summary = False
        self.message_id: str | None = None
        self.role: str | None = None
        self.content_text: str | None = None
        # (type, id, tool_use_id, name, text) per content block
        self.blocks: list[tuple[str | None, str | None, str | None, str | None, str | None]] = []
        self.summary: str | None = None
        self.leaf_uuid: str | None = None
        self.tool_ref: str | None = None
        self.session_id: str | None = None
        self.data_type: str | None = None
        self.wrong_types: list[str] = []
        """Link fields present with a type other than a string (read as absent)."""


def _str_or_none(value: Any) -> str | None:
    return value if isinstance(value, str) else None


_LINK_FIELDS = ("uuid", "parentUuid", "timestamp")


def _json_type(value: Any) -> str:
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    return "an array" if isinstance(value, list) else "an object"


def _from_dict(obj: dict[str, Any]) -> _Extracted:
    """The tolerant path: every field is checked, a wrong type reads as absent."""
    out = _Extracted()
    out.type = _str_or_none(obj.get("type"))
    out.wrong_types = [
        f"{name!r} is {_json_type(obj[name])}, not a string"
        for name in _LINK_FIELDS
        if name in obj and not isinstance(obj[name], str) and obj[name] is not None
    ]
    out.uuid = _str_or_none(obj.get("uuid"))
    out.parent = _str_or_none(obj.get("parentUuid"))
    out.logical_parent = _str_or_none(obj.get("logicalParentUuid"))
    out.subtype = _str_or_none(obj.get("subtype"))
    out.timestamp = _str_or_none(obj.get("timestamp"))
    out.is_sidechain = obj.get("isSidechain") is True
    out.is_meta = obj.get("isMeta") is True
    out.is_compact_summary = obj.get("isCompactSummary") is True
    out.summary = _str_or_none(obj.get("summary"))
    out.leaf_uuid = _str_or_none(obj.get("leafUuid"))
    out.tool_ref = _str_or_none(obj.get("parentToolUseID")) or _str_or_none(obj.get("toolUseID"))
    out.session_id = _str_or_none(obj.get("sessionId"))
    data = obj.get("data")
    if isinstance(data, dict):
        out.data_type = _str_or_none(data.get("type"))
    out.content_text = _str_or_none(obj.get("content"))
    message = obj.get("message")
    if isinstance(message, dict):
        out.role = _str_or_none(message.get("role"))
        out.message_id = _str_or_none(message.get("id"))
        content = message.get("content")
        if isinstance(content, str):
            out.content_text = content
        elif isinstance(content, list):
            for block in content:
                if isinstance(block, dict):
                    out.blocks.append(
                        (
                            _str_or_none(block.get("type")),
                            _str_or_none(block.get("id")),
                            _str_or_none(block.get("tool_use_id")),
                            _str_or_none(block.get("name")),
                            _str_or_none(block.get("text")),
                        )
                    )
    return out


def _preview(fields: _Extracted) -> str:
    """The first words of a line's text, or a ``[tool]`` style stub."""
    preview = ""
    for block_type, block_id, tool_use_id, name, text in fields.blocks:
        if block_type == "tool_use" and block_id:
            if not preview:
                preview = f"[{name or 'tool'}]"
        elif block_type == "tool_result" and tool_use_id:
            if not preview:
                preview = "[tool result]"
        elif block_type == "text" and text is not None:
            if not preview or preview[0] == "[":
                preview = _short(text)
        elif block_type == "thinking" and not preview:
            preview = "[thinking]"
        elif block_type == "image" and not preview:
            preview = "[image]"
    if fields.content_text is not None and not preview:
        preview = _short(fields.content_text)
    if not preview:
        if fields.summary is not None:
            preview = _short(fields.summary)
        elif fields.data_type is not None:
            preview = f"[{fields.data_type}]"
    return preview


def _fields_from_file(cols: Columns, i: int) -> _Extracted | None:
    """The fields of record ``i``, from its line re-read at its offset (None if unreadable)."""
    try:
        with cols.path.open("rb") as handle:
            handle.seek(cols.offset[i])
            data = handle.read(cols.length[i])
        value = json_line.loads(data.strip(_STRIP))
    except (OSError, orjson.JSONDecodeError):
        return None
    return _from_dict(value) if isinstance(value, dict) else None


def _preview_from_file(cols: Columns, i: int) -> str:
    """Preview of record ``i``, from its line re-read ("" if unreadable)."""
    fields = _fields_from_file(cols, i)
    return "" if fields is None else _preview(fields)


def _message_id_from_file(cols: Columns, i: int) -> str | None:
    """``message.id`` of record ``i``, from its line re-read (None if unreadable)."""
    fields = _fields_from_file(cols, i)
    return None if fields is None else fields.message_id


def _as_line(fields: _Extracted) -> _Line:
    """The tolerant path's fields in the fast path's shape (wrong types already dropped)."""
    message = None
    if (
        fields.role is not None
        or fields.content_text is not None
        or fields.blocks
        or fields.message_id is not None
    ):
        content: str | list[_Block] | None = None
        if fields.blocks:
            content = [_Block(t, i, u, x) for t, i, u, _, x in fields.blocks]
        message = _Message(fields.role, content, fields.message_id)
    return _Line(
        type=fields.type,
        uuid=fields.uuid,
        parentUuid=fields.parent,
        logicalParentUuid=fields.logical_parent,
        subtype=fields.subtype,
        timestamp=fields.timestamp,
        isSidechain=fields.is_sidechain,
        isMeta=fields.is_meta,
        message=message,
        content=fields.content_text,
        leafUuid=fields.leaf_uuid,
        parentToolUseID=fields.tool_ref,
        sessionId=fields.session_id,
        isCompactSummary=fields.is_compact_summary,
    )


def _decode(payload: bytes) -> _Line | _Extracted | str:
    """The decoded line (fast struct or tolerant fields), or why it is not a transcript line."""
    try:
        return _decoder.decode(payload)
    except msgspec.ValidationError:
        pass  # valid JSON with unexpected types: take the tolerant path
    except msgspec.DecodeError:
        pass  # msgspec and orjson may differ on edge cases; orjson decides
    except RecursionError:
        pass  # deeper than msgspec reads: json_line reads as deep as Claude Code
    try:
        obj = json_line.loads(payload)
    except orjson.JSONDecodeError as exc:
        if json_line.is_too_deep(exc):
            return json_line.TOO_DEEP_REASON
        return f"not valid JSON ({str(exc).split(':')[0]})"
    if not isinstance(obj, dict):
        return f"valid JSON but not an object ({type(obj).__name__})"
    return _from_dict(obj)


JOINED_ROWS_READ = "Claude Code 2.0 skips it, 2.1 reads the first row"


def _unread(payload: bytes, why: str) -> tuple[str, str]:
    """Why a line riff cannot read is unread (``why``: the decoder's answer), and what
    Claude Code does with it."""
    if why == json_line.TOO_DEEP_REASON:
        return why, "deeper than Claude Code can send to the API when the session resumes"
    # Only a line orjson read to its first value's end can be rows joined or a row with
    # bytes after it (and asking again costs a whole second parse of a line of megabytes).
    after_a_value = why.endswith(f"({json_line.TRAILING})")
    joined = json_line.split_rows(payload) if after_a_value else None
    if joined is not None:
        count = "two" if len(joined) == 2 else str(len(joined))
        return f"{count} rows written onto one line", JOINED_ROWS_READ
    end = json_line.junk_after_object(payload) if after_a_value else None
    if end is not None:
        return (
            f"{byte_count(len(payload) - end)} after a whole row",
            "Claude Code 2.0 skips it, 2.1 reads the row",
        )
    start = json_line.row_ending_line(payload)
    if start is not None and json_line.is_object(payload[:start].rstrip(_STRIP)):
        return "two rows written onto one line", JOINED_ROWS_READ
    if start is not None:
        return (
            f"{byte_count(start)} of no JSON, then a whole row (Claude Code 2.0 appends its "
            "next row to a torn last line so)",
            "Claude Code skips it",
        )
    return why, "Claude Code skips it"


_ShapeKey = tuple[str | None, str | None, str | None, int]


_FLAG_CODES: dict[tuple[Any, ...], int] = {}
"""(type, isSidechain, isMeta, isCompactSummary, has uuid) -> flags, shared by every
reader: lines come in a handful of combinations, and a projects dir's small files
would each pay for finding them again."""
_MOST_FLAG_CODES = 4096
"""Combinations kept at most (a file of made-up types must not grow it without end)."""


def _flags_of(key: tuple[Any, ...]) -> int:
    """Flags of a line from (type, isSidechain, isMeta, isCompactSummary, has uuid)."""
    line_type, sidechain, meta, compact, has_uuid = key
    conversation = has_uuid and (
        line_type == "assistant" or (line_type == "user" and meta is not True)
    )
    return (
        (SIDECHAIN if sidechain is True else 0)
        | (META if meta is True else 0)
        | (COMPACT_SUMMARY if compact is True else 0)
        | (CONVERSATION if conversation else 0)
    )


class LineReader:
    """Turns physical lines into columns; state lives here between chunks."""

    def __init__(self, path: Path) -> None:
        self.cols = Columns(path)
        self.cols.preview_of = _preview_from_file
        self.cols.message_id_of = _message_id_from_file
        self.problems: list[LineProblem] = []
        self.codes: dict[_ShapeKey, int] = {}
        self.offset = 0
        self.line_no = 0
        self.ts_max = ""
        self.previous_uuid: Any = _NO_RECORD
        """The uuid of the last record read (None: it has none), for `_parents`."""
        self.previous_node = -1
        """The node of `previous_uuid` (-1: none). All `_parents` relies on is that it is
        that uuid's node, which holds across a split read's merge (no node is renumbered)."""
        self.last_prompt_leaf: str | None = None
        self.session_id: str | None = None
        self.open_uses: dict[str, str] = {}
        """tool_use ids still waiting for their result (to share the string)."""
        self.ref_strings: dict[str, str] = {}
        """One string per tool id progress rows name (they share it)."""

    def _slow(self, body: bytes, has_newline: bool, line_no: int, offset: int) -> _Line | None:
        """A line msgspec did not take as it is: blank, NULs, odd types, or not JSON."""
        problems = self.problems
        payload = body.strip(_STRIP)
        if not payload:
            if b"\x00" in body:
                problems.append(
                    LineProblem(
                        "malformed_line",
                        line_no,
                        offset,
                        len(body),
                        f"a run of {body.count(0)} NUL bytes",
                    )
                )
            return None
        decoded = _decode(payload)
        if isinstance(decoded, str):
            kind = "truncated_line" if not has_newline else "malformed_line"
            why, claude_code = _unread(payload, decoded)
            if kind == "truncated_line":
                why = "the last line is cut off (no newline)"
            problems.append(
                LineProblem(kind, line_no, offset, len(body), why, claude_code=claude_code)
            )
            return None
        if b"\x00" in body:  # JSON cannot hold a raw NUL: it lies outside
            problems.append(
                LineProblem(
                    "malformed_line",
                    line_no,
                    offset,
                    len(body),
                    f"{body.count(0)} NUL bytes around the JSON (it was still read)",
                    recovered=True,
                )
            )
        if isinstance(decoded, _Line):
            return decoded
        if decoded.wrong_types:
            problems.append(
                LineProblem(
                    "malformed_line",
                    line_no,
                    offset,
                    len(body),
                    "; ".join(decoded.wrong_types) + " (read as absent)",
                    recovered=True,
                )
            )
        return _as_line(decoded)

    def feed(self, pieces: list[Any], has_newline: bool = True) -> None:
        """Read complete physical lines, each ending with its newline (``has_newline``)
        or without one (only the file's cut-off last line)."""
        cols = self.cols
        decode = _decoder.decode
        line_no = self.line_no
        offset = self.offset
        count = len(cols.offset)
        # JSON takes a trailing newline as whitespace, so lines are decoded
        # with theirs; lengths leave it out, offsets step over it.
        newline = 1 if has_newline else 0
        try:
            # The common case: every line of the chunk is a well-typed object,
            # so decoding and the position columns are C loops.
            lines: list[_Line] = list(map(decode, pieces))
        except (msgspec.DecodeError, RecursionError):
            lines = []
            skips_append = cols.line.skips.append
            offset_append = cols.offset.append
            length_append = cols.length.append
            for piece in pieces:
                line_no += 1
                length = len(piece) - newline
                try:
                    line = decode(piece)
                except (msgspec.DecodeError, RecursionError):
                    slow = self._slow(piece[:length], has_newline, line_no, offset)
                    if slow is None:
                        offset += length + 1
                        skips_append(count + len(lines))
                        continue
                    line = slow
                    # Read tolerantly: the API rules read it again their own way.
                    cols.api_suspects.append(count + len(lines))
                lines.append(line)
                offset_append(offset)
                length_append(length)
                offset += length + 1
        else:
            sizes = list(map(len, pieces))
            if has_newline:
                cols.length.fromlist(list(map(add, sizes, repeat(-1))))
                starts = list(accumulate(sizes, initial=offset))
            else:
                cols.length.fromlist(sizes)
                starts = list(accumulate(map(add, sizes, repeat(1)), initial=offset))
            offset = starts.pop()
            cols.offset.fromlist(starts)
            line_no += len(pieces)
        self.line_no = line_no
        self.offset = offset
        if lines:
            self._columns(lines, count)

    def _columns(self, lines: list[_Line], first: int) -> None:
        """Append the columns of decoded lines (records ``first``, ``first + 1``, ...).

        Column at a time: the lines are transposed into one tuple per field
        and each column is built by C loops (map, compress, accumulate, dict
        updates); Python runs per line only for lines with content blocks and
        for the rare cases (duplicate uuids, odd timestamps, unknown parents).
        """
        cols = self.cols
        n = len(lines)
        rows = range(first, first + n)
        (
            types,
            uuids,
            parents,
            logicals,
            subtypes,
            stamps,
            sidechains,
            metas,
            messages,
            line_contents,
            leaves,
            parent_tool_uses,
            tool_uses,
            sessions,
            compacts,
            api_errors,
        ) = cast(Any, zip(*map(astuple, lines), strict=True))
        roles: list[Any] = list(map(getattr, messages, repeat("role"), repeat(None)))
        contents = list(map(getattr, messages, repeat("content"), repeat(None)))
        has_uuid = list(map(is_not, uuids, repeat(None)))

        # Flags: sidechain, meta, compact summary, and "conversation" (a user
        # prompt or an assistant line); a user line made only of tool results
        # is not conversation, which the block loop below corrects. One dict
        # lookup per line: lines come in a handful of combinations.
        keys: list[Any] = list(zip(types, sidechains, metas, compacts, has_uuid, strict=True))
        flags: list[Any] = list(map(_FLAG_CODES.get, keys))
        if None in flags:
            new = {
                k: _flags_of(k)
                for k in dict.fromkeys(compress(keys, map(is_, flags, repeat(None))))
            }
            flags = list(map(new.get, keys, flags))
            if len(_FLAG_CODES) < _MOST_FLAG_CODES:
                _FLAG_CODES.update(new)
        if api_errors.count(None) + api_errors.count(False) != n:
            cols.api_suspects.extend(compress(rows, api_errors))
        self._blocks(contents, types, line_contents, flags, first)
        self._shapes(types, subtypes, roles, flags)
        self._nodes(uuids, has_uuid, rows)
        self._parents(parents, uuids, first)
        self._timestamps(stamps, first)
        self._message_ids(messages)

        # The rare fields, kept in sparse maps.
        if logicals.count(None) != n:
            cols.logical.update(
                compress(zip(rows, logicals, strict=True), map(is_not, logicals, repeat(None)))
            )
        if leaves.count(None) != n:
            cols.leaf.update(
                compress(zip(rows, leaves, strict=True), map(is_not, leaves, repeat(None)))
            )
            for i in compress(range(n), map(eq, types, repeat("last-prompt"))):
                if leaves[i] is not None:
                    self.last_prompt_leaf = leaves[i]
        if parent_tool_uses.count(None) != n or tool_uses.count(None) != n:
            refs: list[Any] = [p or t for p, t in zip(parent_tool_uses, tool_uses, strict=True)]
            has_ref = list(map(is_not, refs, repeat(None)))
            present = list(compress(refs, has_ref))
            # Progress comes while the call runs: share the call's string. The rows
            # reporting on one call (a subagent's run: thousands, some after its
            # result) share one string too: in the 301 MB real-shaped session, 38,000
            # rows name 7,200 calls, and a string each cost 2.7 MB.
            shared: Any = map(self.open_uses.get, present, present)
            canonical = map(self.ref_strings.setdefault, present, shared)
            cols.tool_ref.extend(compress(rows, has_ref), canonical)
        if self.session_id is None:
            self.session_id = next((s for s in sessions if s is not None), None)

    def _blocks(
        self,
        contents: list[Any],
        types: Sequence[Any],
        line_contents: Sequence[Any],
        flags: list[int],
        first: int,
    ) -> None:
        """Tool ids of every content block; user lines of tool results only are not conversation.

        The blocks of all lines are flattened into one list (with the record
        of each) so that picking the tool blocks is C loops; Python runs only
        per tool block.
        """
        suspects = self.cols.api_suspects
        if "" in contents:  # empty content: the API rules report it
            suspects.extend(
                compress(range(first, first + len(contents)), map(eq, contents, repeat("")))
            )
        is_list = list(map(isinstance, contents, repeat(list)))
        if True not in is_list:
            return
        lists: list[list[_Block]] = list(compress(contents, is_list))
        sizes = list(map(len, lists))
        if 0 in sizes:
            suspects.extend(
                compress(compress(range(first, first + len(contents)), is_list), map(not_, sizes))
            )
        blocks = list(chain.from_iterable(lists))
        if not blocks:
            return
        block_rows = list(
            chain.from_iterable(
                map(repeat, compress(range(first, first + len(contents)), is_list), sizes)
            )
        )
        block_types = list(map(_get_type, blocks))
        self._api_suspect_blocks(blocks, block_rows, block_types)
        is_tool = list(map(_TOOL_BLOCKS.__contains__, block_types))
        if True not in is_tool:
            return
        tool_blocks = list(compress(blocks, is_tool))
        tool_rows = list(compress(block_rows, is_tool))
        kinds = list(map(eq, compress(block_types, is_tool), repeat("tool_result")))
        ids: list[Any] = [
            b.tool_use_id if k else b.id for b, k in zip(tool_blocks, kinds, strict=True)
        ]
        keep = list(map(truth, ids))
        if False in keep:  # a tool block without its id
            suspects.extend(compress(tool_rows, map(not_, keep)))
            ids = list(compress(ids, keep))
            tool_rows = list(compress(tool_rows, keep))
            kinds = list(compress(kinds, keep))
        if not ids:
            return
        # One string per call: its result shares it (the call may be in an
        # earlier chunk); an answered call is forgotten.
        open_uses = self.open_uses
        shared = list(map(open_uses.setdefault, ids, ids))
        if True in kinds:
            deque(map(open_uses.pop, compress(shared, kinds), repeat(None)), maxlen=0)
        cols = self.cols
        cols.tool_rec.fromlist(tool_rows)
        cols.tool_ids.extend(shared)
        cols.tool_kind.extend(cast("list[int]", kinds))
        if True in kinds:
            # A user line with results and no text or image is not conversation.
            answered = set(compress(tool_rows, kinds))
            with_text = {
                row
                for row, block, block_type in zip(block_rows, blocks, block_types, strict=True)
                if block_type == "image" or (block_type == "text" and block.text is not None)
            }
            for row in answered - with_text:
                k = row - first
                if flags[k] & CONVERSATION and types[k] == "user" and line_contents[k] is None:
                    flags[k] -= CONVERSATION

    def _api_suspect_blocks(
        self, blocks: list[_Block], block_rows: list[int], block_types: list[Any]
    ) -> None:
        """Rows with an empty text block or a server-tool block: the API rules re-read them."""
        suspects = self.cols.api_suspects
        is_text = list(map(eq, block_types, repeat("text")))
        if True in is_text:
            texts = list(map(_get_text, compress(blocks, is_text)))
            if not all(texts):  # "" or absent
                suspects.extend(compress(compress(block_rows, is_text), map(not_, texts)))
        odd = {t for t in set(block_types) if t is not None and _server_tool_block(t)}
        if odd:
            suspects.extend(compress(block_rows, map(odd.__contains__, block_types)))

    def _shapes(
        self,
        types: Sequence[Any],
        subtypes: Sequence[Any],
        roles: list[str | None],
        flags: list[int],
    ) -> None:
        cols = self.cols
        codes = self.codes
        keys: list[Any] = list(zip(types, subtypes, roles, flags, strict=True))
        found = list(map(codes.get, keys))
        if None in found:  # numbered in order of first appearance
            for key in dict.fromkeys(compress(keys, map(is_, found, repeat(None)))):
                cols.shape_code(codes, key)
            found = list(map(codes.__getitem__, keys))
        cols.shape.fromlist(cast("list[int]", found))

    def _nodes(self, uuids: Sequence[Any], has_uuid: list[bool], rows: range) -> None:
        """Number the new uuids; a uuid seen before is a duplicate, not a node.

        One dict probe per uuid: ``setdefault`` numbers each uuid as if all
        were new; if the index grew by fewer than that, some uuid was seen
        before, so this chunk's insertions are taken back and the lines are
        numbered one by one (rare: duplicates only).
        """
        cols = self.cols
        index: dict[Any, int] = cols.index
        everyone = False not in has_uuid
        named = uuids if everyone else list(compress(uuids, has_uuid))
        before = len(index)
        found = list(map(index.setdefault, named, count(before)))
        if len(index) == before + len(found):
            if everyone:
                cols.uid.fromlist(found)
                cols.node_rec.fromlist(list(rows))
            else:
                sources = (repeat(-1), iter(found))
                cols.uid.fromlist(list(map(next, map(sources.__getitem__, has_uuid))))
                cols.node_rec.fromlist(list(compress(rows, has_uuid)))
            return
        for uuid, node in zip(named, found, strict=True):
            if node >= before:
                index.pop(uuid, None)
        setdefault = index.setdefault
        uid_append = cols.uid.append
        for i, uuid in zip(rows, uuids, strict=True):
            if uuid is None:
                uid_append(-1)
                continue
            new = len(index)
            node = setdefault(uuid, new)
            if node == new:
                cols.node_rec.append(i)
            else:
                cols.duplicates.append(i)
            uid_append(node)

    def _parents(self, parents: Sequence[Any], uuids: Sequence[Any], first: int) -> None:
        """Parent references; a parent not (yet) known is kept as an extra to resolve later.

        The lines' own uuids are numbered first, so a parent further down the
        same lines resolves at once: it is then marked forward (a possible
        cycle), as :meth:`Columns.finish` does for a parent in a later chunk.

        Most records' parent is the record before (a chain of messages):
        compared as strings, in C, that gives its node without probing the
        index, where each probe is a random access into a table of every
        uuid. Only the others are looked up.
        """
        cols = self.cols
        index: dict[Any, int] = cols.index
        mine = cols.uid[first:]
        before = [self.previous_uuid, *uuids[:-1]]
        before_nodes = [self.previous_node, *mine[:-1]]
        self.previous_uuid, self.previous_node = uuids[-1], mine[-1]
        same = list(map(eq, parents, before))
        found = before_nodes
        if False in same:
            other = list(map(not_, same))
            looked = map(index.get, compress(parents, other), repeat(-2))
            deque(map(found.__setitem__, compress(range(len(same)), other), looked), maxlen=0)
        k = -1
        try:
            while True:
                k = found.index(-2, k + 1)
                parent = parents[k]
                if parent is None:
                    found[k] = -1
                else:
                    found[k] = -2 - len(cols.extras)
                    cols.extras.append(parent)
                    cols.unresolved.append(first + k)
        except ValueError:
            pass
        if any(map(ge, found, mine)):
            node_rec = cols.node_rec
            for k, (j, node) in enumerate(zip(found, mine, strict=True)):
                if j >= node >= 0 and node_rec[node] == first + k:
                    cols.forward.append(node)
        cols.par.fromlist(found)

    def _timestamps(self, stamps: Sequence[Any], first: int) -> None:
        """Fixed-width timestamps; records older than an earlier line are suspects."""
        cols = self.cols
        n = len(stamps)
        missing = stamps.count(None)
        present: list[bool] | None = None
        text: Sequence[Any] = stamps
        keyed: Sequence[Any] = stamps
        if missing:  # lines without a timestamp (snapshots, summaries) hold NUL bytes
            present = list(map(is_not, stamps, repeat(None)))
            text = [_NO_TS_TEXT if s is None else s for s in stamps]
            keyed = ["" if s is None else s for s in stamps]
        if set(map(len, text)) == {TS_WIDTH}:
            joined = "".join(cast("Sequence[str]", text))
            raw = joined.encode("ascii") if joined.isascii() else b""
            if (
                raw
                and raw[23::TS_WIDTH].count(90) == n - missing  # "Z"
                and raw[10::TS_WIDTH].count(84) == n - missing  # "T"
                and raw[0::TS_WIDTH].count(0) == missing
            ):  # every timestamp canonical (see timestamps.normalize_timestamp)
                running = list(accumulate(keyed, max, initial=self.ts_max))
                self.ts_max = running.pop()
                older = list(map(lt, keyed, running))
                if present is not None:
                    older = list(map(and_, older, present))
                if True in older:
                    cols.ts_suspects.extend(compress(range(first, first + n), older))
                cols.ts += raw
                return
        ts = cols.ts
        ts_max = self.ts_max
        for i, stamp in enumerate(stamps, first):
            if (
                stamp is not None
                and len(stamp) == TS_WIDTH
                and len(raw := stamp.encode()) == TS_WIDTH
                and raw[23] == 90  # "Z"
                and raw[10] == 84  # "T"
                and raw[0]
            ):  # canonical (see timestamps.normalize_timestamp) and ASCII
                ts += raw
                if stamp < ts_max:
                    cols.ts_suspects.append(i)
                else:
                    ts_max = stamp
            else:
                ts += NO_TS
                if stamp is not None:
                    ts_max = self._odd_timestamp(i, stamp, ts_max)
        self.ts_max = ts_max

    def _message_ids(self, messages: Sequence[Any]) -> None:
        """The key of each record's ``message.id``."""
        ids = list(map(getattr, messages, repeat("id"), repeat(None)))
        self.cols.msg_keys.extend(message_keys(ids))

    def _odd_timestamp(self, i: int, stamp: str, ts_max: str) -> str:
        """A timestamp not in canonical ASCII form: normalised, kept aside; the new maximum."""
        normal = normalize_timestamp(stamp)
        if normal is None:
            return ts_max
        if normal.isascii() and len(normal) == TS_WIDTH and normal[0] != "\x00":
            self.cols.ts[i * TS_WIDTH : (i + 1) * TS_WIDTH] = normal.encode("ascii")
        else:
            self.cols.ts_odd[i] = normal
        if normal < ts_max:
            self.cols.ts_suspects.append(i)
            return ts_max
        return normal


def _chunks(handle: BinaryIO, hasher: Any) -> Iterator[bytes]:
    """The file's bytes in chunks, each hashed on a worker thread.

    hashlib releases the GIL on large buffers, so hashing overlaps with
    decoding. Plain reads rather than a memory map: a map of a file that
    another process truncates kills the reader with SIGBUS, and riff must
    survive whatever happens to a transcript while it reads it (a map was
    measured only ~10% faster).
    """
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(max_workers=1) as hashing:
        # One worker runs the updates in order; waiting only for the chunk
        # before the previous one lets the worker hash while this thread
        # decodes (waiting for the previous chunk made it all but serial:
        # the worker only got the GIL back when this thread blocked in read).
        pending: deque[Future[None]] = deque()
        while chunk := handle.read(READ_CHUNK_BYTES):
            if len(pending) == _HASH_LAG:
                pending.popleft().result()
            pending.append(hashing.submit(hasher.update, chunk))
            yield chunk
        for update in pending:
            update.result()


def _plain_chunks(handle: BinaryIO) -> Iterator[bytes]:
    while chunk := handle.read(READ_CHUNK_BYTES):
        yield chunk


def range_chunks(fd: int, start: int, end: int) -> Iterator[bytes]:
    """The bytes of ``[start, end)`` in chunks, read by position (the file offset is
    left alone, so another process sharing the descriptor is not disturbed)."""
    while start < end:
        chunk = os.pread(fd, min(READ_CHUNK_BYTES, end - start), start)
        if not chunk:  # the file shrank under the reader
            return
        start += len(chunk)
        yield chunk


def feed_chunks(reader: LineReader, chunks: Iterable[bytes], carry: bytearray) -> bytearray:
    """Feed every complete line of ``chunks`` to ``reader``; returns the bytes after
    the last newline (the start of a line that continues in later chunks)."""
    # Lines come from BytesIO.readlines, which finds newlines with memchr
    # (bytes.split tests byte by byte: three to four times slower, a sixth
    # of reading a real-shaped file). A line longer than a chunk grows in one
    # buffer (extended in place, not joined from parts), so a 100 MB line
    # costs about its own size once. The lines of several chunks go to the
    # reader together: it pays a fixed cost per batch, and chunks stay small
    # so that the allocator reuses their memory (see READ_CHUNK_BYTES).
    batch: list[Any] = []
    batch_bytes = 0
    for chunk in chunks:
        pieces: list[Any] = BytesIO(chunk).readlines()
        last = b"" if pieces[-1][-1:] == b"\n" else pieces.pop()
        if pieces:
            if carry:
                carry += pieces[0]
                pieces[0] = carry
                carry = bytearray()
                if len(pieces[0]) > 0xFFFFFFFF:  # beyond the 32-bit length column
                    reader.cols.length = array("q", reader.cols.length)
            batch += pieces
            batch_bytes += len(chunk)
            if batch_bytes >= _BATCH_BYTES:
                reader.feed(batch)
                batch = []
                batch_bytes = 0
        if last:
            carry += last
    if batch:
        reader.feed(batch)
    return carry


def read_transcript(path: Path | str, *, content_hash: bool = True) -> Transcript:
    """Read a transcript in one streaming pass; never raises on bad content.

    ``content_hash``: also take the SHA-256 of the bytes read, which the safe
    writer checks before it changes the file. A scan that only reports (no
    write can follow it) leaves it out: it costs about a third of the read.
    """
    path = Path(path)
    # The reader makes short-lived tuples by the million and no cycles: the
    # cyclic collector would only walk the growing columns again and again.
    collecting = gc.isenabled()
    gc.disable()
    try:
        return _read(path, content_hash)
    finally:
        if collecting:
            gc.enable()


def _read(path: Path, content_hash: bool) -> Transcript:
    reader = LineReader(path)
    hasher = None
    if content_hash:
        # Imported here: loading OpenSSL is 3.5 MB of RSS a scan that only
        # reports does without (as it does without the hashing thread's pool).
        import hashlib

        hasher = hashlib.sha256()
    carry = bytearray()
    with path.open("rb", buffering=0) as handle:
        stat = os.fstat(handle.fileno())
        if hasher is None and stat.st_size >= SPLIT_MIN_BYTES:
            # Imported here: the split reader builds on this module.
            from riff.transcript.split_read import read_halves

            carry = read_halves(reader, handle, stat.st_size)
        chunks = _plain_chunks(handle) if hasher is None else _chunks(handle, hasher)
        carry = feed_chunks(reader, chunks, carry)
        if carry:
            if len(carry) > 0xFFFFFFFF:  # beyond the 32-bit length column
                reader.cols.length = array("q", reader.cols.length)
            reader.feed([carry], has_newline=False)
    cols = reader.cols
    cols.finish()
    cols.api_complete = True
    fingerprint = Fingerprint(
        size=reader.offset if not carry else reader.offset - 1,
        mtime_ns=stat.st_mtime_ns,
        sha256=None if hasher is None else hasher.hexdigest(),
    )
    return Transcript(
        path=path,
        records=RecordList(cols),
        problems=reader.problems,
        fingerprint=fingerprint,
        line_count=reader.line_no,
        last_prompt_leaf=reader.last_prompt_leaf,
        session_id=reader.session_id,
        _columns=cols,
    )


def read_line_bytes(path: Path | str, record: MessageRecord | LineProblem) -> bytes:
    """The raw bytes of one line (without newline), read from its offset."""
    with Path(path).open("rb") as handle:
        handle.seek(record.offset)
        return handle.read(record.length)


def read_message(path: Path | str, record: MessageRecord) -> dict[str, Any]:
    """The full JSON object of a record's line, re-read from its byte offset."""
    try:
        value = json_line.loads(read_line_bytes(path, record).strip(_STRIP))
    except orjson.JSONDecodeError:  # the file changed under the record
        value = None
    if not isinstance(value, dict):  # the reader only makes records of objects
        raise TranscriptLineError(
            f"line {record.line} of {path} is no longer a JSON object; scan the session again"
        )
    return value
