"""`riff verify --db`: every chain, view and signed checkpoint in the database."""

from __future__ import annotations

from pathlib import Path

from riff.app.integrity import verify_database as verify_store
from riff.app.log_audit import LogVerification, verify_log
from riff.app.workspace import Workspace
from riff.cli.context import AppContext
from riff.cli.errors import CliError, ExitCode
from riff.cli.output import Output, safe, stdout
from riff.cli.verify_cmd import parse_expected_heads, report_verification


def verify_whole_database(
    app_ctx: AppContext,
    expect_head: list[str],
    out: Output,
    checkpoints: list[Path] | None = None,
    key: str | None = None,
) -> ExitCode:
    heads = parse_expected_heads(expect_head)
    notes = [(str(path), _read_note(path)) for path in checkpoints or []]
    with Workspace(app_ctx.settings) as ws:
        store = ws.store
        out.note(f"verifying every chain and view in {safe(store.url)} …")
        result = verify_store(store, expected_heads=heads)
        out.note("verifying the transparency log against its signed checkpoints …")
        log = verify_log(ws, extra_notes=notes, key=key)
        if out.json:
            out.emit_json(result.to_dict() | {"ok": result.ok and log.ok, "tlog": log.to_dict()})
            chains = ExitCode.OK if result.ok else ExitCode.PROBLEMS
        else:
            chains = report_verification(out, result, store.url)
            report_log(out, log)
        return ExitCode.OK if chains == ExitCode.OK and log.ok else ExitCode.PROBLEMS


def _read_note(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise CliError(f"--checkpoint {path}: cannot read it ({exc})") from None


def report_log(out: Output, log: LogVerification) -> None:
    if out.quiet:
        return
    checked = [c for c in log.checkpoints if c.ok]
    if log.ok:
        stdout.print(
            f"[green]intact[/]: transparency log {safe(log.origin)}: {log.tree_size} events, "
            f"root {log.root[:16]}…, consistent with {len(checked)} signed checkpoint(s)",
            highlight=False,
        )
        return
    stdout.print(
        f"[red bold]LOG DOES NOT MATCH ITS CHECKPOINTS[/]: {safe(log.origin)}: the database "
        f"holds {log.events_in_store} events, its tree {log.tree_size}",
        highlight=False,
    )
    for check in log.checkpoints:
        if not check.ok:
            stdout.print(
                f"  [red]✗[/] checkpoint {check.size} ({check.source} {safe(check.where)}): "
                f"{safe(check.problem or '')}",
                highlight=False,
            )
    for problem in log.problems:
        stdout.print(f"  [red]✗[/] {safe(problem)}", highlight=False)
