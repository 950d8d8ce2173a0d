"""What `riff repair` does once its arguments are known, free of Typer.

Both ways into the command run this: the Typer command (riff.cli.repair_cmd.repair)
and riff.cli.scan_direct, which parses a plain `riff [options] repair SESSION
--yes …` itself, so that a repair starts without Typer and pydantic (0.1 s
and 11 MB of RSS on a one-line session). The renderers of plans and events
live here too; `riff revert`, `riff write` and the demo use them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from rich.table import Table

from riff.app.auto_apply import applied_min_score
from riff.app.display import short_id
from riff.app.recording import require_reason_for_force
from riff.app.repair_plan import (
    PARENT,
    PlanResult,
    SessionRepairPlan,
    apply_session_plan,
    load_and_plan,
    parse_kinds,
)
from riff.app.repairs import ApplyResult, RepairPlan, preview_write
from riff.cli.errors import CliError, ExitCode
from riff.cli.output import safe, stderr, stdout
from riff.cli.prompt import confirm
from riff.cli.repair_request import RepairRequest
from riff.events import RepairEvent
from riff.transcript.line_repairs import LinePlan

if TYPE_CHECKING:
    from riff.app.workspace import Workspace
    from riff.cli.context import AppContext


def repair_kinds(request: RepairRequest) -> tuple[str, ...]:
    """The kinds to repair; raises CliError on a request that cannot be run (checked
    before the store opens)."""
    if (request.parent or request.root) and request.message is None:
        raise CliError("--parent and --root need --message MESSAGE")
    require_reason_for_force(request.force, request.reason)
    names = parse_kinds(request.kinds)
    if request.message is not None:
        if request.kinds is not None and names != (PARENT,):
            raise CliError("--message repairs one parent link: use it with --kinds parent only")
        names = (PARENT,)
    return names


def run_repair(
    app_ctx: AppContext, ws: Workspace, request: RepairRequest, names: tuple[str, ...]
) -> int:
    """Plan every repair the session needs, validate it, append it as events (then
    write); the command's exit code."""
    out = app_ctx.output(request.json)
    yes, min_score = request.yes, request.min_score
    # --json cannot ask, so it confirms by itself: the same rule as --yes.
    unattended = yes or out.json
    score, raised = applied_min_score(
        ws.settings, min_score, unattended=unattended, by_hand=request.message is not None
    )
    if raised and not app_ctx.quiet:
        stderr.print(
            f"{'--yes' if yes else '--json'} applies re-links scoring at least {score:.2f} "
            f"(not {min_score:.2f}); without {'--yes' if yes else '--json'} you confirm "
            "the lower ones",
            highlight=False,
        )
    write, dry_run = request.write, request.dry_run
    plan = load_and_plan(
        ws,
        request.session,
        kinds=names,
        min_score=score,
        message=request.message,
        parent=request.parent,
        root=request.root,
        # Line kinds asked for by name need --write; by default they are shown
        # and the re-links go ahead on the file as it is.
        write=write or dry_run or request.kinds is not None,
    )
    try:
        return _run_plan(
            app_ctx,
            ws,
            out,
            plan,
            request.reason,
            request.force,
            dry_run,
            write,
            request.no_backup,
            request.force_live,
            yes,
        )
    finally:
        plan.close()


def _run_plan(
    app_ctx: Any,
    ws: Any,
    out: Any,
    plan: SessionRepairPlan,
    reason: str,
    force: bool,
    dry_run: bool,
    write: bool,
    no_backup: bool,
    force_live: bool,
    yes: bool,
) -> int:
    """Show, check, confirm and apply the plan; the command's exit code."""
    say = not out.json and not app_ctx.quiet
    if say:
        render_session_plan(plan, write=not plan.lines_deferred)
    left = ExitCode.PROBLEMS if plan.lines.needs_decision else ExitCode.OK
    earlier = len(plan.state.pending_changes) if write and not plan.lines_deferred else 0
    if dry_run or ((plan.is_empty and not earlier) or (plan.lines_deferred and not plan.relinks)):
        if dry_run and say and plan.state.pending_changes and not plan.lines.edits:
            stdout.print(safe(preview_write(plan.state)))
        if out.json:
            out.emit_json(_plan_json(plan, dry_run=dry_run))
        return int(left)
    if plan.lines.edits and not write and not plan.lines_deferred:
        raise CliError(
            f"{plan.line_edits} line repair(s) change the transcript's bytes: add --write "
            "(or --dry-run to see the plan only, or --kinds parent for the re-links only)"
        )
    if plan.problems and not force:
        if out.json:
            refused = [
                {"message_id": i.message_id, "reason": "; ".join(i.problems)}
                for i in (plan.parents.items if plan.parents else [])
                if i.problems
            ]
            out.emit_json(_plan_json(plan, dry_run=False, refused=refused))
        more = f" (and {len(plan.problems) - 1} more)" if len(plan.problems) > 1 else ""
        stderr.print(
            f"refused: {safe(plan.problems[0])}{more}; nothing was recorded or written; "
            "change the plan (--kinds) or use --force with --reason",
            highlight=False,
            soft_wrap=True,
        )
        return int(ExitCode.PROBLEMS)
    what = ", ".join(
        part
        for part in (
            f"{plan.applicable_line_edits} line repair(s)" if plan.applicable_line_edits else "",
            f"{plan.relinks} re-link(s)" if plan.relinks else "",
        )
        if part
    )
    if what:
        question = f"Append {what} as events" + (" and rewrite the file?" if write else "?")
    else:
        question = f"Write the {earlier} re-link(s) recorded earlier into the file?"
    if not confirm(question, yes=yes or out.json):
        return int(ExitCode.OK)
    result = apply_session_plan(
        ws,
        plan,
        operator=ws.settings.operator,
        reason=reason,
        force=force,
        write=write,
        backup=not no_backup,
        force_live=force_live,
    )
    if out.json:
        out.emit_json(_plan_json(plan, dry_run=False, result=result))
    elif not app_ctx.quiet:
        render_plan_applied(result)
    return int(ExitCode.PROBLEMS if result.refused else left)


