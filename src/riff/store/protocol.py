"""The storage protocol the rest of riff depends on (append, read a session
from a seq, heads, sessions, materialized view get/put; docs/architecture.md)."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from types import TracebackType
from typing import Any, Protocol, runtime_checkable

from riff.events import ChainHead, EventDraft, RepairEvent


@dataclass(frozen=True, slots=True)
class SourceFingerprint:
    """The transcript file a view was built from: enough to explain drift."""

    path: str
    size: int
    mtime_ns: int
    sha256: str


@dataclass(frozen=True, slots=True)
class ViewRecord:
    """One row of `sessions_materialized`: derived state, rebuildable from the log."""

    session_id: str
    base_parents: Mapping[str, str | None]
    parents: Mapping[str, str | None]
    timestamps: Mapping[str, str | None]
    through_seq: int
    head_digest: str
    materialization_digest: str
    updated_at: str
    is_stale: bool = False
    drift_detected: bool = False
    drift_report: Mapping[str, Any] | None = None
    source: SourceFingerprint | None = None
    extra: Mapping[str, Any] = field(default_factory=dict)

    def evolve(self, **changes: Any) -> ViewRecord:
        return replace(self, **changes)


@runtime_checkable
class EventStore(Protocol):
    """What riff.app needs of a store, and every backend offers (tests/store/test_contract.py).

    A recorder: it appends rows and reads them back, keeps each session's head,
    the materialized views and the jobs' own records. What an event may be
    (validation, revert rules, folding) is decided above it, in riff.app.
    """

    @property
    def url(self) -> str: ...

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
        self,
        session_id: str,
        drafts: Sequence[EventDraft],
        expected_head: ChainHead | int | None = None,
    ) -> list[RepairEvent]: ...

    def events(self, session_id: str, from_seq: int = 1) -> Iterator[RepairEvent]: ...

    def all_events(self) -> Iterator[RepairEvent]: ...

    def event(self, event_id: str) -> RepairEvent | None: ...

    def head(self, session_id: str) -> ChainHead: ...

    def head_row(self, session_id: str) -> ChainHead | None:
        """Where riff's own appends left the session's chain (None: never appended to)."""
        ...

    def heads(self) -> dict[str, ChainHead]: ...

    def sessions(self) -> list[str]: ...

    def count(self, session_id: str | None = None) -> int: ...

    def reverted_ids(self, session_id: str | None = None) -> set[str]: ...

    def events_for_message(self, message_id: str) -> list[RepairEvent]: ...

    def sessions_by_operator(self, operator: str) -> list[str]: ...

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

    def get_view(self, session_id: str) -> ViewRecord | None: ...

    def put_view(self, view: ViewRecord) -> None: ...

    def put_view_if_current(self, view: ViewRecord) -> bool: ...

    def view_summaries(self) -> list[dict[str, Any]]: ...

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
