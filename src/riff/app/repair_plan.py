"""One repair plan for every kind a session needs, composed in three stages.

`riff repair`, the TUI and scripts build the same plan here:

1. plan, in the order it applies:
   - the file's structure: torn lines and NUL runs, duplicate lines
     (riff.app.line_repairs);
   - the parent re-links, planned on the file as those edits leave it (a row
     rescued from a torn line can be re-linked or be a parent);
   - tool pairing (tool calls without results, results without calls),
     planned on the file as the re-links leave it: a re-linked tool_result
     answers its call again, so no synthetic result is needed for it. The row
     a tool-pairing edit moves under the result it inserts is moved by a
     re-link event recorded after the edit, not by the edit's bytes;
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

The rule that keeps the log and the file saying the same thing across runs:
the events of one row apply in log order, each against the bytes the one
before left. So a plan is made on the file as the log says it is (re-links
recorded earlier without --write applied first, `base_bytes`), and a line edit
never changes the parentUuid of a row that was there before it: every parent
move is a re-link event, which the fold over the log sees (a parent moved
only inside an edit's bytes would be undone by the next `riff write`, which
writes the fold's parents). Reverts follow the same order
(riff.app.revert_order).
"""

from __future__ import annotations

import dataclasses
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson

from riff.app.errors import AppError
from riff.app.file_reading import BackgroundReading
from riff.app.line_repairs import (
    ALL_KIND_NAMES,
    KIND_NAMES,
    ApiRuleRefusal,
    check_api_rules,
    plan_line_repairs,
    read_checked,
    record_line_edits,
    reload_after_write,
)
from riff.app.line_repairs import parse_kinds as parse_kind_names
from riff.app.live_files import note_own_write
from riff.app.recording import record_relinks, require_reason_for_force, require_storable_text
from riff.app.repairs import (
    ApplyResult,
    PlannedRepair,
    RepairPlan,
    Skipped,
    apply_plan,
    plan_head,
    plan_repairs,
    refuse_live,
    write_and_reload,
)
from riff.app.revert_order import row_uuid
from riff.app.sessions import SessionState, load_session
from riff.app.workspace import Workspace
from riff.events import ChainHead, RepairEvent
from riff.events.line_edit import LineEdit, LineEditError, apply_edits, split_segments
from riff.transcript import WriteResult, json_line, scan_session
from riff.transcript.line_check import nothing_to_edit
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
    tool_relinks: list[PlannedRepair] = field(default_factory=list)
    """The rows tool pairing moves under the results it inserts: re-links recorded
    after its edits (the edits themselves leave every existing row's parent alone)."""
    problems: list[str] = field(default_factory=list)
    """What validation found (empty: the plan may be applied)."""
    lines_deferred: bool = False
    """Planned without --write: the line edits are shown, not applied, and the
    re-links are planned on the file as it is."""
    _edited: SessionState | None = None
    """The file as the structural edits leave it (a copy in a temporary directory)."""
    _workdir: tempfile.TemporaryDirectory[str] | None = None
    _base_data: bytes | None = None
    """The file's bytes as the log says they are (earlier unwritten re-links applied)."""
    _edited_data: bytes | None = None
    """The file's bytes as the structural edits leave it (None: none to apply)."""
    _relinked_data: bytes | None = None
    """The file's bytes as the re-links leave it (what the tool edits apply to)."""
    _checked_in_one_pass: bool = False
    """Planned by `_plan_in_one_pass`: no line edit, and the re-links apply to the
    file as scanned (so `repaired_bytes` would not raise; it is not read)."""

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
        return (len(self.parents.items) if self.parents else 0) + len(self.tool_relinks)

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

    def base_bytes(self) -> bytes:
        """The file's bytes as the log says they are: the re-links recorded earlier
        without --write applied (events of one row apply in log order, so this
        plan's edits apply to the bytes those left)."""
        if self._base_data is None:
            self._base_data, _ = replace_parents_in_bytes(
                read_checked(self.state), self.state.pending_changes
            )
        return self._base_data

    def edited_bytes(self) -> bytes:
        """The file's bytes after the structural edits (before the re-links)."""
        if self._edited_data is not None:
            return self._edited_data
        return self.base_bytes()

    def relinked_bytes(self) -> bytes:
        """The file's bytes after the structural edits and the re-links."""
        if self._relinked_data is None:
            self._relinked_data, _ = replace_parents_in_bytes(
                self.edited_bytes(), self.parent_changes()
            )
        return self._relinked_data

    def parent_changes(self) -> dict[str, str | None]:
        """The parentUuid values the file gets before tool pairing: the re-links
        recorded earlier without --write (whatever kinds the plan has) and this
        plan's."""
        changes = dict(self.state.pending_changes)
        changes.update(self.edited_state.pending_changes)
        if self.parents is not None:
            changes.update({i.message_id: i.new_parent for i in self.parents.items})
        return changes

    def repaired_bytes(self) -> bytes:
        """The file as the whole plan would leave it."""
        data = self.relinked_bytes()
        if self.tools.edits:
            data = apply_edits(data, _values(self.tools), _blobs(self.tools))
        if self.tool_relinks:
            data, _ = replace_parents_in_bytes(
                data, {i.message_id: i.new_parent for i in self.tool_relinks}
            )
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
                    "after_relinks": p in self.tools.edits,
                }
                for p in self.lines.edits
            ],
            "parent_repairs": [i.to_json() for i in self.parents.items] if self.parents else [],
            "tool_pairing_relinks": [i.to_json() for i in self.tool_relinks],
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
    return (
        rows
        + edit_rows(plan.tools)
        + [
            f"line {item.line or '?':>6}  re-link {item.message_id[:8]} under "
            f"{(item.new_parent or 'none (root)')[:8]}  (tool pairing)"
            for item in plan.tool_relinks
        ]
    )


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
    if plan._checked_in_one_pass:
        return []  # no edit, and the re-links were shown to apply
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
            plan.base_bytes(),  # what the log says the file is: earlier events are not this plan's
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


