"""The per-line records a scan keeps, stored as columns, and the Transcript holding them.

A scan of a multi-gigabyte transcript must not build one Python object per
line, so :class:`Columns` keeps what the graph, the detectors and the
suggestion engine need as flat arrays: byte offsets, lengths and line
numbers, one small "shape" code per line (type, subtype, role and flags),
uuids as indices into one table of distinct uuids (so parent links are
integers), timestamps as fixed-width ASCII bytes, and the rare fields (tool
ids, logical parents, leaf uuids) in sparse maps.

:class:`MessageRecord` is what callers see: ``Transcript.records`` is a
sequence that builds one on access. Previews are not stored: they are
computed from the line's bytes (re-read from its offset) on first use.
"""

from __future__ import annotations

from array import array
from bisect import bisect_left, bisect_right
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from itertools import compress, repeat
from operator import eq
from pathlib import Path
from typing import Any, TypeVar, overload

from riff.maps import BulkMap

_V = TypeVar("_V")

# Line types that carry a message of the conversation (as opposed to
# bookkeeping such as progress, attachments or snapshots).
CONVERSATION_TYPES = frozenset({"user", "assistant"})

TS_WIDTH = 24
"""Bytes of a canonical timestamp (``2025-06-01T12:34:56.789Z``)."""
NO_TS = bytes(TS_WIDTH)

# Flags of a shape.
SIDECHAIN = 1
META = 2
CONVERSATION = 4
COMPACT_SUMMARY = 8
"""A ``user`` row with ``isCompactSummary``: the summary that starts a compacted history."""

_KEYED_AS = {None: ""}
"""A missing id is keyed as the empty string, whose hash is 0."""


def message_keys(ids: Sequence[str | None]) -> Iterator[int]:
    """The key of each ``message.id`` in ``ids``: its ``hash``, 0 for None (or "").

    Rows are only ever compared by their response (equal or not, and as dict
    keys), and an id's key answers that in 8 bytes, where a pointer to its
    string took 8 and the string 72 to 88 more: 36 MB less on the generated
    million-line chain (half a million ids). Two different ids share a key
    with odds of about 2**-64 per pair: ``str`` hashing is SipHash-1-3 with a
    key drawn at random for each process, so a file cannot be crafted to
    collide (unless PYTHONHASHSEED fixes the key). Keys hold within one
    process (a forked child shares its key): they are never stored or sent
    elsewhere.
    """
    return map(hash, map(_KEYED_AS.get, ids, ids))  # type: ignore[arg-type]


_RECORD_FIELDS = (
    "line",
    "offset",
    "length",
    "type",
    "uuid",
    "parent_uuid",
    "logical_parent_uuid",
    "subtype",
    "role",
    "timestamp",
    "is_sidechain",
    "is_meta",
    "is_conversation",
    "tool_use_ids",
    "tool_result_ids",
    "tool_ref",
    "leaf_uuid",
    "message_id",
    "is_compact_summary",
    "preview",
)


