"""One repair plan for every kind a session needs, composed in three stages.

`riff repair`, the TUI and scripts build the same plan here:

1. plan, in the order it applies:
   - the file's structure: torn lines and NUL runs, duplicate lines
     (riff.app.line_repairs);
   - the parent re-links, planned on the file as those edits leave it (a row
     rescued from a torn line can be re-linked or be a parent);
   - tool pairing (tool calls without results, results without calls),
     planned on the file as the re-links leave it: a re-linked tool_result
     answers its call again, so no synthetic result is needed for it;
2. validate, once: the re-links' problems and every check in PLAN_CHECKS (the
   API request rules on the file as the whole plan leaves it); a plan with
   problems is refused unless forced with a reason;
3. apply: the removed bytes go to the blob store, the events are appended on
   the head riff read in the same order, and with --write the file is replaced
   once (backup, refused if it changed since it was read or another process
   is writing it).

Line edits name line numbers of the file as everything before them leaves it;
re-links name messages by uuid, so they shift nothing. A revert undoes any
kind; edits undo newest first (riff.app.repairs.revert_event,
riff.app.line_repairs.revert_line_edit).
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
    ApiRuleRefusal,
    check_api_rules,
    plan_line_repairs,
    read_checked,
    record_line_edits,
    reload_after_write,
    row_uuid,
)
from riff.app.line_repairs import parse_kinds as parse_kind_names
from riff.app.live_files import note_own_write
from riff.app.recording import record_relinks, require_reason_for_force, require_storable_text
from riff.app.repairs import (
    ApplyResult,
    RepairPlan,
    Skipped,
    apply_plan,
    plan_head,
    plan_repairs,
    refuse_live,
)
from riff.app.sessions import SessionState
from riff.app.workspace import Workspace
from riff.events import ChainHead, RepairEvent
from riff.events.line_edit import LineEdit, LineEditError, apply_edits, split_segments
from riff.transcript import WriteResult, scan_session
from riff.transcript.line_repairs import LinePlan, PlannedLineEdit
from riff.transcript.tool_result_repairs import plan_tool_results
from riff.transcript.write import replace_file_bytes, replace_parents_in_bytes

PARENT = "parent"
STRUCTURE_KINDS = ("torn", "duplicate")
"""Line kinds that fix the file's structure: planned before the re-links."""
TOOL_KINDS = tuple(name for name in KIND_NAMES if name not in STRUCTURE_KINDS)
"""Line kinds that fix tool pairing: planned on the file as the re-links leave it."""


class PlanRefusedError(AppError):
    """The plan fails validation; nothing was recorded or written."""

    exit_code = 1


@dataclass
class SessionRepairPlan:
    """Everything riff would do to one session, in the order it would do it."""

    state: SessionState
    """The session as read: the file's bytes the plan was made on."""
    kinds: tuple[str, ...]
    structure: LinePlan = field(default_factory=LinePlan)
    """Torn lines and duplicates, planned on the file as read."""
    parents: RepairPlan | None = None
    """Re-links, planned on the file as the structural edits leave it."""
    tools: LinePlan = field(default_factory=LinePlan)
    """Tool pairing, planned on the file as the re-links leave it."""
    problems: list[str] = field(default_factory=list)
    """What validation found (empty: the plan may be applied)."""
    lines_deferred: bool = False
    """Planned without --write: the line edits are shown, not applied, and the
    re-links are planned on the file as it is."""
    _edited: SessionState | None = None
    """The file as the structural edits leave it (a copy in a temporary directory)."""
    _workdir: tempfile.TemporaryDirectory[str] | None = None
    _edited_data: bytes | None = None
    """The file's bytes as the structural edits leave it (None: none to apply)."""
    _relinked_data: bytes | None = None
    """The file's bytes as the re-links leave it (what the tool edits apply to)."""

    @property
    def lines(self) -> LinePlan:
        """Every line edit, in the order they apply (tool pairing after the re-links)."""
        return LinePlan(
            [*self.structure.edits, *self.tools.edits],
            [*self.structure.needs_decision, *self.tools.needs_decision],
        )

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
        """The file's bytes after the structural edits (before the re-links)."""
        if self._edited_data is not None:
            return self._edited_data
        return read_checked(self.state)

    def relinked_bytes(self) -> bytes:
        """The file's bytes after the structural edits and the re-links."""
        if self._relinked_data is None:
            self._relinked_data, _ = replace_parents_in_bytes(
                self.edited_bytes(), self.parent_changes()
            )
        return self._relinked_data

    def parent_changes(self) -> dict[str, str | None]:
        """The parentUuid values the file gets: this plan's re-links and those recorded
        earlier without --write (none when the plan leaves parents out)."""
        if self.parents is None:
            return {}
        changes = dict(self.edited_state.pending_changes)
        changes.update({i.message_id: i.new_parent for i in self.parents.items})
        return changes

    def repaired_bytes(self) -> bytes:
        """The file as the whole plan would leave it."""
        data = self.relinked_bytes()
        if not self.tools.edits:
            return data
        return apply_edits(data, _values(self.tools), _blobs(self.tools))

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
                    "after_relinks": p in self.tools.edits,
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

    def edit_rows(lines: LinePlan) -> list[str]:
        return [
            f"line {p.edit.line:>6}  {p.kind:<22} -{len(p.edit.removed)} "
            f"+{len(p.edit.inserted)}  {p.reason}"
            for p in lines.edits
        ]

    rows = edit_rows(plan.structure)
    rows += [f"decide by hand: {note}" for note in plan.lines.needs_decision]
    if plan.parents is not None:
        rows += [
            f"line {item.line or '?':>6}  re-link {item.message_id[:8]} under "
            f"{(item.new_parent or 'none (root)')[:8]}"
            + (f"  score {item.score:.2f}" if item.score is not None else "")
            for item in plan.parents.items
        ]
        rows += [f"skipped {s.message_id[:8]}: {s.reason}" for s in plan.parents.skipped]
    return rows + edit_rows(plan.tools)


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


