"""`riff guard`: the command riff's Claude Code hooks run (see riff.app.guard)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from riff.cli.context import app_context
from riff.cli.guard_hook import execute


def guard(
    ctx: typer.Context,
    auto: Annotated[
        bool,
        typer.Option(
            "--auto",
            help="Also apply the repairs above the auto-apply threshold, as events by "
            "riff-guard, once Claude Code has let go of the file.",
        ),
    ] = False,
    apply_when_quiet: Annotated[Path | None, typer.Option(hidden=True)] = None,
    wait_for_pid: Annotated[int | None, typer.Option(hidden=True)] = None,
) -> None:
    """Check the session a Claude Code hook names (hook JSON on stdin); always exits 0."""
    code = execute(
        app_context(ctx).settings,
        auto=auto,
        apply_when_quiet=apply_when_quiet,
        wait_for_pid=wait_for_pid,
    )
    raise typer.Exit(code)
