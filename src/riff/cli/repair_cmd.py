"""`riff repair`, `riff revert`, `riff write`: change the conversation, as events."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from riff.app.display import short_id
from riff.app.line_repairs import LineRepairResult, revert_line_edit
from riff.app.repairs import (
    ApplyResult,
    find_event,
    preview_write,
    revert_event,
    write_and_reload,
)
from riff.app.sessions import load_session
from riff.cli.common import workspace
from riff.cli.context import guarded
from riff.cli.errors import CliError, ExitCode
from riff.cli.output import safe, stdout
from riff.cli.prompt import confirm
from riff.cli.repair_request import RepairRequest
from riff.cli.repair_run import (
    event_rows,
    render_applied,
    repair_kinds,
    run_repair,
)
from riff.events import RepairEvent

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
ForceLiveOption = Annotated[
    bool,
    typer.Option(
        "--force-live",
        help="Write even though another process has the transcript open for writing or it "
        "changed seconds ago (Claude Code may still be running in it).",
    ),
]


def render_line_applied(result: LineRepairResult) -> None:
    for event in result.events:
        stdout.print(f"[green]✓[/] event {event.event_id} seq {event.seq}: {event.kind}")
    if result.written is not None:
        backup = f" (backup {result.written.backup_path})" if result.written.backup_path else ""
        stdout.print(f"[green]wrote[/] {safe(str(result.written.path))}{safe(backup)}")


def _result_json(
    session_id: str, dry_run: bool, events: list[RepairEvent], result: ApplyResult | None
) -> dict[str, Any]:
    written = result.written if result else None
    return {
        "session_id": session_id,
        "dry_run": dry_run,
        "events": event_rows(events),
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
    force_live: ForceLiveOption = False,
    yes: YesOption = False,
    json: JsonOption = False,
    kinds: Annotated[
        str | None,
        typer.Option(
            "--kinds",
            help="What to repair, comma-separated (default: all): torn (torn lines, NUL runs, "
            "joined rows), duplicate (repeated lines), tool_result (tool calls without a "
            "result), parent (re-link orphans). All but parent change the file's bytes and "
            "need --write.",
        ),
    ] = None,
) -> None:
    """Plan every repair the session needs, validate it, append it as events (then --write)."""
    request = RepairRequest(
        session=session,
        message=message,
        parent=parent,
        root=root,
        min_score=min_score,
        reason=reason,
        force=force,
        dry_run=dry_run,
        write=write,
        no_backup=no_backup,
        force_live=force_live,
        yes=yes,
        json=json,
        kinds=kinds,
    )
    names = repair_kinds(request)
    with workspace(ctx) as (app_ctx, ws):
        raise typer.Exit(run_repair(app_ctx, ws, request, names))


@guarded
def revert(
    ctx: typer.Context,
    event_id: Annotated[str, typer.Argument(help="The event to undo (id or unique prefix).")],
    reason: ReasonOption = "",
    write: WriteOption = False,
    no_backup: NoBackupOption = False,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Show; change nothing.")] = False,
    force_live: ForceLiveOption = False,
    yes: YesOption = False,
    json: JsonOption = False,
) -> None:
    """Undo a repair of any kind by appending a revert event (a revert of a revert re-applies)."""
    with workspace(ctx) as (app_ctx, ws):
        out = app_ctx.output(json)
        target = find_event(ws, event_id)
        if target.edit is not None:
            _revert_line_edit(
                app_ctx, ws, target, reason, write, no_backup, dry_run, yes, json, force_live
            )
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
            force_live=force_live,
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
    force_live: bool,
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
        ws,
        target.event_id,
        operator=ws.settings.operator,
        reason=reason,
        backup=not no_backup,
        force_live=force_live,
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
    force_live: ForceLiveOption = False,
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
        written, _ = write_and_reload(ws, state, backup=not no_backup, force_live=force_live)
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
