"""`riff repair`, `riff revert`, `riff write`: change the conversation, as events."""

from __future__ import annotations

from typing import Annotated, Any

import typer
from rich.table import Table

from riff.app.auto_apply import auto_apply_threshold
from riff.app.display import short_id
from riff.app.line_repairs import (
    LineRepairResult,
    apply_line_repairs,
    parse_kinds,
    plan_line_repairs,
    revert_line_edit,
)
from riff.app.recording import require_reason_for_force
from riff.app.repairs import (
    ApplyResult,
    RepairPlan,
    apply_plan,
    find_event,
    plan_repairs,
    preview_write,
    revert_event,
    write_and_reload,
)
from riff.app.sessions import load_session
from riff.cli.common import confirm, workspace
from riff.cli.context import guarded
from riff.cli.errors import CliError, ExitCode
from riff.cli.output import safe, stdout
from riff.events import RepairEvent
from riff.transcript.line_repairs import LinePlan

JsonOption = Annotated[bool, typer.Option("--json", help="Print one JSON document on stdout.")]
YesOption = Annotated[bool, typer.Option("--yes", "-y", help="Apply without asking.")]
WriteOption = Annotated[
    bool,
    typer.Option("--write", help="Also rewrite the transcript (backup, atomic replace)."),
]
NoBackupOption = Annotated[
    bool, typer.Option("--no-backup", help="With --write: keep no backup of the original.")
]
ReasonOption = Annotated[str, typer.Option("--reason", help="Why; recorded in each event.")]


def _event_rows(
    events: list[RepairEvent], reverted: set[str] | None = None
) -> list[dict[str, Any]]:
    rows = []
    for event in events:
        row = event.to_dict()
        if reverted is not None:
            row["is_reverted"] = event.event_id in reverted
        rows.append(row)
    return rows


def render_plan(plan: RepairPlan) -> None:
    state = plan.state
    if not plan.items and not plan.skipped:
        stdout.print(f"[green]nothing to repair[/] in {safe(state.session_id)}")
        return
    table = Table(title=f"Repair plan for {safe(state.session_id)}", title_justify="left")
    table.add_column("line", justify="right")
    table.add_column("message")
    table.add_column("parent now")
    table.add_column("new parent")
    table.add_column("score", justify="right")
    table.add_column("why / problems")
    for item in plan.items:
        why = (
            "[red]" + safe("; ".join(item.problems)) + "[/]" if item.problems else safe(item.reason)
        )
        table.add_row(
            str(item.line or "?"),
            safe(short_id(item.message_id)),
            safe(short_id(item.old_parent)),
            safe(short_id(item.new_parent)),
            "—" if item.score is None else f"{item.score:.2f}",
            why,
        )
    stdout.print(table)
    for skipped in plan.skipped:
        stdout.print(
            f"  [yellow]skipped[/] {safe(short_id(skipped.message_id))}: {safe(skipped.reason)}"
        )


def render_applied(result: ApplyResult) -> None:
    for event in result.events:
        flag = "" if event.validation_passed else " [red](forced: validation failed)[/]"
        stdout.print(
            f"[green]✓[/] event {safe(event.event_id)} seq {event.seq}: "
            f"{safe(short_id(event.message_id))} → "
            f"{safe(short_id(event.new_parent_uuid))}{flag}"
        )
    for refused in result.refused:
        stdout.print(
            f"[red]✗ refused[/] {safe(short_id(refused.message_id))}: {safe(refused.reason)}"
        )
    if result.written is not None:
        backup = (
            f" (backup {safe(result.written.backup_path)})" if result.written.backup_path else ""
        )
        stdout.print(
            f"[green]wrote[/] {result.written.lines_changed} line(s) of {safe(result.written.path)}"
            f"{backup}"
        )


def render_line_plan(session_id: str, plan: LinePlan) -> None:
    if not plan.edits and not plan.needs_decision:
        stdout.print(f"[green]no torn or duplicate lines[/] in {safe(session_id)}")
    for planned in plan.edits:
        stdout.print(
            f"  {planned.kind} at line {planned.edit.line}: {safe(planned.reason)} "
            f"(-{len(planned.edit.removed)} +{len(planned.edit.inserted)} line(s))"
        )
    for note in plan.needs_decision:
        stdout.print(f"  [yellow]left for a decision by hand[/]: {safe(note)}")


def render_line_applied(result: LineRepairResult) -> None:
    for event in result.events:
        stdout.print(f"[green]✓[/] event {event.event_id} seq {event.seq}: {event.kind}")
    if result.written is not None:
        backup = f" (backup {result.written.backup_path})" if result.written.backup_path else ""
        stdout.print(f"[green]wrote[/] {safe(str(result.written.path))}{safe(backup)}")


