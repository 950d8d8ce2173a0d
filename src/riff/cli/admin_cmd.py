"""`riff views …` and `riff db …`: the store's upkeep."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.table import Table

from riff.app.repairs import session_file_for
from riff.app.sessions import SessionState, ensure_view, load_session
from riff.app.tlog_migration import finish_migration
from riff.app.workspace import Workspace
from riff.cli.common import workspace
from riff.cli.context import guarded
from riff.cli.errors import ExitCode
from riff.cli.output import stdout
from riff.views import check_drift, rebuild

if TYPE_CHECKING:
    from riff.store import ImmutableEventStore

JsonOption = Annotated[bool, typer.Option("--json", help="Print one JSON document on stdout.")]
views_app = typer.Typer(help="Materialized session views: status, rebuild, validate.")
db_app = typer.Typer(help="The event store: schema and users.")


def _view_rows(ws: Workspace) -> list[dict[str, Any]]:
    return ws.store.view_summaries()


@views_app.command("status")
@guarded
def views_status(ctx: typer.Context, json: JsonOption = False) -> None:
    """Every view with its seq, head and stale/drift flags."""
    with workspace(ctx) as (app_ctx, ws):
        out = app_ctx.output(json)
        rows = _view_rows(ws)
        if out.json:
            out.emit_json({"views": rows})
            return
        table = Table(title="Views", title_justify="left")
        for name in ("session", "through seq", "head", "stale", "drift", "updated"):
            table.add_column(name)
        for row in rows:
            table.add_row(
                str(row.get("session_id", ""))[:8],
                str(row.get("through_seq")),
                str(row.get("head_digest", ""))[:12],
                "[yellow]yes[/]" if row.get("is_stale") else "no",
                "[red]yes[/]" if row.get("drift_detected") else "no",
                str(row.get("updated_at", ""))[:19],
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
        done = []
        for state in _target_states(ws, session):
            view = rebuild(ws.store, state.session_id, state.source_state())
            done.append({"session_id": view.session_id, "through_seq": view.through_seq,
                         "materialization_digest": view.materialization_digest})  # fmt: skip
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
        reports = []
        for state in _target_states(ws, session):
            if ws.store.get_view(state.session_id) is None:
                ensure_view(ws, state)
            report = check_drift(ws.store, state.session_id, transcript=state.file.path)
            reports.append(report)
        drifted = [r for r in reports if r.drift_detected]
        if out.json:
            out.emit_json({"views": [r.to_dict() for r in reports], "drifted": len(drifted)})
        else:
            for r in reports:
                mark = "[red]DRIFT[/]" if r.drift_detected else "[green]ok[/]"
                stdout.print(f"{mark} {r.summary()}")
        raise typer.Exit(int(ExitCode.PROBLEMS if drifted else ExitCode.OK))


def _raw_store(ws: Workspace) -> ImmutableEventStore:
    """The store without creating or checking its schema: for status and migrate."""
    from riff.store import open_store

    ws.settings.data_dir.mkdir(parents=True, exist_ok=True)
    return open_store(ws.settings, create=False, check=False)


def _target_states(ws: Workspace, session: str | None) -> Iterator[SessionState]:
    """The named session, or every session the store has events or a view for."""
    if session is not None:
        yield load_session(ws, session)
        return
    ids = set(ws.store.sessions())
    ids.update(str(row["session_id"]) for row in ws.store.view_summaries())
    for session_id in sorted(ids):
        yield load_session(ws, session_file_for(ws, session_id))


@db_app.command("init")
@guarded
def db_init(ctx: typer.Context, json: JsonOption = False) -> None:
    """Create the store and apply the schema."""
    from riff.store import schema_status

    with workspace(ctx) as (app_ctx, ws):
        out = app_ctx.output(json)
        status = schema_status(ws.store.conn)
        if out.json:
            out.emit_json({"url": ws.store.url} | status.to_dict())
        else:
            out.say(f"store {ws.store.url}: schema version {status.current}")


@db_app.command("status")
@guarded
def db_status(ctx: typer.Context, json: JsonOption = False) -> None:
    """Schema version, sessions and events in the store."""
    from riff.store import schema_status

    with workspace(ctx) as (app_ctx, ws):
        out = app_ctx.output(json)
        with _raw_store(ws) as store:
            status = schema_status(store.conn)
            info: dict[str, Any] = {"url": store.url} | status.to_dict()
            if status.current and not status.too_new:
                info |= {"sessions": len(store.sessions()), "events": store.count()}
        if out.json:
            out.emit_json(info)
        else:
            for key, value in info.items():
                out.say(f"{key:>10}: {value}")


@db_app.command("migrate")
@guarded
def db_migrate(ctx: typer.Context, json: JsonOption = False) -> None:
    """Apply pending schema versions."""
    from riff.store import migrate, schema_status

    with workspace(ctx) as (app_ctx, ws):
        out = app_ctx.output(json)
        with _raw_store(ws) as store:
            applied = migrate(store.conn)
            status = schema_status(store.conn)
            indexed = finish_migration(store)
        if out.json:
            out.emit_json({"applied": applied, "log_indexed": indexed} | status.to_dict())
        else:
            out.say(f"applied {applied or 'nothing'}; schema version {status.current}")
            if indexed:
                out.say(f"gave {indexed} earlier event(s) their transparency-log index")


@db_app.command("create-user")
@guarded
def db_create_user(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="The operator name (record user).")],
    password: Annotated[
        str, typer.Option("--password", prompt=True, hide_input=True, help="Their password.")
    ],
) -> None:
    """Create a team member who may only append and read events (team mode)."""
    from riff.store import create_user

    with workspace(ctx) as (app_ctx, ws):
        create_user(ws.store.conn, name, password)
        app_ctx.output().say(
            f"created record user {name!r}; they connect with --db URL and "
            "RIFF_DB_ACCESS=operator, RIFF_DB_USERNAME, RIFF_DB_PASSWORD"
        )
