"""The `riff` command: the Typer application and its global options.

The console entry point is riff.cli.main.run, which answers `riff --version`
before this module (Typer, Rich, every command) is imported.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from riff import __version__
from riff.cli import checkpoint_cmd, demo_cmd, log_cmd, repair_cmd, scan_cmd, tui_cmd
from riff.cli.admin_cmd import db_app, views_app
from riff.cli.context import USER_ERRORS, AppContext, app_context, guarded, report_error
from riff.cli.errors import CliError
from riff.cli.jobs_cmd import jobs_app
from riff.cli.verify_cmd import ExpectHeadOption, verify_file
from riff.settings import SettingsError, load_settings

app = typer.Typer(
    name="riff",
    help="Find, repair and audit broken Claude Code transcripts. Every repair is an "
    "immutable, hash-chained event.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
    rich_markup_mode="rich",
)

app.add_typer(jobs_app, name="jobs")
app.add_typer(views_app, name="views")
app.add_typer(db_app, name="db")
scan_cmd.register(app)
repair_cmd.register(app)
log_cmd.register(app)
log_cmd.register_report(app)
tui_cmd.register(app)
demo_cmd.register(app)
checkpoint_cmd.register(app)

JsonOption = Annotated[bool, typer.Option("--json", help="Print one JSON document on stdout.")]


def _version(value: bool) -> None:
    if value:
        print(f"riff {__version__}")
        raise typer.Exit()


@app.callback()
def main(
    ctx: typer.Context,
    db: Annotated[
        str | None, typer.Option("--db", help="Database URL (default: embedded surrealkv://).")
    ] = None,
    projects_dir: Annotated[
        Path | None,
        typer.Option(
            "--projects-dir", help="Claude Code projects dir (default ~/.claude/projects)."
        ),
    ] = None,
    data_dir: Annotated[
        Path | None, typer.Option("--data-dir", help="riff's own data dir (store, cache, archive).")
    ] = None,
    operator: Annotated[
        str | None, typer.Option("--operator", help="Who decides repairs (default: OS user).")
    ] = None,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="Only errors.")] = False,
    json: Annotated[
        bool, typer.Option("--json", help="Every data command prints one JSON document.")
    ] = False,
    debug: Annotated[bool, typer.Option("--debug", help="Show tracebacks.")] = False,
    version: Annotated[
        bool,
        typer.Option("--version", callback=_version, is_eager=True, help="Show the version."),
    ] = False,
) -> None:
    try:
        settings = load_settings().with_overrides(
            db_url=db, projects_dir=projects_dir, data_dir=data_dir, operator=operator
        )
    except SettingsError as exc:
        raise typer.Exit(report_error(exc)) from None
    ctx.obj = AppContext(settings=settings, debug=debug, quiet=quiet, json=json)


@app.command()
@guarded
def verify(
    ctx: typer.Context,
    file: Annotated[
        Path | None, typer.Argument(help="An export (.json or .jsonl) to verify offline.")
    ] = None,
    use_db: Annotated[
        bool,
        typer.Option("--db", "--all", help="Verify every chain, head and view in the database."),
    ] = False,
    expect_head: ExpectHeadOption = None,
    checkpoint: Annotated[
        list[Path] | None,
        typer.Option(
            "--checkpoint",
            metavar="NOTE",
            help="A signed checkpoint kept elsewhere (an auditor's copy) to hold the log "
            "against. Repeatable.",
        ),
    ] = None,
    key: Annotated[
        str | None,
        typer.Option(
            "--key",
            metavar="VKEY",
            help="The verifier key (or a file holding it) that signed the checkpoints "
            "(default: the data dir's signing key).",
        ),
    ] = None,
    json: JsonOption = False,
) -> None:
    """Verify an export or a proof file offline, or the whole database (--db): digests,
    chains, reverts, heads, and the transparency log against its signed checkpoints."""
    app_ctx = app_context(ctx)
    out = app_ctx.output(json)
    if file is None and not use_db:
        raise CliError("give an export or proof FILE to verify, or --db to verify the database")
    if file is not None:
        from riff.app.proofs import proof_kind

        if proof_kind(file) is not None:
            code = checkpoint_cmd.verify_proof(file, key, out, app_ctx.settings)
        else:
            code = verify_file(file, expect_head or [], out)
    else:
        from riff.cli.db_verify import verify_database

        code = verify_database(app_ctx, expect_head or [], out, checkpoint or [], key)
    raise typer.Exit(int(code))


def run() -> None:
    """Run the Typer application on sys.argv (riff.cli.main.run is the entry point)."""
    try:
        app()
    except USER_ERRORS as exc:  # raised outside a guarded command
        sys.exit(report_error(exc))
