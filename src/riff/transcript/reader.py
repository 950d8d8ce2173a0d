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

import hashlib
import os
from array import array
from collections import deque
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from itertools import accumulate, repeat
from operator import add
from pathlib import Path
from typing import Any, BinaryIO

import msgspec
import orjson
from msgspec.structs import astuple

from riff.transcript.errors import TranscriptLineError
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
)
from riff.transcript.timestamps import normalize_timestamp

PREVIEW_CHARS = 80
_READ_BUFFER = 1 << 19
_HASH_LAG = 2
"""Chunks handed to the hashing thread and not yet waited for."""
_STRIP = b" \t\r\n\x00"


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


def _str_or_none(value: Any) -> str | None:
    return value if isinstance(value, str) else None


def _from_dict(obj: dict[str, Any]) -> _Extracted:
    """The tolerant path: every field is checked, a wrong type reads as absent."""
    out = _Extracted()
    out.type = _str_or_none(obj.get("type"))
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


def _preview_from_file(cols: Columns, i: int) -> str:
    """Preview of record ``i``, from its line re-read at its offset ("" if unreadable)."""
    try:
        with cols.path.open("rb") as handle:
            handle.seek(cols.offset[i])
            data = handle.read(cols.length[i])
        value = orjson.loads(data.strip(_STRIP))
    except (OSError, orjson.JSONDecodeError, RecursionError):
        return ""
    if not isinstance(value, dict):
        return ""
    return _preview(_from_dict(value))


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
        return "JSON nested too deeply"
    try:
        obj = orjson.loads(payload)
    except orjson.JSONDecodeError as exc:
        return f"not valid JSON ({str(exc).split(':')[0]})"
    except RecursionError:
        return "JSON nested too deeply"
    if not isinstance(obj, dict):
        return f"valid JSON but not an object ({type(obj).__name__})"
    return _from_dict(obj)


_ShapeKey = tuple[str | None, str | None, str | None, int]


