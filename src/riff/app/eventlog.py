"""The event log as riff.app sees it: events in, events out, over a plain recorder.

A store (riff.store.protocol.EventStore) records rows. `EventLog` wraps one
and is where the rows get their meaning:

- appending: drafts are stamped with the signed-in operator, sealed onto the
  session's chain (riff.events.seal_events), given their transparency-log
  leaves (riff.tlog hashes them onto the tree's frontier) and handed to the
  store as plain rows, all in one transaction; when another writer took the
  log's next indexes first, the leaves are planned again;
- reading: the store's rows become RepairEvent (riff.events.event_from_row,
  which checks every value), its heads ChainHead, its view rows ViewRecord;
- the revert rule (a revert of a revert re-applies) is riff.events'.

Everything else (plain records, blobs, view summaries, counts) passes through
unchanged. The workspace's `store` is an EventLog; `recorder` is the backend.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import replace
from types import TracebackType
from typing import Any

from riff.events import ChainHead, EventDraft, RepairEvent, event_from_row, event_to_row
from riff.events.chain import Clock, seal_events, utc_now
from riff.events.status import reverted_ids_from_reverts
from riff.store.errors import ConcurrencyError, LogIndexTaken, TlogStateError
from riff.store.protocol import EventStore, HeadRow, LeafRow
from riff.views.record import ViewRecord

# A writer on another session took the same log indexes first: plan again.
_LOG_RETRIES = 8


def _chain_head(session_id: str, row: HeadRow | None) -> ChainHead:
    return ChainHead(session_id) if row is None else ChainHead(session_id, row.seq, row.digest)


def plan_leaves(recorder: EventStore, events: Sequence[RepairEvent]) -> list[LeafRow]:
    """The events' leaves at the end of the tree, with the subtree hashes each completes."""
    from riff.tlog.compact import CompactRange, decompose
    from riff.tlog.leaves import event_leaf_hash

    state = recorder.log_state()
    if state.backfill_pending:
        raise TlogStateError(
            f"store {recorder.url}: events stored before the transparency log still need "
            "their log indexes; run `riff db migrate`"
        )
    wanted = decompose(0, state.size)
    found = recorder.log_nodes(wanted)
    frontier = CompactRange(state.size, [found[node] for node in wanted])
    leaves: list[LeafRow] = []
    for event in events:
        index = frontier.size
        nodes = frontier.append(event_leaf_hash(event.digest_payload()))
        leaves.append(
            LeafRow(
                index, event.session_id, event.seq, event.event_id, tuple(h.hex() for h in nodes)
            )
        )
    return leaves


