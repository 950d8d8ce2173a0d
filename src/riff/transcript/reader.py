"""Streaming, tolerant reader of Claude Code transcripts.

One pass over the file in binary lines: every line becomes a compact
:class:`MessageRecord` (or a :class:`LineProblem`), the bytes are hashed for
the writer's fingerprint, and nothing else is kept. Decoding goes through a
msgspec Struct of only the needed fields (fast: the rest of each line is
skipped, not built); a line whose fields have unexpected types falls back to
a tolerant orjson path, and a line that is not JSON at all becomes a problem
with its line number and byte offset.
"""

from __future__ import annotations

import hashlib
import os
import sys
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import Any, BinaryIO

import msgspec
import orjson

from riff.transcript.records import Fingerprint, LineProblem, MessageRecord, Transcript
from riff.transcript.timestamps import normalize_timestamp

PREVIEW_CHARS = 80
_READ_BUFFER = 1 << 20
_STRIP = b" \t\r\n\x00"


class _Block(msgspec.Struct):
    type: str | None = None
    id: str | None = None
    tool_use_id: str | None = None
    name: str | None = None
    text: str | None = None


class _Message(msgspec.Struct):
    role: str | None = None
    content: str | list[_Block] | None = None


class _Data(msgspec.Struct):
    type: str | None = None


class _Line(msgspec.Struct):
    # Field names are the transcript's own keys, hence the camelCase.
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
    summary: str | None = None
    leafUuid: str | None = None
    parentToolUseID: str | None = None
    toolUseID: str | None = None
    sessionId: str | None = None
    data: _Data | None = None


_decoder = msgspec.json.Decoder(_Line)
# Interning the few distinct type/subtype/role strings keeps one copy of each.
_intern = sys.intern


def _short(text: str) -> str:
    return " ".join(text[: PREVIEW_CHARS * 3].split())[:PREVIEW_CHARS]


