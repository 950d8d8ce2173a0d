"""A transcript line's JSON as Claude Code reads it: bytes that are not UTF-8, and any depth.

Claude Code decodes a transcript as UTF-8, putting U+FFFD for bytes that are
not UTF-8, and reads each line with V8's ``JSON.parse``, which does not
recurse. orjson refuses both such lines, and msgspec and the standard library
stop at Python's recursion limit. Asked with the real CLI (2.1.332 and 2.0.77,
the resume oracle): a message whose text holds bytes that are not UTF-8 is
loaded and sent with U+FFFD in their place, and one with a field nested 2,000
arrays deep is loaded and sent. Such lines must not read to riff as malformed
(a finding, and a repair that moves a sound message out of the file), so
`loads` decodes as Claude Code does, and reads a line orjson finds too deep
with a parser of its own that keeps its containers on a list instead of the
call stack. Strings and numbers are still decoded by orjson, one token at a
time, so the values are the ones orjson would give; only the nesting is read
here.

riff itself only ever looks a few levels into a line; a value this deep is
carried, never walked.
"""

from __future__ import annotations

import re
from typing import Any

import orjson

_NOT_UTF8 = "str is not valid UTF-8"
_TOO_DEEP = "depth limit exceeded"
TRAILING = "unexpected content after document"
"""orjson's messages for bytes that are not UTF-8, a line nested past its limit and bytes
after a whole document (tests/transcript/test_json_line.py holds the installed orjson to
them)."""

MAX_DEPTH = 4096
"""Deeper than this a line is refused as orjson refuses it: V8's ``JSON.stringify``, which
resume sends the history through, gives up between 3,000 and 5,000 levels (measured with
Node 20), and a bound keeps a hostile line of brackets from costing gigabytes."""

_WS = re.compile(rb"[ \t\n\r]*")
_STRING = re.compile(rb'"[^"\\]*(?:\\.[^"\\]*)*"', re.DOTALL)
_NUMBER = re.compile(rb"-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][-+]?[0-9]+)?")
_LITERALS = ((b"true", True), (b"false", False), (b"null", None))


TOO_DEEP_REASON = f"JSON nested over {MAX_DEPTH} levels deep"
"""Why the reader refuses such a line (see MAX_DEPTH)."""


def is_too_deep(exc: orjson.JSONDecodeError) -> bool:
    """Whether orjson refused a document only for nesting past its limit."""
    return exc.msg.startswith(_TOO_DEEP)


def loads(data: bytes) -> Any:
    """``orjson.loads(data)`` of ``data`` decoded as Claude Code decodes it; a document
    orjson finds too deep is read without recursion.

    Raises orjson.JSONDecodeError for what is not JSON, as orjson.loads does.
    """
    try:
        return orjson.loads(data)
    except orjson.JSONDecodeError as exc:
        if exc.msg.startswith(_NOT_UTF8):
            # The decoded text is UTF-8, so this asks once more at most.
            return loads(data.decode("utf-8", "replace").encode())
        if not is_too_deep(exc):
            raise
    return _loads_flat(data)


def junk_after_object(data: bytes) -> int | None:
    """Where the bytes after a whole JSON object start, on a line holding one and then
    bytes that are no JSON value (None for any other line, and for a second object after
    the first: two rows written onto one line are split, not cut).

    Claude Code 2.1 reads the row of such a line (2.1.332, asked through the resume
    oracle: `{row}x`, `{row}}`, `{row}` and a byte that is not UTF-8); 2.0 skips the line.
    """
    text = data
    try:
        orjson.loads(data)
        return None
    except orjson.JSONDecodeError as exc:
        error = exc
    if error.msg.startswith(_NOT_UTF8):
        text = data.decode("utf-8", "replace").encode()
        try:
            orjson.loads(text)
            return None
        except orjson.JSONDecodeError as exc:
            error = exc
    if error.msg.startswith(_TOO_DEEP):
        try:
            _loads_flat(text)
            return None
        except orjson.JSONDecodeError as exc:
            error = exc
    if not error.msg.startswith(TRAILING):
        return None
    end = len(error.doc[: error.pos].encode())
    if text[:end] != data[:end]:
        return None  # bytes that are not UTF-8 inside the object too: too odd to cut
    if data[end:].lstrip(b" \t\r\n\x00").startswith(b"{"):
        return None
    try:
        value = loads(data[:end])
    except orjson.JSONDecodeError:
        return None
    return end if isinstance(value, dict) else None


def is_object(data: bytes) -> bool:
    """Whether ``data`` reads (as `loads` reads it) as one JSON object."""
    try:
        return isinstance(loads(data), dict)
    except orjson.JSONDecodeError:
        return False


def split_rows(body: bytes) -> list[bytes] | None:
    """Objects written onto one line (`…}{…}{…`): each, when every one parses (two or more).

    Real files hold a row and a summary row joined so; a join can meet another (three
    rows on a line). Each boundary is the first `}{` after the last one whose left side
    parses as an object; a `}{` inside a string does not parse so and is passed over.
    """
    pieces: list[bytes] = []
    rest, start = body, 0
    while (at := rest.find(b"}{", start)) != -1:
        left = rest[: at + 1]
        if not is_object(left):
            start = at + 1
            continue
        pieces.append(left)
        rest, start = rest[at + 1 :], 0
        if is_object(rest):
            return [*pieces, rest]
    return None


