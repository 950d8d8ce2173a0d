"""Reverts: undo is a new event that mirrors the one it undoes."""

from __future__ import annotations

from collections.abc import Sequence

from riff.events.chain import ChainHead, Clock, EventDraft, seal_event, utc_now
from riff.events.errors import RevertError
from riff.events.fold import SessionFold
from riff.events.line_edit import mirror_edit
from riff.events.model import EventKind, RepairEvent


def revert_draft(target: RepairEvent, *, operator: str, reason: str = "") -> EventDraft:
    """The draft of a revert of `target`: parents swapped, null restored as null."""
    return EventDraft(
        message_id=target.message_id,
        old_parent_uuid=target.new_parent_uuid,
        new_parent_uuid=target.old_parent_uuid,
        operator=operator,
        reason=reason,
        similarity_score=None,
        validation_passed=True,
        kind=EventKind.REVERT,
        reverts_event_id=target.event_id,
        edit=None if target.edit is None else mirror_edit(target.edit),
    )


def check_revert_allowed(target: RepairEvent, log: Sequence[RepairEvent]) -> None:
    """Raise RevertError unless the spec allows reverting `target` after `log`."""
    fold = SessionFold(target.session_id)
    for event in sorted(log, key=lambda e: e.seq):
        if event.session_id == target.session_id:
            fold.apply(event.to_dict())
    if not fold.knows(target.event_id):
        raise RevertError(f"event {target.event_id} is not in session {target.session_id}'s log")
    problem = fold.revert_problem(revert_draft_payload(target))
    if problem:
        raise RevertError(f"cannot revert {target.event_id}: it {problem}")


def revert_draft_payload(target: RepairEvent) -> dict[str, object]:
    return {
        "message_id": target.message_id,
        "old_parent_uuid": target.new_parent_uuid,
        "new_parent_uuid": target.old_parent_uuid,
        "reverts_event_id": target.event_id,
        "edit": None if target.edit is None else mirror_edit(target.edit),
    }


def create_revert_event(
    target: RepairEvent,
    log: Sequence[RepairEvent],
    *,
    operator: str,
    reason: str = "",
    clock: Clock = utc_now,
) -> RepairEvent:
    """Seal a revert of `target` onto the end of its session's `log`.

    Allowed only while `target` is not reverted and its message still hangs
    where `target` put it (a later move must be reverted first). A revert of a
    revert re-applies the original event.
    """
    check_revert_allowed(target, log)
    session_log = [e for e in log if e.session_id == target.session_id]
    last = max(session_log, key=lambda e: e.seq)
    head = ChainHead(target.session_id, last.seq, last.event_digest)
    return seal_event(head, revert_draft(target, operator=operator, reason=reason), clock=clock)
