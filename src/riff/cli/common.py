"""Helpers shared by the commands: the workspace, confirmation, small renderers."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager

import typer

from riff.app.workspace import Workspace
from riff.cli.context import AppContext, app_context
from riff.cli.errors import CliError


@contextmanager
def workspace(ctx: typer.Context) -> Iterator[tuple[AppContext, Workspace]]:
    app_ctx = app_context(ctx)
    with Workspace(app_ctx.settings) as ws:
        yield app_ctx, ws


def confirm(question: str, *, yes: bool) -> bool:
    """Ask unless --yes; without a terminal to ask on, refuse rather than guess."""
    if yes:
        return True
    if not sys.stdin.isatty():
        raise CliError(f"{question} — no terminal to ask on; add --yes to go ahead")
    return typer.confirm(question, default=False)
