"""Reading one big transcript on two cores: the second half in a forked child.

Decoding is CPU-bound Python and C that holds the GIL, so a thread would not
help; a forked child shares the already-imported modules and the open file
for free. The parent reads the first half while the child reads the second
into columns of its own; the child sends them back through a pipe and the
parent appends them to its own, renumbering what is numbered (nodes,
records, lines, unresolved parents) so that the result is exactly what one
sequential pass would have built.

Whatever goes wrong on the way (no fork, a child that dies or is killed, a
file that changes while it is read, a uuid that occurs in both halves) makes
the parent read the second half itself: the split is only ever a shortcut.
Only reads without a content hash split: the hash of a write's fingerprint
must be of the very bytes the columns were built from, which one sequential
pass guarantees.
"""

from __future__ import annotations

import marshal
import os
import pickle
import sys
from array import array
from collections import deque
from dataclasses import dataclass, replace
from itertools import count
from typing import Any, BinaryIO

from riff.transcript.forked import ForkedWork, may_fork
from riff.transcript.reader import LineReader, feed_chunks, range_chunks
from riff.transcript.records import TS_WIDTH, LineProblem, RowStrings

_PROBE = 1 << 16
"""Bytes read at a time while looking for a line boundary."""
_MAX_PROBE = 64 << 20
"""How far to look for a newline before giving up on splitting (one huge line)."""


@dataclass
class _Half:
    """The second half's columns and reader state, as the child sends them."""

    records: int
    lines: int
    end: int
    offset: array[int]
    length: array[int]
    skips: array[int]
    shapes: list[tuple[str | None, str | None, str | None, int]]
    shape: array[int]
    uuids: list[str]
    uid: array[int]
    par: array[int]
    extras: list[str]
    node_rec: array[int]
    ts: bytearray
    ts_odd: dict[int, str]
    ts_max: str
    logical: dict[int, str]
    tool_ref: RowStrings
    leaf: dict[int, str]
    msg_keys: array[int]
    tool_rec: array[int]
    tool_ids: list[str]
    tool_kind: bytearray
    duplicates: list[int]
    forward: list[int]
    ts_suspects: list[int]
    unresolved: list[int]
    api_suspects: list[int]
    problems: list[LineProblem]
    last_prompt_leaf: str | None
    session_id: str | None


def read_halves(reader: LineReader, handle: BinaryIO, size: int) -> bytearray:
    """Read the complete lines of ``handle`` (a fresh reader, at offset 0) on two cores.

    Leaves the handle's position where sequential reading must go on (past the
    last line read, or wherever the split was given up) and returns the start
    of an unfinished line to go on with (only if the file shrank meanwhile).
    """
    if not may_fork():
        return bytearray()
    fd = handle.fileno()
    cut = _line_start_after(fd, _middle(size), size)
    end = _line_start_before(fd, size)
    if cut is None or end is None or end - cut < _PROBE:
        return bytearray()
    child = ForkedWork.start(lambda out: _child_main(reader, fd, cut, end, out), _receive_half)
    if child is None:
        return bytearray()
    try:
        carry = feed_chunks(reader, range_chunks(fd, 0, cut), bytearray())
        if carry or reader.offset != cut:  # the file shrank while being read
            handle.seek(reader.offset + len(carry))
            return carry
        half = child.result()
    finally:
        child.stop()
    if half is not None and half.end == end and _append(reader, half):
        handle.seek(end)
    else:
        handle.seek(cut)
    return bytearray()


def _middle(size: int) -> int:
    """Where the second half starts (at the next line): the middle balances the cores."""
    return size // 2


def _line_start_after(fd: int, pos: int, size: int) -> int | None:
    """Offset just past the first newline at or after ``pos`` (None: none near)."""
    limit = min(size, pos + _MAX_PROBE)
    while pos < limit:
        data = os.pread(fd, min(_PROBE, limit - pos), pos)
        if not data:
            return None
        at = data.find(b"\n")
        if at >= 0:
            return pos + at + 1
        pos += len(data)
    return None


def _line_start_before(fd: int, size: int) -> int | None:
    """Offset just past the last newline before ``size`` (None: none near)."""
    hi = size
    lo_limit = max(0, size - _MAX_PROBE)
    while hi > lo_limit:
        lo = max(lo_limit, hi - _PROBE)
        data = os.pread(fd, hi - lo, lo)
        if len(data) != hi - lo:
            return None
        at = data.rfind(b"\n")
        if at >= 0:
            return lo + at + 1
        hi = lo
    return None


