"""The transparency log's rows: leaves (with their subtree hashes), tree state, checkpoints.

A plain recorder: it reads and writes rows by record id and lets the schema
(004_tlog.surql) refuse gaps, duplicates and edits. The hashes themselves are
computed by `riff.tlog` (the caller passes them in).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from riff.store.connection import Connection
from riff.store.errors import StoreError, TlogStateError
from riff.store.protocol import LeafRow, NodeId, TreeState
from riff.store.sdk import RecordID

LEAVES_TABLE = "tlog_leaves"
STATE_ID = RecordID("tlog_state", "current")


@dataclass(frozen=True, slots=True)
class CheckpointRow:
    size: int
    root: str
    origin: str
    note: str
    created_at: str


__all__ = [
    "APPEND_LEAVES",
    "CONFLICT_MARKS",
    "CheckpointRow",
    "LeafRow",
    "NodeId",
    "TlogRecorder",
    "TlogStateError",
    "TreeState",
]

# Appended to an event append's transaction: the leaves, then the size, whose
# ASSERT makes it the exact number of leaves.
APPEND_LEAVES = """
INSERT INTO tlog_leaves (
    SELECT *, type::thing("tlog_leaves", log_index) AS id FROM $leaves
) RETURN NONE;
UPDATE tlog_state:current SET size = $tree_size RETURN NONE;
"""
CONFLICT_MARKS = ("tlog_leaves", "tree_size", "tlog_state")


def _leaf(row: dict[str, Any]) -> LeafRow:
    return LeafRow(
        int(row["log_index"]),
        str(row["session_id"]),
        int(row["seq"]),
        str(row["event_id"]),
        tuple(row["nodes"]),
    )


class TlogRecorder:
    """Rows of the transparency log on one connection."""

    def __init__(self, conn: Connection, page_size: int = 2000) -> None:
        self.conn = conn
        self.page_size = page_size

    def state(self) -> TreeState:
        row = self.conn.one("SELECT * FROM ONLY $id", {"id": STATE_ID})
        if not row:
            raise TlogStateError(
                f"store {self.conn.url} has no transparency-log state; run `riff db migrate`"
            )
        # A row damaged by DDL reads as an empty tree, which verification then reports.
        return TreeState(
            str(row.get("store_id", "")),
            int(row.get("size") or 0),
            bool(row.get("backfill_pending", False)),
        )

    def nodes(self, wanted: Sequence[NodeId]) -> dict[NodeId, bytes]:
        """Hashes of aligned subtrees (level, index), each read from the leaf where it ends."""
        if not wanted:
            return {}
        ends = sorted({((index + 1) << level) - 1 for level, index in wanted})
        rows = self.conn.one(
            "SELECT log_index, nodes FROM $ids",
            {"ids": [RecordID(LEAVES_TABLE, end) for end in ends]},
        )
        by_end = {int(r["log_index"]): r["nodes"] for r in rows or []}
        found: dict[NodeId, bytes] = {}
        for level, index in wanted:
            end = ((index + 1) << level) - 1
            stored = by_end.get(end)
            if stored is None or level >= len(stored):
                raise StoreError(
                    f"the transparency log has no stored subtree ({level}, {index}) at leaf "
                    f"{end}; run `riff verify --db`"
                )
            found[(level, index)] = bytes.fromhex(stored[level])
        return found

    def leaf_for_event(self, event_id: str) -> LeafRow | None:
        rows = self.conn.one("SELECT * FROM tlog_leaves WHERE event_id = $id", {"id": event_id})
        return _leaf(rows[0]) if rows else None

    def leaves(self, start: int = 0, end: int | None = None) -> Iterator[LeafRow]:
        """Leaf rows in log order from `start`, read in pages (by record id ranges)."""
        lo = start
        while end is None or lo < end:
            hi = lo + self.page_size if end is None else min(lo + self.page_size, end)
            # A record-id range scan; the bounds are ints of this code, never input text.
            rows = self.conn.one(f"SELECT * FROM tlog_leaves:{int(lo)}..{int(hi)}") or []
            rows.sort(key=lambda r: int(r["log_index"]))
            for row in rows:
                yield _leaf(row)
            if len(rows) < hi - lo:
                return
            lo = hi

    def leaf_count(self) -> int:
        rows = self.conn.one("SELECT count() AS n FROM tlog_leaves GROUP ALL")
        return int(rows[0]["n"]) if rows else 0

    def append_backfill(self, leaves: Sequence[LeafRow], *, done: bool) -> None:
        """Leaves for events stored before the log existed, and the size, in one transaction."""
        size = leaves[-1].log_index + 1 if leaves else self.state().size
        self.conn.run(
            "BEGIN TRANSACTION;"
            + APPEND_LEAVES
            + "UPDATE tlog_state:current SET backfill_pending = $pending RETURN NONE;"
            + "COMMIT TRANSACTION;",
            {
                "leaves": [leaf.to_row() for leaf in leaves],
                "tree_size": size,
                "pending": not done,
            },
        )

    # -- checkpoints -----------------------------------------------------

    def add_checkpoint(self, row: CheckpointRow) -> bool:
        """Record a checkpoint; False when one of that size is already recorded."""
        if self.checkpoint(row.size) is not None:
            return False
        self.conn.run(
            "CREATE $id CONTENT $row RETURN NONE",
            {
                "id": RecordID("checkpoints", row.size),
                "row": {
                    "size": row.size,
                    "root": row.root,
                    "origin": row.origin,
                    "note": row.note,
                    "created_at": row.created_at,
                },
            },
        )
        return True

    def checkpoint(self, size: int) -> CheckpointRow | None:
        row = self.conn.one("SELECT * FROM ONLY $id", {"id": RecordID("checkpoints", size)})
        return _checkpoint(row) if row else None

    def checkpoints(self) -> list[CheckpointRow]:
        rows = self.conn.one("SELECT * FROM checkpoints") or []
        return sorted((_checkpoint(r) for r in rows), key=lambda c: c.size)

    def newest_checkpoint(self) -> CheckpointRow | None:
        rows = self.conn.one("SELECT * FROM checkpoints ORDER BY size DESC LIMIT 1") or []
        return _checkpoint(rows[0]) if rows else None


def _checkpoint(row: dict[str, Any]) -> CheckpointRow:
    return CheckpointRow(
        int(row["size"]),
        str(row["root"]),
        str(row["origin"]),
        str(row["note"]),
        str(row["created_at"]),
    )
