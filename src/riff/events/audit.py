"""Offline verification of an export file, fast and in bounded memory.

Pass 1 streams every event once, a batch of lines per msgspec decode (in C):
digests, links, seqs, shapes and metadata are checked over the batch's
columns, and each session's reverts are settled when its lines end
(riff.events.audit_passes). Pass 2 runs only for the sessions pass 1 could
not settle (split into several runs, very long, or odd): it re-reads their
lines and folds them with the rule book, `SessionFold`. Kept in memory: the
sessions' heads, an 8-byte hash of each event id, 16 bytes per reverted
event, and the open session's columns while it is read.
"""

from __future__ import annotations

import functools
import itertools
import json
import operator
import os
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any, BinaryIO

import msgspec

from riff.errors import RiffError
from riff.events.audit_passes import (
    Batch,
    ChainPass,
    RevertPass,
    Row,
    fail,
    fold_rows,
)
from riff.events.errors import ExportFormatError
from riff.events.event_ids import PackedIds
from riff.events.export import (
    FORMAT_VERSION,
    ExportReader,
    ExportSummary,
    ExportTrailer,
    sniff_format,
)
from riff.events.fold import ChainBreak
from riff.events.model import EVENT_FIELDS
from riff.events.verify import (
    ChainVerifier,
    SessionHead,
    ValidationResult,
    check_expected_heads,
)
from riff.events.wire import (
    BlankableWireEvent,
    WireEvent,
    blankable_decoder,
    huge_reason_decoder,
    huge_reason_digest,
    semantic_problem,
    wire_decoder,
)

wire_lines_decoder = blankable_decoder
_get_is_reverted = operator.attrgetter("is_reverted")
_get_session = operator.attrgetter("session_id")


def _where(first_number: int, index: int, lengths: list[int] | None) -> str:
    """A line number in a JSON Lines file, an event number in a JSON document."""
    return (
        f"line {first_number + index}" if lengths is not None else f"event #{first_number + index}"
    )


class _WireExport(msgspec.Struct):
    format_version: str
    exported_at: str
    sessions: dict[str, dict[str, Any]]
    metadata: dict[str, Any]
    events: list[msgspec.Raw]


class _Header(msgspec.Struct, forbid_unknown_fields=True):
    format_version: str
    exported_at: str


class _Trailer(msgspec.Struct, forbid_unknown_fields=True):
    sessions: dict[str, dict[str, Any]]
    metadata: dict[str, Any]
    transparency_log: dict[str, Any] | None = None  # checked by riff.app.export_tree


_fail = fail


def _decode_event(path: Path, where: str, raw: bytes) -> BlankableWireEvent:
    try:
        event = blankable_decoder.decode(raw)
        if not event.event_digest:  # missing: the strict decoder says so
            wire_decoder.decode(raw)
    except msgspec.ValidationError as exc:
        raise _fail(path, where, f"invalid event: {exc}") from None
    except msgspec.DecodeError as exc:
        raise _fail(path, where, f"not valid JSON ({exc})") from None
    problem = semantic_problem(event)
    if problem is not None:
        raise _fail(path, where, f"field {problem[0]!r} {problem[1]}")
    return event


def _check_version(path: Path, where: str, version: str) -> None:
    if version != FORMAT_VERSION:
        raise _fail(
            path,
            where,
            f"format_version {version!r} is not supported (this riff reads {FORMAT_VERSION!r})",
        )


def _check_header_keys(path: Path, line: bytes) -> None:
    try:
        json.loads(line, object_pairs_hook=_duplicate_key)
    except KeyError as dup:
        raise _fail(path, "line 1", f"key {dup.args[0]!r} appears twice") from None
    except ValueError:
        return


def _read_header(path: Path, line: bytes) -> None:
    try:
        header = msgspec.json.decode(line, type=_Header)
    except (msgspec.ValidationError, msgspec.DecodeError) as exc:
        raise _fail(path, "line 1", f"not a valid header ({exc})") from None
    _check_version(path, "line 1", header.format_version)


def _read_trailer(path: Path, number: int, line: bytes, follows: bool) -> ExportTrailer | None:
    """The trailer if `line` is one and nothing (`follows`) comes after it, else None."""
    try:
        trailer = msgspec.json.decode(line, type=_Trailer)
    except (msgspec.ValidationError, msgspec.DecodeError):
        return None
    if follows:
        raise _fail(path, f"line {number + 1}", "lines follow the trailer")
    return ExportTrailer(trailer.sessions, trailer.metadata)


