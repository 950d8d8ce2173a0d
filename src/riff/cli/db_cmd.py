"""`riff db …`: the event store's schema and users."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any

import typer

from riff.app.checkpoints import finish_migration
from riff.app.workspace import Workspace
from riff.cli.common import workspace
from riff.cli.context import guarded

if TYPE_CHECKING:
    from riff.store import ImmutableEventStore

JsonOption = Annotated[bool, typer.Option("--json", help="Print one JSON document on stdout.")]
db_app = typer.Typer(help="The event store: schema and users.")


def _raw_store(ws: Workspace) -> ImmutableEventStore:
    """The store without creating or checking its schema: for status and migrate."""
    from riff.store import open_store

    ws.settings.data_dir.mkdir(parents=True, exist_ok=True)
    return open_store(ws.settings, create=False, check=False)


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