class MessageRecord:
    """What riff keeps of one physical line of a transcript.

    Attributes: ``line`` (1-based physical line number), ``offset`` (0-based
    byte offset of the line's first byte), ``length`` (bytes of the line,
    without its newline), ``type``, ``uuid``, ``parent_uuid``,
    ``logical_parent_uuid``, ``subtype``, ``role``, ``timestamp`` (canonical,
    order-comparable, see riff.transcript.timestamps), ``is_sidechain``,
    ``is_meta``, ``is_conversation`` (a user prompt or an assistant line: what
    a person would call the conversation), ``tool_use_ids``,
    ``tool_result_ids``, ``tool_ref`` (for progress lines: the tool_use id
    they report on), ``leaf_uuid`` (for summary / last-prompt lines: the leaf
    they name), ``message_id`` (``message.id``: the API response an assistant
    line belongs to; one response is written as several lines sharing it; an
    empty id is none), ``is_compact_summary`` and ``preview`` (``preview`` and,
    for records built from columns, ``message_id`` are read from the line on
    first access).
    """

    __struct_fields__ = _RECORD_FIELDS
    __slots__ = (
        *(name for name in _RECORD_FIELDS if name not in ("message_id", "preview")),
        "_message_id",
        "_id_source",
        "_preview",
        "_source",
    )

    line: int
    offset: int
    length: int
    type: str | None
    uuid: str | None
    parent_uuid: str | None
    logical_parent_uuid: str | None
    subtype: str | None
    role: str | None
    timestamp: str | None
    is_sidechain: bool
    is_meta: bool
    is_conversation: bool
    tool_use_ids: tuple[str, ...]
    tool_result_ids: tuple[str, ...]
    tool_ref: str | None
    leaf_uuid: str | None
    is_compact_summary: bool
    _message_id: str | None
    _id_source: Callable[[], str | None] | None
    _preview: str | None
    _source: Callable[[], str] | None

    def __init__(
        self,
        line: int,
        offset: int,
        length: int,
        type: str | None,
        uuid: str | None = None,
        parent_uuid: str | None = None,
        logical_parent_uuid: str | None = None,
        subtype: str | None = None,
        role: str | None = None,
        timestamp: str | None = None,
        is_sidechain: bool = False,
        is_meta: bool = False,
        is_conversation: bool = False,
        tool_use_ids: tuple[str, ...] = (),
        tool_result_ids: tuple[str, ...] = (),
        tool_ref: str | None = None,
        leaf_uuid: str | None = None,
        preview: str | None = "",
        *,
        message_id: str | None = None,
        is_compact_summary: bool = False,
        _source: Callable[[], str] | None = None,
        _id_source: Callable[[], str | None] | None = None,
    ) -> None:
        self.line = line
        self.offset = offset
        self.length = length
        self.type = type
        self.uuid = uuid
        self.parent_uuid = parent_uuid
        self.logical_parent_uuid = logical_parent_uuid
        self.subtype = subtype
        self.role = role
        self.timestamp = timestamp
        self.is_sidechain = is_sidechain
        self.is_meta = is_meta
        self.is_conversation = is_conversation
        self.tool_use_ids = tool_use_ids
        self.tool_result_ids = tool_result_ids
        self.tool_ref = tool_ref
        self.leaf_uuid = leaf_uuid
        self._message_id = message_id
        self._id_source = _id_source
        self.is_compact_summary = is_compact_summary
        self._preview = preview
        self._source = _source

    @property
    def preview(self) -> str:
        """The first words of the line's text (or a ``[tool]`` style stub)."""
        if self._preview is None:
            self._preview = self._source() if self._source is not None else ""
        return self._preview

    @property
    def message_id(self) -> str | None:
        """The line's ``message.id`` (read from the line on first access, when built from
        columns: they keep only its key)."""
        if self._id_source is not None:
            self._message_id, self._id_source = self._id_source(), None
        return self._message_id

    @property
    def is_compact_boundary(self) -> bool:
        return self.subtype == "compact_boundary"

    def _values(self) -> tuple[Any, ...]:
        return tuple(getattr(self, name) for name in _RECORD_FIELDS)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, MessageRecord):
            return NotImplemented
        return self._values() == other._values()

    def __hash__(self) -> int:
        return hash(self._values())

    def __repr__(self) -> str:
        fields = ", ".join(f"{name}={getattr(self, name)!r}" for name in _RECORD_FIELDS)
        return f"MessageRecord({fields})"


class LineNumbers:
    """Physical line number of each record, kept as the (few) lines that are not records."""

    __slots__ = ("explicit", "skips")

    def __init__(self) -> None:
        self.skips = array("q")
        """For each line that is not a record (blank, malformed), the records before it."""
        self.explicit: array[int] | None = None
        """Line numbers given one by one (records built elsewhere)."""

    def __getitem__(self, i: int) -> int:
        if self.explicit is not None:
            return self.explicit[i]
        return i + 1 + bisect_right(self.skips, i)


