"""Line repairs (torn lines, NUL runs, duplicate lines, tool pairing): plan, record, write,
revert.

A line edit changes the transcript's bytes, so it is recorded and written
together: the bytes that leave (and the ones riff writes) go to the blob
store first, then the events are appended in one transaction on the head
riff read, then the file is replaced with the writer's safety (refused if it
changed since it was read, backup, atomic rename). A revert puts the exact
bytes back from the blob store.

Every plan is checked against the API request rules (riff.transcript.api_rules)
on the file before and after it: a plan that would leave a violation the
source did not have, or one an edit claims to fix, is refused before anything
is recorded.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path

from riff.app.errors import AppError
from riff.app.live_files import note_own_write
from riff.app.recording import append_revert, require_storable_text
from riff.app.repairs import check_file_unchanged, find_event, refuse_live, session_file_for
from riff.app.revert_order import refuse_out_of_order_revert
from riff.app.sessions import SessionState, ensure_view, load_session
from riff.app.workspace import Workspace
from riff.events import EventDraft, EventKind, RepairEvent
from riff.events.line_edit import apply_edits, blob_ids_of, mirror_edit
from riff.transcript import TranscriptChangedError, WriteResult
from riff.transcript.api_rules import api_violations_of_bytes, new_or_unfixed
from riff.transcript.findings import API_TOOL_RESULT_NOT_AFTER_USE, API_TOOL_USE_NOT_ANSWERED
from riff.transcript.line_repairs import (
    DROP_DUPLICATE,
    QUARANTINE_LINE,
    LinePlan,
    plan_line_edits,
)
from riff.transcript.tool_result_repairs import INSERT_TOOL_RESULT, plan_tool_results
from riff.transcript.write import replace_file_bytes

# `riff repair --kinds` names; "parent" is the re-parenting plan of riff.app.repairs.
KIND_NAMES: dict[str, str] = {
    "torn": QUARANTINE_LINE,
    "duplicate": DROP_DUPLICATE,
    "tool_result": INSERT_TOOL_RESULT,
}
ALL_KIND_NAMES = ("parent", *KIND_NAMES)


class ApiRuleRefusal(AppError):
    """A repair plan would leave the transcript breaking an API request rule."""


@dataclass
class LineRepairResult:
    events: list[RepairEvent] = field(default_factory=list)
    written: WriteResult | None = None
    needs_decision: list[str] = field(default_factory=list)


def parse_kinds(text: str) -> tuple[str, ...]:
    """`--kinds torn,duplicate,parent` → the names, checked."""
    names = tuple(dict.fromkeys(part.strip() for part in text.split(",") if part.strip()))
    unknown = [n for n in names if n not in ALL_KIND_NAMES]
    if unknown or not names:
        raise AppError(
            f"--kinds {text!r}: unknown kind {unknown[0] if unknown else '(none)'!r}; "
            f"choose from {', '.join(ALL_KIND_NAMES)}"
        )
    return names


def read_checked(state: SessionState) -> bytes:
    """The file's bytes, refused unless they are the bytes the scan read."""
    check_file_unchanged(state)
    path = state.file.path
    data = Path(path).read_bytes()
    if hashlib.sha256(data).hexdigest() != state.transcript.fingerprint.sha256:
        raise TranscriptChangedError(path, "its content differs from what was scanned")
    return data


def plan_line_repairs(
    state: SessionState,
    kind_names: tuple[str, ...],
    *,
    check_api: bool = True,
    data: bytes | None = None,
) -> LinePlan:
    """Torn lines, then duplicates, then unanswered tool calls, each planned on the
    file as the edits before it leave it. `check_api=False`: the caller checks the
    API rules on the file as its whole plan leaves it (riff.app.repair_plan).
    `data`: the file's bytes to plan on (default: as read, checked unchanged)."""
    kinds = tuple(KIND_NAMES[name] for name in kind_names if name in KIND_NAMES)
    if not kinds:
        return LinePlan()
    if data is None:
        data = read_checked(state)
    line_kinds = tuple(k for k in kinds if k != INSERT_TOOL_RESULT)
    plan = plan_line_edits(data, line_kinds) if line_kinds else LinePlan()
    if INSERT_TOOL_RESULT in kinds:
        blobs = {key: value for p in plan.edits for key, value in p.edit.blobs().items()}
        after = apply_edits(data, [p.edit.to_value() for p in plan.edits], blobs)
        plan.edits.extend(plan_tool_results(after))
    if check_api:
        check_api_rules(data, plan, where=state.file.path.as_posix())
    return plan