def _line_json(session_id: str, dry_run: bool, result: LineRepairResult) -> dict[str, Any]:
    written = result.written
    return {
        "session_id": session_id,
        "dry_run": dry_run,
        "events": _event_rows(result.events),
        "refused": [],
        "needs_decision": result.needs_decision,
        "written": written is not None,
        "backup": str(written.backup_path) if written and written.backup_path else None,
    }


def _result_json(
    session_id: str, dry_run: bool, events: list[RepairEvent], result: ApplyResult | None
) -> dict[str, Any]:
    written = result.written if result else None
    return {
        "session_id": session_id,
        "dry_run": dry_run,
        "events": _event_rows(events),
        "refused": [r.to_json() for r in result.refused] if result else [],
        "written": written is not None,
        "backup": str(written.backup_path) if written and written.backup_path else None,
    }


@guarded
def repair(
    ctx: typer.Context,
    session: Annotated[str, typer.Argument(help="Session id, unique prefix, or path.")],
    message: Annotated[
        str | None, typer.Option("--message", "-m", help="Repair this message only.")
    ] = None,
    parent: Annotated[
        str | None, typer.Option("--parent", "-p", help="With --message: this parent.")
    ] = None,
    root: Annotated[
        bool, typer.Option("--root", help="With --message: make it a root (null parent).")
    ] = False,
    min_score: Annotated[
        float | None, typer.Option("--min-score", help="Lowest candidate score to apply.")
    ] = None,
    reason: ReasonOption = "",
    force: Annotated[
        bool,
        typer.Option("--force", help="Record repairs that fail validation (needs --reason)."),
    ] = False,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Show; change nothing.")] = False,
    write: WriteOption = False,
    no_backup: NoBackupOption = False,
    yes: YesOption = False,
    json: JsonOption = False,
    kinds: Annotated[
        str,
        typer.Option(
            "--kinds",
            help="What to repair, comma-separated: parent (re-parent orphans), torn (torn "
            "lines, NUL runs, joined rows), duplicate (repeated lines). torn and duplicate "
            "change the file's bytes and need --write.",
        ),
    ] = "parent",
) -> None:
    """Plan repairs for orphaned messages and append them as events (then --write)."""
    if (parent or root) and message is None:
        raise CliError("--parent and --root need --message MESSAGE")
    require_reason_for_force(force, reason)
    names = parse_kinds(kinds)
    with workspace(ctx) as (app_ctx, ws):
        out = app_ctx.output(json)
        state = load_session(ws, session)
        if any(name != "parent" for name in names):
            line_plan = plan_line_repairs(state, names)
            if not out.json and not app_ctx.quiet:
                render_line_plan(state.session_id, line_plan)
            if line_plan.edits and not dry_run and not write:
                raise CliError(
                    "torn and duplicate repairs change the transcript's bytes: add --write "
                    "(or --dry-run to see the plan only)"
                )
            line_result = LineRepairResult(needs_decision=list(line_plan.needs_decision))
            if line_plan.edits and not dry_run:
                if not confirm(
                    f"Append {len(line_plan.edits)} line edit event(s) and rewrite the file?",
                    yes=yes or out.json,
                ):
                    raise typer.Exit(int(ExitCode.OK))
                line_result = apply_line_repairs(
                    ws,
                    state,
                    line_plan,
                    operator=ws.settings.operator,
                    reason=reason,
                    backup=not no_backup,
                )
                if not out.json and not app_ctx.quiet:
                    render_line_applied(line_result)
            if "parent" not in names:
                if out.json:
                    out.emit_json(_line_json(state.session_id, dry_run, line_result))
                raise typer.Exit(
                    int(ExitCode.PROBLEMS if line_result.needs_decision else ExitCode.OK)
                )
            state = load_session(ws, state.file.path.as_posix())
        threshold = auto_apply_threshold(ws.settings) if min_score is None else min_score
        plan = plan_repairs(state, min_score=threshold, message=message, parent=parent, root=root)
        if not out.json and not app_ctx.quiet:
            render_plan(plan)
        if dry_run or not plan.items:
            if dry_run and not out.json and not app_ctx.quiet and state.pending_changes:
                stdout.print(safe(preview_write(state)))
            if out.json:
                out.emit_json(_result_json(state.session_id, dry_run, [], None))
            raise typer.Exit(int(ExitCode.OK))
        blocked = [i for i in plan.items if i.problems]
        if blocked and not force:
            if out.json:
                out.emit_json(
                    _result_json(state.session_id, False, [], None)
                    | {
                        "refused": [
                            {"message_id": i.message_id, "reason": "; ".join(i.problems)}
                            for i in blocked
                        ]
                    }
                )
            else:
                stdout.print(
                    "[red]refused[/]: the plan fails validation; fix it or use --force "
                    "with --reason"
                )
            raise typer.Exit(int(ExitCode.PROBLEMS))
        if not confirm(f"Append {len(plan.items)} repair event(s)?", yes=yes or out.json):
            raise typer.Exit(int(ExitCode.OK))
        result = apply_plan(
            ws,
            plan,
            operator=ws.settings.operator,
            reason=reason,
            force=force,
            write=write,
            backup=not no_backup,
        )
        if out.json:
            out.emit_json(_result_json(state.session_id, False, result.events, result))
        elif not app_ctx.quiet:
            render_applied(result)
        raise typer.Exit(int(ExitCode.PROBLEMS if result.refused else ExitCode.OK))


