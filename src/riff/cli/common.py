"""Helpers shared by the commands: the workspace (asking the person: riff.cli.prompt)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import typer

from riff.app.workspace import Workspace
from riff.cli.context import AppContext, app_context


@contextmanager
def workspace(ctx: typer.Context) -> Iterator[tuple[AppContext, Workspace]]:
    app_ctx = app_context(ctx)
    with Workspace(app_ctx.settings) as ws:
        yield app_ctx, ws