def render_plan_applied(result: PlanResult) -> None:
    """Every event in log order, then what was refused and written."""
    for event in result.events:
        if event.edit is not None:
            stdout.print(
                f"[green]✓[/] event {safe(event.event_id)} seq {event.seq}: {event.kind} "
                f"at line {event.edit['line']}"
            )
        else:
            render_applied(ApplyResult(events=[event]))
    render_applied(ApplyResult(refused=result.refused, written=result.written))


def event_rows(events: list[RepairEvent], reverted: set[str] | None = None) -> list[dict[str, Any]]:
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


def render_session_plan(plan: SessionRepairPlan, *, write: bool) -> None:
    """The whole plan in the order it applies: structure, re-links, tool pairing."""
    if plan.is_empty and not plan.skipped and not plan.lines.needs_decision:
        stdout.print(
            f"[green]nothing to repair[/] in {safe(plan.session_id)} "
            f"(kinds: {', '.join(plan.kinds)})"
        )
        if plan.state.pending_changes:
            stdout.print(
                f"{len(plan.state.pending_changes)} re-link(s) recorded earlier are not in the "
                "file yet: --write puts them in"
            )
        return
    note = "" if write else " (not applied: they change the file's bytes; add --write)"
    earlier = len(plan.state.pending_changes)
    if earlier and write and plan.lines.edits:
        stdout.print(
            f"[dim]the file first gets the {earlier} re-link(s) recorded earlier without "
            "--write: this plan's edits apply to the rows as those left them[/]"
        )
    _render_line_edits(plan.structure, f"Line repairs for {safe(plan.session_id)}{note}")
    for decision in plan.lines.needs_decision:
        stdout.print(f"  [yellow]left for a decision by hand[/]: {safe(decision)}")
    if plan.parents is not None and (plan.parents.items or plan.parents.skipped):
        if plan.structure.edits and not plan.lines_deferred:
            stdout.print("[dim]re-link lines number the file as the line repairs leave it[/]")
        render_plan(plan.parents)
    _render_line_edits(plan.tools, "Then tool pairing, on the file as the re-links leave it")
    for item in plan.tool_relinks:
        stdout.print(
            f"  then re-link {safe(short_id(item.message_id))} under "
            f"{safe(short_id(item.new_parent))} (tool pairing: under the row it inserts)"
        )
    for problem in plan.problems:
        stdout.print(f"  [red]problem[/]: {safe(problem)}")


def _render_line_edits(lines: LinePlan, title: str) -> None:
    if not lines.edits:
        return
    table = Table(title=title, title_justify="left")
    table.add_column("line", justify="right")
    table.add_column("kind")
    table.add_column("message")
    table.add_column("lines", justify="right")
    table.add_column("why")
    for planned in lines.edits:
        edit = planned.edit
        table.add_row(
            str(edit.line),
            planned.kind,
            safe(short_id(planned.message_id)),
            f"-{len(edit.removed)} +{len(edit.inserted)}",
            safe(planned.reason),
        )
    stdout.print(table)


def _plan_json(
    plan: SessionRepairPlan | None,
    *,
    dry_run: bool,
    result: PlanResult | None = None,
    refused: list[dict[str, str]] | None = None,
) -> dict[str, Any]:
    written = result.written if result else None
    session_id = plan.session_id if plan else ""
    return {
        "session_id": session_id,
        "dry_run": dry_run,
        "events": event_rows(result.events) if result else [],
        "refused": refused
        if refused is not None
        else ([r.to_json() for r in result.refused] if result else []),
        "written": written is not None,
        "backup": str(written.backup_path) if written and written.backup_path else None,
        "needs_decision": list(plan.lines.needs_decision) if plan else [],
        "plan": plan.to_json() if plan else None,
    }
