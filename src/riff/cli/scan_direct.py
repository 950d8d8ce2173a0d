"""`riff scan` without Typer: the command scripts call most, started in a few imports.

Typer builds a pydantic validator for every option before it runs a command,
and imports Rich for its help: about a quarter of a second before a scan
reads its first byte. A plain `riff [global options] scan [--no-cache]
[--json] [PATHS…]` needs none of it, so riff.cli.main hands such a command
line here. Anything else (help, an unknown or misspelt option, a value that
looks like an option, `--opt=` with nothing after it, --debug) returns None from
`parse`, and Typer runs the command as always, with its own usage errors.

The options below are riff.cli.app.main's and riff.cli.scan_cmd.scan's;
tests/cli/test_scan_direct.py holds the tables to them and both ways into the
command to the same output.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

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


@dataclass
class ScanArgs:
    db: str | None = None
    projects_dir: str | None = None
    data_dir: str | None = None
    operator: str | None = None
    follow_symlinks: bool = False
    quiet: bool = False
    json: bool = False
    paths: list[str] = field(default_factory=list)
    no_cache: bool = False
    scan_json: bool = False


def parse(argv: list[str]) -> ScanArgs | None:
    """The arguments of a plain `riff … scan …` command line; None for anything else."""
    args = ScanArgs()
    rest = iter(argv)
    for token in rest:
        if token == COMMAND:
            break
        name, equals, value = token.partition("=")
        if name in GLOBAL_VALUES:
            if not equals:
                value = next(rest, "")
            if not value or value.startswith("-"):
                return None  # missing, or odd enough for Typer to judge
            setattr(args, GLOBAL_VALUES[name], value)
        elif token in GLOBAL_FLAGS:
            setattr(args, GLOBAL_FLAGS[token], True)
        else:
            return None
    else:
        return None  # no scan command
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


def run(args: ScanArgs) -> int:
    """Run the scan as the Typer command would; its exit code."""
    from riff.app.workspace import Workspace
    from riff.cli.context import USER_ERRORS, AppContext, interrupted, report_error
    from riff.cli.scan_run import scan_command
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
        with Workspace(app_ctx.settings) as ws:
            return scan_command(
                app_ctx, ws, args.paths, no_cache=args.no_cache, json=args.scan_json
            )
    except USER_ERRORS as exc:
        return report_error(exc)
    except KeyboardInterrupt:
        return interrupted()
