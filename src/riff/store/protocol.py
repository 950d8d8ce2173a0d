"""The storage protocol the rest of riff depends on (append, read a session
from a seq, heads, sessions, materialized view get/put; docs/architecture.md)."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
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
    """What every event store implementation offers (the contract tests hold it)."""

    def append(
        self,
        session_id: str,
        drafts: Sequence[EventDraft],
        expected_head: ChainHead | int | None = None,
    ) -> list[RepairEvent]: ...

    def events(self, session_id: str, from_seq: int = 1) -> Iterator[RepairEvent]: ...

    def head(self, session_id: str) -> ChainHead: ...

    def heads(self) -> dict[str, ChainHead]: ...

    def sessions(self) -> list[str]: ...

    def get_view(self, session_id: str) -> ViewRecord | None: ...

    def put_view(self, view: ViewRecord) -> None: ...
