"""Recording repairs: the one place that validates, folds and checks revert rules.

The store records rows and reads them back; what a repair or a revert may be
is the domain's rule (riff.transcript.validation, riff.events.revert), and
this module is where the two meet, once for the CLI, the TUI and the jobs.
"""

from __future__ import annotations

from collections.abc import Mapping

from riff.app.errors import AppError
from riff.events import (
    ChainHead,
    EventDraft,
    RepairEvent,
    RevertError,
    SessionFold,
    check_revert_allowed,
    revert_draft,
)
from riff.store import NoViewError, RepairRefusedError
from riff.store.protocol import EventStore
from riff.transcript.validation import validate_repair

FORCE_NEEDS_A_REASON = "--force records a repair that failed validation: say why with --reason"


def require_reason_for_force(force: bool, reason: str) -> None:
    """A repair forced past validation is recorded only with the operator's reason."""
    if force and not reason.strip():
        raise AppError(FORCE_NEEDS_A_REASON)


def require_storable_text(**fields: str) -> None:
    """The database cannot store a NUL character: refuse it, naming the field, before any append."""
    for name, value in fields.items():
        if "\x00" in value:
            raise AppError(f"{name} must not contain NUL characters; remove them and try again")


def current_state(
    store: EventStore, session_id: str
) -> tuple[dict[str, str | None], dict[str, str | None], int]:
    """(parents, timestamps, through_seq): the session's view plus the events after it."""
    view = store.get_view(session_id)
    if view is None:
        raise NoViewError(session_id)
    fold = SessionFold(session_id, view.parents)
    through = view.through_seq
    for event in store.events(session_id, from_seq=view.through_seq + 1):
        fold.apply(event.to_dict())
        through = event.seq
    parents = dict(view.parents)
    parents.update(fold.parents)
    return parents, dict(view.timestamps), through


def append_repair(
    store: EventStore,
    session_id: str,
    message_id: str,
    new_parent: str | None,
    *,
    operator: str,
    reason: str = "",
    score: float | None = None,
    parents: Mapping[str, str | None] | None = None,
    timestamps: Mapping[str, str | None] | None = None,
    force: bool = False,
    expected_head: int | None = None,
) -> RepairEvent:
    """Validate a re-parenting against the session's current state and append it.

    Without `parents`/`timestamps` the session's view (brought up to date
    with later events) supplies them. A repair that fails validation raises
    RepairRefusedError unless forced; forced, it is recorded with
    validation_passed=false and the problems in the reason.
    """
    require_storable_text(operator=operator, reason=reason)
    expected = expected_head
    if parents is None or timestamps is None:
        view_parents, view_times, expected = current_state(store, session_id)
        parents = view_parents if parents is None else parents
        timestamps = view_times if timestamps is None else timestamps
    problems = validate_repair(parents, timestamps, message_id, new_parent)
    if problems and not force:
        raise RepairRefusedError(message_id, problems)
    if problems:
        note = "forced; validation failed: " + "; ".join(problems)
        reason = f"{reason} [{note}]" if reason else note
    draft = EventDraft(
        message_id=message_id,
        old_parent_uuid=parents.get(message_id),
        new_parent_uuid=new_parent,
        operator=operator,
        reason=reason,
        similarity_score=score,
        validation_passed=not problems,
    )
    return store.append(session_id, [draft], expected_head=expected)[0]


def append_revert(
    store: EventStore, event_id: str, *, operator: str, reason: str = ""
) -> RepairEvent:
    """Append a revert of `event_id`; RevertError when the revert rules do not allow it."""
    require_storable_text(operator=operator, reason=reason)
    target = store.event(event_id)
    if target is None:
        raise RevertError(f"event {event_id} is not in the store; check the id")
    log = list(store.events(target.session_id))
    check_revert_allowed(target, log)
    draft = revert_draft(target, operator=operator, reason=reason)
    last = log[-1]
    head = ChainHead(target.session_id, last.seq, last.event_digest)
    return store.append(target.session_id, [draft], expected_head=head)[0]


__all__ = [
    "FORCE_NEEDS_A_REASON",
    "append_repair",
    "append_revert",
    "current_state",
    "require_reason_for_force",
    "require_storable_text",
]
