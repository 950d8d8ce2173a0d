"""Derived status: whether an event is reverted is computed from the log, never stored."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from riff.events.model import EventKind, RepairEvent


def reverted_event_ids(events: Sequence[RepairEvent]) -> set[str]:
    """Ids of the events that are reverted, given a log in seq order per session.

    E is reverted when a revert R of E exists and R is not itself reverted.
    Every revert of R comes after R, so walking the log backwards settles R's
    own status before R is used.
    """
    return reverted_ids_from_reverts(
        (event.event_id, event.reverts_event_id) for event in events if event.is_revert
    )


def reverted_ids_from_reverts(reverts: Iterable[tuple[str, str | None]]) -> set[str]:
    """Same as `reverted_event_ids`, from just the (event_id, reverts_event_id) of reverts."""
    reverted: set[str] = set()
    for revert_id, target_id in reversed(list(reverts)):
        if revert_id not in reverted and target_id is not None:
            reverted.add(target_id)
    return reverted


def is_reverted(event: RepairEvent, events: Sequence[RepairEvent]) -> bool:
    return event.event_id in reverted_event_ids(events)


def active_events(events: Sequence[RepairEvent]) -> list[RepairEvent]:
    """Repair events (not reverts) that are not reverted."""
    reverted = reverted_event_ids(events)
    return [e for e in events if e.kind == EventKind.REPAIR and e.event_id not in reverted]
