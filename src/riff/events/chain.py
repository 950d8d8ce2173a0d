"""Sealing events onto a session's hash chain."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import uuid_utils

from riff.events.canonical import compute_event_digest
from riff.events.model import (
    EVENT_FORMAT,
    EVENT_FORMAT_V2,
    GENESIS_DIGEST,
    EventKind,
    RepairEvent,
    format_event_timestamp,
)

Clock = Callable[[], datetime]


def utc_now() -> datetime:
    return datetime.now(UTC)


def generate_event_id() -> str:
    """A fresh UUIDv7: time-ordered, so ids sort roughly by creation time."""
    return str(uuid_utils.uuid7())


@dataclass(frozen=True, slots=True)
class ChainHead:
    """Where a session's chain ends: the last seq and its digest (0 / zeros when empty)."""

    session_id: str
    seq: int = 0
    digest: str = GENESIS_DIGEST

    def advanced_by(self, event: RepairEvent) -> ChainHead:
        return ChainHead(self.session_id, event.seq, event.event_digest)


@dataclass(frozen=True, slots=True)
class EventDraft:
    """What a caller decides; sealing adds id, seq, time and digests."""

    message_id: str
    old_parent_uuid: str | None
    new_parent_uuid: str | None
    operator: str
    reason: str = ""
    similarity_score: float | None = None
    validation_passed: bool = True
    kind: EventKind = EventKind.REPAIR
    reverts_event_id: str | None = None
    edit: Mapping[str, Any] | None = None
    """A line edit (format 2); re-parentings leave it None and stay format 1."""


def seal_event(
    head: ChainHead,
    draft: EventDraft,
    *,
    event_id: str | None = None,
    clock: Clock = utc_now,
) -> RepairEvent:
    """The next event of `head`'s session: seq + 1, linked to the head's digest."""
    payload: dict[str, Any] = {
        "format": EVENT_FORMAT if draft.edit is None else EVENT_FORMAT_V2,
        "event_id": event_id or generate_event_id(),
        "kind": str(draft.kind),
        "session_id": head.session_id,
        "seq": head.seq + 1,
        "timestamp": format_event_timestamp(clock()),
        "message_id": draft.message_id,
        "old_parent_uuid": draft.old_parent_uuid,
        "new_parent_uuid": draft.new_parent_uuid,
        "operator": draft.operator,
        "reason": draft.reason,
        "similarity_score": draft.similarity_score,
        "validation_passed": draft.validation_passed,
        "reverts_event_id": draft.reverts_event_id,
        "prev_digest": head.digest,
    }
    if draft.edit is not None:
        payload["edit"] = dict(draft.edit)
    return RepairEvent(**payload, event_digest=compute_event_digest(payload))


def seal_events(
    head: ChainHead, drafts: Iterable[EventDraft], *, clock: Clock = utc_now
) -> list[RepairEvent]:
    """Seal several drafts in order onto one chain."""
    sealed: list[RepairEvent] = []
    for draft in drafts:
        event = seal_event(head, draft, clock=clock)
        sealed.append(event)
        head = head.advanced_by(event)
    return sealed
