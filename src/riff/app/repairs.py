"""Plan, apply, revert and write repairs: the one place the CLI, the TUI and jobs share."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from riff.app.auto_apply import auto_apply_threshold
from riff.app.display import signal_text
from riff.app.errors import AppError
from riff.app.live_files import note_own_write, refuse_if_live
from riff.app.recording import (
    append_revert,
    check_relink,
    record_relinks,
    require_reason_for_force,
)
from riff.app.revert_order import refuse_out_of_order_revert
from riff.app.sessions import (
    SessionState,
    current_view,
    ensure_view,
    load_session,
    repair_engine,
)
from riff.app.staged_write import StagedWrite
from riff.app.viewstore import rebuild as rebuild_view
from riff.app.viewstore import rebuild_after_append, save_after_append
from riff.app.viewstore import update as update_view
from riff.app.workspace import Workspace
from riff.events import ChainHead, RepairEvent
from riff.maps import Overlay
from riff.settings import Settings
from riff.transcript import (
    Candidate,
    TranscriptChangedError,
    WriteResult,
    apply_parent_changes,
    preview_parent_changes,
)


@dataclass
class PlannedRepair:
    message_id: str
    line: int | None
    old_parent: str | None
    new_parent: str | None
    score: float | None
    signals: dict[str, float] = field(default_factory=dict)
    reason: str = ""
    problems: list[str] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {
            "message_id": self.message_id,
            "line": self.line,
            "old_parent_uuid": self.old_parent,
            "new_parent_uuid": self.new_parent,
            "score": None if self.score is None else round(self.score, 4),
            "signals": {k: round(v, 4) for k, v in self.signals.items()},
            "reason": self.reason,
            "problems": self.problems,
        }


@dataclass
class Skipped:
    message_id: str
    reason: str

    def to_json(self) -> dict[str, str]:
        return {"message_id": self.message_id, "reason": self.reason}


@dataclass
class RepairPlan:
    state: SessionState
    items: list[PlannedRepair] = field(default_factory=list)
    skipped: list[Skipped] = field(default_factory=list)


def explain_candidate(candidate: Candidate) -> str:
    """A short, human reason from a candidate's strongest signals."""
    parts = signal_text(candidate.signals, limit=3)
    return f"riff suggestion (score {candidate.score:.2f}: {parts})"


def candidates_for(state: SessionState, message_id: str, k: int = 5) -> list[Candidate]:
    """Ranked parent candidates for a message in the session as repaired so far."""
    return repair_engine().suggest_parent_candidates(
        state.transcript,
        message_id,
        k,
        parent_overrides=state.pending_changes,
        known_uuids=state.scan.known_uuids,
    )


def orphan_candidates(state: SessionState, k: int = 3) -> list[tuple[str, int, list[Candidate]]]:
    """(message_id, line, ranked candidates) for every orphan of the session as repaired.

    Only messages a finding names: parents in the session's other files
    (subagent and compaction-agent files) are not missing.
    """
    return [
        (o.message_id, o.line, o.candidates)
        for o in repair_engine().suggest_all(
            state.transcript,
            k=k,
            parent_overrides=state.pending_changes,
            known_uuids=state.scan.known_uuids,
        )
    ]


def plan_item(
    state: SessionState,
    message_id: str,
    new_parent: str | None,
    *,
    candidate: Candidate | None = None,
    parents: Mapping[str, str | None] | None = None,
    line: int | None = None,
    by_hand: str = "",
) -> PlannedRepair:
    """One planned re-parenting, with its evidence and the problems validation finds."""
    parents = state.parents if parents is None else parents
    if line is None:
        line = _line(state, message_id)
    item = PlannedRepair(
        message_id,
        line,
        parents.get(message_id),
        new_parent,
        candidate.score if candidate else None,
        dict(candidate.signals) if candidate else {},
        explain_candidate(candidate) if candidate else by_hand,
    )
    item.problems = check_relink(parents, state.timestamps, message_id, new_parent)
    return item


def resolve_message(state: SessionState, ref: str, what: str) -> str:
    """A message uuid of the session from a full uuid or a unique prefix."""
    if ref in state.records_by_uuid:
        return ref
    matches = [u for u in state.records_by_uuid if u.startswith(ref)]
    if len(matches) == 1:
        return matches[0]
    if not matches:
        raise AppError(
            f"{what} {ref!r} is not a message of session {state.session_id}; "
            f"see `riff show {state.session_id[:8]}` for its uuids"
        )
    raise AppError(f"{what} {ref!r} matches {len(matches)} messages; give more characters")