@guarded
def revert(
    ctx: typer.Context,
    event_id: Annotated[str, typer.Argument(help="The event to undo (id or unique prefix).")],
    reason: ReasonOption = "",
    write: WriteOption = False,
    no_backup: NoBackupOption = False,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Show; change nothing.")] = False,
    yes: YesOption = False,
    json: JsonOption = False,
) -> None:
    """Undo a repair by appending a revert event (a revert of a revert re-applies)."""
    with workspace(ctx) as (app_ctx, ws):
        out = app_ctx.output(json)
        target = find_event(ws, event_id)
        if target.edit is not None:
            _revert_line_edit(app_ctx, ws, target, reason, write, no_backup, dry_run, yes, json)
            return
        if not out.json and not app_ctx.quiet:
            stdout.print(
                f"revert {target.kind} {safe(target.event_id)} (seq {target.seq} of "
                f"{safe(target.session_id[:8])}): {safe(short_id(target.message_id))} goes back "
                f"from {safe(short_id(target.new_parent_uuid))} to "
                f"{safe(short_id(target.old_parent_uuid))}"
            )
        if dry_run:
            if out.json:
                out.emit_json(_result_json(target.session_id, True, [], None))
            raise typer.Exit(int(ExitCode.OK))
        if not confirm("Append the revert event?", yes=yes or out.json):
            raise typer.Exit(int(ExitCode.OK))
        event, written = revert_event(
            ws,
            target.event_id,
            operator=ws.settings.operator,
            reason=reason,
            write=write,
            backup=not no_backup,
        )
        result = ApplyResult(events=[event], written=written)
        if out.json:
            out.emit_json(_result_json(target.session_id, False, [event], result))
        elif not app_ctx.quiet:
            render_applied(result)


def _revert_line_edit(
    app_ctx: Any,
    ws: Any,
    target: RepairEvent,
    reason: str,
    write: bool,
    no_backup: bool,
    dry_run: bool,
    yes: bool,
    json: bool,
) -> None:
    """A line edit's revert puts bytes back into the file, so it is written at once."""
    out = app_ctx.output(json)
    line = target.edit["line"] if target.edit else "?"
    if not out.json and not app_ctx.quiet:
        stdout.print(
            f"revert {target.kind} {target.event_id} (seq {target.seq} of "
            f"{safe(target.session_id[:8])}): line {line} "
            "gets its original bytes back from the blob store"
        )
    if dry_run:
        if out.json:
            out.emit_json(_result_json(target.session_id, True, [], None))
        return
    if not write:
        raise CliError("reverting a line edit rewrites the transcript: add --write")
    if not confirm("Append the revert event and restore the file?", yes=yes or out.json):
        return
    event, written = revert_line_edit(
        ws, target.event_id, operator=ws.settings.operator, reason=reason, backup=not no_backup
    )
    result = ApplyResult(events=[event], written=written)
    if out.json:
        out.emit_json(_result_json(target.session_id, False, [event], result))
    elif not app_ctx.quiet:
        render_line_applied(LineRepairResult(events=[event], written=written))


@guarded
def write(
    ctx: typer.Context,
    session: Annotated[str, typer.Argument(help="Session id, unique prefix, or path.")],
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Show the diff only.")] = False,
    no_backup: NoBackupOption = False,
    yes: YesOption = False,
    json: JsonOption = False,
) -> None:
    """Write the repaired parents (from the event log) into the transcript file."""
    with workspace(ctx) as (app_ctx, ws):
        out = app_ctx.output(json)
        state = load_session(ws, session)
        diff = preview_write(state)
        if not diff:
            if out.json:
                out.emit_json({"session_id": state.session_id, "written": False, "backup": None})
            else:
                out.say(f"[green]{safe(state.file.path)} already matches the event log[/]")
            return
        if not out.json:
            out.say(safe(diff))
        if dry_run or not confirm(
            f"Rewrite {len(state.pending_changes)} parentUuid value(s)?", yes=yes or out.json
        ):
            return
        written, _ = write_and_reload(ws, state, backup=not no_backup)
        if out.json:
            out.emit_json(
                {
                    "session_id": state.session_id,
                    "written": written is not None,
                    "backup": str(written.backup_path) if written and written.backup_path else None,
                }
            )
        elif written is not None:
            render_applied(ApplyResult(written=written))