class RowStrings:
    """A string for some of the records (a sparse column): those records in ascending
    order and their strings aligned with them.

    12 bytes and a shared string per entry, where a dict keyed by record took about
    60 (a 28-byte int and a table entry): the tool id of each progress row is 38,000
    entries in the 301 MB real-shaped session, 2.4 MB as a dict.
    """

    __slots__ = ("rows", "values")

    def __init__(self) -> None:
        self.rows = array("i")
        self.values: list[str] = []

    def __len__(self) -> int:
        return len(self.rows)

    def get(self, i: int) -> str | None:
        """The string of record ``i``, None when it has none."""
        rows = self.rows
        k = bisect_left(rows, i)
        return self.values[k] if k < len(rows) and rows[k] == i else None

    def append(self, i: int, value: str) -> None:
        """Give record ``i``, past every record held, its string."""
        self.rows.append(i)
        self.values.append(value)

    def extend(self, rows: Iterable[int], values: Iterable[str]) -> None:
        """Records past every record held, ascending, and their strings (aligned)."""
        self.rows.extend(rows)
        self.values.extend(values)
        if len(self.rows) != len(self.values):
            raise ValueError("records and strings are not aligned")


class Columns:
    """Every record of one transcript as columns (see the module docstring).

    Node ``k`` is the k-th distinct uuid in file order; ``node_rec[k]`` is the
    record (line) that first carries it. Parent references (``par`` per
    record; a node's is its first record's) are: a node index (>= 0), -1 for a null
    parent, or ``-2 - j`` for ``extras[j]``, a parentUuid naming no message
    of the file.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self.line = LineNumbers()
        self.offset = array("q")
        self.length: array[int] = array("I")
        """32-bit; read_transcript widens it for a line of 4 GiB or more."""
        self.shape = array("B")
        """Shape code of each record (widened past 256 shapes)."""
        self.shapes: list[tuple[str | None, str | None, str | None, int]] = []
        """(type, subtype, role, flags) of each shape code."""
        self.uid = array("i")
        self.par = array("i")
        self.ts = bytearray()
        self.ts_odd: dict[int, str] = {}
        """Timestamps that are not 24 ASCII characters, by record."""
        self.index: dict[str, int] = {}
        """uuid -> node; nodes are numbered in insertion order, so the keys are the uuid table."""
        self._uuids: list[str] | None = None
        self.node_rec = array("i")
        self._node_lost: bytearray | None = None
        self.extras: list[str] = []
        self.logical: dict[int, str] = {}
        self.tool_ref = RowStrings()
        """For progress rows: the tool_use id they report on."""
        self.leaf: dict[int, str] = {}
        self.msg_keys = array("q")
        """Per record: the key of its ``message.id`` (the rows of one response share it),
        0 for none; see `message_keys`. The ids themselves are read back from the line
        when asked for (`message_id`)."""
        self.message_id_of: Callable[[Columns, int], str | None] | None = None
        self.tool_rec = array("i")
        """Record of each tool id, in file order (a flat list, not a tuple per record)."""
        self.tool_ids: list[str] = []
        self.tool_kind = bytearray()
        """0: a tool_use id, 1: a tool_result id."""
        self.duplicates: list[int] = []
        """Records whose uuid an earlier record already carries."""
        self.forward: list[int] = []
        """Nodes whose parent comes later in the file or is themselves (cycles need one)."""
        self.ts_suspects: list[int] = []
        """Records older than an earlier line: only they can be older than their parent."""
        self.unresolved: list[int] = []
        """Records whose parent was not known when they were read."""
        self.api_suspects: list[int] = []
        """Records the API rules must re-read: what they ask of them is not in the columns
        (odd types, an API error row, empty content or text, server-tool blocks, a tool
        block without its id), in no order and possibly repeated."""
        self.api_complete = False
        """True when ``api_suspects`` is complete (columns built by the reader)."""
        self.previews: dict[int, str] = {}
        self.preview_of: Callable[[Columns, int], str] | None = None

    def __len__(self) -> int:
        return len(self.offset)

    @property
    def node_lost(self) -> bytearray:
        """1 for nodes whose loss resume counts (conversation, not sidechain)."""
        if self._node_lost is None or len(self._node_lost) != len(self.node_rec):
            lost = bytes(
                1 if flags & (CONVERSATION | SIDECHAIN) == CONVERSATION else 0
                for _, _, _, flags in self.shapes
            )
            self._node_lost = bytearray(
                map(lost.__getitem__, map(self.shape.__getitem__, self.node_rec))
            )
        return self._node_lost

    @property
    def uuids(self) -> list[str]:
        """uuid of every node (built from the index on first use, after reading)."""
        if self._uuids is None or len(self._uuids) != len(self.index):
            self._uuids = list(self.index)
        return self._uuids

    # -- per-record access ----------------------------------------------------

    def timestamp(self, i: int) -> str | None:
        ts = self.ts
        start = i * TS_WIDTH
        if ts[start] == 0:
            return self.ts_odd.get(i)
        return ts[start : start + TS_WIDTH].decode("ascii")

    def timestamp_bytes(self, i: int) -> bytes | None:
        """Order-comparable timestamp of record ``i`` (None when it has none)."""
        start = i * TS_WIDTH
        if self.ts[start] == 0:
            odd = self.ts_odd.get(i)
            return None if odd is None else odd.encode()
        return bytes(self.ts[start : start + TS_WIDTH])

    def ref(self, value: int) -> str | None:
        """The uuid a parent reference names."""
        if value >= 0:
            return self.uuids[value]
        if value == -1:
            return None
        return self.extras[-2 - value]

    def tools_of(self, i: int) -> tuple[tuple[str, ...], tuple[str, ...]] | None:
        """(tool_use ids, tool_result ids) of record ``i``, or None if it has none."""
        tool_rec = self.tool_rec
        lo = bisect_left(tool_rec, i)
        if lo == len(tool_rec) or tool_rec[lo] != i:
            return None
        hi = bisect_right(tool_rec, i, lo)
        ids, kind = self.tool_ids, self.tool_kind
        return (
            tuple(ids[k] for k in range(lo, hi) if not kind[k]),
            tuple(ids[k] for k in range(lo, hi) if kind[k]),
        )

    def tool_records(self) -> Iterator[tuple[int, tuple[str, ...], tuple[str, ...]]]:
        """(record, tool_use ids, tool_result ids) of every record that has any."""
        tool_rec, ids, kind = self.tool_rec, self.tool_ids, self.tool_kind
        k, n = 0, len(tool_rec)
        while k < n:
            i = tool_rec[k]
            hi = bisect_right(tool_rec, i, k)
            yield (
                i,
                tuple(ids[j] for j in range(k, hi) if not kind[j]),
                tuple(ids[j] for j in range(k, hi) if kind[j]),
            )
            k = hi

    def add_tools(self, i: int, uses: Iterable[str], results: Iterable[str]) -> None:
        for tool_id in uses:
            self.tool_rec.append(i)
            self.tool_ids.append(tool_id)
            self.tool_kind.append(0)
        for tool_id in results:
            self.tool_rec.append(i)
            self.tool_ids.append(tool_id)
            self.tool_kind.append(1)

    def message_id(self, i: int) -> str | None:
        """The ``message.id`` of record ``i`` (None when it has none), read from its line."""
        if not self.msg_keys[i] or self.message_id_of is None:
            return None
        return self.message_id_of(self, i)

    def flags(self, i: int) -> int:
        return self.shapes[self.shape[i]][3]

    def preview(self, i: int) -> str:
        cached = self.previews.get(i)
        if cached is None:
            cached = self.preview_of(self, i) if self.preview_of is not None else ""
            self.previews[i] = cached
        return cached

    def record(self, i: int) -> MessageRecord:
        line_type, subtype, role, flags = self.shapes[self.shape[i]]
        uid = self.uid[i]
        tools = self.tools_of(i)
        return MessageRecord(
            self.line[i],
            self.offset[i],
            self.length[i],
            line_type,
            self.uuids[uid] if uid >= 0 else None,
            self.ref(self.par[i]),
            self.logical.get(i),
            subtype,
            role,
            self.timestamp(i),
            bool(flags & SIDECHAIN),
            bool(flags & META),
            bool(flags & CONVERSATION),
            tools[0] if tools else (),
            tools[1] if tools else (),
            self.tool_ref.get(i),
            self.leaf.get(i),
            self.previews.get(i),
            is_compact_summary=bool(flags & COMPACT_SUMMARY),
            _source=lambda: self.preview(i),
            _id_source=lambda: self.message_id(i),
        )

    # -- building ---------------------------------------------------------------

    def shape_code(
        self, codes: dict[tuple[str | None, str | None, str | None, int], int], key: Any
    ) -> int:
        code = codes.get(key)
        if code is None:
            code = codes[key] = len(self.shapes)
            self.shapes.append(key)
            if code == 256 and self.shape.typecode == "B":
                self.shape = array("i", self.shape)
        return code

    def finish(self) -> None:
        """Resolve parent links to lines that came later in the file."""
        index = self.index
        extras = self.extras
        par = self.par
        for i in self.unresolved:
            j = index.get(extras[-2 - par[i]])
            if j is None:
                continue
            par[i] = j
            node = self.uid[i]
            if node >= 0 and self.node_rec[node] == i:
                self.forward.append(node)

    @classmethod
    def from_records(cls, records: Iterable[MessageRecord], path: Path | None = None) -> Columns:
        """Columns of records built elsewhere (their previews and message ids are kept as
        they are)."""
        cols = cls(path or Path())
        cols.line.explicit = lines = array("q")
        codes: dict[tuple[str | None, str | None, str | None, int], int] = {}
        index = cols.index
        ts_max = b""
        message_ids: list[str | None] = []
        for i, r in enumerate(records):
            lines.append(r.line)
            cols.offset.append(r.offset)
            cols.length.append(r.length)
            flags = (
                (SIDECHAIN if r.is_sidechain else 0)
                | (META if r.is_meta else 0)
                | (CONVERSATION if r.is_conversation else 0)
                | (COMPACT_SUMMARY if r.is_compact_summary else 0)
            )
            code = cols.shape_code(codes, (r.type, r.subtype, r.role, flags))
            cols.shape.append(code)
            uid = -1
            if r.uuid is not None:
                uid = index.get(r.uuid, -1)
                if uid < 0:
                    uid = index[r.uuid] = len(index)
                    cols.node_rec.append(i)
                else:
                    cols.duplicates.append(i)
            cols.uid.append(uid)
            cols.par.append(-1)
            ts = r.timestamp
            if ts is not None and len(ts) == TS_WIDTH and ts.isascii() and ts[0] != "\x00":
                cols.ts += ts.encode("ascii")
            else:
                cols.ts += NO_TS
                if ts is not None:
                    cols.ts_odd[i] = ts
            if ts is not None:
                b = ts.encode()
                if b < ts_max:
                    cols.ts_suspects.append(i)
                else:
                    ts_max = b
            if r.logical_parent_uuid is not None:
                cols.logical[i] = r.logical_parent_uuid
            if r.tool_ref is not None:
                cols.tool_ref.append(i, r.tool_ref)
            if r.leaf_uuid is not None:
                cols.leaf[i] = r.leaf_uuid
            cols.add_tools(i, r.tool_use_ids, r.tool_result_ids)
            message_ids.append(r.message_id)
            cols.previews[i] = r.preview
            parent = r.parent_uuid
            if parent is not None:
                j = index.get(parent)
                if j is None:
                    j = -2 - len(cols.extras)
                    cols.extras.append(parent)
                    cols.unresolved.append(i)
                cols.par[i] = j
                if uid >= 0 and cols.node_rec[uid] == i and j == uid:
                    cols.forward.append(uid)
        cols.msg_keys.extend(message_keys(message_ids))
        cols.message_id_of = lambda _, i: message_ids[i]
        cols.finish()
        return cols


class _NodeMap(BulkMap[_V]):
    """A value per node (every uuid's first record), read from the columns when asked.

    As dicts, a million-message session's parents cost about 90 MB and its
    timestamps as much again; these hold nothing but the columns. Keys are the
    uuids in node (file) order; the columns must not change while one is in use
    (they do not once read).
    """

    __slots__ = ("_cols",)

    def __init__(self, cols: Columns) -> None:
        self._cols = cols

    def __contains__(self, uuid: object) -> bool:
        return uuid in self._cols.index

    def __iter__(self) -> Iterator[str]:
        return iter(self._cols.uuids)

    def __len__(self) -> int:
        return len(self._cols.index)

    def key_positions(self) -> Mapping[str, int]:
        return self._cols.index


class RecordsByUuid(_NodeMap[MessageRecord]):
    """First record of every uuid, as a read-only mapping built on access (no dict of records)."""

    __slots__ = ()

    def __getitem__(self, uuid: str) -> MessageRecord:
        cols = self._cols
        return cols.record(cols.node_rec[cols.index[uuid]])


class ColumnParents(_NodeMap[str | None]):
    """parentUuid of every uuid's first record (`Transcript.parent_map`)."""

    __slots__ = ("_index", "_node_rec", "_par", "_ref")

    def __init__(self, cols: Columns) -> None:
        super().__init__(cols)
        # Held directly: a walk up a chain looks one up per step.
        self._index, self._node_rec, self._par = cols.index, cols.node_rec, cols.par
        self._ref = cols.ref  # the one rule for what a parent reference names

    def __getitem__(self, uuid: str) -> str | None:
        return self._ref(self._par[self._node_rec[self._index[uuid]]])

    def get(self, uuid: str, default: str | None = None) -> str | None:  # type: ignore[override]
        # Mapping.get goes through __getitem__ and KeyError: walks up a chain call it per step.
        node = self._index.get(uuid)
        return default if node is None else self._ref(self._par[self._node_rec[node]])

    def _values_of_refs(self, refs: Iterator[int]) -> Iterator[str | None]:
        # A parent reference is a node (>= 0), -1 (none) or -2 - j (extras[j]):
        # one table, read from its start or its end by C loops.
        cols = self._cols
        table: list[str | None] = [*cols.uuids, *reversed(cols.extras), None]
        return map(table.__getitem__, refs)

    def iter_values(self) -> Iterator[str | None]:
        cols = self._cols
        return self._values_of_refs(map(cols.par.__getitem__, cols.node_rec))

    def values_for(self, keys: Iterable[str]) -> Iterator[str | None]:
        cols = self._cols
        nodes = map(cols.index.__getitem__, keys)
        return self._values_of_refs(
            map(cols.par.__getitem__, map(cols.node_rec.__getitem__, nodes))
        )


_STAMP_BLOCK = 1 << 16
"""Nodes whose timestamps are decoded at a time: a block's text, not the whole column's."""


class ColumnTimestamps(_NodeMap[str | None]):
    """Timestamp (order-comparable form) of every uuid's first record
    (`Transcript.timestamp_map`)."""

    __slots__ = ()

    def __getitem__(self, uuid: str) -> str | None:
        cols = self._cols
        return cols.timestamp(cols.node_rec[cols.index[uuid]])

    def iter_values(self) -> Iterator[str | None]:
        node_rec = self._cols.node_rec
        for start in range(0, len(node_rec), _STAMP_BLOCK):
            yield from self._stamps(node_rec[start : start + _STAMP_BLOCK])

    def _stamps(self, recs: array[int]) -> list[str | None]:
        cols = self._cols
        low = min(recs)
        text = cols.ts[low * TS_WIDTH : (max(recs) + 1) * TS_WIDTH].decode("ascii")
        rel = list(map((-low).__add__, recs))
        starts = list(map(TS_WIDTH.__mul__, rel))
        stamps: list[str | None] = list(
            map(text.__getitem__, map(slice, starts, map(TS_WIDTH.__add__, starts)))
        )
        # A record without a canonical stamp holds NULs: its odd one, if any, is aside.
        firsts = text[::TS_WIDTH]
        unstamped = map(eq, map(firsts.__getitem__, rel), repeat("\x00"))
        for k in compress(range(len(rel)), unstamped):
            stamps[k] = cols.ts_odd.get(recs[k])
        return stamps


class RecordList(Sequence[MessageRecord]):
    """The records of a transcript (or of a graph's nodes), built on access."""

    __slots__ = ("_cols", "_rows")

    def __init__(self, cols: Columns, rows: Sequence[int] | None = None) -> None:
        self._cols = cols
        self._rows = rows

    @property
    def columns(self) -> Columns:
        return self._cols

    @property
    def is_whole(self) -> bool:
        """True when this is every record of its columns, in order."""
        return self._rows is None

    def __len__(self) -> int:
        return len(self._cols) if self._rows is None else len(self._rows)

    @overload
    def __getitem__(self, i: int) -> MessageRecord: ...
    @overload
    def __getitem__(self, i: slice) -> list[MessageRecord]: ...
    def __getitem__(self, i: int | slice) -> MessageRecord | list[MessageRecord]:
        if isinstance(i, slice):
            return [self[j] for j in range(*i.indices(len(self)))]
        if i < 0:
            i += len(self)
        if not 0 <= i < len(self):
            raise IndexError("record index out of range")
        return self._cols.record(i if self._rows is None else self._rows[i])

    def __iter__(self) -> Iterator[MessageRecord]:
        record = self._cols.record
        if self._rows is None:
            return map(record, range(len(self._cols)))
        return map(record, self._rows)

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Sequence) and not isinstance(other, (str, bytes)):
            return list(self) == list(other)
        return NotImplemented

    def __hash__(self) -> int:  # pragma: no cover - sequences of records are not hashed
        raise TypeError("unhashable type: 'RecordList'")

    def __repr__(self) -> str:
        return f"RecordList({len(self)} records)"