class _Extracted:
    """Fields pulled out of one line, whichever decoding path produced them."""

    __slots__ = (
        "blocks",
        "content_text",
        "data_type",
        "is_meta",
        "is_sidechain",
        "leaf_uuid",
        "logical_parent",
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
        self.role: str | None = None
        self.content_text: str | None = None
        # (type, id, tool_use_id, name, text) per content block
        self.blocks: list[tuple[str | None, str | None, str | None, str | None, str | None]] = []
        self.summary: str | None = None
        self.leaf_uuid: str | None = None
        self.tool_ref: str | None = None
        self.session_id: str | None = None
        self.data_type: str | None = None


def _from_struct(line: _Line) -> _Extracted:
    out = _Extracted()
    out.type = line.type
    out.uuid = line.uuid
    out.parent = line.parentUuid
    out.logical_parent = line.logicalParentUuid
    out.subtype = line.subtype
    out.timestamp = line.timestamp
    out.is_sidechain = bool(line.isSidechain)
    out.is_meta = bool(line.isMeta)
    out.summary = line.summary
    out.leaf_uuid = line.leafUuid
    out.tool_ref = line.parentToolUseID or line.toolUseID
    out.session_id = line.sessionId
    out.data_type = line.data.type if line.data is not None else None
    out.content_text = line.content
    message = line.message
    if message is not None:
        out.role = message.role
        content = message.content
        if isinstance(content, str):
            out.content_text = content
        elif content is not None:
            out.blocks = [(b.type, b.id, b.tool_use_id, b.name, b.text) for b in content]
    return out


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


def _build_record(fields: _Extracted, line_no: int, offset: int, length: int) -> MessageRecord:
    tool_uses: list[str] = []
    tool_results: list[str] = []
    preview = ""
    has_text = False
    for block_type, block_id, tool_use_id, name, text in fields.blocks:
        if block_type == "tool_use" and block_id:
            tool_uses.append(block_id)
            if not preview:
                preview = f"[{name or 'tool'}]"
        elif block_type == "tool_result" and tool_use_id:
            tool_results.append(tool_use_id)
            if not preview:
                preview = "[tool result]"
        elif block_type == "text" and text is not None:
            has_text = True
            if not preview or preview[0] == "[":
                preview = _short(text)
        elif block_type == "thinking" and not preview:
            preview = "[thinking]"
        elif block_type == "image":
            has_text = True
            if not preview:
                preview = "[image]"
    if fields.content_text is not None:
        has_text = True
        if not preview:
            preview = _short(fields.content_text)
    if not preview:
        if fields.summary is not None:
            preview = _short(fields.summary)
        elif fields.data_type is not None:
            preview = f"[{fields.data_type}]"
    line_type = _intern(fields.type) if fields.type is not None else None
    is_conversation = line_type == "assistant" or (
        line_type == "user" and not fields.is_meta and (has_text or not tool_results)
    )
    role = fields.role
    return MessageRecord(
        line=line_no,
        offset=offset,
        length=length,
        type=line_type,
        uuid=fields.uuid,
        parent_uuid=fields.parent,
        logical_parent_uuid=fields.logical_parent,
        subtype=_intern(fields.subtype) if fields.subtype is not None else None,
        role=_intern(role) if role is not None else None,
        timestamp=normalize_timestamp(fields.timestamp),
        is_sidechain=fields.is_sidechain,
        is_meta=fields.is_meta,
        is_conversation=is_conversation and fields.uuid is not None,
        tool_use_ids=tuple(tool_uses),
        tool_result_ids=tuple(tool_results),
        tool_ref=fields.tool_ref,
        leaf_uuid=fields.leaf_uuid,
        preview=preview,
    )


def _record_from_line(
    line: _Line, line_no: int, offset: int, length: int, known: dict[str, str]
) -> MessageRecord:
    """The fast path: a record straight from the decoded struct (no intermediate)."""
    tool_uses: list[str] | None = None
    tool_results: list[str] | None = None
    preview = ""
    has_text = False
    message = line.message
    role = None
    content_text = line.content
    if message is not None:
        role = message.role
        content = message.content
        if isinstance(content, str):
            content_text = content
        elif content:
            for block in content:
                block_type = block.type
                if block_type == "tool_use" and block.id:
                    (tool_uses := tool_uses or []).append(block.id)
                    if not preview:
                        preview = f"[{block.name or 'tool'}]"
                elif block_type == "tool_result" and block.tool_use_id:
                    (tool_results := tool_results or []).append(block.tool_use_id)
                    if not preview:
                        preview = "[tool result]"
                elif block_type == "text" and block.text is not None:
                    has_text = True
                    if not preview or preview[0] == "[":
                        preview = _short(block.text)
                elif block_type == "thinking":
                    if not preview:
                        preview = "[thinking]"
                elif block_type == "image":
                    has_text = True
                    if not preview:
                        preview = "[image]"
    if content_text is not None:
        has_text = True
        if not preview:
            preview = _short(content_text)
    if not preview:
        if line.summary is not None:
            preview = _short(line.summary)
        elif line.data is not None and line.data.type is not None:
            preview = f"[{line.data.type}]"
    line_type = line.type
    if line_type is not None:
        line_type = _intern(line_type)
    uuid = line.uuid
    is_meta = bool(line.isMeta)
    is_conversation = uuid is not None and (
        line_type == "assistant"
        or (line_type == "user" and not is_meta and (has_text or not tool_results))
    )
    parent = line.parentUuid
    if parent is not None:
        # Share the string of the parent's own uuid: one copy per uuid in memory.
        parent = known.get(parent, parent)
    if uuid is not None:
        uuid = known.setdefault(uuid, uuid)
    subtype = line.subtype
    return MessageRecord(
        line_no,
        offset,
        length,
        line_type,
        uuid,
        parent,
        line.logicalParentUuid,
        _intern(subtype) if subtype is not None else None,
        _intern(role) if role is not None else None,
        normalize_timestamp(line.timestamp),
        bool(line.isSidechain),
        is_meta,
        is_conversation,
        tuple(tool_uses) if tool_uses else (),
        tuple(tool_results) if tool_results else (),
        line.parentToolUseID or line.toolUseID,
        line.leafUuid,
        preview,
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


def _physical_lines(handle: BinaryIO, hasher: Any) -> Iterator[bytes]:
    """Every physical line (with its newline if any), reading big chunks.

    The hash runs in a worker thread: hashlib releases the GIL on large
    buffers, so hashing overlaps with decoding instead of adding to it.
    """
    carry: list[bytes] = []
    with ThreadPoolExecutor(max_workers=1) as hashing:
        pending: Future[None] | None = None
        while chunk := handle.read(_READ_BUFFER):
            if pending is not None:
                pending.result()  # keep updates in order
            pending = hashing.submit(hasher.update, chunk)
            pieces = chunk.split(b"\n")
            last = pieces.pop()
            if pieces:
                if carry:
                    carry.append(pieces[0])
                    pieces[0] = b"".join(carry)
                    carry = []
                for piece in pieces:
                    yield piece + b"\n"
            if last:
                carry.append(last)
        if pending is not None:
            pending.result()
    if carry:
        yield b"".join(carry)


def read_transcript(path: Path | str) -> Transcript:
    """Read a transcript in one streaming pass; never raises on bad content."""
    path = Path(path)
    records: list[MessageRecord] = []
    problems: list[LineProblem] = []
    hasher = hashlib.sha256()
    decode = _decode
    fast = _record_from_line
    known: dict[str, str] = {}
    offset = 0
    line_no = 0
    last_prompt_leaf: str | None = None
    session_id: str | None = None
    with path.open("rb", buffering=0) as handle:
        stat = os.fstat(handle.fileno())
        for raw in _physical_lines(handle, hasher):
            line_no += 1
            size = len(raw)
            has_newline = raw[-1:] == b"\n"
            body = raw[:-1] if has_newline else raw
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
                offset += size
                continue
            decoded = decode(payload)
            if isinstance(decoded, str):
                kind = "truncated_line" if not has_newline else "malformed_line"
                reason = "the last line is cut off (no newline)" if kind == "truncated_line" else ""
                problems.append(LineProblem(kind, line_no, offset, len(body), reason or decoded))
                offset += size
                continue
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
                record = fast(decoded, line_no, offset, len(body), known)
                if session_id is None:
                    session_id = decoded.sessionId
            else:
                record = _build_record(decoded, line_no, offset, len(body))
                if session_id is None:
                    session_id = decoded.session_id
            records.append(record)
            if record.type == "last-prompt" and record.leaf_uuid is not None:
                last_prompt_leaf = record.leaf_uuid
            offset += size
    fingerprint = Fingerprint(size=offset, mtime_ns=stat.st_mtime_ns, sha256=hasher.hexdigest())
    return Transcript(
        path=path,
        records=records,
        problems=problems,
        fingerprint=fingerprint,
        line_count=line_no,
        last_prompt_leaf=last_prompt_leaf,
        session_id=session_id,
    )


def read_line_bytes(path: Path | str, record: MessageRecord | LineProblem) -> bytes:
    """The raw bytes of one line (without newline), read from its offset."""
    with Path(path).open("rb") as handle:
        handle.seek(record.offset)
        return handle.read(record.length)


def read_message(path: Path | str, record: MessageRecord) -> dict[str, Any]:
    """The full JSON object of a record's line, re-read from its byte offset."""
    value = orjson.loads(read_line_bytes(path, record).strip(_STRIP))
    if not isinstance(value, dict):  # the reader only makes records of objects
        raise ValueError(f"line {record.line} of {path} is not a JSON object")
    return value
