"""One repair plan for every kind a session needs: line edits, then re-links.

`riff repair`, the TUI and scripts build the same plan here:

1. plan: the line edits of the chosen kinds (torn lines, duplicates, unanswered
   tool calls; riff.app.line_repairs), then the parent re-links, planned on
   the file *as those edits leave it* (a row rescued from a torn line can be a
   parent; an inserted tool_result is one), so the two compose;
2. validate, once: the re-links' problems and every check in PLAN_CHECKS
   (a plan with problems is refused unless forced with a reason);
3. apply: the removed bytes go to the blob store, the events are appended on
   the head riff read (line edits first, in the order they apply, then the
   re-links), and with --write the file is replaced once: the line edits and
   the new parentUuid values in one atomic rewrite (backup, refused if the
   file changed since it was read or another process is writing it).

Line edits name line numbers of the file as the edits before them leave it;
re-links name messages by uuid, so they shift nothing. A revert undoes either
kind (riff.app.repairs.revert_event, riff.app.line_repairs.revert_line_edit).
"""

from __future__ import annotations

import dataclasses
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from riff.app.errors import AppError
from riff.app.line_repairs import (
    ALL_KIND_NAMES,
    KIND_NAMES,
    plan_line_repairs,
    read_checked,
    record_line_edits,
    reload_after_write,
)
from riff.app.line_repairs import parse_kinds as parse_kind_names
from riff.app.live_files import note_own_write
from riff.app.recording import append_repair, require_reason_for_force, require_storable_text
from riff.app.repairs import (
    ApplyResult,
    RepairPlan,
    Skipped,
    apply_plan,
    plan_repairs,
    refuse_live,
)
from riff.app.sessions import SessionState, session_events
from riff.app.workspace import Workspace
from riff.events import RepairEvent
from riff.events.line_edit import apply_edits
from riff.store import RepairRefusedError
from riff.transcript import WriteResult, scan_session
from riff.transcript.line_repairs import LinePlan
from riff.transcript.write import replace_file_bytes, replace_parents_in_bytes

PARENT = "parent"


class PlanRefusedError(AppError):
    """The plan fails validation; nothing was recorded or written."""

    exit_code = 1


@dataclass
class SessionRepairPlan:
    """Everything riff would do to one session, in the order it would do it."""

    state: SessionState
    """The session as read: the file's bytes the plan was made on."""
    kinds: tuple[str, ...]
    lines: LinePlan = field(default_factory=LinePlan)
    parents: RepairPlan | None = None
    """Re-links, planned on the file as the line edits leave it."""
    problems: list[str] = field(default_factory=list)
    """What validation found (empty: the plan may be applied)."""
    lines_deferred: bool = False
    """Planned without --write: the line edits are shown, not applied, and the
    re-links are planned on the file as it is."""
    _edited: SessionState | None = None
    """The file as the line edits leave it (a copy in a temporary directory)."""
    _workdir: tempfile.TemporaryDirectory[str] | None = None

    @property
    def session_id(self) -> str:
        return self.state.session_id

    @property
    def line_edits(self) -> int:
        return len(self.lines.edits)

    @property
    def relinks(self) -> int:
        return len(self.parents.items) if self.parents else 0

    @property
    def is_empty(self) -> bool:
        return not self.line_edits and not self.relinks

    @property
    def applicable_line_edits(self) -> int:
        return 0 if self.lines_deferred else self.line_edits

    @property
    def skipped(self) -> list[Skipped]:
        return list(self.parents.skipped) if self.parents else []

    @property
    def edited_state(self) -> SessionState:
        """The session the re-links were planned on (the file itself when no line edit)."""
        return self._edited or self.state

    def edited_bytes(self) -> bytes:
        """The file's bytes after the line edits (before the re-links)."""
        return Path(self.edited_state.file.path).read_bytes()

    def repaired_bytes(self) -> bytes:
        """The file as the whole plan would leave it (re-links as planned, none refused)."""
        changes = dict(self.edited_state.pending_changes)
        if self.parents:
            changes.update({i.message_id: i.new_parent for i in self.parents.items})
        data, _ = replace_parents_in_bytes(self.edited_bytes(), changes)
        return data

    def close(self) -> None:
        if self._workdir is not None:
            self._workdir.cleanup()
            self._workdir = None

    def to_json(self) -> dict[str, Any]:
        return {
            "kinds": list(self.kinds),
            "line_edits": [
                {
                    "kind": p.kind,
                    "message_id": p.message_id,
                    "line": p.edit.line,
                    "lines_removed": len(p.edit.removed),
                    "lines_inserted": len(p.edit.inserted),
                    "reason": p.reason,
                }
                for p in self.lines.edits
            ],
            "parent_repairs": [i.to_json() for i in self.parents.items] if self.parents else [],
            "skipped": [s.to_json() for s in self.skipped],
            "needs_decision": list(self.lines.needs_decision),
            "line_edits_need_write": self.lines_deferred and bool(self.lines.edits),
            "problems": list(self.problems),
        }


