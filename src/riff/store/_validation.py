"""Pre-append validation of a repair (spec: "Validation before append").

The rules live in `riff.transcript.validation.validate_repair`; this module
imports it lazily and keeps a minimal stand-in for as long as that module is
not in the tree, so the store is usable and testable on its own.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

Validator = Callable[
    [Mapping[str, str | None], Mapping[str, str | None], str, str | None], list[str]
]


def validator() -> Validator:
    try:
        from riff.transcript.validation import validate_repair
    except ImportError:
        return fallback_validate_repair
    return validate_repair


def fallback_validate_repair(
    parents: Mapping[str, str | None],
    timestamps: Mapping[str, str | None],
    message_id: str,
    new_parent: str | None,
) -> list[str]:
    problems: list[str] = []
    if message_id not in parents:
        return [f"message {message_id} is not in the session"]
    if new_parent is None:
        return problems
    if new_parent not in parents:
        return [f"new parent {new_parent} is not in the session"]
    if new_parent == message_id:
        return [f"message {message_id} cannot be its own parent"]
    seen: set[str] = set()
    node: str | None = new_parent
    while node is not None and node not in seen:
        if node == message_id:
            problems.append(f"new parent {new_parent} descends from message {message_id} (a cycle)")
            break
        seen.add(node)
        node = parents.get(node)
    parent_time, own_time = timestamps.get(new_parent), timestamps.get(message_id)
    if parent_time and own_time and parent_time > own_time:
        problems.append(
            f"new parent {new_parent} is later ({parent_time}) than the message ({own_time})"
        )
    return problems