def load_and_plan(
    ws: Workspace,
    session: str,
    *,
    kinds: tuple[str, ...] = ALL_KIND_NAMES,
    min_score: float,
    message: str | None = None,
    parent: str | None = None,
    root: bool = False,
    write: bool = True,
) -> SessionRepairPlan:
    """`load_session` then `plan_session_repairs`, with the line check's own read of
    the file (riff.app.file_reading) started first, in another process."""
    file = ws.resolve(session)
    reading = BackgroundReading.start(file.path) if _tries_one_pass(kinds, write) else None
    try:
        state = load_session(ws, file)
        return plan_session_repairs(
            ws,
            state,
            kinds=kinds,
            min_score=min_score,
            message=message,
            parent=parent,
            root=root,
            write=write,
            reading=reading,
        )
    finally:
        if reading is not None:
            reading.stop()


def _tries_one_pass(kinds: tuple[str, ...], write: bool) -> bool:
    """Whether plan_session_repairs first tries the one pass (`_plan_in_one_pass`)."""
    return write or not any(name in KIND_NAMES for name in kinds)


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
    reading: BackgroundReading | None = None,
) -> SessionRepairPlan:
    """Plan every repair of `kinds` for the session, then validate the plan once.

    Without `write` the line edits (which change the file's bytes) are planned
    to be shown but not applied, and the re-links are planned on the file as is.
    `reading`: the file read once more in another process (see `load_and_plan`).
    """
    plan = SessionRepairPlan(state, kinds)
    line_kinds = tuple(name for name in kinds if name in KIND_NAMES)
    if _tries_one_pass(kinds, write) and _plan_in_one_pass(
        plan,
        line_kinds,
        min_score=min_score,
        message=message,
        parent=parent,
        root=root,
        reading=reading,
    ):
        validate(plan)
        return plan
    if line_kinds and not write:
        # Shown, not applied: every line kind planned on the file as it is.
        plan.structure = plan_line_repairs(state, line_kinds, check_api=False)
        plan.lines_deferred = bool(plan.structure.edits)
    elif line_kinds:
        structural = tuple(name for name in line_kinds if name in STRUCTURE_KINDS)
        # The API rules are checked on the whole plan's result (validate, below).
        plan.structure = plan_line_repairs(
            state, structural, check_api=False, data=plan.base_bytes()
        )
        if plan.structure.edits:
            plan._edited_data = apply_edits(
                plan.base_bytes(), _values(plan.structure), _blobs(plan.structure)
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
        _moves_as_relinks(plan)
    validate(plan)
    return plan


def _plan_in_one_pass(
    plan: SessionRepairPlan,
    line_kinds: tuple[str, ...],
    *,
    min_score: float,
    message: str | None,
    parent: str | None,
    root: bool,
    reading: BackgroundReading | None = None,
) -> bool:
    """Plan the re-links on the session as read, then show in one streaming pass over
    the file that none of the line kinds plans an edit and the re-links apply
    (riff.transcript.line_check): the plan the stages below make then, without
    holding the file's bytes. False (nothing set on `plan`): plan the long way."""
    state = plan.state
    parents = None
    if PARENT in plan.kinds:
        try:
            parents = plan_repairs(
                state, min_score=min_score, message=message, parent=parent, root=root
            )
        except Exception:  # the long way raises it, in its own order
            return False
    relinks = dict(state.pending_changes)
    if parents is not None:
        relinks.update({i.message_id: i.new_parent for i in parents.items})
    if not nothing_to_edit(
        state.file.path,
        state.transcript.fingerprint,
        recorded=state.pending_changes,
        relinks=relinks,
        kinds={KIND_NAMES[name] for name in line_kinds},
        transcript=state.transcript,
        reading=None if reading is None else reading.result,
    ):
        return False
    plan.parents = parents
    plan._checked_in_one_pass = True
    return True


def _moves_as_relinks(plan: SessionRepairPlan) -> None:
    """Take the parent moves out of the tool-pairing edits: each row an edit puts
    back under a new parent (the row after an unanswered call goes under the
    inserted result) keeps its bytes in the edit and is moved by a re-link
    recorded after it.

    The fold over the log, which `riff write`, the views and every later plan
    read, sees re-links and not the bytes of edits: a parent moved only inside
    an edit would be set back by the next `riff write` to what the log's
    earlier re-links of that row say.
    """
    edits: list[PlannedLineEdit] = []
    relinks: list[PlannedRepair] = []
    for planned in plan.tools.edits:
        edit, moves = _split_moves(planned.edit)
        edits.append(dataclasses.replace(planned, edit=edit))
        relinks += [
            PlannedRepair(
                row_id,
                None,
                old,
                new,
                None,
                reason=f"{planned.kind}: under the row it inserts ({planned.reason})",
            )
            for row_id, old, new in moves
        ]
    if not relinks:
        return
    plan.tools = LinePlan(edits, plan.tools.needs_decision)
    plan.tool_relinks = relinks
    after = plan.repaired_bytes()
    lines = _row_lines(after, {i.message_id for i in relinks})
    for item in relinks:
        item.line = lines.get(item.message_id)


def _split_moves(edit: LineEdit) -> tuple[LineEdit, list[tuple[str, str | None, str | None]]]:
    """`edit` with every removed row it re-inserts under another parent put back as it
    was, trimmed to the segments it still changes; and those moves (uuid, old, new)."""
    before: dict[str, tuple[bytes, str | None]] = {}
    for segment in edit.removed:
        row = _row_of(segment)
        if row is not None:
            before.setdefault(row[0], (segment, row[1]))
    inserted: list[bytes] = []
    moves: list[tuple[str, str | None, str | None]] = []
    for segment in edit.inserted:
        row = _row_of(segment)
        if row is not None and row[0] in before and before[row[0]][1] != row[1]:
            original, old = before[row[0]]
            moves.append((row[0], old, row[1]))
            segment = original
        inserted.append(segment)
    if not moves:
        return edit, []
    removed = list(edit.removed)
    head = 0
    while head < min(len(removed), len(inserted)) and removed[head] == inserted[head]:
        head += 1
    tail = 0
    while (
        tail < min(len(removed), len(inserted)) - head and removed[-1 - tail] == inserted[-1 - tail]
    ):
        tail += 1
    trimmed = LineEdit(
        edit.line + head,
        tuple(removed[head : len(removed) - tail]),
        tuple(inserted[head : len(inserted) - tail]),
    )
    return trimmed, moves


def _row_of(segment: bytes) -> tuple[str, str | None] | None:
    """(uuid, parentUuid) of the row a line holds, or None."""
    try:
        value = json_line.loads(segment)
    except orjson.JSONDecodeError:
        return None
    if not isinstance(value, dict) or not isinstance(value.get("uuid"), str):
        return None
    parent = value.get("parentUuid")
    return value["uuid"], parent if isinstance(parent, str) else None


def _row_lines(data: bytes, wanted: set[str]) -> dict[str, int]:
    lines: dict[str, int] = {}
    for number, segment in enumerate(split_segments(data), 1):
        if wanted and (row_id := row_uuid(segment)) in wanted:
            lines.setdefault(row_id, number)
    return lines


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
            if write and plan.state.pending_changes:
                # Nothing new, but re-links recorded earlier without --write: written now.
                written, fresh = write_and_reload(
                    ws, plan.state, backup=backup, force_live=force_live
                )
                return PlanResult(written=written, state=fresh)
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
    read_checked(state)  # the file is still the one the plan was made on, or refused
    base = plan.base_bytes()
    relinked = plan.relinked_bytes()
    final = plan.repaired_bytes()  # refuses (nothing recorded) if an edit does not apply
    result = PlanResult()
    if plan.structure.edits:
        result.events += record_line_edits(
            ws, state, plan.structure, operator=operator, reason=reason, data=base
        )
    if plan.parents is not None and plan.parents.items:
        relinks, refused = _append_relinks(
            ws,
            plan,
            plan.parents.items,
            _head_after(state, result.events),
            operator=operator,
            reason=reason,
            force=force,
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
    if plan.tool_relinks:
        moved, _ = _append_relinks(
            ws,
            plan,
            plan.tool_relinks,
            _head_after(state, result.events),
            operator=operator,
            reason=reason,
            force=force,
        )
        result.events += moved
    changed = len(set(plan.parent_changes()) | {i.message_id for i in plan.tool_relinks}) + sum(
        len(p.edit.removed) + len(p.edit.inserted) for p in plan.lines.edits
    )
    result.written = replace_file_bytes(
        state.file.path, final, state.transcript.fingerprint, lines_changed=changed, backup=backup
    )
    note_own_write(state.file.path)
    result.state = reload_after_write(ws, state)
    plan.close()
    return result


def _head_after(state: SessionState, events: list[RepairEvent]) -> ChainHead:
    """Where the next events go: after the ones just recorded, else the plan's head."""
    if not events:
        return plan_head(state)
    return ChainHead(state.session_id, events[-1].seq, events[-1].event_digest)


def _append_relinks(
    ws: Workspace,
    plan: SessionRepairPlan,
    items: list[PlannedRepair],
    head: ChainHead,
    *,
    operator: str,
    reason: str,
    force: bool,
) -> tuple[list[RepairEvent], list[Skipped]]:
    """Record re-links after the edits before them: validated once, when planned on
    the file as those edits leave it; appended on the head they left."""
    events, refused = record_relinks(
        ws.store,
        plan.session_id,
        items,
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
    "load_and_plan",
    "parse_kinds",
    "plan_rows",
    "plan_session_repairs",
    "validate",
]