# A JSON object with a key twice ("operator":"mallory","operator":"root")
# decodes as its last value in every fast decoder, so what was verified would
# not be what a reader of the file sees. Each key's quoted name is counted in
# C first; only a suspect (a name seen more often than objects that may hold
# it) is parsed again with a pairs hook that names the duplicate.
_KEY_NAMES = tuple(f'"{name}"'.encode() for name in (*EVENT_FIELDS, "is_reverted"))


def _duplicate_key(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    seen: dict[str, Any] = {}
    for key, value in pairs:
        if key in seen:
            raise KeyError(key)  # caught right below, in _check_unique_keys
        seen[key] = value
    return seen


def _check_unique_keys(path: Path, where: str, raw: bytes) -> None:
    """ExportFormatError when an object of `raw` repeats a key (see above)."""
    if all(raw.count(name) <= 1 for name in _KEY_NAMES):
        return
    try:
        json.loads(raw, object_pairs_hook=_duplicate_key)
    except KeyError as dup:
        raise _fail(path, where, f"key {dup.args[0]!r} appears twice in one object") from None
    except ValueError:
        return  # not JSON at all: the decoder names that


_REQUIRED_KEYS = tuple(f'"{name}"'.encode() for name in EVENT_FIELDS)
_DERIVED_KEY = b'"is_reverted"'


_TEXT_FIELDS = tuple(
    operator.attrgetter(name) for name in ("reason", "operator", "session_id", "timestamp")
)


def _keys_surely_unique(raw: bytes, events: Sequence[WireEvent]) -> bool:
    """True when no event decoded from `raw` can repeat a key; False: look line by line.

    Every decoded event holds each of its 16 fields at least once (unknown
    keys are refused) and `is_reverted` at least when it has a value for it;
    so if `raw` holds no more key-value pairs than that, none is there twice.
    Pairs are counted by their colons in one C pass: every colon of `raw` is
    a pair's or lies in a text value (reason, operator, session id,
    timestamp), whose colons are counted in the decoded strings; the other
    values are ids, digests, numbers and literals (their characters are
    checked right after this). A backslash-u escape could spell a colon the
    raw bytes do not show: then each field's quoted name is counted instead.
    A count that is too high only means False.
    """
    count = len(events)
    holders = count - list(map(_get_is_reverted, events)).count(None)
    if b"\\u" not in raw:
        in_values = sum(
            sum(map(str.count, map(text, events), itertools.repeat(":"))) for text in _TEXT_FIELDS
        )
        return raw.count(b":") - in_values == len(_REQUIRED_KEYS) * count + holders
    if any(raw.count(name) != count for name in _REQUIRED_KEYS):
        return False
    return raw.count(_DERIVED_KEY) == holders


_BATCH_LINES = 1024
_BLOCK = 1 << 17
"""Bytes of whole lines decoded at once (a longer line comes alone); small enough that
a batch's objects stay in the caches (1 MiB blocks measured about 10% slower)."""
_JOIN_LIMIT = 8 << 20
"""Batches of more bytes are decoded line by line (joining them would copy a huge line)."""
_batch_decoder = msgspec.json.Decoder(list[BlankableWireEvent])


class _HoldsFormat2(RiffError):
    """Pass 1 met a format-2 event: the export takes the path that reads both formats."""


class _Blocks:
    """A file's lines, whole, about `_BLOCK` bytes of them per read (one system call each).

    A line longer than a block comes alone, read in one piece once its end is
    found (so it is held once, not grown from pieces).
    """

    def __init__(self, fh: BinaryIO) -> None:
        self._fh = fh
        self._size = os.fstat(fh.fileno()).st_size
        self.pos = 0
        self.long_line = False  # whether `take` gave one line longer than a block

    @property
    def more(self) -> bool:
        return self.pos < self._size

    def take(self) -> tuple[bytes, int]:
        """(block, end): the next whole lines are block[:end]; end is 0 at the end of the file."""
        self._fh.seek(self.pos)
        block = self._fh.read(_BLOCK)
        end = block.rfind(b"\n") + 1
        self.long_line = False
        if not end and block:
            if self.pos + len(block) >= self._size:  # the last line, without a newline
                end = len(block)
            else:
                block = self._long_line()
                end = len(block)
                self.long_line = True
        self.pos += end
        return block, end

    def _long_line(self) -> bytes:
        searched = self.pos + _BLOCK
        while chunk := self._fh.read(_BLOCK):
            newline = chunk.find(b"\n")
            if newline >= 0:
                searched += newline + 1
                break
            searched += len(chunk)
        self._fh.seek(self.pos)
        return self._fh.read(searched - self.pos)


def _split_lines(block: bytes, end: int) -> list[bytes]:
    """block[:end] as lines, each with its newline (as iterating over the file gives them)."""
    parts = block[:end].split(b"\n")
    lines = [part + b"\n" for part in parts[:-1]]
    if parts[-1]:
        lines.append(parts[-1])
    return lines


def _newlines_end(block: bytes, lengths: list[int]) -> bool:
    """Whether a newline ends each of the lines `lengths` cut `block` into."""
    ends = map(operator.sub, itertools.accumulate(lengths), itertools.repeat(1))
    return bytes(map(block.__getitem__, ends)) == b"\n" * len(lengths)


def _decode_lines(
    path: Path, first_number: int, lines: list[bytes], size: int, follows: bool
) -> tuple[list[BlankableWireEvent], ExportTrailer | None]:
    """Decode a batch of event lines (`size` bytes) in one C call; on trouble, line by line.

    Line by line finds the trailer (the file's last line) or names the bad line.
    `follows`: whether lines come after these.
    """
    try:
        if size > _JOIN_LIMIT:  # a huge line: not copied into a batch
            raise msgspec.DecodeError
        joined = b"[" + b",".join(lines) + b"]"
        if _V2_MARK in joined:
            raise _HoldsFormat2
        events = _batch_decoder.decode(joined)
        if len(events) != len(lines):  # a line holding two events: line by line names it
            raise msgspec.DecodeError
    except (msgspec.ValidationError, msgspec.DecodeError):
        if any(_V2_MARK in line for line in lines):
            raise _HoldsFormat2 from None
        events = []
        for number, line in enumerate(lines, start=first_number):
            try:
                events.append(blankable_decoder.decode(line))
            except (msgspec.ValidationError, msgspec.DecodeError):
                if number == first_number + len(lines) - 1:
                    trailer = _read_trailer(path, number, line, follows)
                    if trailer is not None:
                        return events, trailer
                _decode_event(path, f"line {number}", line)  # raises with the reason
                raise  # pragma: no cover
    return events, None


def _scan_jsonl(path: Path, first: ChainPass) -> ExportTrailer:
    """Pass 1 over a JSON Lines export: a block of lines per C decode.

    A block whose lines are each an event spelt as riff writes it (each line
    as long as its event's shortest spelling, see `_lengths_rule_out_repeats`)
    takes the fast path; any other block (the trailer's, a bad line, a line
    spelt otherwise) is read line by line as before.
    """
    with path.open("rb", buffering=0) as fh:
        blocks = _Blocks(fh)
        block, end = blocks.take()
        header = block[: block.find(b"\n", 0, end) + 1] or block[:end]
        if _V2_MARK in header:
            raise _HoldsFormat2
        _read_header(path, header)
        _check_header_keys(path, header)
        blocks.pos = first.offset = len(header)
        number = 2  # of the next line
        trailer: ExportTrailer | None = None
        while trailer is None:
            block, end = blocks.take()
            if not end:
                break
            if blocks.long_line:  # longer than a block: its reason hashed where it lies
                batch = None if first.exact else _huge_line_batch(first, block, end)
            else:
                batch = None if first.exact else _fast_batch(first, block, end)
            if batch is not None:
                where = functools.partial(_where, number, lengths=[])
                first.feed(batch, batch.shortest or [end], where)
                number += len(batch.events)
                continue
            # Line by line, _BATCH_LINES at a time (a long line as it was read: not copied).
            lines = [block] if blocks.long_line else _split_lines(block, end)
            for offset in range(0, len(lines), _BATCH_LINES):
                chunk = lines[offset : offset + _BATCH_LINES]
                follows = offset + _BATCH_LINES < len(lines) or blocks.more
                trailer = _scan_lines(path, first, number, chunk, follows)
                number += len(chunk)
                if trailer is not None:
                    break
    first.finish()
    if trailer is not None:
        return trailer
    if first.events:
        raise _fail(
            path, f"line {number - 1}", "the last line is an event, not the trailer (truncated?)"
        )
    raise _fail(path, f"line {number}", "the file ends without its trailer line (truncated?)")


def _fast_batch(first: ChainPass, block: bytes, end: int) -> Batch | None:
    """The block's events, prepared, if every line is one event spelt as riff writes it."""
    try:
        events = wire_lines_decoder.decode_lines(memoryview(block)[:end])
    except (msgspec.ValidationError, msgspec.DecodeError):
        return None
    if not events:
        return None
    batch = first.prepare(events)
    shortest = batch.shortest
    if (
        batch.blank_digest
        or shortest is None
        or sum(shortest) != end
        or not _newlines_end(block, shortest)
    ):
        return None
    return batch


def _huge_line_batch(first: ChainPass, line: bytes, end: int) -> Batch | None:
    """A huge line's event, its reason hashed where it lies (memory: the line, once).

    None when the line is not one event spelt as riff writes it: the general
    path then decodes it in full.
    """
    if _V2_MARK in line:
        raise _HoldsFormat2
    try:
        event = huge_reason_decoder.decode(memoryview(line)[:end])
    except (msgspec.ValidationError, msgspec.DecodeError):
        return None
    if not event.event_digest:
        return None
    hashed = huge_reason_digest(event, line)
    if hashed is None or hashed[1] != end or line[end - 1 : end] != b"\n":
        return None
    return first.prepare_digested([event], [hashed[0]])


def _scan_lines(
    path: Path, first: ChainPass, number: int, lines: list[bytes], follows: bool
) -> ExportTrailer | None:
    """Lines checked one by one where need be (the reference path); the trailer if met."""
    lengths = list(map(len, lines))
    try:
        events, trailer = _decode_lines(path, number, lines, sum(lengths), follows)
    except ExportFormatError:
        _check_lines_unique_keys(path, number, lines)  # a repeated key is named first
        raise
    batch = first.prepare(events)
    if batch.blank_digest:
        index = batch.cols.digests.index("")
        _decode_event(path, f"line {number + index}", lines[index])  # raises: it is missing
    del lengths[len(events) :]  # the trailer's
    if trailer is not None or first.exact or batch.shortest != lengths:
        _check_lines_unique_keys(path, number, lines)
    first.feed(batch, lengths, functools.partial(_where, number, lengths=[]))
    return trailer


# Why a line as long as its event's shortest spelling repeats no key
# (`_fast_batch`, `_scan_lines`): `wire_digests` gives each event's shortest
# line, its fields written by msgspec, whose escapes are minimal (checked by
# tests/events/test_verify_fast.py), plus the pairs the digest leaves out and
# a newline. When every score lies in [0.01, 1) no value can be spelt
# shorter than that (`1e-3` for 0.001 could). A repeated key adds a pair, at
# least 8 bytes (`,"seq":1`); so does anything else (spaces, escapes,
# unknown keys). A block as long as the sum of its events' shortest lines,
# with a newline where each of them ends, is such lines and nothing else.


def _check_lines_unique_keys(path: Path, first_number: int, lines: list[bytes]) -> None:
    for offset, line in enumerate(lines):
        _check_unique_keys(path, f"line {first_number + offset}", line)


def _jsonl_rows(path: Path, fh: Any, session_runs: list[tuple[int, int, int]]) -> Iterator[Row]:
    """A session's lines again (pass 2), decoded a batch at a time into the fold's fields."""
    for start, end, index in session_runs:
        fh.seek(start)
        remaining = end - start
        lines: list[bytes] = []
        while remaining > 0:
            line = fh.readline()
            if not line:
                break
            remaining -= len(line)
            lines.append(line)
            if len(lines) == _BATCH_LINES or remaining <= 0:
                yield from _fold_lines(path, lines, index)
                index += len(lines)
                lines = []


def _fold_lines(path: Path, lines: list[bytes], index: int) -> list[Row]:
    try:
        rows: list[Row] = list(fold_rows.decode(b"[" + b",".join(lines) + b"]"))
    except (msgspec.ValidationError, msgspec.DecodeError):  # changed since pass 1
        rows = [
            _decode_event(path, f"event #{index + i + 1}", line) for i, line in enumerate(lines)
        ]
    if len(rows) != len(lines):
        raise _fail(path, f"event #{index + 1}", "the file changed while it was verified")
    return rows


class _TypedExport(msgspec.Struct):
    format_version: str
    exported_at: str
    sessions: dict[str, dict[str, Any]]
    metadata: dict[str, Any]
    events: list[BlankableWireEvent]


def _decode_document(path: Path) -> tuple[list[BlankableWireEvent], ExportTrailer]:
    """The JSON form: decoded and type-checked in one call; precise errors on failure."""
    raw = path.read_bytes()
    if _V2_MARK in raw:
        raise _HoldsFormat2
    try:
        typed = msgspec.json.decode(raw, type=_TypedExport)
        _check_version(path, "document", typed.format_version)
        events = typed.events
        if any(not event.event_digest for event in events):  # missing: named below
            raise msgspec.ValidationError
        if not _keys_surely_unique(raw, events):
            _check_unique_keys(path, "document", raw)
    except (msgspec.ValidationError, msgspec.DecodeError):
        try:
            document = msgspec.json.decode(raw, type=_WireExport)
        except (msgspec.ValidationError, msgspec.DecodeError) as exc:
            raise _fail(path, "document", str(exc)) from None
        _check_version(path, "document", document.format_version)
        events = [
            _decode_event(path, f"event #{i + 1}", bytes(row))
            for i, row in enumerate(document.events)
        ]
        return events, ExportTrailer(document.sessions, document.metadata)
    return events, ExportTrailer(typed.sessions, typed.metadata)


def verify_export(
    path: Path, expected_heads: Mapping[str, str] | None = None, *, exact: bool = False
) -> ValidationResult:
    """Verify an export file of either form.

    Raises ExportFormatError when the file is not a readable export; returns
    a result whose breaks locate every inconsistency otherwise. `exact`
    takes the reference path: every event and every session one at a time
    (the fast path must agree with it; tests hold them equal).
    """
    try:
        return _verify_export(path, expected_heads, exact)
    except RecursionError:  # msgspec decodes nested values recursively
        raise _fail(path, "document", "JSON nested too deeply") from None


def _verify_export(
    path: Path, expected_heads: Mapping[str, str] | None, exact: bool
) -> ValidationResult:
    fmt = sniff_format(path)
    first = ChainPass(path, exact=exact)
    decoded: list[BlankableWireEvent] = []
    try:
        if fmt == "json":
            decoded, trailer = _decode_document(path)
            for start in range(0, len(decoded), _BATCH_LINES):
                where = functools.partial(_where, start + 1, lengths=None)
                batch = first.prepare(decoded[start : start + _BATCH_LINES])
                first.feed(batch, None, where)
            first.finish()
        else:
            trailer = _scan_jsonl(path, first)
    except _HoldsFormat2:
        return _verify_any_format(path, expected_heads)
    except ExportFormatError:
        if _holds_format_2(path):  # that path names the trouble in its own words
            return _verify_any_format(path, expected_heads)
        raise

    suspects = first.colliding_hashes()
    if suspects:  # a duplicated id (or a hash collision): every session in pass 2
        first.unsettled.update(first.heads)
    second = RevertPass(suspects)
    unsettled = [sid for sid in first.heads if sid in first.unsettled]
    if unsettled and fmt == "json":
        positions: dict[str, list[int]] = {}
        for index, sid in enumerate(map(_get_session, decoded)):
            positions.setdefault(sid, []).append(index)
        for sid in unsettled:
            indexes = positions[sid]
            second.fold_session(sid, lambda i=indexes: map(decoded.__getitem__, i))  # type: ignore[misc]
    elif unsettled:
        with path.open("rb") as fh:
            for sid in unsettled:
                runs = first.runs[sid]
                second.fold_session(sid, lambda r=runs: _jsonl_rows(path, fh, r))  # type: ignore[misc]

    settled = first.settled_reverted()
    result = ValidationResult(
        events_checked=first.events,
        sessions_checked=len(first.heads),
        breaks=first.breaks + second.breaks,
    )
    result.heads = {sid: SessionHead(h.seq, h.digest) for sid, h in first.heads.items()}
    result.reverted_ids = PackedIds(settled, second.reverted)
    result.breaks.extend(_status_breaks(second.claimed, second.reverted))
    reverted_repairs = len(settled) // 16 + second.reverted_repairs
    result.breaks.extend(_metadata_breaks(trailer, first, reverted_repairs))
    if expected_heads:
        result.breaks.extend(check_expected_heads(result, expected_heads))
    return result


def _status_breaks(claimed: set[str], derived: set[str]) -> list[ChainBreak]:
    """Where the export's `is_reverted` differs from the status the log derives."""
    return [
        ChainBreak(
            "*",
            None,
            event_id,
            "metadata_mismatch",
            f"the export says event {event_id} is "
            f"{'reverted' if event_id in claimed else 'not reverted'}, "
            "the log says otherwise",
        )
        for event_id in sorted(claimed ^ derived)
    ]


def _metadata_breaks(
    trailer: ExportTrailer, first: ChainPass, reverted_repairs: int
) -> list[ChainBreak]:
    computed: dict[str, Any] = {
        "total_events": first.events,
        "active_events": first.repairs - reverted_repairs,
        "reverted_events": reverted_repairs,
        "operators": dict(first.operators),
        "first_timestamp": first.first_ts if first.events else None,
        "last_timestamp": first.last_ts if first.events else None,
    }
    breaks = []
    for key, value in computed.items():
        if trailer.metadata.get(key) != value:
            breaks.append(
                ChainBreak(
                    "*",
                    None,
                    None,
                    "metadata_mismatch",
                    f"metadata.{key} is {trailer.metadata.get(key)!r}, the events give {value!r}",
                )
            )
    extra = set(trailer.metadata) - set(computed)
    if extra:
        breaks.append(
            ChainBreak(
                "*", None, None, "metadata_mismatch", f"unknown metadata keys {sorted(extra)}"
            )
        )
    for session_id in sorted(set(trailer.sessions) | set(first.heads)):
        recorded = trailer.sessions.get(session_id, {}).get("head_digest")
        head = first.heads.get(session_id)
        actual = head.digest if head else None
        if recorded != actual:
            breaks.append(
                ChainBreak(
                    session_id,
                    head.seq if head else None,
                    None,
                    "head_mismatch",
                    f"the export lists head {str(recorded)[:12]}…, its events end at "
                    f"{str(actual)[:12]}…",
                )
            )
    return breaks


_V2_MARK = b'"riff.repair-event/2"'


def _holds_format_2(path: Path) -> bool:
    """Whether any event of the export is of format 2 (read in blocks, overlapping)."""
    edge = len(_V2_MARK) - 1
    tail = b""
    with path.open("rb") as fh:
        while block := fh.read(1 << 20):
            # The block itself, then the few bytes across its start (no copy of the block).
            if _V2_MARK in block or _V2_MARK in tail + block[:edge]:
                return True
            tail = block[-edge:]
    return False


def _verify_any_format(
    path: Path, expected_heads: Mapping[str, str] | None = None
) -> ValidationResult:
    """Exports holding format-2 events: every event checked by the model, one chain verifier.

    Format-1-only exports keep the fast path above; this one reads both
    formats with the same rules (digests, links, seqs, reverts, metadata).
    """
    reader = ExportReader.open(path)
    verifier = ChainVerifier()
    summary = ExportSummary()
    claimed: dict[str, bool] = {}
    rows: list[dict[str, Any]] = []
    for row in reader.events():
        verifier.feed(row)
        rows.append(row)
        if "is_reverted" in row:
            claimed[row["event_id"]] = row["is_reverted"]
    result = verifier.finish()
    for row in rows:
        summary.add(row, row["event_id"] in result.reverted_ids)
    for event_id, says in sorted(claimed.items()):
        if says != (event_id in result.reverted_ids):
            result.breaks.append(
                ChainBreak(
                    "*",
                    None,
                    event_id,
                    "metadata_mismatch",
                    f"the export says event {event_id} is "
                    f"{'reverted' if says else 'not reverted'}, the log says otherwise",
                )
            )
    trailer = reader.trailer
    assert trailer is not None  # ExportReader fails without one
    for key, value in summary.metadata().items():
        if trailer.metadata.get(key) != value:
            result.breaks.append(
                ChainBreak(
                    "*",
                    None,
                    None,
                    "metadata_mismatch",
                    f"metadata.{key} is {trailer.metadata.get(key)!r}, the events give {value!r}",
                )
            )
    for session_id in sorted(set(trailer.sessions) | set(result.heads)):
        recorded = trailer.sessions.get(session_id, {}).get("head_digest")
        head = result.heads.get(session_id)
        if recorded != (head.digest if head else None):
            result.breaks.append(
                ChainBreak(
                    session_id,
                    head.seq if head else None,
                    None,
                    "head_mismatch",
                    f"the export lists head {str(recorded)[:12]}…, its events end at "
                    f"{str(head.digest if head else None)[:12]}…",
                )
            )
    if expected_heads:
        result.breaks.extend(check_expected_heads(result, expected_heads))
    return result
