"""Recording repairs: the one place that validates, folds and checks revert rules.

The store records rows and reads them back; what a repair or a revert may be
is the domain's rule (riff.transcript.validation, riff.events.revert), and
this module is where the two meet, once for the CLI, the TUI and the jobs.

A re-link is validated once: `check_relink` is the only call of the domain's
validation in riff.app. A plan validates its items when it is made (their
`problems`), and `record_relinks` records what the plan decided, without
validating again, on the head the plan was made on (a ConcurrencyError if the
session moved since, so the plan's verdict still holds). `append_repair` is
the one-off path (a script, a test, a job): it validates and records in one.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol

from riff.app.errors import AppError
from riff.app.eventlog import EventLog
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


class CheckedRelink(Protocol):
    """A re-link a plan has validated (riff.app.repairs.PlannedRepair is one)."""

    @property
    def message_id(self) -> str: ...

    @property
    def old_parent(self) -> str | None: ...

    @property
    def new_parent(self) -> str | None: ...

    @property
    def score(self) -> float | None: ...

    @property
    def reason(self) -> str: ...

    @property
    def problems(self) -> list[str]: ...


def check_relink(
    parents: Mapping[str, str | None],
    timestamps: Mapping[str, str | None],
    message_id: str,
    new_parent: str | None,
) -> list[str]:
    """Why setting `message_id`'s parent to `new_parent` would be refused (empty: fine).

    The one validation of a re-link in riff.app; `parents` is the session as
    repaired so far (earlier items of the same plan included).
    """
    return validate_repair(parents, timestamps, message_id, new_parent)


def relink_draft(
    item: CheckedRelink, *, operator: str, reason: str = "", force: bool = False
) -> EventDraft:
    """The event a validated re-link becomes; a forced one carries its problems in the reason.

    RepairRefusedError when the item has problems and is not forced.
    """
    text = reason or item.reason
    if item.problems and not force:
        raise RepairRefusedError(item.message_id, item.problems)
    if item.problems:
        note = "forced; validation failed: " + "; ".join(item.problems)
        text = f"{text} [{note}]" if text else note
    return EventDraft(
        message_id=item.message_id,
        old_parent_uuid=item.old_parent,
        new_parent_uuid=item.new_parent,
        operator=operator,
        reason=text,
        similarity_score=item.score,
        validation_passed=not item.problems,
    )


def record_relinks(
    store: EventLog,
    session_id: str,
    items: Sequence[CheckedRelink],
    *,
    operator: str,
    reason: str = "",
    force: bool = False,
    expected_head: ChainHead | int | None = None,
) -> tuple[list[RepairEvent], list[tuple[str, list[str]]]]:
    """Record a plan's validated re-links in one append: (events, refused).

    Nothing is validated here (the plan did that, once); an item with problems
    is refused unless `force`. `expected_head` is the head the plan was made on.
    """
    require_storable_text(operator=operator, reason=reason)
    drafts: list[EventDraft] = []
    refused: list[tuple[str, list[str]]] = []
    for item in items:
        if item.problems and not force:
            refused.append((item.message_id, list(item.problems)))
            continue
        require_storable_text(reason=item.reason)
        drafts.append(relink_draft(item, operator=operator, reason=reason, force=force))
    return store.append(session_id, drafts, expected_head=expected_head), refused


def current_state(
    store: EventLog, session_id: str
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
    store: EventLog,
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
    item = _Relink(
        message_id,
        parents.get(message_id),
        new_parent,
        score,
        reason,
        check_relink(parents, timestamps, message_id, new_parent),
    )
    draft = relink_draft(item, operator=operator, force=force)
    return store.append(session_id, [draft], expected_head=expected)[0]


def append_revert(
    store: EventLog, event_id: str, *, operator: str, reason: str = ""
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


@dataclass(frozen=True, slots=True)
class _Relink:
    message_id: str
    old_parent: str | None
    new_parent: str | None
    score: float | None
    reason: str
    problems: list[str]


__all__ = [
    "FORCE_NEEDS_A_REASON",
    "CheckedRelink",
    "append_repair",
    "append_revert",
    "check_relink",
    "current_state",
    "record_relinks",
    "relink_draft",
    "require_reason_for_force",
    "require_storable_text",
]