def plan_rows(plan: SessionRepairPlan) -> list[str]:
    """The plan as plain lines, in the order it applies (for a dialog or a log)."""
    rows = [
        f"line {p.edit.line:>6}  {p.kind:<18} -{len(p.edit.removed)} +{len(p.edit.inserted)}  "
        f"{p.reason}"
        for p in plan.lines.edits
    ]
    rows += [f"decide by hand: {note}" for note in plan.lines.needs_decision]
    if plan.parents is not None:
        rows += [
            f"line {item.line or '?':>6}  re-link {item.message_id[:8]} under "
            f"{(item.new_parent or 'none (root)')[:8]}"
            + (f"  score {item.score:.2f}" if item.score is not None else "")
            for item in plan.parents.items
        ]
        rows += [f"skipped {s.message_id[:8]}: {s.reason}" for s in plan.parents.skipped]
    return rows


PlanCheck = Callable[[SessionRepairPlan], list[str]]
"""A rule a whole plan must keep: the problems it finds (one line each), or []."""


def _relink_problems(plan: SessionRepairPlan) -> list[str]:
    if plan.parents is None:
        return []
    return [
        f"re-link of {item.message_id}: {problem}"
        for item in plan.parents.items
        for problem in item.problems
    ]


PLAN_CHECKS: list[PlanCheck] = [_relink_problems]
"""The validate step: every check runs once per plan, before anything is recorded.
A check that needs the file as repaired reads `plan.repaired_bytes()`."""


def parse_kinds(text: str | None) -> tuple[str, ...]:
    """`--kinds torn,parent` → the names, checked; None → every kind."""
    return ALL_KIND_NAMES if text is None else parse_kind_names(text)


def plan_session_repairs(
    ws: Workspace,
    state: SessionState,
    *,
    kinds: tuple[str, ...] = ALL_KIND_NAMES,
    min_score: float,
    message: str | None = None,
    parent: str | None = None,
    root: bool = False,
    write: bool = True,
) -> SessionRepairPlan:
    """Plan every repair of `kinds` for the session, then validate the plan once.

    Without `write` the line edits (which change the file's bytes) are planned
    to be shown but not applied, and the re-links are planned on the file as is.
    """
    plan = SessionRepairPlan(state, kinds)
    if any(name in KIND_NAMES for name in kinds):
        plan.lines = plan_line_repairs(state, kinds)
        plan.lines_deferred = not write and bool(plan.lines.edits)
    if PARENT in kinds:
        if plan.lines.edits and not plan.lines_deferred:
            plan._workdir = tempfile.TemporaryDirectory(prefix="riff-plan-")
            plan._edited = _edited_session(ws, plan, Path(plan._workdir.name))
        plan.parents = plan_repairs(
            plan.edited_state, min_score=min_score, message=message, parent=parent, root=root
        )
    validate(plan)
    return plan


def validate(plan: SessionRepairPlan) -> list[str]:
    """Run every check of PLAN_CHECKS on the plan; its problems, also kept on the plan."""
    plan.problems = [problem for check in PLAN_CHECKS for problem in check(plan)]
    return plan.problems


def _edited_session(ws: Workspace, plan: SessionRepairPlan, workdir: Path) -> SessionState:
    """The session as the line edits leave it, read from a copy (the file is not touched)."""
    state = plan.state
    edits = [p.edit.to_value() for p in plan.lines.edits]
    blobs = {key: value for p in plan.lines.edits for key, value in p.edit.blobs().items()}
    data = apply_edits(read_checked(state), edits, blobs)
    copy = workdir / state.file.path.name
    copy.write_bytes(data)
    stat = copy.stat()
    file = dataclasses.replace(state.file, path=copy, size=stat.st_size, mtime_ns=stat.st_mtime_ns)
    try:
        others = [f for f in ws.sessions() if f.path != state.file.path]
    except AppError:
        others = []
    return SessionState(file, scan_session(file, others), list(state.events))


@dataclass
class PlanResult:
    events: list[RepairEvent] = field(default_factory=list)
    refused: list[Skipped] = field(default_factory=list)
    written: WriteResult | None = None
    state: SessionState | None = None
    """The session as it is now (re-read after a write)."""