def _edits_apply(plan: SessionRepairPlan) -> list[str]:
    """Every line edit applies to the file as the stages before it leave it."""
    try:
        plan.repaired_bytes()
    except LineEditError as exc:
        return [f"the line edits do not compose: {exc}"]
    return []


def _api_rules(plan: SessionRepairPlan) -> list[str]:
    """The API request rules on the file as the whole plan leaves it (line edits and
    re-links together: a row a line edit rescues may need its re-link to be valid)."""
    if not plan.lines.edits or plan.lines_deferred or _edits_apply(plan):
        return []
    try:
        check_api_rules(
            read_checked(plan.state),
            plan.lines,
            where=plan.state.file.path.as_posix(),
            after=plan.repaired_bytes(),
        )
    except ApiRuleRefusal as exc:
        return [str(exc)]
    return []


PLAN_CHECKS: list[PlanCheck] = [_relink_problems, _edits_apply, _api_rules]
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
    line_kinds = tuple(name for name in kinds if name in KIND_NAMES)
    if line_kinds and not write:
        # Shown, not applied: every line kind planned on the file as it is.
        plan.structure = plan_line_repairs(state, line_kinds, check_api=False)
        plan.lines_deferred = bool(plan.structure.edits)
    elif line_kinds:
        structural = tuple(name for name in line_kinds if name in STRUCTURE_KINDS)
        # The API rules are checked on the whole plan's result (validate, below).
        plan.structure = plan_line_repairs(state, structural, check_api=False)
        if plan.structure.edits:
            plan._edited_data = apply_edits(
                read_checked(state), _values(plan.structure), _blobs(plan.structure)
            )
    if PARENT in kinds:
        if plan._edited_data is not None:
            plan._workdir = tempfile.TemporaryDirectory(prefix="riff-plan-")
            plan._edited = _edited_session(ws, plan, Path(plan._workdir.name))
        plan.parents = plan_repairs(
            plan.edited_state, min_score=min_score, message=message, parent=parent, root=root
        )
    if write and any(name in TOOL_KINDS for name in line_kinds):
        plan.tools = LinePlan(plan_tool_results(plan.relinked_bytes()))
        _fold_relinks_into_tool_edits(plan)
    validate(plan)
    return plan