def _child_main(parent: LineReader, fd: int, cut: int, end: int, out: BinaryIO) -> bool:
    """In the child: read ``[cut, end)`` into fresh columns and send them (False: the
    file changed under the read, nothing sent)."""
    reader = LineReader(parent.cols.path)
    reader.offset = cut
    carry = feed_chunks(reader, range_chunks(fd, cut, end), bytearray())
    if carry or reader.offset != end:
        return False
    half = _half_of(reader, end)
    # The uuids first, by marshal (format 2: no table of objects seen): they
    # are distinct strings, and pickle's memo of them cost more than writing
    # them (half of a million-line chain: 0.27 s of the 0.46 s sent). The rest
    # is pickled, so a string held twice (a call's id in its result, a
    # response's id on each of its lines) still arrives as one object.
    # marshal.load from a file costs a Python call per string read (half of a
    # million-line chain: 0.33 s), so they go as length-prefixed marshal.dumps
    # of slices, each read whole and decoded by marshal.loads (0.07 s).
    # All of it is made before the first byte is written: the pipe holds only
    # 64 KiB, so writing as it is made would hold the making up until the
    # parent, still reading its own half, starts to read this one.
    parts: list[bytes] = []
    uuids = half.uuids
    for at in range(0, len(uuids), _SLICE):
        part = marshal.dumps(uuids[at : at + _SLICE], 2)
        parts += (len(part).to_bytes(8, "little"), part)
    parts.append(bytes(8))
    half.uuids = []
    parts.append(pickle.dumps(half, protocol=pickle.HIGHEST_PROTOCOL))
    for part in parts:
        out.write(part)
    return True


def _receive_half(pipe: BinaryIO) -> _Half:
    uuids: list[str] = []
    while size := int.from_bytes(_read_exactly(pipe, 8), "little"):
        uuids.extend(marshal.loads(_read_exactly(pipe, size)))
    half: _Half = pickle.load(pipe)
    half.uuids = uuids
    return half


def _read_exactly(pipe: BinaryIO, size: int) -> bytes:
    data = pipe.read(size)
    if len(data) != size:
        raise EOFError("the child's answer ended early")
    return data


def _half_of(reader: LineReader, end: int) -> _Half:
    cols = reader.cols
    return _Half(
        records=len(cols.offset),
        lines=reader.line_no,
        end=end,
        offset=cols.offset,
        length=cols.length,
        skips=cols.line.skips,
        shapes=cols.shapes,
        shape=cols.shape,
        uuids=list(cols.index),
        uid=cols.uid,
        par=cols.par,
        extras=cols.extras,
        node_rec=cols.node_rec,
        ts=cols.ts,
        ts_odd=cols.ts_odd,
        ts_max=reader.ts_max,
        logical=cols.logical,
        tool_ref=cols.tool_ref,
        leaf=cols.leaf,
        msg_keys=cols.msg_keys,
        tool_rec=cols.tool_rec,
        tool_ids=cols.tool_ids,
        tool_kind=cols.tool_kind,
        duplicates=cols.duplicates,
        forward=cols.forward,
        ts_suspects=cols.ts_suspects,
        unresolved=cols.unresolved,
        api_suspects=cols.api_suspects,
        problems=reader.problems,
        last_prompt_leaf=reader.last_prompt_leaf,
        session_id=reader.session_id,
    )


_SLICE = 1 << 16
"""Strings sent or indexed at a time (bounds the temporary lists of a million-line half)."""


def _shifted(values: Any, by: int) -> list[int]:
    return [v + by for v in values]


def _plus_where_nonnegative(values: array[int], by: int) -> array[int]:
    """``values`` with ``by`` (>= 0) added to each element that is >= 0; the others kept.

    Done on the whole array as one big integer, each element a lane of its
    bits: a few C loops over the bytes, where a Python loop per element cost
    0.35 s for the half of a million-line chain. A lane's sign bit, moved to
    the lane's lowest bit, says whether to add. No lane carries into the
    next: every result is a number the target column holds (node and record
    numbers of the whole file, which fit the type the sequential pass uses).
    """
    size = values.itemsize
    if not by or not values:
        return array(values.typecode, values)
    order = sys.byteorder
    whole = int.from_bytes(values, order)
    ones = int.from_bytes((1).to_bytes(size, order) * len(values), order)
    negative = (whole >> (size * 8 - 1)) & ones
    whole += by * (ones ^ negative)
    shifted = array(values.typecode)
    shifted.frombytes(whole.to_bytes(size * len(values), order))
    return shifted


def _append_parents(
    target: array[int], values: array[int], nodes: int, extra: list[int], unresolved: list[int]
) -> None:
    """Parent references: nodes shifted, -1 kept, and each unknown parent (the records
    ``unresolved`` names, ``-2 - j``: the half's extras[j]) as ``extra[j]`` says."""
    shifted = _plus_where_nonnegative(values, nodes)
    for record in unresolved:
        shifted[record] = extra[-2 - values[record]]
    target.extend(shifted)


