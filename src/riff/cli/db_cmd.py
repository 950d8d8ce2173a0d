"""`riff db …`: the event store's schema and users."""

from __future__ import annotations

from typing import Annotated

import typer

from riff.app.admin import create_operator, init_store, migrate_store, store_status
from riff.cli.common import workspace
from riff.cli.context import app_context, guarded
from riff.cli.errors import ExitCode
from riff.cli.output import safe

JsonOption = Annotated[bool, typer.Option("--json", help="Print one JSON document on stdout.")]
db_app = typer.Typer(help="The event store: schema and users.")


@guarded
def db_init(ctx: typer.Context, json: JsonOption = False) -> None:
    """Create the store and apply the schema."""
    with workspace(ctx) as (app_ctx, ws):
        out = app_ctx.output(json)
        info = init_store(ws)
        if out.json:
            out.emit_json(info)
        else:
            out.say(f"store {safe(info['url'])}: schema version {info['current']}")


@guarded
def db_status(ctx: typer.Context, json: JsonOption = False) -> None:
    """Schema version, sessions and events in the store."""
    app_ctx = app_context(ctx)
    out = app_ctx.output(json)
    info = store_status(app_ctx.settings)
    if out.json:
        out.emit_json(info)
    else:
        for key, value in info.items():
            if key != "schema_drift":
                out.say(f"{key:>10}: {safe(value)}")
        drift = info.get("schema_drift") or []
        out.say(f"{'schema':>10}: " + ("[red]DRIFT[/]" if drift else "guards as defined"))
        for line in drift:
            out.say(f"  [red]✗[/] {safe(line)}")
    if info.get("schema_drift"):
        raise typer.Exit(int(ExitCode.PROBLEMS))


@guarded
def db_migrate(ctx: typer.Context, json: JsonOption = False) -> None:
    """Apply pending schema versions."""
    app_ctx = app_context(ctx)
    out = app_ctx.output(json)
    info = migrate_store(app_ctx.settings)
    if out.json:
        out.emit_json(info)
    else:
        out.say(f"applied {info['applied'] or 'nothing'}; schema version {info['current']}")
        if info["log_indexed"]:
            out.say(f"gave {info['log_indexed']} earlier event(s) their transparency-log index")


@guarded
def db_create_user(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="The operator name (record user).")],
    password: Annotated[
        str, typer.Option("--password", prompt=True, hide_input=True, help="Their password.")
    ],
) -> None:
    """Create a team member who may only append and read events (team mode)."""
    with workspace(ctx) as (app_ctx, ws):
        create_operator(ws, name, password)
        app_ctx.output().say(
            f"created record user {safe(repr(name))}; they connect with --db URL and "
            "RIFF_DB_ACCESS=operator, RIFF_DB_USERNAME, RIFF_DB_PASSWORD"
        )


db_app.command("init")(db_init)
db_app.command("status")(db_status)
db_app.command("migrate")(db_migrate)
db_app.command("create-user")(db_create_user)
