"""Is a proposed parent change safe? Pure checks shared by the engine and the event store."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Final

from riff.transcript.timestamps import CLOCK_SKEW_S, normalize_timestamp, seconds_between

UNKNOWN_MESSAGE: Final = "unknown_message"
UNKNOWN_PARENT: Final = "unknown_parent"
SELF_PARENT: Final = "self_parent"
CREATES_CYCLE: Final = "creates_cycle"
TIMESTAMP_ORDER: Final = "timestamp_order"


@dataclass(frozen=True)
class RepairProblem:
    """Why a repair is refused: a stable ``code`` for scripts, a ``message`` for people."""

    code: str
    message: str

    def __str__(self) -> str:
        return self.message


def check_repair(
    parents: Mapping[str, str | None],
    timestamps: Mapping[str, str | None],
    message_id: str,
    new_parent: str | None,
) -> list[RepairProblem]:
    """Every problem of setting ``message_id``'s parent to ``new_parent`` (empty = valid).

    ``parents`` is the session's (effective) parent map, ``timestamps`` the
    messages' timestamps; a missing timestamp never fails the check.
    """
    problems: list[RepairProblem] = []
    if message_id not in parents:
        problems.append(
            RepairProblem(
                UNKNOWN_MESSAGE, f"message {message_id} is not in this session; check the id"
            )
        )
    if new_parent is None:
        return problems
    if new_parent == message_id:
        problems.append(
            RepairProblem(SELF_PARENT, f"message {message_id} cannot be its own parent")
        )
        return problems
    if new_parent not in parents:
        problems.append(
            RepairProblem(
                UNKNOWN_PARENT,
                f"new parent {new_parent} is not a message of this session; pick one from "
                "`riff suggest`",
            )
        )
        return problems
    if _is_descendant(parents, new_parent, message_id):
        problems.append(
            RepairProblem(
                CREATES_CYCLE,
                f"new parent {new_parent} descends from {message_id}, so the change would "
                "make a cycle",
            )
        )
    child_ts = normalize_timestamp(timestamps.get(message_id))
    parent_ts = normalize_timestamp(timestamps.get(new_parent))
    # Real parents can be stamped a little after their child (clock skew, meta
    # and progress rows): only a parent later by more than that is refused.
    if (
        child_ts is not None
        and parent_ts is not None
        and parent_ts > child_ts
        and seconds_between(child_ts, parent_ts) > CLOCK_SKEW_S
    ):
        problems.append(
            RepairProblem(
                TIMESTAMP_ORDER,
                f"new parent {new_parent} ({parent_ts}) is later than message {message_id} "
                f"({child_ts}) by more than {CLOCK_SKEW_S:.0f} s of clock skew; a parent "
                "cannot come after its child",
            )
        )
    return problems


def _is_descendant(parents: Mapping[str, str | None], node: str, ancestor: str) -> bool:
    """Walk up from ``node``; a visited set stops an existing cycle from looping."""
    seen: set[str] = set()
    current: str | None = node
    while current is not None and current not in seen:
        if current == ancestor:
            return True
        seen.add(current)
        current = parents.get(current)
    return False


def validate_repair(
    parents: Mapping[str, str | None],
    timestamps: Mapping[str, str | None],
    message_id: str,
    new_parent: str | None,
) -> list[str]:
    """Human-readable problems of a proposed parent change (empty list = valid)."""
    return [str(problem) for problem in check_repair(parents, timestamps, message_id, new_parent)]
