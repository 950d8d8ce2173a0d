"""`riff log` and `riff export`: what was repaired, by whom, and why."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from riff.app.display import short_id
from riff.app.logs import LogFilter, export_log, log_events
from riff.cli.common import workspace
from riff.cli.context import guarded
from riff.cli.errors import CliError
from riff.cli.output import safe, stdout

JsonOption = Annotated[bool, typer.Option("--json", help="Print one JSON document on stdout.")]


@guarded
def log(
    ctx: typer.Context,
    session: Annotated[str | None, typer.Argument(help="One session (default: all).")] = None,
    operator: Annotated[str | None, typer.Option("--operator", help="Only this operator.")] = None,
    message: Annotated[str | None, typer.Option("--message", help="Only this message.")] = None,
    since: Annotated[str | None, typer.Option("--since", help="From this UTC time.")] = None,
    until: Annotated[str | None, typer.Option("--until", help="Up to this UTC time.")] = None,
    json: JsonOption = False,
) -> None:
    """Repair events with their derived status (reverted or active)."""
    with workspace(ctx) as (app_ctx, ws):
        out = app_ctx.output(json)
        flt = LogFilter(session, operator, message, since, until)
        rows = list(log_events(ws, flt))
        if out.json:
            out.emit_json({"events": [e.to_dict() | {"is_reverted": rev} for e, rev in rows]})
            return
        if not rows:
            out.say("no events")
            return
        table = Table(title="Repair events", title_justify="left")
        for name in ("session", "seq", "event", "kind", "message", "old → new", "operator",
                     "score", "status", "when", "reason"):  # fmt: skip
            table.add_column(name, overflow="fold")
        for event, reverted in rows:
            status = "[dim]reverted[/]" if reverted else "[green]active[/]"
            if not event.validation_passed:
                status += " [red]forced[/]"
            table.add_row(
                safe(event.session_id[:8]),
                str(event.seq),
                safe(event.event_id[:13]),
                safe(event.kind),
                safe(short_id(event.message_id)),
                f"{safe(short_id(event.old_parent_uuid))} → "
                f"{safe(short_id(event.new_parent_uuid))}",
                safe(event.operator),
                "—" if event.similarity_score is None else f"{event.similarity_score:.2f}",
                status,
                safe(event.timestamp[:19].replace("T", " ")),
                safe(event.reason[:50]),
            )
        stdout.print(table)


@guarded
def export(
    ctx: typer.Context,
    output: Annotated[Path, typer.Option("--output", "-o", help="File to write.")],
    session: Annotated[str | None, typer.Option("--session", help="One session only.")] = None,
    fmt: Annotated[str, typer.Option("--format", help="json or jsonl (streaming).")] = "json",
    json: JsonOption = False,
) -> None:
    """Export the event log for audit; check it anywhere with `riff verify FILE`."""
    if fmt not in ("json", "jsonl"):
        raise CliError(f"--format {fmt!r}: use json or jsonl")
    with workspace(ctx) as (app_ctx, ws):
        out = app_ctx.output(json)
        count = export_log(ws, output, session=session, fmt=fmt)  # type: ignore[arg-type]
        if out.json:
            out.emit_json({"path": str(output), "events": count, "format": fmt})
        else:
            out.say(f"exported {count} events to {safe(output)} ({fmt})")
