"""`riff verify`: check an export offline, or the whole database."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from riff.cli.errors import CliError, ExitCode
from riff.cli.output import Output, stdout
from riff.events.audit import verify_export
from riff.events.verify import ValidationResult


def parse_expected_heads(values: list[str]) -> dict[str, str]:
    heads: dict[str, str] = {}
    for value in values:
        session, sep, digest = value.partition("=")
        if not sep or not session or len(digest) != 64:
            raise CliError(
                f"--expect-head {value!r}: expected SESSION=DIGEST with a 64-character hex digest"
            )
        heads[session] = digest.lower()
    return heads


def report_verification(out: Output, result: ValidationResult, subject: str) -> ExitCode:
    if out.json:
        out.emit_json(result.to_dict())
    elif not out.quiet:
        if result.ok:
            stdout.print(
                f"[green]intact[/]: {subject}: {result.events_checked} events in "
                f"{result.sessions_checked} sessions, every digest and link verified"
            )
        else:
            stdout.print(
                f"[red bold]TAMPERED[/]: {subject}: {len(result.breaks)} break(s) in "
                f"{result.events_checked} events of {result.sessions_checked} sessions"
            )
            for brk in result.breaks:
                stdout.print(f"  [red]✗[/] {brk}", markup=True, highlight=False)
    return ExitCode.OK if result.ok else ExitCode.PROBLEMS


def verify_file(path: Path, expect_head: list[str], out: Output) -> ExitCode:
    heads = parse_expected_heads(expect_head)
    result = verify_export(path, heads)
    return report_verification(out, result, str(path))


ExpectHeadOption = Annotated[
    list[str] | None,
    typer.Option(
        "--expect-head",
        metavar="SESSION=DIGEST",
        help="A head recorded elsewhere (anchor); catches truncation. Repeatable.",
    ),
]