_ROW_TRIES = 256
"""Object starts tried from the end of a line (bounds the work on a line of many objects)."""


def row_ending_line(data: bytes) -> int | None:
    """Where a whole row that ends ``data`` starts, when other bytes come before it that are
    no JSON value (None for any other line).

    Claude Code 2.0 appends its next row to a torn last line without a newline first
    (2.0.77, asked through the resume oracle; 2.1.332 ends the torn line first), so a
    torn row followed by a whole one is a shape the real client writes. The row is the
    first object tried from the end that reads whole: an object inside it, or inside the
    torn row, is followed by its container's closing bytes. It must look like a row (a
    string ``type`` and a ``uuid``, ``sessionId`` or ``leafUuid``), not like a content
    block a tear happened to end after.
    """
    end = len(data.rstrip(b" \t\r\n\x00"))
    if data[end - 1 : end] != b"}":
        return None  # a line torn mid-value, as most are: no row ends it
    view = memoryview(data)  # slices of a line of many megabytes are not copied
    pos = end
    for _ in range(_ROW_TRIES):
        pos = data.rfind(b'{"', 0, pos)
        if pos <= 0:
            return None
        try:
            value = orjson.loads(view[pos:end])
        except orjson.JSONDecodeError as exc:
            if not exc.msg.startswith((_NOT_UTF8, _TOO_DEEP)):
                continue  # an object inside the row, or the torn one: not a whole line's end
            try:
                value = loads(data[pos:end])
            except orjson.JSONDecodeError:
                continue
        return pos if _looks_like_a_row(value) else None
    return None


def _looks_like_a_row(value: Any) -> bool:
    return (
        isinstance(value, dict)
        and isinstance(value.get("type"), str)
        and any(isinstance(value.get(key), str) for key in ("uuid", "sessionId", "leafUuid"))
    )


def _error(data: bytes, pos: int, what: str) -> orjson.JSONDecodeError:
    # As orjson's: the position counts characters of the decoded document, not bytes.
    doc = data.decode("utf-8", "replace")
    return orjson.JSONDecodeError(what, doc, len(data[:pos].decode("utf-8", "replace")))


def _scalar(data: bytes, pos: int) -> tuple[Any, int]:
    """The string, number or literal at ``pos``, and where it ends."""
    first = data[pos : pos + 1]
    if first == b'"':
        match = _STRING.match(data, pos)
        if match is None:
            raise _error(data, pos, "unterminated string")
    elif first and first in b"-0123456789":
        match = _NUMBER.match(data, pos)
        if match is None:
            raise _error(data, pos, "invalid number")
    else:
        for word, value in _LITERALS:
            if data.startswith(word, pos):
                return value, pos + len(word)
        raise _error(data, pos, "expected a value")
    # orjson decodes the token: escapes, UTF-8 and number ranges as it reads them.
    return orjson.loads(match.group()), match.end()


def _skip_ws(data: bytes, pos: int) -> int:
    return _WS.match(data, pos).end()  # type: ignore[union-attr]  # `*` always matches


def _loads_flat(data: bytes) -> Any:
    """The JSON value of ``data``, its open containers kept on a list, not the call stack."""
    stack: list[tuple[Any, str | None]] = []
    """Each open container (a dict or a list) with the key its next value goes to (None
    in a list)."""
    n = len(data)
    pos = _skip_ws(data, 0)
    while True:
        # A value starts at pos.
        if pos >= n:
            raise _error(data, pos, "unexpected end of data")
        c = data[pos]
        value: Any
        if c == 0x7B or c == 0x5B:  # '{' or '['
            value = {} if c == 0x7B else []
            pos = _skip_ws(data, pos + 1)
            if pos < n and data[pos] == (0x7D if c == 0x7B else 0x5D):  # empty
                pos += 1
            elif len(stack) == MAX_DEPTH:
                raise _error(data, pos, f"{_TOO_DEEP}: nested over {MAX_DEPTH} levels")
            else:
                key = None
                if c == 0x7B:
                    key, pos = _key(data, pos)
                stack.append((value, key))
                continue
        else:
            value, pos = _scalar(data, pos)
        # A value is complete: put it in its container, closing every container it ends.
        while True:
            if not stack:
                pos = _skip_ws(data, pos)
                if pos != n:
                    raise _error(data, pos, TRAILING)
                return value
            container, key = stack[-1]
            if key is None:
                container.append(value)
            else:
                container[key] = value
            pos = _skip_ws(data, pos)
            sep = data[pos] if pos < n else -1
            if sep == 0x2C:  # ','
                pos = _skip_ws(data, pos + 1)
                if key is not None:
                    key, pos = _key(data, pos)
                    stack[-1] = (container, key)
                break
            if sep == (0x5D if key is None else 0x7D):  # ']' or '}'
                stack.pop()
                value, pos = container, pos + 1
                continue
            raise _error(data, pos, "expected ',' or a closing bracket")


def _key(data: bytes, pos: int) -> tuple[str, int]:
    """An object's key at ``pos`` and where its value starts."""
    if data[pos : pos + 1] != b'"':
        raise _error(data, pos, "expected a key")
    key, pos = _scalar(data, pos)
    pos = _skip_ws(data, pos)
    if data[pos : pos + 1] != b":":
        raise _error(data, pos, "expected ':'")
    return key, _skip_ws(data, pos + 1)
