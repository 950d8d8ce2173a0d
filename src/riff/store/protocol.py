"""What riff.app needs of a store, and every backend offers (docs/store.md).

A store is a plain recorder: it appends rows in one transaction and reads
them back, keeps each session's head, the materialized views and the jobs'
own records. It never decides what an event may be, never seals, never folds
and never hashes: riff.app seals events onto their chain (riff.events),
computes the transparency log's leaf rows (riff.tlog) and validates repairs
(riff.transcript), then hands the store plain rows; what the store reads back
riff.app turns into riff's values again (riff.app.eventlog). The database's
own guards (READONLY fields, THROW events, ASSERTs, unique indexes) stay
where they are: they refuse a bad row whoever writes it.

Every type here is the store's own: plain rows (dicts of JSON-like values)
and the few dataclasses below. Nothing of riff's domain is imported.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from types import TracebackType
from typing import Any, Protocol, runtime_checkable

EventRow = dict[str, Any]
"""One repair event as stored: the event format's fields (a NONE field absent),
`edit` as a JSON object. riff.events.event_from_row makes it an event."""

ViewRow = dict[str, Any]
"""One row of `sessions_materialized`, parent maps as dicts (riff.views.ViewRecord)."""

NodeId = tuple[int, int]
"""An aligned subtree of the transparency log: (level, index)."""


@dataclass(frozen=True, slots=True)
class HeadRow:
    """Where a session's chain ends as the store holds it: its last seq and digest."""

    session_id: str
    seq: int
    digest: str


@dataclass(frozen=True, slots=True)
class TreeState:
    """The transparency log's size, and whether old events still wait for their leaves."""

    store_id: str
    size: int
    backfill_pending: bool


@dataclass(frozen=True, slots=True)
class LeafRow:
    """One leaf: the event it stands for and the subtree hashes (hex) that end at it."""

    log_index: int
    session_id: str
    seq: int
    event_id: str
    nodes: tuple[str, ...]

    def to_row(self) -> dict[str, Any]:
        return {
            "log_index": self.log_index,
            "session_id": self.session_id,
            "seq": self.seq,
            "event_id": self.event_id,
            "nodes": list(self.nodes),
        }


@runtime_checkable
class EventStore(Protocol):
    """The recorder every backend implements (tests/store/test_contract.py).

    `append` stores a session's next event rows and their log leaves in one
    transaction, or nothing: rows that do not continue the session's chain
    (their first seq is not the head's next, or their prev_digest is not the
    head's digest) raise ConcurrencyError, and leaves whose log indexes another
    writer took first raise LogIndexTaken (plan the leaves again and retry).
    """

    @property
    def url(self) -> str: ...

    @property
    def identity(self) -> str | None:
        """The signed-in user's name (a record user), None for root/owner access."""
        ...

    def close(self) -> None: ...

    def __enter__(self) -> EventStore: ...

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None: ...

    # -- the log -------------------------------------------------------------

    def append(
        self, session_id: str, rows: Sequence[EventRow], leaves: Sequence[LeafRow]
    ) -> None: ...

    def events(self, session_id: str, from_seq: int = 1) -> Iterator[EventRow]: ...

    def all_events(self) -> Iterator[EventRow]: ...

    def event(self, event_id: str) -> EventRow | None: ...

    def head(self, session_id: str) -> HeadRow | None:
        """Where the session's chain ends, read from its rows (None: no events)."""
        ...

    def head_row(self, session_id: str) -> HeadRow | None:
        """Where riff's own appends left the session's chain (None: never appended to)."""
        ...

    def heads(self) -> dict[str, HeadRow]: ...

    def sessions(self) -> list[str]: ...

    def count(self, session_id: str | None = None) -> int: ...

    def revert_rows(self, session_id: str | None = None) -> list[EventRow]:
        """(session_id, seq, event_id, reverts_event_id) of every revert, each session in
        seq order."""
        ...

    def events_for_message(self, message_id: str) -> list[EventRow]: ...

    def sessions_by_operator(self, operator: str) -> list[str]: ...

    # -- the transparency log's tree, as an append needs it --------------------

    def log_state(self) -> TreeState: ...

    def log_nodes(self, wanted: Sequence[NodeId]) -> dict[NodeId, bytes]:
        """The stored hashes of aligned subtrees (each read from the leaf where it ends)."""
        ...

    # -- what a database-wide verification reads besides the chains --------

    def event_row_count(self) -> int: ...

    def event_counts(self) -> dict[str, int]: ...

    def misplaced_events(self, session_id: str) -> list[dict[str, Any]]: ...

    def event_id_count(self, event_id: str) -> int: ...

    # -- blobs: bytes a line edit took out of (or put into) a transcript -----

    def put_blobs(self, blobs: Mapping[str, bytes]) -> None:
        """Store each blob under its SHA-256; a blob already stored is kept as it is."""
        ...

    def get_blobs(self, blob_ids: Sequence[str]) -> dict[str, bytes]:
        """The stored blobs among `blob_ids` (missing ones are absent)."""
        ...

    def schema_drift(self) -> list[str]:
        """How the live schema guards differ from the schema files' (one line each)."""
        ...

    # -- materialized views ----------------------------------------------------

    def get_view(self, session_id: str) -> ViewRow | None: ...

    def put_view(self, view: ViewRow) -> None: ...

    def put_view_if_current(self, view: ViewRow) -> bool:
        """Store `view` unless events were appended past its through_seq meanwhile."""
        ...

    def view_summaries(self) -> list[dict[str, Any]]: ...

    def view_summary(self, session_id: str) -> dict[str, Any] | None:
        """One view's `view_summaries` row (no parent maps), None without a view."""
        ...

    def mark_view(
        self,
        session_id: str,
        *,
        drift_detected: bool,
        drift_report: Mapping[str, Any] | None,
        updated_at: str,
    ) -> None:
        """Set a stored view's drift flags, its maps untouched (nothing without a view)."""
        ...

    # -- plain records (job runs, integrity reports, archive checkpoints) ----

    def add_rows(
        self, table: str, rows: Sequence[Mapping[str, Any]], *, key: Sequence[str] = ()
    ) -> None: ...

    def rows(
        self,
        table: str,
        *,
        where: Mapping[str, Any] | None = None,
        newest_first_by: str | None = None,
        limit: int | None = None,
    ) -> list[dict[str, Any]]: ...
