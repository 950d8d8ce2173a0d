"""Materialized views: a session's effective parent map, kept next to its log.

A view is derived state: `build_view` computes it from the base parents and
every event, `advance_view` applies only the events after its `through_seq`
(read by seq, never by timestamp), and `drift_of` recomputes from scratch
(and from the transcript on disk when given) to find a view or file that no
longer matches the log. Pure functions: riff.app reads the events and the
stored view, hands them in, and stores what comes back (riff.app.viewstore).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from itertools import chain, compress, filterfalse
from operator import and_, ne
from pathlib import Path
from typing import Any

from riff.errors import RiffError
from riff.events import RepairEvent, SessionFold, calculate_session_digest, replay_repair_events
from riff.maps import Overlay, differing_keys, key_test, values_for
from riff.views.record import SourceFingerprint, ViewRecord
from riff.views.source import SourceState, read_source


class ViewChainError(RiffError):
    """The log after a view's through_seq does not continue the view's head."""


def build_view(
    session_id: str, source: SourceState, events: Iterable[RepairEvent], *, now: str
) -> ViewRecord:
    """A session's view from its base state and all of its events (in seq order).

    The view shares the source's maps (and the replay's parents are the source's
    when no event moved one): none of them is changed in place, and a copy of a
    million-message session's map is 40 MB.
    """
    result = replay_repair_events(source.parents, events, session_id=session_id)
    return ViewRecord(
        session_id=session_id,
        base_parents=source.parents,
        parents=result.parents,
        timestamps=source.timestamps,
        through_seq=result.through_seq,
        head_digest=result.head_digest,
        materialization_digest=calculate_session_digest(
            session_id, result.through_seq, result.parents
        ),
        updated_at=now,
        source=source.fingerprint,
    )


def advance_view(view: ViewRecord, later: Iterable[RepairEvent], *, now: str) -> ViewRecord:
    """`view` with the events after its through_seq applied (the same view when none).

    Costs what the new events and the parent map cost, not the log's length.
    Raises ViewChainError if the events do not continue the view's head
    (rebuild then).
    """
    session_id = view.session_id
    fold = SessionFold(session_id, view.parents)
    fold.head_seq, fold.head_digest = view.through_seq, view.head_digest
    for event in later:
        if event.seq != fold.head_seq + 1 or event.prev_digest != fold.head_digest:
            raise ViewChainError(
                f"session {session_id}: event seq {event.seq} does not continue the view at "
                f"seq {fold.head_seq}; rebuild the view"
            )
        fold.apply(event.to_dict())
    if fold.applied == 0 and not view.is_stale:
        return view
    parents = Overlay(view.parents, fold.parents)  # not a copy of every message's parent
    return view.evolve(
        parents=parents,
        through_seq=fold.head_seq,
        head_digest=fold.head_digest,
        materialization_digest=calculate_session_digest(session_id, fold.head_seq, parents),
        is_stale=False,
        updated_at=now,
    )


@dataclass(frozen=True, slots=True)
class DriftReport:
    """What differs between a stored view, a fresh replay and the transcript on disk."""

    session_id: str
    stored_digest: str | None
    recomputed_digest: str
    through_seq: int
    view_parents_differ: list[str] = field(default_factory=list)
    file_changed: bool = False
    file_parents_differ: list[str] = field(default_factory=list)
    new_messages: list[str] = field(default_factory=list)
    missing_messages: list[str] = field(default_factory=list)
    stored_fingerprint: dict[str, Any] | None = None
    file_fingerprint: dict[str, Any] | None = None
    chain_ok: bool = True
    problems: list[str] = field(default_factory=list)

    @property
    def drift_detected(self) -> bool:
        return bool(
            self.stored_digest != self.recomputed_digest
            or self.view_parents_differ
            or self.file_parents_differ
            or self.new_messages
            or self.missing_messages
            or not self.chain_ok
        )

    def summary(self) -> str:
        if not self.drift_detected:
            return f"session {self.session_id}: view matches the log through seq {self.through_seq}"
        parts: list[str] = []
        if self.stored_digest != self.recomputed_digest:
            parts.append(
                f"view digest {str(self.stored_digest)[:12]}… != replay "
                f"{self.recomputed_digest[:12]}…"
            )
        if self.view_parents_differ:
            parts.append(f"{len(self.view_parents_differ)} parents differ in the stored view")
        if self.new_messages:
            parts.append(f"{len(self.new_messages)} messages added to the file since the view")
        if self.missing_messages:
            parts.append(f"{len(self.missing_messages)} messages gone from the file")
        if self.file_parents_differ:
            parts.append(
                f"{len(self.file_parents_differ)} parents changed in the file outside riff"
            )
        if not self.chain_ok:
            parts.append("the event chain does not verify")
        return f"session {self.session_id}: drift: " + "; ".join(parts)

    def to_dict(self) -> dict[str, Any]:
        return {
            "session_id": self.session_id,
            "drift_detected": self.drift_detected,
            "summary": self.summary(),
            "stored_digest": self.stored_digest,
            "recomputed_digest": self.recomputed_digest,
            "through_seq": self.through_seq,
            "view_parents_differ": self.view_parents_differ,
            "file_changed": self.file_changed,
            "file_parents_differ": self.file_parents_differ,
            "new_messages": self.new_messages,
            "missing_messages": self.missing_messages,
            "stored_fingerprint": self.stored_fingerprint,
            "file_fingerprint": self.file_fingerprint,
            "chain_ok": self.chain_ok,
            "problems": self.problems,
        }


def _only_in_one(a: Mapping[str, str | None], b: Mapping[str, str | None]) -> list[str]:
    """The keys of one map the other lacks (the maps hold a key per message: C loops)."""
    return sorted(chain(filterfalse(key_test(b), a), filterfalse(key_test(a), b)))


def drift_of(
    view: ViewRecord,
    events: Iterable[RepairEvent],
    *,
    transcript: Path | str | SourceState | None = None,
) -> DriftReport:
    """Recompute the view from scratch and compare it with `view` (and the file).

    A file edited outside riff shows as changed parents; Claude Code appending
    to a session shows as new messages; a truncated file as missing messages.
    """
    session_id = view.session_id
    events = list(events)
    result = replay_repair_events(view.base_parents, events, session_id=session_id)
    # The stored digest is compared at its own through_seq: a view that is merely
    # behind the log is stale, not drifted.
    at_view = result
    if view.through_seq != result.through_seq:
        at_view = replay_repair_events(
            view.base_parents,
            [e for e in events if e.seq <= view.through_seq],
            session_id=session_id,
        )
    expected_at_view = calculate_session_digest(session_id, at_view.through_seq, at_view.parents)
    problems = [str(b) for b in result.breaks]
    file_changed = False
    file_parents_differ: list[str] = []
    new_messages: list[str] = []
    missing_messages: list[str] = []
    file_fp: dict[str, Any] | None = None
    if transcript is not None:
        source = transcript if isinstance(transcript, SourceState) else read_source(transcript)
        if source.fingerprint is not None:
            file_fp = _fp_dict(source.fingerprint)
            if view.source is not None:
                file_changed = (
                    source.fingerprint.size != view.source.size
                    or source.fingerprint.sha256 != view.source.sha256
                )
        base, in_file = view.base_parents, source.parents
        new_messages = sorted(filterfalse(key_test(base), in_file))
        missing_messages = sorted(filterfalse(key_test(in_file), base))
        # The file should hold either the base parents (repairs not yet written
        # to it) or the repaired ones; anything else was edited outside riff.
        common = list(filter(key_test(base), in_file))
        file_values = list(values_for(in_file, common))
        not_base = map(ne, file_values, values_for(base, common))
        not_repaired = map(ne, file_values, values_for(result.parents, common))
        file_parents_differ = sorted(compress(common, map(and_, not_base, not_repaired)))
    return DriftReport(
        session_id=session_id,
        stored_digest=view.materialization_digest,
        recomputed_digest=expected_at_view,
        through_seq=view.through_seq,
        view_parents_differ=sorted(differing_keys(view.parents, at_view.parents))
        + _only_in_one(view.parents, at_view.parents),
        file_changed=file_changed,
        file_parents_differ=file_parents_differ,
        new_messages=new_messages,
        missing_messages=missing_messages,
        stored_fingerprint=_fp_dict(view.source) if view.source is not None else None,
        file_fingerprint=file_fp,
        chain_ok=result.chain_verified,
        problems=problems,
    )


def marked_with(view: ViewRecord, report: DriftReport, *, now: str) -> ViewRecord:
    """`view` carrying what a drift check found (the report itself only when it drifted)."""
    return view.evolve(
        drift_detected=report.drift_detected,
        drift_report=report.to_dict() if report.drift_detected else None,
        updated_at=now,
    )


def _fp_dict(fp: SourceFingerprint) -> dict[str, Any]:
    return {"path": fp.path, "size": fp.size, "mtime_ns": fp.mtime_ns, "sha256": fp.sha256}


__all__ = [
    "DriftReport",
    "ViewChainError",
    "advance_view",
    "build_view",
    "drift_of",
    "marked_with",
]