class EventLog:
    """Repair events over a recorder: seal and append, read back as events."""

    def __init__(self, recorder: EventStore, *, clock: Clock = utc_now) -> None:
        self.recorder = recorder
        self.clock = clock

    # -- lifecycle -----------------------------------------------------------

    @property
    def url(self) -> str:
        return self.recorder.url

    @property
    def identity(self) -> str | None:
        return self.recorder.identity

    def close(self) -> None:
        self.recorder.close()

    def __enter__(self) -> EventLog:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    # -- appending -----------------------------------------------------------

    def append(
        self,
        session_id: str,
        drafts: Sequence[EventDraft],
        expected_head: ChainHead | int | None = None,
    ) -> list[RepairEvent]:
        """Seal `drafts` onto the session's chain and record them in one transaction.

        `expected_head` (a seq or a ChainHead) makes the append conditional:
        ConcurrencyError if the session's head is elsewhere. Two writers racing
        for the same seq: the store lets one win, the other gets ConcurrencyError.
        """
        if not drafts:
            return []
        identity = self.recorder.identity
        if identity is not None:
            # The digest covers `operator`: seal under the signed-in name, which
            # the schema demands of a record user.
            drafts = [replace(d, operator=identity) for d in drafts]
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
        rows = [event_to_row(event) for event in events]
        for attempt in range(_LOG_RETRIES):
            try:
                self.recorder.append(session_id, rows, plan_leaves(self.recorder, events))
                return events
            except LogIndexTaken:
                if attempt == _LOG_RETRIES - 1:
                    raise
        raise AssertionError("unreachable")  # pragma: no cover

    # -- reading -------------------------------------------------------------

    def events(self, session_id: str, from_seq: int = 1) -> Iterator[RepairEvent]:
        """The session's events from `from_seq` on, in seq order (each checked as read)."""
        for row in self.recorder.events(session_id, from_seq):
            yield event_from_row(row)

    def all_events(self) -> Iterator[RepairEvent]:
        """Every event, session by session, each session in seq order."""
        for row in self.recorder.all_events():
            yield event_from_row(row)

    def event(self, event_id: str) -> RepairEvent | None:
        row = self.recorder.event(event_id)
        return None if row is None else event_from_row(row)

    def events_for_message(self, message_id: str) -> list[RepairEvent]:
        """Every event that re-parented message `message_id` (any session)."""
        return [event_from_row(row) for row in self.recorder.events_for_message(message_id)]

    def head(self, session_id: str) -> ChainHead:
        """Where the session's chain ends (seq 0 and the genesis digest when empty)."""
        return _chain_head(session_id, self.recorder.head(session_id))

    def head_row(self, session_id: str) -> ChainHead | None:
        """Where riff's own appends left the session's chain (None: never appended to)."""
        row = self.recorder.head_row(session_id)
        return None if row is None else _chain_head(session_id, row)

    def heads(self) -> dict[str, ChainHead]:
        return {sid: _chain_head(sid, row) for sid, row in self.recorder.heads().items()}

    def reverted_ids(self, session_id: str | None = None) -> set[str]:
        """Ids of reverted events, derived from the revert rows alone."""
        by_session: dict[str, list[Mapping[str, Any]]] = {}
        for row in self.recorder.revert_rows(session_id):
            by_session.setdefault(str(row["session_id"]), []).append(row)
        reverted: set[str] = set()
        for rows in by_session.values():
            reverted |= reverted_ids_from_reverts(
                (str(r["event_id"]), r.get("reverts_event_id")) for r in rows
            )
        return reverted

    def sessions(self) -> list[str]:
        return self.recorder.sessions()

    def count(self, session_id: str | None = None) -> int:
        return self.recorder.count(session_id)

    def sessions_by_operator(self, operator: str) -> list[str]:
        return self.recorder.sessions_by_operator(operator)

    # -- what a database-wide verification reads -----------------------------

    def event_row_count(self) -> int:
        return self.recorder.event_row_count()

    def event_counts(self) -> dict[str, int]:
        return self.recorder.event_counts()

    def misplaced_events(self, session_id: str) -> list[dict[str, Any]]:
        return self.recorder.misplaced_events(session_id)

    def event_id_count(self, event_id: str) -> int:
        return self.recorder.event_id_count(event_id)

    def schema_drift(self) -> list[str]:
        return self.recorder.schema_drift()

    # -- blobs -----------------------------------------------------------------

    def put_blobs(self, blobs: Mapping[str, bytes]) -> None:
        self.recorder.put_blobs(blobs)

    def get_blobs(self, blob_ids: Sequence[str]) -> dict[str, bytes]:
        return self.recorder.get_blobs(blob_ids)

    # -- materialized views ----------------------------------------------------

    def get_view(self, session_id: str) -> ViewRecord | None:
        row = self.recorder.get_view(session_id)
        return None if row is None else ViewRecord.from_row(row)

    def put_view(self, view: ViewRecord) -> None:
        self.recorder.put_view(view.to_row())

    def put_view_if_current(self, view: ViewRecord) -> bool:
        """Store `view` unless events were appended past its through_seq meanwhile."""
        return self.recorder.put_view_if_current(view.to_row())

    def view_summaries(self) -> list[dict[str, Any]]:
        """Per view: session, through_seq, stale and drift flags (no parent maps)."""
        return self.recorder.view_summaries()

    def view_summary(self, session_id: str) -> dict[str, Any] | None:
        """One view's summary (no parent maps), None without a view."""
        return self.recorder.view_summary(session_id)

    def mark_view(self, view: ViewRecord) -> None:
        """Store `view`'s drift flags on the stored view, its maps untouched."""
        self.recorder.mark_view(
            view.session_id,
            drift_detected=view.drift_detected,
            drift_report=view.drift_report,
            updated_at=view.updated_at,
        )

    # -- plain records -----------------------------------------------------------

    def add_rows(
        self, table: str, rows: Sequence[Mapping[str, Any]], *, key: Sequence[str] = ()
    ) -> None:
        self.recorder.add_rows(table, rows, key=key)

    def rows(
        self,
        table: str,
        *,
        where: Mapping[str, Any] | None = None,
        newest_first_by: str | None = None,
        limit: int | None = None,
    ) -> list[dict[str, Any]]:
        return self.recorder.rows(table, where=where, newest_first_by=newest_first_by, limit=limit)


__all__ = ["EventLog", "plan_leaves"]
