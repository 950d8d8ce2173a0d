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
from dataclasses import replace
from types import TracebackType
from typing import Any, NoReturn

from riff.events import ChainHead, EventDraft, ImmutableEventError, RepairEvent, seal_events
from riff.events.chain import Clock, utc_now
from riff.events.status import reverted_ids_from_reverts
from riff.store.errors import ConcurrencyError, StoreError
from riff.store.protocol import ViewRecord

_SUMMARY_FIELDS = (
    "session_id",
    "through_seq",
    "head_digest",
    "materialization_digest",
    "is_stale",
    "drift_detected",
    "updated_at",
)


class InMemoryEventStore:
    """Append-only repair events, heads, views and plain records held in dicts."""

    def __init__(self, *, identity: str | None = None, clock: Clock = utc_now) -> None:
        self.identity = identity
        self.clock = clock
        self.page_size = 1000  # read in pages like the database (the contract sets it)
        self._log: dict[str, list[RepairEvent]] = {}
        self._views: dict[str, ViewRecord] = {}
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

    def append(
        self,
        session_id: str,
        drafts: Sequence[EventDraft],
        expected_head: ChainHead | int | None = None,
    ) -> list[RepairEvent]:
        if not drafts:
            return []
        if self.identity is not None:
            drafts = [replace(d, operator=self.identity) for d in drafts]
        head = self.head(session_id)
        if expected_head is not None:
            expected_seq = expected_head if isinstance(expected_head, int) else expected_head.seq
            if expected_seq != head.seq or (
                isinstance(expected_head, ChainHead) and expected_head.digest != head.digest
            ):
                raise ConcurrencyError(
                    session_id, f"expected head at seq {expected_seq}, found seq {head.seq}"
                )
        events = seal_events(head, drafts, clock=self.clock)
        self._log.setdefault(session_id, []).extend(events)
        view = self._views.get(session_id)
        if view is not None:
            self._views[session_id] = view.evolve(is_stale=True)
        return events

    def put_blobs(self, blobs: Mapping[str, bytes]) -> None:
        for blob_id, data in blobs.items():
            self._blobs.setdefault(blob_id, bytes(data))

    def get_blobs(self, blob_ids: Sequence[str]) -> dict[str, bytes]:
        return {b: self._blobs[b] for b in blob_ids if b in self._blobs}

    def update(self, *_args: object, **_kwargs: object) -> NoReturn:
        raise ImmutableEventError(
            "repair events are never changed; append a revert (riff revert EVENT_ID) instead"
        )

    def delete(self, *_args: object, **_kwargs: object) -> NoReturn:
        raise ImmutableEventError(
            "repair events are never deleted; append a revert (riff revert EVENT_ID) instead"
        )

    def events(self, session_id: str, from_seq: int = 1) -> Iterator[RepairEvent]:
        for event in list(self._log.get(session_id, ())):
            if event.seq >= from_seq:
                yield event

    def all_events(self) -> Iterator[RepairEvent]:
        for session_id in self.sessions():
            yield from self.events(session_id)

    def event(self, event_id: str) -> RepairEvent | None:
        for events in self._log.values():
            for event in events:
                if event.event_id == event_id:
                    return event
        return None

    def head(self, session_id: str) -> ChainHead:
        events = self._log.get(session_id)
        if not events:
            return ChainHead(session_id)
        return ChainHead(session_id, events[-1].seq, events[-1].event_digest)

    def head_row(self, session_id: str) -> ChainHead | None:
        return self.head(session_id) if self._log.get(session_id) else None

    def heads(self) -> dict[str, ChainHead]:
        return {sid: self.head(sid) for sid in self.sessions()}

    def sessions(self) -> list[str]:
        return sorted(sid for sid, events in self._log.items() if events)

    def count(self, session_id: str | None = None) -> int:
        if session_id is not None:
            return self.head(session_id).seq
        return self.event_row_count()

    def reverted_ids(self, session_id: str | None = None) -> set[str]:
        ids = [session_id] if session_id is not None else self.sessions()
        reverted: set[str] = set()
        for sid in ids:
            reverted |= reverted_ids_from_reverts(
                (e.event_id, e.reverts_event_id)
                for e in self._log.get(sid, ())
                if e.kind == "revert"
            )
        return reverted

    def events_for_message(self, message_id: str) -> list[RepairEvent]:
        found = [e for e in self.all_events() if e.message_id == message_id]
        return sorted(found, key=lambda e: (e.session_id, e.seq))

    def sessions_by_operator(self, operator: str) -> list[str]:
        return sorted({e.session_id for e in self.all_events() if e.operator == operator})

    def schema_drift(self) -> list[str]:
        return []  # no schema: nothing to drift

    def event_row_count(self) -> int:
        return sum(len(events) for events in self._log.values())

    def event_counts(self) -> dict[str, int]:
        return {sid: len(events) for sid, events in self._log.items() if events}

    def misplaced_events(self, session_id: str) -> list[dict[str, Any]]:
        return []  # rows are kept by session and seq: none can sit elsewhere

    def event_id_count(self, event_id: str) -> int:
        return sum(1 for e in self.all_events() if e.event_id == event_id)

    # -- materialized views ----------------------------------------------------

    def get_view(self, session_id: str) -> ViewRecord | None:
        view = self._views.get(session_id)
        return None if view is None else _copy_view(view)

    def put_view(self, view: ViewRecord) -> None:
        self._views[view.session_id] = _copy_view(view)

    def put_view_if_current(self, view: ViewRecord) -> bool:
        if self.head(view.session_id).seq != view.through_seq:
            return False
        self.put_view(view)
        return True

    def view_summaries(self) -> list[dict[str, Any]]:
        rows = []
        for sid in sorted(self._views):
            view = self._views[sid]
            row = {name: getattr(view, name) for name in _SUMMARY_FIELDS}
            row["source_path"] = view.source.path if view.source is not None else None
            rows.append(row)
        return rows

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


def _copy_view(view: ViewRecord) -> ViewRecord:
    return view.evolve(
        base_parents=dict(view.base_parents),
        parents=dict(view.parents),
        timestamps=dict(view.timestamps),
        drift_report=copy.deepcopy(dict(view.drift_report))
        if view.drift_report is not None
        else None,
        extra=dict(view.extra),
    )


__all__ = ["InMemoryEventStore"]
