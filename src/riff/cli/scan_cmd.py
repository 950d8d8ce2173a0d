"""`riff scan`, `riff show`, `riff suggest`: find breaks and what to do about them."""

from __future__ import annotations

from typing import Annotated, Any

import typer
from rich.table import Table

from riff.app.display import short_id, signal_text
from riff.app.sessions import SessionState, load_session
from riff.cli.common import workspace
from riff.cli.context import guarded
from riff.cli.errors import CliError
from riff.cli.output import safe, stdout
from riff.cli.scan_run import render_scan as render_scan  # riff demo prints the scan too
from riff.cli.scan_run import scan_command
from riff.cli.show_run import show_session

JsonOption = Annotated[bool, typer.Option("--json", help="Print one JSON document on stdout.")]


@guarded
def scan(
    ctx: typer.Context,
    paths: Annotated[
        list[str] | None,
        typer.Argument(help="Files, dirs or session ids (default: every session)."),
    ] = None,
    no_cache: Annotated[bool, typer.Option("--no-cache", help="Read every file.")] = False,
    json: JsonOption = False,
) -> None:
    """Find broken sessions: orphans, cycles, tool calls without results, lost branches."""
    with workspace(ctx) as (app_ctx, ws):
        code = scan_command(app_ctx, ws, paths or [], no_cache=no_cache, json=json)
        raise typer.Exit(code)


@guarded
def show(
    ctx: typer.Context,
    session: Annotated[
        str | None, typer.Argument(help="Session id, unique prefix, or path.")
    ] = None,
    event: Annotated[
        str | None,
        typer.Option(
            "--event",
            help="Show this event instead (id or unique prefix): what it did and the bytes "
            "it removed or wrote.",
        ),
    ] = None,
    tree: Annotated[bool, typer.Option("--tree", help="The whole tree, not the chain.")] = False,
    limit: Annotated[int, typer.Option("--limit", help="Show at most this many lines.")] = 2000,
    no_pager: Annotated[
        bool, typer.Option("--no-pager", help="Print straight to the terminal.")
    ] = False,
    json: JsonOption = False,
) -> None:
    """What resume would load (or the tree), findings marked, paged; or one event (--event)."""
    if (session is None) == (event is None):
        raise CliError("give a SESSION, or --event EVENT_ID (not both)")
    with workspace(ctx) as (app_ctx, ws):
        out = app_ctx.output(json)
        if event is not None:
            # Here, not at the top: a plain `riff show` needs none of the repair
            # machinery these bring (about a tenth of a second of imports).
            from riff.app.event_detail import event_detail
            from riff.cli.event_show import show_event

            show_event(out, event_detail(ws, event))
            return
        assert session is not None
        show_session(ws, out, session, tree=tree, limit=limit, no_pager=no_pager)


@guarded
def suggest(
    ctx: typer.Context,
    session: Annotated[str, typer.Argument(help="Session id, unique prefix, or path.")],
    message: Annotated[str | None, typer.Argument(help="One orphan (default: all).")] = None,
    k: Annotated[int, typer.Option("-k", help="Candidates per orphan.")] = 3,
    json: JsonOption = False,
) -> None:
    """Ranked parent candidates for orphaned messages, with the evidence behind each score."""
    from riff.app.repairs import candidates_for, orphan_candidates, resolve_message

    with workspace(ctx) as (app_ctx, ws):
        out = app_ctx.output(json)
        state = load_session(ws, session)
        if message is not None:
            message_id = resolve_message(state, message, "message")
            record = state.records_by_uuid[message_id]
            orphans = [(message_id, record.line, candidates_for(state, message_id, k))]
        else:
            orphans = orphan_candidates(state, k)
        if out.json:
            out.emit_json(
                {
                    "session_id": state.session_id,
                    "path": str(state.file.path),
                    "orphans": [
                        {
                            "message_id": mid,
                            "line": line,
                            "candidates": [c.to_json() for c in cands],
                        }
                        for mid, line, cands in orphans
                    ],
                }
            )
            return
        render_suggestions(state, orphans)


def render_suggestions(state: SessionState, orphans: list[tuple[str, int, list[Any]]]) -> None:
    if not orphans:
        stdout.print(f"[green]no orphans[/] in {safe(state.session_id)}")
        return
    for message_id, line, candidates in orphans:
        record = state.records_by_uuid.get(message_id)
        preview = record.preview if record else ""
        stdout.print(
            f"[bold]orphan[/] {safe(message_id)} (line {line}) [dim]{safe(preview[:70])}[/]",
            highlight=False,
        )
        if not candidates:
            stdout.print("   no candidate")
        table = Table(show_header=True, box=None, padding=(0, 2))
        table.add_column("#")
        table.add_column("parent")
        table.add_column("score", justify="right")
        table.add_column("why")
        table.add_column("preview", overflow="ellipsis", max_width=40)
        for rank, cand in enumerate(candidates, start=1):
            why = signal_text(cand.signals, limit=4, readable_names=False)
            parent = state.records_by_uuid.get(cand.parent_uuid)
            table.add_row(
                str(rank),
                safe(short_id(cand.parent_uuid)),
                f"{cand.score:.2f}",
                why,
                safe((parent.preview if parent else "")[:40]),
            )
        stdout.print(table)