def apply_session_plan(
    ws: Workspace,
    plan: SessionRepairPlan,
    *,
    operator: str,
    reason: str = "",
    force: bool = False,
    write: bool = False,
    backup: bool = True,
    force_live: bool = False,
) -> PlanResult:
    """Record the plan as events and, with `write`, rewrite the file once.

    Line edits change the file's bytes, so a plan with any needs `write`. A
    plan with problems is refused (PlanRefusedError) unless `force`d with a
    reason; forced re-links are recorded with validation_passed=false.
    """
    require_reason_for_force(force, reason)
    require_storable_text(operator=operator, reason=reason)
    if plan.problems and not force:
        raise PlanRefusedError(
            f"the plan fails validation ({plan.problems[0]}"
            + (f"; and {len(plan.problems) - 1} more" if len(plan.problems) > 1 else "")
            + "); change the plan or use --force with --reason"
        )
    if not plan.lines.edits or plan.lines_deferred:
        if plan.parents is None or not plan.parents.items:
            return PlanResult(state=plan.state)
        applied = apply_plan(
            ws,
            plan.parents,
            operator=operator,
            reason=reason,
            force=force,
            write=write,
            backup=backup,
            force_live=force_live,
        )
        return PlanResult(applied.events, applied.refused, applied.written, plan.state)
    if not write:
        raise AppError(
            f"{plan.line_edits} line repair(s) change the transcript's bytes: add --write "
            "(or --dry-run to see the plan, or --kinds parent for re-links only)"
        )
    return _apply_with_line_edits(
        ws,
        plan,
        operator=operator,
        reason=reason,
        force=force,
        backup=backup,
        force_live=force_live,
    )


def _apply_with_line_edits(
    ws: Workspace,
    plan: SessionRepairPlan,
    *,
    operator: str,
    reason: str,
    force: bool,
    backup: bool,
    force_live: bool,
) -> PlanResult:
    state = plan.state
    refuse_live(ws, state.file.path, force_live=force_live)
    original = read_checked(state)
    edited = plan.edited_bytes() if plan._edited is not None else None
    result = PlanResult()
    result.events = record_line_edits(
        ws, state, plan.lines, operator=operator, reason=reason, data=original
    )
    if edited is None:  # no re-links were planned: the line edits are the whole change
        edits = [p.edit.to_value() for p in plan.lines.edits]
        blobs = {key: value for p in plan.lines.edits for key, value in p.edit.blobs().items()}
        edited = apply_edits(original, edits, blobs)
    elif plan.parents is not None:
        relinks, refused = _append_relinks(
            ws, plan, result.events[-1].seq, operator=operator, reason=reason, force=force
        )
        result.events.extend(relinks)
        result.refused = refused
    # Every re-link in effect that the edited file does not hold yet: this plan's
    # and any recorded earlier without --write.
    now = plan.edited_state
    pending = SessionState(now.file, now.scan, session_events(ws, state.session_id))
    data, relinked = replace_parents_in_bytes(
        edited,
        pending.pending_changes if plan._edited is not None else {},
        name=str(state.file.path),
    )
    changed = relinked + sum(len(p.edit.removed) + len(p.edit.inserted) for p in plan.lines.edits)
    result.written = replace_file_bytes(
        state.file.path, data, state.transcript.fingerprint, lines_changed=changed, backup=backup
    )
    note_own_write(state.file.path)
    result.state = reload_after_write(ws, state)
    plan.close()
    return result


def _append_relinks(
    ws: Workspace,
    plan: SessionRepairPlan,
    head: int,
    *,
    operator: str,
    reason: str,
    force: bool,
) -> tuple[list[RepairEvent], list[Skipped]]:
    """Append the re-links after the line edits, validated against the edited file."""
    assert plan.parents is not None
    edited = plan.edited_state
    parents = dict(edited.parents)
    timestamps = dict(edited.timestamps)
    events: list[RepairEvent] = []
    refused: list[Skipped] = []
    for item in plan.parents.items:
        try:
            event = append_repair(
                ws.store,
                plan.session_id,
                item.message_id,
                item.new_parent,
                operator=operator,
                reason=reason or item.reason,
                score=item.score,
                force=force,
                parents=parents,
                timestamps=timestamps,
                expected_head=events[-1].seq if events else head,
            )
        except RepairRefusedError as exc:
            refused.append(Skipped(item.message_id, "; ".join(exc.problems)))
            continue
        events.append(event)
        parents[event.message_id] = event.new_parent_uuid
    return events, refused


def as_apply_result(result: PlanResult) -> ApplyResult:
    return ApplyResult(events=result.events, refused=result.refused, written=result.written)


__all__ = [
    "PARENT",
    "PLAN_CHECKS",
    "PlanCheck",
    "PlanRefusedError",
    "PlanResult",
    "SessionRepairPlan",
    "apply_session_plan",
    "parse_kinds",
    "plan_rows",
    "plan_session_repairs",
    "validate",
]