def _fold_relinks_into_tool_edits(plan: SessionRepairPlan) -> None:
    """A re-link whose row a tool-pairing edit then rewrites (the row after an
    unanswered call goes under the inserted result) becomes part of that edit.

    Two events moving one row (a re-link by uuid, then a line edit by bytes)
    would leave the log saying one parent and the file another; one edit that
    takes the row out as it was and puts it back under the inserted result says
    the same thing, and its revert gives the original bytes back.
    """
    if plan.parents is None or not plan.parents.items or not plan.tools.edits:
        return
    moved = {item.message_id: item for item in plan.parents.items}
    before: dict[str, bytes] = {}
    for segment in split_segments(plan.edited_bytes()):
        row_id = row_uuid(segment)
        if row_id in moved:
            before.setdefault(row_id, segment)
    folded: set[str] = set()
    edits: list[PlannedLineEdit] = []
    for planned in plan.tools.edits:
        removed = []
        for segment in planned.edit.removed:
            row_id = row_uuid(segment)
            if row_id in moved and row_id in before:
                folded.add(row_id)
                segment = before[row_id]
            removed.append(segment)
        edit = LineEdit(planned.edit.line, tuple(removed), planned.edit.inserted)
        edits.append(dataclasses.replace(planned, edit=edit))
    if not folded:
        return
    plan.tools = LinePlan(edits, plan.tools.needs_decision)
    plan.parents.items = [i for i in plan.parents.items if i.message_id not in folded]
    plan.parents.skipped += [
        Skipped(mid, "re-linked by the tool_result repair (under the result it inserts)")
        for mid in sorted(folded)
    ]
    plan._relinked_data = None  # the file as the remaining re-links leave it


def _values(plan: LinePlan) -> list[dict[str, Any]]:
    return [p.edit.to_value() for p in plan.edits]


def _blobs(plan: LinePlan) -> dict[str, bytes]:
    return {key: value for p in plan.edits for key, value in p.edit.blobs().items()}


def validate(plan: SessionRepairPlan) -> list[str]:
    """Run every check of PLAN_CHECKS on the plan; its problems, also kept on the plan."""
    plan.problems = [problem for check in PLAN_CHECKS for problem in check(plan)]
    return plan.problems


def _edited_session(ws: Workspace, plan: SessionRepairPlan, workdir: Path) -> SessionState:
    """The session as the line edits leave it, read from a copy (the file is not touched)."""
    state = plan.state
    copy = workdir / state.file.path.name
    copy.write_bytes(plan.edited_bytes())
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
    original = read_checked(state)  # the bytes the plan was made on, or refused
    relinked = plan.relinked_bytes()
    final = plan.repaired_bytes()  # refuses (nothing recorded) if an edit does not apply
    result = PlanResult()
    if plan.structure.edits:
        result.events += record_line_edits(
            ws, state, plan.structure, operator=operator, reason=reason, data=original
        )
    if plan.parents is not None and plan.parents.items:
        head = (
            ChainHead(state.session_id, result.events[-1].seq, result.events[-1].event_digest)
            if result.events
            else plan_head(state)
        )
        relinks, refused = _append_relinks(
            ws, plan, head, operator=operator, reason=reason, force=force
        )
        if refused:  # validated when planned, so only a concurrent change gets here
            raise AppError(
                f"re-link of {refused[0].message_id} refused while applying "
                f"({refused[0].reason}); {len(result.events) + len(relinks)} event(s) were "
                "recorded and the file was not written: run `riff repair --write` again"
            )
        result.events += relinks
    if plan.tools.edits:
        result.events += record_line_edits(
            ws, state, plan.tools, operator=operator, reason=reason, data=relinked
        )
    changed = len(plan.parent_changes()) + sum(
        len(p.edit.removed) + len(p.edit.inserted) for p in plan.lines.edits
    )
    result.written = replace_file_bytes(
        state.file.path, final, state.transcript.fingerprint, lines_changed=changed, backup=backup
    )
    note_own_write(state.file.path)
    result.state = reload_after_write(ws, state)
    plan.close()
    return result


def _append_relinks(
    ws: Workspace,
    plan: SessionRepairPlan,
    head: ChainHead,
    *,
    operator: str,
    reason: str,
    force: bool,
) -> tuple[list[RepairEvent], list[Skipped]]:
    """Record the re-links after the structural edits: validated once, when planned
    on the edited file; appended on the head those edits left."""
    assert plan.parents is not None
    events, refused = record_relinks(
        ws.store,
        plan.session_id,
        plan.parents.items,
        operator=operator,
        reason=reason,
        force=force,
        expected_head=head,
    )
    return events, [Skipped(mid, "; ".join(problems)) for mid, problems in refused]


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