def plan_repairs(
    state: SessionState,
    *,
    min_score: float,
    message: str | None = None,
    parent: str | None = None,
    root: bool = False,
) -> RepairPlan:
    """What riff would do: best candidates above `min_score`, or one repair by hand."""
    plan = RepairPlan(state)
    accepted: dict[str, str | None] = {}
    parents = Overlay(state.parents, accepted)  # later items see earlier ones; no copy
    if message is not None:
        message_id = resolve_message(state, message, "message")
        if parent is None and not root:
            candidates = candidates_for(state, message_id, 1)
            if not candidates:
                raise AppError(f"no parent candidate for {message_id}; give --parent UUID")
            item = plan_item(state, message_id, candidates[0].parent_uuid, candidate=candidates[0])
        else:
            new_parent = None if root else resolve_message(state, parent or "", "parent")
            item = plan_item(state, message_id, new_parent)
        plan.items.append(item)
        return plan

    for message_id, line, candidates in orphan_candidates(state, k=3):
        if not candidates:
            plan.skipped.append(Skipped(message_id, "no parent candidate at all"))
            continue
        best = candidates[0]
        if best.score < min_score:
            plan.skipped.append(
                Skipped(
                    message_id,
                    f"best candidate scores {best.score:.2f}, below --min-score {min_score:.2f}",
                )
            )
            continue
        item = plan_item(
            state, message_id, best.parent_uuid, candidate=best, parents=parents, line=line
        )
        if not item.problems:  # an orphan is a message of the file: a key of the base
            accepted[item.message_id] = best.parent_uuid
        plan.items.append(item)
    return plan


def _line(state: SessionState, message_id: str) -> int | None:
    record = state.records_by_uuid.get(message_id)
    return record.line if record else None


@dataclass
class ApplyResult:
    events: list[RepairEvent] = field(default_factory=list)
    refused: list[Skipped] = field(default_factory=list)
    written: WriteResult | None = None


def check_file_unchanged(state: SessionState) -> None:
    """Refuse when the transcript changed since it was read (Claude Code still writing)."""
    path = state.file.path
    fp = state.transcript.fingerprint
    try:
        stat = os.stat(path)
    except OSError as exc:
        raise AppError(f"{path}: {exc.strerror}; nothing was changed") from None
    if stat.st_size != fp.size or stat.st_mtime_ns != fp.mtime_ns:
        raise TranscriptChangedError(path, "size or modification time differ")


def apply_plan(
    ws: Workspace,
    plan: RepairPlan,
    *,
    operator: str,
    reason: str = "",
    force: bool = False,
    write: bool = False,
    backup: bool = True,
    force_live: bool = False,
) -> ApplyResult:
    """Record the plan's repairs as events, then optionally write the file.

    The plan's items were validated when it was made (plan_item); they are
    recorded as they are, in one append on the head the plan was read at, so
    a session that moved since is refused (ConcurrencyError), never recorded
    on a verdict that no longer holds.
    """
    require_reason_for_force(force, reason)
    state = plan.state
    check_file_unchanged(state)
    staged = None
    if write:
        refuse_live(ws, state.file.path, force_live=force_live)
        staged = _stage_write(state, plan, force=force)
    try:
        return _apply_plan(ws, plan, operator, reason, force, write, backup, staged)
    finally:
        if staged is not None:
            staged.discard()


def _stage_write(state: SessionState, plan: RepairPlan, *, force: bool) -> StagedWrite | None:
    """The file's rewrite started in another process (riff.app.staged_write), for the
    re-links the file will get if every item the plan records is recorded as planned."""
    changes = dict(state.pending_changes)
    file_parents = state.file_parents
    for item in plan.items:
        if (item.problems and not force) or item.message_id not in file_parents:
            continue
        if file_parents[item.message_id] != item.new_parent:
            changes[item.message_id] = item.new_parent
        else:
            changes.pop(item.message_id, None)
    if not changes or state.transcript.fingerprint.sha256 is None:
        return None
    return StagedWrite.start(state.file.path, changes, state.transcript.lines_of(changes))


def _apply_plan(
    ws: Workspace,
    plan: RepairPlan,
    operator: str,
    reason: str,
    force: bool,
    write: bool,
    backup: bool,
    staged: StagedWrite | None,
) -> ApplyResult:
    state = plan.state
    # The stored view when it is current. One to rebuild is built once, after the
    # append, past the new events: built before, it would digest every parent
    # twice, and stored before, it would be written whole, marked stale by the
    # append and read back.
    view = current_view(ws, state)
    result = ApplyResult()
    try:
        events, refused = record_relinks(
            ws.store,
            state.session_id,
            plan.items,
            operator=operator,
            reason=reason,
            force=force,
            expected_head=plan_head(state),
        )
    except BaseException:
        if view is None:  # as ensure_view would have stored it, before the append
            rebuild_view(ws.store, state.session_id, state.source_state())
        raise
    result.events = events
    result.refused = [Skipped(mid, "; ".join(problems)) for mid, problems in refused]
    # A record user cannot store views (root/owner only): theirs stays as it was.
    if result.events and view is None:
        whole_log = [*state.events, *result.events]
        rebuild_after_append(ws.store, state.session_id, state.source_state(), whole_log)
    elif result.events and view is not None:
        save_after_append(ws.store, view, result.events)
    elif view is None:
        rebuild_view(ws.store, state.session_id, state.source_state())
    if result.events:
        _checkpoint_if_asked(ws)
    if write:
        # The file was read once already (and is proven unchanged by its hash
        # when written): only the events are new.
        fresh = state.with_events(list(ws.store.events(state.session_id)))
        result.written = write_repaired_session(fresh, expected=state, backup=backup, staged=staged)
    return result


