"""`riff hooks install | uninstall | status`: riff's entries in Claude Code's settings."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from riff.app.claude_hooks import (
    HOOK_EVENTS,
    HookEntry,
    default_guard_command,
    install_hooks,
    project_settings_path,
    read_settings,
    riff_entries,
    uninstall_hooks,
    user_settings_path,
)
from riff.cli.context import app_context, guarded
from riff.cli.errors import CliError
from riff.cli.output import safe

hooks_app = typer.Typer(
    help="Install riff's Claude Code hooks (riff guard on session start, stop and end).",
    no_args_is_help=True,
)

JsonOption = Annotated[bool, typer.Option("--json", help="Print one JSON document on stdout.")]
ProjectOption = Annotated[
    bool,
    typer.Option(
        "--project",
        help="The project's .claude/settings.json (in DIR, default the current directory) "
        "instead of the user's settings.",
    ),
]
DirArgument = Annotated[
    Path | None, typer.Argument(help="With --project: the project directory.", show_default=False)
]


def _settings_file(project: bool, directory: Path | None) -> Path:
    if directory is not None and not project:
        raise CliError(f"{directory}: a directory is only taken with --project")
    if project:
        root = (directory or Path.cwd()).expanduser()
        if not root.is_dir():
            raise CliError(f"{root}: no such project directory")
        return project_settings_path(root.resolve())
    return user_settings_path()


def _describe(entries: list[HookEntry]) -> str:
    return ", ".join(f"{e.event}" + (f" ({e.matcher})" if e.matcher else "") for e in entries)


@hooks_app.command("install")
@guarded
def install(
    ctx: typer.Context,
    directory: DirArgument = None,
    project: ProjectOption = False,
    auto: Annotated[
        bool,
        typer.Option("--auto", help="The hooks run `riff guard --auto` (see riff guard --help)."),
    ] = False,
    command: Annotated[
        str | None,
        typer.Option("--command", help="The hook command (default: this riff's `guard`)."),
    ] = None,
    json: JsonOption = False,
) -> None:
    """Add riff's hooks, keeping every other setting and hook (a backup is taken first)."""
    out = app_context(ctx).output(json)
    path = _settings_file(project, directory)
    change = install_hooks(path, command or default_guard_command(auto=auto))
    if out.json:
        out.emit_json(change.to_json())
        return
    if change.changed:
        out.say(f"installed riff's hooks in {safe(str(path))}: {_describe(change.entries)}")
        out.say(f"  command: {safe(change.entries[0].command)}")
        if change.backup is not None:
            out.say(f"  backup: {safe(str(change.backup))}")
    else:
        out.say(f"riff's hooks are already in {safe(str(path))}; nothing changed")


@hooks_app.command("uninstall")
@guarded
def uninstall(
    ctx: typer.Context,
    directory: DirArgument = None,
    project: ProjectOption = False,
    json: JsonOption = False,
) -> None:
    """Remove riff's hooks only; everything else in the file stays as it is."""
    out = app_context(ctx).output(json)
    path = _settings_file(project, directory)
    change = uninstall_hooks(path)
    if out.json:
        out.emit_json(change.to_json())
        return
    if change.changed:
        out.say(
            f"removed {len(change.entries)} riff hook(s) from {safe(str(path))}"
            + (f" (backup {safe(str(change.backup))})" if change.backup else "")
        )
    else:
        out.say(f"no riff hooks in {safe(str(path))}; nothing changed")


def hooks_status(path: Path) -> dict[str, Any]:
    settings = read_settings(path)
    entries = riff_entries(path, settings)
    present = {e.event for e in entries}
    return {
        "settings": str(path),
        "exists": path.exists(),
        "installed": all(event in present for event in HOOK_EVENTS),
        "missing_events": [event for event in HOOK_EVENTS if event not in present],
        "hooks": [e.to_json() for e in entries],
    }


@hooks_app.command("status")
@guarded
def status(
    ctx: typer.Context,
    directory: DirArgument = None,
    project: ProjectOption = False,
    json: JsonOption = False,
) -> None:
    """Show riff's hooks in the settings file."""
    out = app_context(ctx).output(json)
    path = _settings_file(project, directory)
    report = hooks_status(path)
    if out.json:
        out.emit_json(report)
        return
    where = safe(str(path))
    if not report["hooks"]:
        out.say(f"no riff hooks in {where}; `riff hooks install` adds them")
        return
    state = "installed" if report["installed"] else "partly installed"
    out.say(f"riff's hooks are {state} in {where}:")
    for hook in report["hooks"]:
        matcher = f" (matcher {safe(hook['matcher'])})" if hook["matcher"] else ""
        out.say(f"  {hook['event']}{matcher}: {safe(hook['command'])}")
    if report["missing_events"]:
        out.say(f"  missing: {', '.join(report['missing_events'])} (`riff hooks install`)")
