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
before this module (Typer, Rich, every command) is imported. The commands'
modules are imported only when a command runs (COMMANDS, LazyCommands): `riff
--help` lists them from their names and help alone.
"""

from __future__ import annotations

import importlib
import sys
from pathlib import Path
from typing import Annotated, Any

import typer
from typer.core import TyperGroup

from riff import __version__
from riff.cli.context import USER_ERRORS, AppContext, report_error

# Every command, in the order `riff --help` lists them: (module, attribute,
# the first paragraph of its help). A command's module is imported only when
# that command runs (or shows its own help), so `riff --help` and `riff verify
# FILE` do not pay for the others' imports. The attribute is the command's
# function, or the Typer application of a group. tests/cli/test_app_lazy.py
# checks that each entry names the real function and repeats its help.
COMMANDS: dict[str, tuple[str, str, str]] = {
    "scan": (
        "riff.cli.scan_cmd",
        "scan",
        "Find broken sessions: orphans, cycles, tool calls without results, lost branches.",
    ),
    "show": (
        "riff.cli.scan_cmd",
        "show",
        "What resume would load (or the tree), findings marked, paged; or one event (--event).",
    ),
    "suggest": (
        "riff.cli.scan_cmd",
        "suggest",
        "Ranked parent candidates for orphaned messages, with the evidence behind each score.",
    ),
    "repair": (
        "riff.cli.repair_cmd",
        "repair",
        "Plan every repair the session needs, validate it, append it as events (then --write).",
    ),
    "revert": (
        "riff.cli.repair_cmd",
        "revert",
        "Undo a repair of any kind by appending a revert event (a revert of a revert re-applies).",
    ),
    "write": (
        "riff.cli.repair_cmd",
        "write",
        "Write the repaired parents (from the event log) into the transcript file.",
    ),
    "log": (
        "riff.cli.log_cmd",
        "log",
        "Repair events with their derived status (reverted or active).",
    ),
    "export": (
        "riff.cli.log_cmd",
        "export",
        "Export the event log for audit; check it anywhere with `riff verify FILE`.",
    ),
    "report": (
        "riff.cli.report_cmd",
        "report",
        "The dashboard: health of the projects dir, repairs, the log's verification.",
    ),
    "tui": (
        "riff.cli.tui_cmd",
        "tui",
        "Review broken sessions and repair them by hand; every action is an event.",
    ),
    "demo": (
        "riff.cli.demo_cmd",
        "demo",
        "Walk through scan → suggest → repair → log → verify → revert → export on demo data.",
    ),
    "checkpoint": (
        "riff.cli.checkpoint_cmd",
        "checkpoint",
        "Sign the log's tree head; record it in the database and in <data dir>/checkpoints/.",
    ),
    "prove": (
        "riff.cli.checkpoint_cmd",
        "prove",
        "Write a self-contained proof that anyone can check offline with `riff verify FILE --key`.",
    ),
    "verify": (
        "riff.cli.verify_cmd",
        "verify",
        "Verify an export or a proof file offline, or the whole database (--db): digests,\n"
        "chains, reverts, heads, and the transparency log against its signed checkpoints.",
    ),
    "guard": (
        "riff.cli.guard_cmd",
        "guard",
        "Check the session a Claude Code hook names (hook JSON on stdin); always exits 0.",
    ),
    "watch": (
        "riff.cli.watch_cmd",
        "watch",
        "Watch the projects dir and print new findings as sessions are written (Ctrl-C stops).",
    ),
    "jobs": (
        "riff.cli.jobs_cmd",
        "jobs_app",
        "Background jobs: keep views fresh, verify integrity, archive.",
    ),
    "views": (
        "riff.cli.views_cmd",
        "views_app",
        "Materialized session views: status, rebuild, validate.",
    ),
    "db": ("riff.cli.db_cmd", "db_app", "The event store: schema and users."),
    "key": ("riff.cli.checkpoint_cmd", "key_app", "The key that signs checkpoints."),
    "hooks": (
        "riff.cli.hooks_cmd",
        "hooks_app",
        "Install riff's Claude Code hooks (riff guard on session start, stop and end).",
    ),
}


def load_command(name: str) -> Any:
    """The function (or group application) behind command `name`, its module imported now."""
    module, attribute, _help = COMMANDS[name]
    return getattr(importlib.import_module(module), attribute)


class LazyCommands(TyperGroup):
    """riff's command group: a command's module loads when the command is resolved.

    Listing the commands (`riff --help`) needs only their names and help, which
    COMMANDS holds; running one (or asking for its own --help) builds the real
    Typer command from its module.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._loaded: dict[str, Any] = {}
        self.listing = False

    def list_commands(self, ctx: Any) -> list[str]:
        return [*COMMANDS, *(n for n in super().list_commands(ctx) if n not in COMMANDS)]

    def get_command(self, ctx: Any, cmd_name: str) -> Any:
        if cmd_name not in COMMANDS:
            return super().get_command(ctx, cmd_name)
        if self.listing and cmd_name not in self._loaded:
            return typer.core.TyperCommand(cmd_name, help=COMMANDS[cmd_name][2])
        if cmd_name not in self._loaded:
            self._loaded[cmd_name] = _click_command(cmd_name)
        return self._loaded[cmd_name]

    def format_help(self, ctx: Any, formatter: Any) -> None:
        self.listing = True
        try:
            super().format_help(ctx, formatter)
        finally:
            self.listing = False


def _click_command(name: str) -> Any:
    """The click command Typer builds for `name`, as if it had been registered up front."""
    target = load_command(name)
    holder = typer.Typer(rich_markup_mode="rich", add_completion=False)
    if isinstance(target, typer.Typer):
        holder.add_typer(target, name=name)
    else:
        holder.command(name)(target)
    holder.callback()(lambda: None)  # a group, so the command keeps its own name
    return typer.main.get_group(holder).commands[name]


app = typer.Typer(
    name="riff",
    cls=LazyCommands,
    help="Find, repair and audit broken Claude Code transcripts. Every repair is an "
    "immutable, hash-chained event.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
    rich_markup_mode="rich",
)


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
    from riff.settings import SettingsError, load_settings  # not needed to list commands

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