def _append_shifted(target: array[int], values: array[int], by: int) -> None:
    """Node or record numbers shifted by ``by`` past the first half's (-1, none, kept)."""
    target.extend(_plus_where_nonnegative(values, by))


def _append(reader: LineReader, half: _Half) -> bool:
    """Append the second half to the reader's columns as one sequential pass would have.

    False (and nothing changed) when a uuid of the second half is also in the
    first: numbering it is the sequential reader's job.
    """
    cols = reader.cols
    index = cols.index
    first = len(cols.offset)
    nodes = len(index)
    # The half's uuids take the next numbers; if the index grew by fewer, a
    # uuid is in both halves: the insertions are taken back (nothing else has
    # changed yet). One probe per uuid, where a disjointness test first and
    # the insertions after cost two.
    deque(map(index.setdefault, half.uuids, count(nodes)), maxlen=0)
    if len(index) != nodes + len(half.uuids):
        for uuid in half.uuids:
            if index.get(uuid, -1) >= nodes:
                del index[uuid]
        return False

    # Parents the child could not find may be in the first half (earlier in the
    # file: resolved now, as the sequential pass would have); the others stay
    # unresolved until Columns.finish looks for them further down (the child
    # already had every parent earlier in its own half).
    extra_ref: list[int] = []
    for parent in half.extras:
        node = index.get(parent, nodes)
        if node >= nodes:
            node = -2 - len(cols.extras)
            cols.extras.append(parent)
        extra_ref.append(node)
    # Each part of the half is let go once appended: the two copies of a
    # million-line half would otherwise coexist until the end.
    _append_parents(cols.par, half.par, nodes, extra_ref, half.unresolved)
    half.par = array("i")
    par = cols.par
    cols.unresolved.extend(r + first for r in half.unresolved if par[r + first] <= -2)

    half.uuids = []
    _append_shifted(cols.uid, half.uid, nodes)
    half.uid = array("i")
    _append_shifted(cols.node_rec, half.node_rec, first)
    half.node_rec = array("i")
    cols.forward.extend(_shifted(half.forward, nodes))
    cols.duplicates.extend(_shifted(half.duplicates, first))

    if half.length.typecode != cols.length.typecode:
        cols.length = array("q", cols.length)
        half.length = array("q", half.length)
    cols.offset.extend(half.offset)
    cols.length.extend(half.length)
    half.offset = half.length = array("q")
    cols.line.skips.fromlist(_shifted(half.skips, first))

    codes = [cols.shape_code(reader.codes, key) for key in half.shapes]
    if codes == list(range(len(codes))) and cols.shape.typecode == half.shape.typecode:
        cols.shape.extend(half.shape)
    else:
        cols.shape.fromlist(list(map(codes.__getitem__, half.shape)))

    _append_timestamps(reader, half, first)

    cols.msg_keys.extend(half.msg_keys)
    half.msg_keys = array("q")
    _append_shifted(cols.tool_rec, half.tool_rec, first)
    cols.tool_ids.extend(half.tool_ids)
    cols.tool_kind += half.tool_kind
    refs = half.tool_ref.values
    cols.tool_ref.extend(
        map(first.__add__, half.tool_ref.rows), map(reader.ref_strings.setdefault, refs, refs)
    )
    half.tool_ref = RowStrings()
    for target, part in ((cols.logical, half.logical), (cols.leaf, half.leaf)):
        # Shifted keys zipped with the values: a shifted copy of the dict would be
        # a third one alive for a moment.
        target.update(zip(map(first.__add__, part), part.values(), strict=True))
    cols.api_suspects.extend(_shifted(half.api_suspects, first))

    lines = reader.line_no
    reader.problems.extend(replace(p, line=p.line + lines) for p in half.problems)
    reader.line_no += half.lines
    reader.offset = half.end
    if half.last_prompt_leaf is not None:
        reader.last_prompt_leaf = half.last_prompt_leaf
    if reader.session_id is None:
        reader.session_id = half.session_id
    return True


def _append_timestamps(reader: LineReader, half: _Half, first: int) -> None:
    """Timestamps, and the records older than the first half's newest (the child did
    not know that one, so it flagged only those older than its own earlier lines)."""
    cols = reader.cols
    cols.ts += half.ts
    half.ts = bytearray()
    cols.ts_odd.update({row + first: value for row, value in half.ts_odd.items()})
    cols.ts_suspects.extend(_shifted(half.ts_suspects, first))
    newest = reader.ts_max
    running = ""
    ts = cols.ts
    for i in range(half.records):
        if running >= newest:
            break
        start = (first + i) * TS_WIDTH
        stamp = ts[start : start + TS_WIDTH].decode("ascii") if ts[start] else half.ts_odd.get(i)
        if stamp is None:
            continue
        if running <= stamp < newest:
            cols.ts_suspects.append(first + i)
        running = max(running, stamp)
    reader.ts_max = max(newest, half.ts_max)
