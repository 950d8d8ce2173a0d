"""`riff tui`: the review TUI."""

from __future__ import annotations

from typing import Annotated

import typer

from riff.cli.context import app_context, guarded


@guarded
def tui(
    ctx: typer.Context,
    session: Annotated[
        str | None, typer.Argument(help="Open this session (id, id prefix or path).")
    ] = None,
    project: Annotated[
        str | None, typer.Option("--project", help="List only this project's sessions.")
    ] = None,
) -> None:
    """Review broken sessions and repair them by hand; every action is an event."""
    from riff.app.workspace import Workspace
    from riff.tui.app import RiffApp

    settings = app_context(ctx).settings
    with Workspace(settings) as ws:
        file = ws.resolve(session) if session is not None else None  # bad ids fail here
        RiffApp(settings, session=file, project=project, workspace=ws).run()
