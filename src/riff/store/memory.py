"""InMemoryEventStore: the event store's contract in plain Python, with no database.

It passes the same contract suite as the SurrealDB recorder
(tests/store/test_contract.py), which keeps the protocol honest: riff.app
depends on what riff.store.protocol.EventStore declares, not on SurrealDB.
Useful for tests of the layers above and as the reference a new backend is
checked against. Nothing is persisted; one process, one thread at a time.
"""

from __future__ import annotations

import copy
from collections import defaultdict
from collections.abc import Iterator, Mapping, Sequence
from types import TracebackType
from typing import Any, NoReturn

from riff.store.errors import AppendOnlyError, ConcurrencyError, LogIndexTaken, StoreError
from riff.store.protocol import EventRow, HeadRow, LeafRow, NodeId, TreeState, ViewRow

_SUMMARY_FIELDS = (
    "session_id",
    "through_seq",
    "head_digest",
    "materialization_digest",
    "is_stale",
    "drift_detected",
    "updated_at",
    "source_path",
)


class InMemoryEventStore:
    """Append-only event rows, log leaves, heads, views and plain records held in dicts."""

    def __init__(self, *, identity: str | None = None) -> None:
        self.identity = identity
        self.page_size = 1000  # read in pages like the database (the contract sets it)
        self._log: dict[str, list[EventRow]] = {}
        self._leaves: list[LeafRow] = []
        self._views: dict[str, ViewRow] = {}
        self._tables: dict[str, dict[Any, dict[str, Any]]] = defaultdict(dict)
        self._blobs: dict[str, bytes] = {}
        self._next_row = 0

    @property
    def url(self) -> str:
        return "memory"

    def close(self) -> None:
        pass

    def __enter__(self) -> InMemoryEventStore:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    # -- the log -------------------------------------------------------------

    def append(self, session_id: str, rows: Sequence[EventRow], leaves: Sequence[LeafRow]) -> None:
        """The database's guards, kept here too: rows continue the chain, leaves the log."""
        if not rows:
            return
        if len(leaves) != len(rows):
            raise StoreError(f"append to session {session_id}: one log leaf per event row")
        head = self.head(session_id)
        seq, digest = (head.seq, head.digest) if head is not None else (0, None)
        for row in rows:
            if row["session_id"] != session_id:
                raise StoreError(f"append to session {session_id}: a row of another session")
            if row["seq"] != seq + 1 or (digest is not None and row["prev_digest"] != digest):
                raise ConcurrencyError(session_id, f"another writer appended seq {seq + 1} first")
            if self.identity is not None and row["operator"] != self.identity:
                raise StoreError(
                    f"an event under another operator than the signed-in user {self.identity!r}"
                )
            seq, digest = row["seq"], row["event_digest"]
        if [leaf.log_index for leaf in leaves] != list(
            range(len(self._leaves), len(self._leaves) + len(leaves))
        ):
            raise LogIndexTaken(session_id)
        # As the database keeps them: a null field is simply absent.
        kept = [{k: copy.deepcopy(v) for k, v in row.items() if v is not None} for row in rows]
        self._log.setdefault(session_id, []).extend(kept)
        self._leaves.extend(leaves)
        view = self._views.get(session_id)
        if view is not None:
            view["is_stale"] = True

    def log_state(self) -> TreeState:
        return TreeState("memory", len(self._leaves), False)

    def log_nodes(self, wanted: Sequence[NodeId]) -> dict[NodeId, bytes]:
        found: dict[NodeId, bytes] = {}
        for level, index in wanted:
            end = ((index + 1) << level) - 1
            if end >= len(self._leaves) or level >= len(self._leaves[end].nodes):
                raise StoreError(f"the transparency log has no stored subtree ({level}, {index})")
            found[(level, index)] = bytes.fromhex(self._leaves[end].nodes[level])
        return found

    def put_blobs(self, blobs: Mapping[str, bytes]) -> None:
        for blob_id, data in blobs.items():
            self._blobs.setdefault(blob_id, bytes(data))

    def get_blobs(self, blob_ids: Sequence[str]) -> dict[str, bytes]:
        return {b: self._blobs[b] for b in blob_ids if b in self._blobs}

    def update(self, *_args: object, **_kwargs: object) -> NoReturn:
        raise AppendOnlyError(
            "repair events are never changed; append a revert (riff revert EVENT_ID) instead"
        )

    def delete(self, *_args: object, **_kwargs: object) -> NoReturn:
        raise AppendOnlyError(
            "repair events are never deleted; append a revert (riff revert EVENT_ID) instead"
        )

    def events(self, session_id: str, from_seq: int = 1) -> Iterator[EventRow]:
        for row in list(self._log.get(session_id, ())):
            if row["seq"] >= from_seq:
                yield copy.deepcopy(row)

    def all_events(self) -> Iterator[EventRow]:
        for session_id in self.sessions():
            yield from self.events(session_id)

    def event(self, event_id: str) -> EventRow | None:
        for rows in self._log.values():
            for row in rows:
                if row["event_id"] == event_id:
                    return copy.deepcopy(row)
        return None

    def head(self, session_id: str) -> HeadRow | None:
        rows = self._log.get(session_id)
        if not rows:
            return None
        return HeadRow(session_id, rows[-1]["seq"], rows[-1]["event_digest"])

    def head_row(self, session_id: str) -> HeadRow | None:
        return self.head(session_id)

    def heads(self) -> dict[str, HeadRow]:
        return {sid: head for sid in self.sessions() if (head := self.head(sid)) is not None}

    def sessions(self) -> list[str]:
        return sorted(sid for sid, rows in self._log.items() if rows)

    def count(self, session_id: str | None = None) -> int:
        if session_id is not None:
            return len(self._log.get(session_id, ()))
        return self.event_row_count()

    def revert_rows(self, session_id: str | None = None) -> list[EventRow]:
        ids = [session_id] if session_id is not None else self.sessions()
        fields = ("session_id", "seq", "event_id", "reverts_event_id")
        return [
            {name: row.get(name) for name in fields}
            for sid in ids
            for row in self._log.get(sid, ())
            if row["kind"] == "revert"
        ]

    def events_for_message(self, message_id: str) -> list[EventRow]:
        return [row for row in self.all_events() if row["message_id"] == message_id]

    def sessions_by_operator(self, operator: str) -> list[str]:
        return sorted({r["session_id"] for r in self.all_events() if r["operator"] == operator})

    def schema_drift(self) -> list[str]:
        return []  # no schema: nothing to drift

    def event_row_count(self) -> int:
        return sum(len(rows) for rows in self._log.values())

    def event_counts(self) -> dict[str, int]:
        return {sid: len(rows) for sid, rows in self._log.items() if rows}

    def misplaced_events(self, session_id: str) -> list[dict[str, Any]]:
        return []  # rows are kept by session and seq: none can sit elsewhere

    def event_id_count(self, event_id: str) -> int:
        return sum(1 for r in self.all_events() if r["event_id"] == event_id)

    # -- materialized views ----------------------------------------------------

    def get_view(self, session_id: str) -> ViewRow | None:
        view = self._views.get(session_id)
        return None if view is None else copy.deepcopy(view)

    def put_view(self, view: ViewRow) -> None:
        # The maps come as any Mapping (ViewRecord.to_row hands over its own): kept as
        # the dicts a SurrealDB row reads back as, and never shared with the caller.
        row = {k: dict(v.items()) if isinstance(v, Mapping) else v for k, v in view.items()}
        self._views[view["session_id"]] = copy.deepcopy(row)

    def put_view_if_current(self, view: ViewRow) -> bool:
        if self.count(view["session_id"]) != view["through_seq"]:
            return False
        self.put_view(view)
        return True

    def mark_view(
        self,
        session_id: str,
        *,
        drift_detected: bool,
        drift_report: Mapping[str, Any] | None,
        updated_at: str,
    ) -> None:
        view = self._views.get(session_id)
        if view is None:
            return
        view.pop("drift_report", None)
        view.update(drift_detected=drift_detected, updated_at=updated_at)
        if drift_report is not None:
            view["drift_report"] = copy.deepcopy(dict(drift_report))

    def view_summaries(self) -> list[dict[str, Any]]:
        return [summary for sid in sorted(self._views) if (summary := self.view_summary(sid))]

    def view_summary(self, session_id: str) -> dict[str, Any] | None:
        view = self._views.get(session_id)
        return None if view is None else {name: view.get(name) for name in _SUMMARY_FIELDS}

    # -- plain records -----------------------------------------------------------

    def add_rows(
        self, table: str, rows: Sequence[Mapping[str, Any]], *, key: Sequence[str] = ()
    ) -> None:
        stored = self._tables[table]
        keyed: list[tuple[Any, dict[str, Any]]] = []
        for row in rows:
            if key:
                row_key: Any = tuple(row[k] for k in key)
                if row_key in stored or any(k == row_key for k, _ in keyed):
                    raise StoreError(f"{table} already holds a row keyed {row_key!r}")
            else:
                self._next_row += 1
                row_key = self._next_row
            keyed.append((row_key, copy.deepcopy(dict(row))))
        stored.update(keyed)  # all or nothing, as one statement

    def rows(
        self,
        table: str,
        *,
        where: Mapping[str, Any] | None = None,
        newest_first_by: str | None = None,
        limit: int | None = None,
    ) -> list[dict[str, Any]]:
        found = [
            copy.deepcopy(row)
            for row in self._tables.get(table, {}).values()
            if all(row.get(k) == v for k, v in (where or {}).items())
        ]
        if newest_first_by is not None:
            found.sort(key=lambda row: row.get(newest_first_by) or "", reverse=True)
        return found if limit is None else found[:limit]


__all__ = ["InMemoryEventStore"]