class _Reader:
    """Turns physical lines into columns; state lives here between chunks."""

    def __init__(self, path: Path) -> None:
        self.cols = Columns(path)
        self.cols.preview_of = _preview_from_file
        self.problems: list[LineProblem] = []
        self.codes: dict[_ShapeKey, int] = {}
        self.offset = 0
        self.line_no = 0
        self.ts_max = ""
        self.last_prompt_leaf: str | None = None
        self.session_id: str | None = None
        self.open_uses: dict[str, str] = {}
        """tool_use ids still waiting for their result (to share the string)."""

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
            reason = "the last line is cut off (no newline)" if kind == "truncated_line" else ""
            problems.append(LineProblem(kind, line_no, offset, len(body), reason or decoded))
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
        return decoded if isinstance(decoded, _Line) else _as_line(decoded)

    def feed(self, pieces: list[bytes], has_newline: bool = True) -> None:
        """Read complete physical lines (without their newline)."""
        cols = self.cols
        decode = _decoder.decode
        codes = self.codes
        index = cols.index
        extras = cols.extras
        skips_append = cols.line.skips.append
        setdefault = index.setdefault
        offset_append = cols.offset.append
        length_append = cols.length.append
        shape_append = cols.shape.append
        uid_append = cols.uid.append
        par_append = cols.par.append
        node_rec_append = cols.node_rec.append
        unresolved_append = cols.unresolved.append
        suspects_append = cols.ts_suspects.append
        session_id = self.session_id
        ts = cols.ts
        tool_rec_append = cols.tool_rec.append
        tool_ids_append = cols.tool_ids.append
        tool_kind_append = cols.tool_kind.append
        open_uses = self.open_uses
        add_message_id = cols.add_message_id
        line_no = self.line_no
        offset = self.offset
        ts_max = self.ts_max
        count = len(cols.offset)
        try:
            # The common case: every line of the chunk is a well-typed object,
            # so decoding and the position columns are C loops.
            lines: list[_Line] = list(map(decode, pieces))
        except (msgspec.DecodeError, RecursionError):
            lines = []
            for body in pieces:
                line_no += 1
                try:
                    line = decode(body)
                except (msgspec.DecodeError, RecursionError):
                    slow = self._slow(body, has_newline, line_no, offset)
                    if slow is None:
                        offset += len(body) + 1
                        skips_append(count + len(lines))
                        continue
                    line = slow
                lines.append(line)
                offset_append(offset)
                length_append(len(body))
                offset += len(body) + 1
        else:
            sizes = list(map(len, pieces))
            cols.length.extend(sizes)
            starts = list(accumulate(map(add, sizes, repeat(1)), initial=offset))
            offset = starts.pop()
            cols.offset.extend(starts)
            line_no += len(pieces)
        for i, (
            line_type,
            uuid,
            parent,
            logical_parent,
            subtype,
            stamp,
            is_sidechain,
            is_meta,
            message,
            line_content,
            leaf,
            parent_tool_use,
            tool_use,
            line_session,
            is_compact_summary,
        ) in enumerate(map(astuple, lines), count):
            role = None
            message_id = None
            has_text = line_content is not None
            results = False
            if message is not None:
                role = message.role
                message_id = message.id
                content = message.content
                if isinstance(content, str):
                    has_text = True
                elif content:
                    for block in content:
                        block_type = block.type
                        if block_type == "tool_use":
                            tool_id = block.id
                            if tool_id:
                                # One string per call: its result shares it.
                                open_uses[tool_id] = tool_id
                                tool_rec_append(i)
                                tool_ids_append(tool_id)
                                tool_kind_append(0)
                        elif block_type == "tool_result":
                            tool_id = block.tool_use_id
                            if tool_id:
                                results = True
                                tool_rec_append(i)
                                tool_ids_append(open_uses.pop(tool_id, tool_id))
                                tool_kind_append(1)
                        elif block_type == "text":
                            if block.text is not None:
                                has_text = True
                        elif block_type == "image":
                            has_text = True
            flags = (
                (SIDECHAIN if is_sidechain else 0)
                | (META if is_meta else 0)
                | (COMPACT_SUMMARY if is_compact_summary else 0)
            )
            if uuid is not None and (
                line_type == "assistant"
                or (line_type == "user" and not is_meta and (has_text or not results))
            ):
                flags |= CONVERSATION
            key = (line_type, subtype, role, flags)
            code = codes.get(key)
            if code is None:
                code = cols.shape_code(codes, key)
                shape_append = cols.shape.append  # the column may have been widened
            shape_append(code)

            # The parent first: a line naming itself is then resolved (and
            # marked as a possible cycle) by Columns.finish, like a later parent.
            if parent is None:
                j = -1
            else:
                j = index.get(parent, -2)
                if j == -2:
                    j = -2 - len(extras)
                    extras.append(parent)
                    unresolved_append(i)
            par_append(j)
            if uuid is None:
                uid_append(-1)
            else:
                new = len(index)
                node = setdefault(uuid, new)
                if node == new:
                    node_rec_append(i)
                else:
                    cols.duplicates.append(i)
                uid_append(node)

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
                    suspects_append(i)
                else:
                    ts_max = stamp
            else:
                ts += NO_TS
                if stamp is not None:
                    ts_max = self._odd_timestamp(i, stamp, ts_max)

            add_message_id(message_id)
            if logical_parent is not None:
                cols.logical[i] = logical_parent
            tool_ref = parent_tool_use or tool_use
            if tool_ref is not None:
                # Progress comes while the call runs: share the call's string.
                cols.tool_ref[i] = open_uses.get(tool_ref, tool_ref)
            if leaf is not None:
                cols.leaf[i] = leaf
                if line_type == "last-prompt":
                    self.last_prompt_leaf = leaf
            if session_id is None:
                session_id = line_session
        self.line_no = line_no
        self.offset = offset
        self.ts_max = ts_max
        self.session_id = session_id

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
    with ThreadPoolExecutor(max_workers=1) as hashing:
        # One worker runs the updates in order; waiting only for the chunk
        # before the previous one lets the worker hash while this thread
        # decodes (waiting for the previous chunk made it all but serial:
        # the worker only got the GIL back when this thread blocked in read).
        pending: deque[Future[None]] = deque()
        while chunk := handle.read(_READ_BUFFER):
            if len(pending) == _HASH_LAG:
                pending.popleft().result()
            pending.append(hashing.submit(hasher.update, chunk))
            yield chunk
        for update in pending:
            update.result()


def read_transcript(path: Path | str) -> Transcript:
    """Read a transcript in one streaming pass; never raises on bad content."""
    path = Path(path)
    reader = _Reader(path)
    hasher = hashlib.sha256()
    carry: list[bytes] = []
    with path.open("rb", buffering=0) as handle:
        stat = os.fstat(handle.fileno())
        for chunk in _chunks(handle, hasher):
            pieces = chunk.split(b"\n")
            last = pieces.pop()
            if pieces:
                if carry:
                    carry.append(pieces[0])
                    pieces[0] = b"".join(carry)
                    carry = []
                    if len(pieces[0]) > 0xFFFFFFFF:  # beyond the 32-bit length column
                        reader.cols.length = array("q", reader.cols.length)
                reader.feed(pieces)
            if last:
                carry.append(last)
        if carry:
            last_line = b"".join(carry)
            if len(last_line) > 0xFFFFFFFF:  # beyond the 32-bit length column
                reader.cols.length = array("q", reader.cols.length)
            reader.feed([last_line], has_newline=False)
    cols = reader.cols
    cols.finish()
    fingerprint = Fingerprint(
        size=reader.offset if not carry else reader.offset - 1,
        mtime_ns=stat.st_mtime_ns,
        sha256=hasher.hexdigest(),
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
        value = orjson.loads(read_line_bytes(path, record).strip(_STRIP))
    except orjson.JSONDecodeError:  # the file changed under the record
        value = None
    if not isinstance(value, dict):  # the reader only makes records of objects
        raise TranscriptLineError(
            f"line {record.line} of {path} is no longer a JSON object; scan the session again"
        )
    return value
