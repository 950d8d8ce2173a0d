"""A materialized view's value: what riff.views computes and the store keeps as a row."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any


@dataclass(frozen=True, slots=True)
class SourceFingerprint:
    """The transcript file a view was built from: enough to explain drift."""

    path: str
    size: int
    mtime_ns: int
    sha256: str


@dataclass(frozen=True, slots=True)
class ViewRecord:
    """One session's derived state, rebuildable from its transcript and its log."""

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

    def to_row(self) -> dict[str, Any]:
        """The view as a plain row (the store's `sessions_materialized` columns).

        The maps are the view's own, not copies (a session's maps hold every
        message): the store reads them, and an in-memory store copies what it keeps.
        """
        row: dict[str, Any] = {
            "session_id": self.session_id,
            "base_parents": self.base_parents,
            "parents": self.parents,
            "timestamps": self.timestamps,
            "through_seq": self.through_seq,
            "head_digest": self.head_digest,
            "materialization_digest": self.materialization_digest,
            "is_stale": self.is_stale,
            "drift_detected": self.drift_detected,
            "updated_at": self.updated_at,
        }
        if self.drift_report is not None:
            row["drift_report"] = dict(self.drift_report)
        if self.source is not None:
            row["source_path"] = self.source.path
            row["source_size"] = self.source.size
            row["source_mtime_ns"] = self.source.mtime_ns
            row["source_sha256"] = self.source.sha256
        return row

    @classmethod
    def from_row(cls, row: Mapping[str, Any]) -> ViewRecord:
        source = None
        if row.get("source_path") is not None:
            source = SourceFingerprint(
                path=row["source_path"],
                size=int(row.get("source_size") or 0),
                mtime_ns=int(row.get("source_mtime_ns") or 0),
                sha256=row.get("source_sha256") or "",
            )
        return cls(
            session_id=row["session_id"],
            # The store's row is the caller's to give away: its maps are kept, not copied.
            base_parents=row.get("base_parents") or {},
            parents=row.get("parents") or {},
            timestamps=row.get("timestamps") or {},
            through_seq=int(row["through_seq"]),
            head_digest=row["head_digest"],
            materialization_digest=row["materialization_digest"],
            updated_at=row["updated_at"],
            is_stale=bool(row.get("is_stale", False)),
            drift_detected=bool(row.get("drift_detected", False)),
            drift_report=row.get("drift_report"),
            source=source,
        )


__all__ = ["SourceFingerprint", "ViewRecord"]
