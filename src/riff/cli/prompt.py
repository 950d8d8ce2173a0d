"""Asking the person at the terminal, with Typer loaded only when there is one to ask."""

from __future__ import annotations

import sys

from riff.cli.errors import CliError


def confirm(question: str, *, yes: bool) -> bool:
    """Ask unless --yes; without a terminal to ask on, refuse rather than guess."""
    if yes:
        return True
    if not sys.stdin.isatty():
        raise CliError(f"{question} — no terminal to ask on; add --yes to go ahead")
    import typer

    return typer.confirm(question, default=False)
