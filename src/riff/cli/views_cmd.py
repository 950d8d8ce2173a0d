"""`riff views …`: the materialized session views: status, rebuild, validate."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table

from riff.app.views import rebuild_views, validate_views, view_summaries
from riff.cli.common import workspace
from riff.cli.context import guarded
from riff.cli.errors import ExitCode
from riff.cli.output import safe, stdout

JsonOption = Annotated[bool, typer.Option("--json", help="Print one JSON document on stdout.")]
views_app = typer.Typer(help="Materialized session views: status, rebuild, validate.")


@views_app.command("status")
@guarded
def views_status(ctx: typer.Context, json: JsonOption = False) -> None:
    """Every view with its seq, head and stale/drift flags."""
    with workspace(ctx) as (app_ctx, ws):
        out = app_ctx.output(json)
        rows = view_summaries(ws)
        if out.json:
            out.emit_json({"views": rows})
            return
        table = Table(title="Views", title_justify="left")
        for name in ("session", "through seq", "head", "stale", "drift", "updated"):
            table.add_column(name)
        for row in rows:
            table.add_row(
                safe(str(row.get("session_id", ""))[:8]),
                str(row.get("through_seq")),
                safe(str(row.get("head_digest", ""))[:12]),
                "[yellow]yes[/]" if row.get("is_stale") else "no",
                "[red]yes[/]" if row.get("drift_detected") else "no",
                safe(str(row.get("updated_at", ""))[:19]),
            )
        stdout.print(table)


@views_app.command("rebuild")
@guarded
def views_rebuild(
    ctx: typer.Context,
    session: Annotated[str | None, typer.Argument(help="One session (default: all).")] = None,
    json: JsonOption = False,
) -> None:
    """Rebuild views from the transcripts and the full log."""
    with workspace(ctx) as (app_ctx, ws):
        out = app_ctx.output(json)
        done = [
            {
                "session_id": view.session_id,
                "through_seq": view.through_seq,
                "materialization_digest": view.materialization_digest,
            }
            for view in rebuild_views(ws, session)
        ]
        if out.json:
            out.emit_json({"rebuilt": done})
        else:
            out.say(f"rebuilt {len(done)} view(s)")


@views_app.command("validate")
@guarded
def views_validate(
    ctx: typer.Context,
    session: Annotated[str | None, typer.Argument(help="One session (default: all).")] = None,
    json: JsonOption = False,
) -> None:
    """Recompute views from scratch and from the files on disk; report drift (exit 1)."""
    with workspace(ctx) as (app_ctx, ws):
        out = app_ctx.output(json)
        reports = validate_views(ws, session)
        drifted = [r for r in reports if r.drift_detected]
        if out.json:
            out.emit_json({"views": [r.to_dict() for r in reports], "drifted": len(drifted)})
        else:
            for r in reports:
                mark = "[red]DRIFT[/]" if r.drift_detected else "[green]ok[/]"
                stdout.print(f"{mark} {safe(r.summary())}")
        raise typer.Exit(int(ExitCode.PROBLEMS if drifted else ExitCode.OK))
