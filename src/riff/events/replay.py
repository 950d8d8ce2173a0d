"""Replay: fold a session's events over the source transcript's parents."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from riff.events.canonical import calculate_session_digest
from riff.events.fold import ChainBreak, Divergence
from riff.events.model import GENESIS_DIGEST, RepairEvent
from riff.events.verify import ChainVerifier
from riff.maps import Overlay


@dataclass(frozen=True, slots=True)
class ReplayResult:
    session_id: str | None
    parents: Mapping[str, str | None]
    """`base_parents` itself when no event moved a parent (nothing here is changed in
    place: a million-message session's map is 40 MB a copy)."""
    applied_count: int
    through_seq: int
    active_event_ids: frozenset[str]
    reverted_event_ids: frozenset[str]
    divergences: tuple[Divergence, ...]
    head_digest: str
    chain_verified: bool
    breaks: tuple[ChainBreak, ...]

    @property
    def materialization_digest(self) -> str | None:
        if self.session_id is None:
            return None
        return calculate_session_digest(self.session_id, self.through_seq, self.parents)


def replay_repair_events(
    base_parents: Mapping[str, str | None],
    events: Iterable[RepairEvent],
    *,
    session_id: str | None = None,
) -> ReplayResult:
    """Fold one session's events, in seq order, over `base_parents`.

    Verifies every digest and link on the way; divergences (an event whose
    `old_parent_uuid` is not the parent at that point) are reported, and the
    event is still applied: replay never skips an event.
    """
    ordered = sorted(events, key=lambda e: e.seq)
    sessions = {e.session_id for e in ordered}
    if len(sessions) > 1:
        raise ValueError(f"replay takes one session's events, got {len(sessions)} sessions")
    sid = session_id or (next(iter(sessions)) if sessions else None)
    if sid is not None and sessions and sid not in sessions:
        raise ValueError(f"events belong to session {next(iter(sessions))}, not {sid}")
    verifier = ChainVerifier()
    fold = verifier.fold(sid or "")
    fold.base_parents = base_parents
    for event in ordered:
        verifier.feed(event.to_dict())
    result = verifier.finish()
    parents = Overlay(base_parents, fold.parents) if fold.parents else base_parents
    reverted = frozenset(fold.reverted_ids())
    return ReplayResult(
        session_id=sid,
        parents=parents,
        applied_count=fold.applied,
        through_seq=fold.head_seq,
        active_event_ids=frozenset(fold.active_repair_ids()),
        reverted_event_ids=reverted,
        divergences=tuple(fold.divergences),
        head_digest=fold.head_digest if fold.head_seq else GENESIS_DIGEST,
        chain_verified=result.ok,
        breaks=tuple(result.breaks),
    )