def check_api_rules(data: bytes, plan: LinePlan, *, where: str, after: bytes | None = None) -> None:
    """Refuse a plan whose file would break an API request rule the source did not
    break, or still break one a planned edit claims to fix. `after`: the file as
    the whole plan leaves it (default: as the line edits leave it)."""
    if not plan.edits:
        return
    if after is None:
        blobs = {key: value for p in plan.edits for key, value in p.edit.blobs().items()}
        after = apply_edits(data, [p.edit.to_value() for p in plan.edits], blobs)
    claimed = {fix for p in plan.edits for fix in p.fixes}
    wrong = new_or_unfixed(api_violations_of_bytes(data), api_violations_of_bytes(after), claimed)
    if wrong:
        first = wrong[0]
        what = "still breaks" if first.key in claimed else "would break"
        more = f" ({len(wrong) - 1} more)" if len(wrong) > 1 else ""
        hint = (
            "repair with --kinds …,tool_result too, or by hand"
            if first.rule in _TOOL_RULES and not claimed
            else "repair it by hand"
        )
        raise ApiRuleRefusal(
            f"{where}: the repair plan is refused: the repaired file {what} an API rule "
            f"({first.rule}, {first.detail}){more}; nothing was recorded or written; {hint}"
        )


_TOOL_RULES = frozenset({API_TOOL_USE_NOT_ANSWERED, API_TOOL_RESULT_NOT_AFTER_USE})


def record_line_edits(
    ws: Workspace,
    state: SessionState,
    plan: LinePlan,
    *,
    operator: str,
    reason: str = "",
    data: bytes | None = None,
) -> list[RepairEvent]:
    """Store the bytes the plan's edits name, then append its events on the head riff read.

    The edits are checked against the file first (apply_edits refuses unless
    every removed line is where its edit says), so nothing is recorded for a
    file that changed.
    """
    require_storable_text(operator=operator, reason=reason)
    if data is None:
        data = read_checked(state)
    blobs = {key: value for p in plan.edits for key, value in p.edit.blobs().items()}
    edits = [p.edit.to_value() for p in plan.edits]
    apply_edits(data, edits, blobs)  # refuses before anything is recorded
    ws.store.put_blobs(blobs)
    drafts = [
        EventDraft(
            p.message_id,
            None,
            None,
            operator,
            reason=reason or p.reason,
            kind=EventKind(p.kind),
            edit=edit,
        )
        for p, edit in zip(plan.edits, edits, strict=True)
    ]
    head = ws.store.head(state.session_id)
    return ws.store.append(state.session_id, drafts, expected_head=head)


def revert_line_edit(
    ws: Workspace,
    event_id: str,
    *,
    operator: str,
    reason: str = "",
    backup: bool = True,
    force_live: bool = False,
) -> tuple[RepairEvent, WriteResult]:
    """Append the revert of a line edit and put the file's bytes back as they were."""
    target = find_event(ws, event_id)
    if target.edit is None:
        raise AppError(f"event {target.event_id} is a re-parenting, not a line edit")
    refuse_out_of_order_revert(ws, target)
    state = load_session(ws, session_file_for(ws, target.session_id))
    refuse_live(ws, state.file.path, force_live=force_live)
    data = read_checked(state)
    undo = mirror_edit(target.edit)
    wanted = blob_ids_of(undo)
    blobs = ws.store.get_blobs(wanted)
    restored = apply_edits(data, [undo], blobs)  # refuses unless the file is as the edit left it
    event = append_revert(ws.store, target.event_id, operator=operator, reason=reason)
    written = replace_file_bytes(
        state.file.path,
        restored,
        state.transcript.fingerprint,
        lines_changed=len(undo["removed"]) + len(undo["inserted"]),
        backup=backup,
    )
    note_own_write(state.file.path)
    reload_after_write(ws, state)
    return event, written


def reload_after_write(ws: Workspace, state: SessionState) -> SessionState:
    """The session read again from the file as written, its view brought up to date."""
    ws.forget_sessions()
    fresh = load_session(ws, state.file.path.as_posix())
    ensure_view(ws, fresh)
    return fresh