@dataclass(frozen=True)
class Fingerprint:
    """Identity of the bytes a scan read, checked again before any write."""

    size: int
    mtime_ns: int
    sha256: str | None
    """None when the scan did not hash the file (a report-only scan): no write may use it."""


LINE_PROBLEM_KINDS = ("malformed_line", "truncated_line")


@dataclass(frozen=True)
class LineProblem:
    """A line that could not be read as a transcript line."""

    kind: str
    """"malformed_line" or "truncated_line"."""
    line: int
    offset: int
    length: int
    reason: str
    recovered: bool = False
    """True when the line's JSON was still read (e.g. after leading NUL bytes)."""
    claude_code: str = "Claude Code skips it"
    """What Claude Code does with the line (the findings say it)."""


@dataclass(eq=False)
class Transcript:
    """One transcript file as read by :func:`riff.transcript.reader.read_transcript`."""

    path: Path
    records: Sequence[MessageRecord]
    """Every record in file order (built on access from :attr:`columns`)."""
    problems: list[LineProblem]
    fingerprint: Fingerprint
    line_count: int
    last_prompt_leaf: str | None = None
    """leafUuid of the last ``last-prompt`` line, if any."""
    session_id: str | None = None
    """The ``sessionId`` seen in the file, if any."""
    _messages: Sequence[MessageRecord] | None = field(default=None, repr=False)
    _columns: Columns | None = field(default=None, repr=False)

    @property
    def columns(self) -> Columns:
        """The records as columns (built once from ``records`` if they are plain objects)."""
        if self._columns is None:
            records = self.records
            if isinstance(records, RecordList) and records.is_whole:
                self._columns = records.columns
            else:
                self._columns = Columns.from_records(records, self.path)
        return self._columns

    @property
    def messages(self) -> Sequence[MessageRecord]:
        """Records that carry a uuid, in file order."""
        if self._messages is None:
            cols = self.columns
            rows = array("i", (i for i, u in enumerate(cols.uid) if u >= 0))
            self._messages = RecordList(cols, rows)
        return self._messages

    def by_uuid(self) -> dict[str, MessageRecord]:
        """First record of every uuid (later duplicates are reported, not indexed)."""
        cols = self.columns
        record = cols.record
        return {uuid: record(i) for uuid, i in zip(cols.uuids, cols.node_rec, strict=True)}

    def parent_map(self) -> ColumnParents:
        """parentUuid of every uuid's first record, read from the columns (no dict)."""
        return ColumnParents(self.columns)

    def timestamp_map(self) -> ColumnTimestamps:
        """Timestamp (order-comparable form) of every uuid's first record (no dict)."""
        return ColumnTimestamps(self.columns)

    @property
    def uuids(self) -> set[str]:
        return set(self.columns.uuids)

    def lines_of(self, uuids: Iterable[str]) -> list[tuple[int, int, str]]:
        """(byte offset, length, uuid) of every line carrying one of ``uuids`` (duplicates too)."""
        cols = self.columns
        wanted = {cols.index[u]: u for u in uuids if u in cols.index}
        rows = [cols.node_rec[node] for node in wanted]
        rows += [i for i in cols.duplicates if cols.uid[i] in wanted]
        return [(cols.offset[i], cols.length[i], wanted[cols.uid[i]]) for i in rows]
