"""The fold over one session's log, shared by replay and verification.

It applies events in seq order, tracks each message's current parent and each
event's derived reverted status, and reports what the spec forbids. Status is
updated incrementally (reverting a revert re-applies its target, and so on
down a chain of reverts) so one pass suffices.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Final

_UNKNOWN: Final = object()


@dataclass(frozen=True, slots=True)
class ChainBreak:
    """One place where a log is not what the spec requires."""

    session_id: str
    seq: int | None
    event_id: str | None
    problem: str
    detail: str

    def to_dict(self) -> dict[str, Any]:
        return {
            "session_id": self.session_id,
            "seq": self.seq,
            "event_id": self.event_id,
            "problem": self.problem,
            "detail": self.detail,
        }

    def __str__(self) -> str:
        where = f"session {self.session_id}"
        if self.seq is not None:
            where += f" seq {self.seq}"
        if self.event_id:
            where += f" event {self.event_id}"
        return f"{where}: {self.problem}: {self.detail}"


@dataclass(frozen=True, slots=True)
class Divergence:
    """An event whose `old_parent_uuid` is not the parent the message had at that point."""

    session_id: str
    seq: int
    event_id: str
    message_id: str
    recorded_old_parent: str | None
    actual_parent: str | None


@dataclass(slots=True)
class _EventInfo:
    message_id: str
    old_parent: str | None
    new_parent: str | None
    reverts: str | None
    is_repair: bool
    seq: int
    edit: Mapping[str, Any] | None = None


@dataclass(slots=True)
class SessionFold:
    """Running state of one session's log.

    `base_parents` is the source transcript's parent map when known (replay);
    without it (verifying an export) a message's parent is first learnt from
    the `old_parent_uuid` of its first event.
    """

    session_id: str
    base_parents: Mapping[str, str | None] | None = None
    head_seq: int = 0
    head_digest: str = "0" * 64
    applied: int = 0
    parents: dict[str, str | None] = field(default_factory=dict)
    divergences: list[Divergence] = field(default_factory=list)
    _events: dict[str, _EventInfo] = field(default_factory=dict)
    _by_message: dict[str, list[str]] = field(default_factory=dict)
    _line_edits: list[str] = field(default_factory=list)
    """Format-2 line edits (and their reverts) in seq order: they form one stack per file."""
    _active_reverters: dict[str, int] = field(default_factory=dict)

    def current_parent(self, message_id: str) -> object:
        if message_id in self.parents:
            return self.parents[message_id]
        if self.base_parents is not None and message_id in self.base_parents:
            return self.base_parents[message_id]
        return _UNKNOWN

    def is_reverted(self, event_id: str) -> bool:
        return self._active_reverters.get(event_id, 0) > 0

    def knows(self, event_id: str) -> bool:
        return event_id in self._events

    def reverted_ids(self) -> set[str]:
        return {eid for eid, count in self._active_reverters.items() if count > 0}

    def seq_of(self, event_id: str) -> int | None:
        info = self._events.get(event_id)
        return info.seq if info else None

    def reverted_repair_count(self) -> int:
        return sum(
            1
            for eid, count in self._active_reverters.items()
            if count > 0 and eid in self._events and self._events[eid].is_repair
        )

    def active_repair_ids(self) -> list[str]:
        return [
            eid
            for eid, info in self._events.items()
            if info.is_repair and not self.is_reverted(eid)
        ]

    def revert_problem(self, event: Mapping[str, Any]) -> str | None:
        """Why a revert may not be appended here, or None when it may."""
        target_id = event["reverts_event_id"]
        target = self._events.get(target_id)
        if (
            target is not None
            and not self.is_reverted(target_id)
            and (target.edit is not None or event.get("edit") is not None)
        ):
            return self._line_revert_problem(target_id, target, event)
        return self.revert_problem_fields(
            event["reverts_event_id"],
            event["message_id"],
            event["old_parent_uuid"],
            event["new_parent_uuid"],
        )

    def revert_problem_fields(
        self, target_id: str, message_id: str, old_parent: str | None, new_parent: str | None
    ) -> str | None:
        """:meth:`revert_problem` of a revert given by its fields."""
        target = self._events.get(target_id)
        if target is None:
            return f"reverts {target_id}, which is not an earlier event of this session"
        if self.is_reverted(target_id):
            return f"reverts {target_id}, which is already reverted"
        if target.edit is not None:
            return f"reverts the line edit {target_id} without its mirrored edit"
        if target.message_id != message_id:
            return f"reverts {target_id}, which re-parented another message ({target.message_id})"
        if (old_parent, new_parent) != (target.new_parent, target.old_parent):
            return (
                f"does not mirror {target_id}: expected old={target.new_parent} "
                f"new={target.old_parent}"
            )
        current = self.current_parent(target.message_id)
        if current is not _UNKNOWN and current != target.new_parent:
            return (
                f"message {target.message_id} was moved again after {target_id}; "
                "revert the later event first"
            )
        blocker = self._later_move(target)
        if blocker is not None:
            return (
                f"message {target.message_id} was moved again by seq {blocker.seq} after "
                f"{target_id}; revert that one first"
            )
        return None

    def _line_revert_problem(
        self, target_id: str, target: _EventInfo, event: Mapping[str, Any]
    ) -> str | None:
        from riff.events.line_edit import mirror_edit

        if target.edit is None or event.get("edit") != mirror_edit(target.edit):
            return f"does not mirror the line edit of {target_id}"
        # Edits name line numbers of the file as the previous edit left it, so
        # they undo like a stack: a later effective edit must be reverted first.
        for event_id in reversed(self._line_edits):
            info = self._events[event_id]
            if info.seq <= target.seq:
                return None
            if self.is_reverted(event_id):
                continue
            if info.reverts is not None:
                undone = self._events.get(info.reverts)
                if undone is not None and undone.seq > target.seq:
                    continue
            return (
                f"the file was edited again by seq {info.seq} after {target_id}; "
                "revert that one first"
            )
        return None

    def _later_move(self, target: _EventInfo) -> _EventInfo | None:
        """A later, still effective event on the message that reverting `target` would bypass.

        Reverts of events that are themselves later than `target` undo moves
        made after it, so they do not count; anything else that is not
        reverted does. This keeps every message's history a stack, so the
        derived status and the parent map never disagree.
        """
        for event_id in reversed(self._by_message.get(target.message_id, [])):
            info = self._events[event_id]
            if info.seq <= target.seq:
                return None
            if self.is_reverted(event_id):
                continue
            if info.reverts is not None:
                undone = self._events.get(info.reverts)
                if undone is not None and undone.seq > target.seq:
                    continue
            return info
        return None

    def apply(self, event: Mapping[str, Any]) -> None:
        """Apply one event (a dict of the spec's fields) in seq order."""
        if event.get("edit") is not None:
            self._apply_line_edit(event)
            return
        self.apply_fields(
            event["message_id"],
            event["event_id"],
            event["seq"],
            event["old_parent_uuid"],
            event["new_parent_uuid"],
            event["reverts_event_id"],
            event["event_digest"],
        )

    def apply_fields(
        self,
        message_id: str,
        event_id: str,
        seq: int,
        old_parent: str | None,
        new_parent: str | None,
        target_id: str | None,
        digest: str,
    ) -> None:
        """:meth:`apply` of an event given by its fields (no mapping built per event)."""
        current = self.current_parent(message_id)
        if current is not _UNKNOWN and current != old_parent:
            self.divergences.append(
                Divergence(
                    self.session_id,
                    seq,
                    event_id,
                    message_id,
                    old_parent,
                    current,  # type: ignore[arg-type]
                )
            )
        self.parents[message_id] = new_parent
        self._events[event_id] = _EventInfo(
            message_id, old_parent, new_parent, target_id, target_id is None, seq
        )
        self._by_message.setdefault(message_id, []).append(event_id)
        if target_id is not None and target_id in self._events:
            self._add_reverter(target_id)
        self.applied += 1
        self.head_seq = seq
        self.head_digest = digest

    def _apply_line_edit(self, event: Mapping[str, Any]) -> None:
        """A line edit moves no parent: it joins the file's stack of edits."""
        event_id = event["event_id"]
        target_id = event["reverts_event_id"]
        self._events[event_id] = _EventInfo(
            event["message_id"],
            None,
            None,
            target_id,
            target_id is None,
            event["seq"],
            event["edit"],
        )
        self._line_edits.append(event_id)
        if target_id is not None and target_id in self._events:
            self._add_reverter(target_id)
        self.applied += 1
        self.head_seq = event["seq"]
        self.head_digest = event["event_digest"]

    def _add_reverter(self, target_id: str) -> None:
        # A counts flip (0 <-> 1) changes the target's status, which in turn
        # changes whether the target, if it is a revert, still counts against
        # its own target. Walk that chain iteratively.
        becomes_reverted = True
        node: str | None = target_id
        while node is not None:
            count = self._active_reverters.get(node, 0) + (1 if becomes_reverted else -1)
            self._active_reverters[node] = count
            flipped = count == 1 if becomes_reverted else count == 0
            if not flipped:
                return
            info = self._events.get(node)
            if info is None or info.reverts is None:
                return
            # `node` is a revert: reverted now means its target no longer is.
            node = info.reverts
            becomes_reverted = not becomes_reverted
