"""The `riff` command: the Typer application, its global options, and where each command lives.

Every command is a module-level function in the file named after its group:
`riff scan|show|suggest` in scan_cmd, `riff repair|revert|write` in repair_cmd,
`riff log|export` in log_cmd, `riff report` in report_cmd, `riff verify` in
verify_cmd, `riff tui` in tui_cmd, `riff demo` in demo_cmd, `riff
checkpoint|prove` and `riff key …` in checkpoint_cmd, `riff guard` in guard_cmd (its
hook path in guard_hook), `riff watch` in watch_cmd, and the groups `riff hooks …`,
`riff
jobs …`, `riff views …`, `riff db …` in jobs_cmd, views_cmd, db_cmd.

The console entry point is riff.cli.main.run, which answers `riff --version`
before this module (Typer, Rich, every command) is imported.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from riff import __version__
from riff.cli import (
    checkpoint_cmd,
    db_cmd,
    demo_cmd,
    guard_cmd,
    hooks_cmd,
    jobs_cmd,
    log_cmd,
    repair_cmd,
    report_cmd,
    scan_cmd,
    tui_cmd,
    verify_cmd,
    views_cmd,
    watch_cmd,
)
from riff.cli.context import USER_ERRORS, AppContext, report_error
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

app.add_typer(jobs_cmd.jobs_app, name="jobs")
app.add_typer(views_cmd.views_app, name="views")
app.add_typer(db_cmd.db_app, name="db")
app.add_typer(checkpoint_cmd.key_app, name="key")
app.add_typer(hooks_cmd.hooks_app, name="hooks")
# In the order `riff --help` lists them.
for command in (
    scan_cmd.scan,
    scan_cmd.show,
    scan_cmd.suggest,
    repair_cmd.repair,
    repair_cmd.revert,
    repair_cmd.write,
    log_cmd.log,
    log_cmd.export,
    report_cmd.report,
    tui_cmd.tui,
    demo_cmd.demo,
    checkpoint_cmd.checkpoint,
    checkpoint_cmd.prove,
    verify_cmd.verify,
    guard_cmd.guard,
    watch_cmd.watch,
):
    app.command()(command)


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
    follow_symlinks: Annotated[
        bool,
        typer.Option(
            "--follow-symlinks",
            help="Read transcripts that symlinks lead to outside the projects dir.",
        ),
    ] = False,
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
            db_url=db,
            projects_dir=projects_dir,
            data_dir=data_dir,
            operator=operator,
            follow_symlinks=True if follow_symlinks else None,
        )
    except SettingsError as exc:
        raise typer.Exit(report_error(exc)) from None
    ctx.obj = AppContext(settings=settings, debug=debug, quiet=quiet, json=json)


def run() -> None:
    """Run the Typer application on sys.argv (riff.cli.main.run is the entry point)."""
    try:
        app()
    except USER_ERRORS as exc:  # raised outside a guarded command
        sys.exit(report_error(exc))