def plan_head(state: SessionState) -> ChainHead:
    """The session's head as the plan read it: where its events must go."""
    if not state.events:
        return ChainHead(state.session_id)
    last = state.events[-1]
    return ChainHead(state.session_id, last.seq, last.event_digest)


def refuse_live(ws: Workspace, path: Path | str, *, force_live: bool) -> None:
    """Before riff writes a transcript: refuse while another process writes it."""
    refuse_if_live(path, quiet_seconds=ws.settings.live_quiet_seconds, force_live=force_live)


def _checkpoint_if_asked(ws: Workspace) -> None:
    if ws.settings.checkpoint_on_change:
        from riff.app.checkpoints import checkpoint_after_change  # signing: only when asked

        checkpoint_after_change(ws)


def write_repaired_session(
    state: SessionState,
    *,
    expected: SessionState | None = None,
    backup: bool = True,
    staged: StagedWrite | None = None,
) -> WriteResult | None:
    """Write the effective parents into the transcript file (only parentUuid values change).

    `staged`: the rewrite made ahead in another process; used when it is of
    these very changes, else the file is rewritten here."""
    changes = state.pending_changes
    if not changes:
        return None
    scanned = expected or state
    written = apply_parent_changes(
        state.file.path,
        changes,
        scanned.transcript.fingerprint,
        backup=backup,
        lines=scanned.transcript.lines_of(changes),
        staged=staged.take(changes) if staged is not None else None,
    )
    note_own_write(written.path)
    return written


def write_and_reload(
    ws: Workspace, state: SessionState, *, backup: bool = True, force_live: bool = False
) -> tuple[WriteResult | None, SessionState]:
    """Write the repairs into the file, then read it again and bring its view up to date.

    The one way an interface writes a transcript: what it shows next is the
    file as written, and the view records the file's new fingerprint.
    """
    if state.pending_changes:
        refuse_live(ws, state.file.path, force_live=force_live)
    result = write_repaired_session(state, backup=backup)
    ws.forget_sessions()
    fresh = load_session(ws, state.file.path.as_posix())
    ensure_view(ws, fresh)
    return result, fresh


def preview_write(state: SessionState) -> str:
    return preview_parent_changes(state.file.path, state.pending_changes)


def revert_event(
    ws: Workspace,
    event_id: str,
    *,
    operator: str,
    reason: str = "",
    write: bool = False,
    backup: bool = True,
    force_live: bool = False,
) -> tuple[RepairEvent, WriteResult | None]:
    """Append a revert of `event_id`, refresh the view, and optionally rewrite the file."""
    target = find_event(ws, event_id)
    refuse_out_of_order_revert(ws, target)
    state = load_session(ws, session_file_for(ws, target.session_id)) if write else None
    if state is not None:
        check_file_unchanged(state)
        refuse_live(ws, state.file.path, force_live=force_live)
        ensure_view(ws, state)
    event = append_revert(ws.store, target.event_id, operator=operator, reason=reason)
    if ws.store.get_view(target.session_id) is not None:
        update_view(ws.store, target.session_id)
    _checkpoint_if_asked(ws)
    written = None
    if state is not None:
        fresh = load_session(ws, state.file)
        written = write_repaired_session(fresh, expected=state, backup=backup)
    return event, written


def find_event(ws: Workspace, ref: str) -> RepairEvent:
    """An event by id, or by a unique prefix of its id."""
    event = ws.store.event(ref)
    if event is not None:
        return event
    if len(ref) >= 8:
        matches = [e for e in ws.store.all_events() if e.event_id.startswith(ref)]
        if len(matches) == 1:
            return matches[0]
        if len(matches) > 1:
            raise AppError(f"event id prefix {ref!r} matches {len(matches)} events; give more")
    raise AppError(f"no event {ref!r} in the store {ws.store.url}; see `riff log` for event ids")


def session_file_for(ws: Workspace, session_id: str) -> str:
    """The transcript path a session's view was built from, else the session id to resolve."""
    return source_file_of(ws.store.view_summary(session_id)) or session_id


def source_file_of(summary: Mapping[str, Any] | None) -> str | None:
    """The transcript a view's summary row names, if it is still there (the view's maps,
    a million messages' worth for a big session, are not read to find it)."""
    path = summary.get("source_path") if summary is not None else None
    return path if isinstance(path, str) and os.path.isfile(path) else None


def apply_auto(settings: Settings, path: str | os.PathLike[str], *, operator: str) -> ApplyResult:
    """Append and write the repairs above the auto-apply threshold that pass validation."""
    with Workspace(settings) as ws:
        state = load_session(ws, str(path))
        plan = plan_repairs(state, min_score=auto_apply_threshold(settings))
        plan.items = [item for item in plan.items if not item.problems]
        if not plan.items and not state.pending_changes:
            return ApplyResult()
        return apply_plan(ws, plan, operator=operator, write=True)
