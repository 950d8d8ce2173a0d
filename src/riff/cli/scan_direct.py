"""`riff scan`, `riff show` and `riff repair` without Typer: the commands scripts call
most, started in a few imports.

Typer builds a pydantic validator for every option before it runs a command,
and imports Rich for its help: about a quarter of a second before a scan
reads its first byte (0.1 s and 11 MB more for a repair). A plain
`riff [global options] scan [--no-cache] [--json] [PATHS…]`, `riff [global
options] show [--no-pager] [--tree] [--json] [--limit N] SESSION` or `riff
[global options] repair [its options] SESSION` needs none of it, so
riff.cli.main hands such a command line here. Anything else (help, an
unknown or misspelt option, a value that looks like an option or, for
--min-score, is not a plain decimal number, `--opt=` with nothing after it,
`show --event`, --debug, a repair at a terminal that may ask the person
before it applies) returns None from `parse` / `parse_show` /
`parse_repair`, and Typer runs the command as always, with its own usage
errors and prompt.

The options below are riff.cli.app.main's, riff.cli.scan_cmd's (scan and show)
and riff.cli.repair_cmd's; tests/cli/test_scan_direct.py holds the tables to them
and both ways into the commands to the same output.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from riff.cli.repair_request import RepairRequest

if TYPE_CHECKING:
    from riff.cli.context import AppContext

# riff's global options (before the command's name): option -> field.
GLOBAL_VALUES = {
    "--db": "db",
    "--projects-dir": "projects_dir",
    "--data-dir": "data_dir",
    "--operator": "operator",
}
GLOBAL_FLAGS = {
    "--follow-symlinks": "follow_symlinks",
    "--quiet": "quiet",
    "-q": "quiet",
    "--json": "json",
}
# Not here: --debug (its traceback is Typer's command's), --version, --help.
# `riff scan`'s own options.
SCAN_FLAGS = {"--no-cache": "no_cache", "--json": "scan_json"}
COMMAND = "scan"
# `riff show`'s own options (not --event: Typer runs that form).
SHOW_FLAGS = {"--no-pager": "no_pager", "--tree": "tree", "--json": "show_json"}
SHOW_VALUES = {"--limit": "limit"}
SHOW = "show"
# `riff repair`'s own options (all of them: Typer runs only what is not plain).
REPAIR_FLAGS = {
    "--root": "root",
    "--force": "force",
    "--dry-run": "dry_run",
    "--write": "write",
    "--no-backup": "no_backup",
    "--force-live": "force_live",
    "--yes": "yes",
    "-y": "yes",
    "--json": "json",
}
REPAIR_VALUES = {
    "--message": "message",
    "-m": "message",
    "--parent": "parent",
    "-p": "parent",
    "--min-score": "min_score",
    "--reason": "reason",
    "--kinds": "kinds",
}
REPAIR = "repair"
_PLAIN_NUMBER = re.compile(r"[0-9]+(\.[0-9]+)?|\.[0-9]+")


@dataclass
class GlobalArgs:
    db: str | None = None
    projects_dir: str | None = None
    data_dir: str | None = None
    operator: str | None = None
    follow_symlinks: bool = False
    quiet: bool = False
    json: bool = False


@dataclass
class ScanArgs(GlobalArgs):
    paths: list[str] = field(default_factory=list)
    no_cache: bool = False
    scan_json: bool = False


@dataclass
class ShowArgs(GlobalArgs):
    session: str = ""
    no_pager: bool = False
    tree: bool = False
    show_json: bool = False
    limit: int = 2000


@dataclass
class RepairArgs(GlobalArgs):
    request: RepairRequest | None = None


def _globals(args: GlobalArgs, rest: Iterator[str], command: str) -> bool:
    """Read the global options up to `command` into `args`; False when the line is
    not that plain (Typer decides)."""
    for token in rest:
        if token == command:
            return True
        name, equals, value = token.partition("=")
        if name in GLOBAL_VALUES:
            if not equals:
                value = next(rest, "")
            if not value or value.startswith("-"):
                return False  # missing, or odd enough for Typer to judge
            setattr(args, GLOBAL_VALUES[name], value)
        elif token in GLOBAL_FLAGS:
            setattr(args, GLOBAL_FLAGS[token], True)
        else:
            return False
    return False  # no such command


def _one_session(
    args: GlobalArgs,
    argv: list[str],
    command: str,
    flags: dict[str, str],
    values: dict[str, str],
    convert: Callable[[str, str], object | None],
) -> tuple[str, dict[str, object]] | None:
    """The global options (into `args`), the session and the options (field -> value)
    of a plain `riff … COMMAND … SESSION` line; None when the line is not that plain.
    `convert` turns an option's value into the field's (None: leave it to Typer)."""
    rest = iter(argv)
    if not _globals(args, rest, command):
        return None
    sessions: list[str] = []
    options: dict[str, object] = {}
    only_sessions = False
    for token in rest:
        name, equals, value = token.partition("=")
        if only_sessions:
            sessions.append(token)
        elif token == "--":
            only_sessions = True
        elif token in flags:
            options[flags[token]] = True
        elif name in values:
            if not equals:
                value = next(rest, "")
            converted = convert(name, value)
            if converted is None:
                return None
            options[values[name]] = converted
        elif token.startswith("-"):
            return None
        else:
            sessions.append(token)
    if len(sessions) != 1:
        return None
    return sessions[0], options


def _show_value(name: str, value: str) -> int | None:
    # --limit: missing, negative or not a number is Typer's message.
    return int(value) if value.isascii() and value.isdigit() else None


def parse_show(argv: list[str]) -> ShowArgs | None:
    """The arguments of a plain `riff … show … SESSION` command line; None for anything else."""
    args = ShowArgs()
    parsed = _one_session(args, argv, SHOW, SHOW_FLAGS, SHOW_VALUES, _show_value)
    if parsed is None:
        return None
    args.session, options = parsed
    for field_name, value in options.items():
        setattr(args, field_name, value)
    return args


def parse(argv: list[str]) -> ScanArgs | None:
    """The arguments of a plain `riff … scan …` command line; None for anything else."""
    args = ScanArgs()
    rest = iter(argv)
    if not _globals(args, rest, COMMAND):
        return None
    only_paths = False
    for token in rest:
        if only_paths:
            args.paths.append(token)
        elif token == "--":
            only_paths = True
        elif token in SCAN_FLAGS:
            setattr(args, SCAN_FLAGS[token], True)
        elif token.startswith("-"):
            return None
        else:
            args.paths.append(token)
    return args


def _repair_value(name: str, value: str) -> str | float | None:
    if not value or value.startswith("-"):
        return None  # missing, or odd enough for Typer to judge
    if name == "--min-score":
        return float(value) if _PLAIN_NUMBER.fullmatch(value) else None
    return value


def parse_repair(argv: list[str]) -> RepairArgs | None:
    """The arguments of a plain `riff … repair … SESSION` command line; None for anything else."""
    args = RepairArgs()
    parsed = _one_session(args, argv, REPAIR, REPAIR_FLAGS, REPAIR_VALUES, _repair_value)
    if parsed is None:
        return None
    session, options = parsed
    args.request = request = RepairRequest(session, **options)  # type: ignore[arg-type]
    if not (request.yes or request.json or args.json or request.dry_run) and sys.stdin.isatty():
        return None  # a person may be asked: Typer's prompt, with its own Ctrl-C
    return args


def run(args: ScanArgs | ShowArgs | RepairArgs) -> int:
    """Run the scan, show or repair as the Typer command would; its exit code."""
    from riff.app.workspace import Workspace
    from riff.cli.context import USER_ERRORS, AppContext, interrupted, report_error
    from riff.settings import SettingsError, load_settings

    try:
        settings = load_settings().with_overrides(
            db_url=args.db,
            projects_dir=None if args.projects_dir is None else Path(args.projects_dir),
            data_dir=None if args.data_dir is None else Path(args.data_dir),
            operator=args.operator,
            follow_symlinks=True if args.follow_symlinks else None,
        )
    except SettingsError as exc:
        return report_error(exc)
    app_ctx = AppContext(settings=settings, quiet=args.quiet, json=args.json)
    try:
        if isinstance(args, RepairArgs):
            return _repair(app_ctx, args)
        with Workspace(app_ctx.settings) as ws:
            if isinstance(args, ShowArgs):
                from riff.cli.show_run import show_session

                show_session(
                    ws,
                    app_ctx.output(args.show_json),
                    args.session,
                    tree=args.tree,
                    limit=args.limit,
                    no_pager=args.no_pager,
                )
                return 0
            from riff.cli.scan_run import scan_command

            return scan_command(
                app_ctx, ws, args.paths, no_cache=args.no_cache, json=args.scan_json
            )
    except USER_ERRORS as exc:
        return report_error(exc)
    except KeyboardInterrupt:
        return interrupted()


def _repair(app_ctx: AppContext, args: RepairArgs) -> int:
    from riff.app.workspace import Workspace
    from riff.cli.repair_run import repair_kinds, run_repair

    assert args.request is not None  # parse_repair made it
    names = repair_kinds(args.request)  # before the store opens, as the Typer command
    with Workspace(app_ctx.settings) as ws:
        return run_repair(app_ctx, ws, args.request, names)
