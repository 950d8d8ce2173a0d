"""`riff watch`: report breaks as Claude Code writes them."""

from __future__ import annotations

import sys
from datetime import datetime
from typing import Annotated, Any

import orjson
import typer

from riff.app.watching import SessionChange, SessionWatcher, changed_transcripts
from riff.cli.context import app_context, guarded
from riff.cli.output import safe, stderr, stdout

SEVERITY_STYLE = {"error": "red", "warning": "yellow", "info": "dim"}


def _json_line(document: dict[str, Any]) -> None:
    sys.stdout.buffer.write(orjson.dumps(document) + b"\n")
    sys.stdout.flush()


def _where(finding: dict[str, Any]) -> str:
    lines = finding.get("lines") or []
    return f" line {lines[0]}" if lines else ""


def _say(change: SessionChange) -> None:
    stamp = datetime.now().strftime("%H:%M:%S")
    short = safe(change.session_id[:8])
    if change.event == "removed":
        stdout.print(f"{stamp} {short} removed ({safe(change.path)})")
        return
    for finding in change.new:
        style = SEVERITY_STYLE.get(str(finding.get("severity")), "")
        stdout.print(
            f"{stamp} {short} [{style}]{safe(str(finding.get('kind')))}[/]"
            f"{_where(finding)}: {safe(str(finding.get('explanation', '')))}"
        )
    for finding in change.resolved:
        stdout.print(
            f"{stamp} {short} [green]resolved[/] {safe(str(finding.get('kind')))}{_where(finding)}"
        )
    if change.new and change.repair:
        loss = f"resume loses {change.resume_loss}; " if change.resume_loss else ""
        stdout.print(f"         {loss}to fix: {safe(change.repair)}")


@guarded
def watch(
    ctx: typer.Context,
    debounce_ms: Annotated[
        int,
        typer.Option(
            "--debounce-ms", min=50, help="Wait this long for a burst of writes to settle."
        ),
    ] = 800,
    json: Annotated[
        bool, typer.Option("--json", help="One JSON object per line: ready, then each change.")
    ] = False,
) -> None:
    """Watch the projects dir and print new findings as sessions are written (Ctrl-C stops)."""
    app_ctx = app_context(ctx)
    as_json = json or app_ctx.json
    watcher = SessionWatcher(app_ctx.settings.projects_dir, app_ctx.settings.cache_dir)
    watcher.check()

    def take_baseline() -> None:
        baseline = watcher.baseline()
        if as_json:
            _json_line(baseline.to_json(watcher.projects_dir))
        elif not app_ctx.quiet:
            stderr.print(
                f"watching {safe(str(watcher.projects_dir))}: {baseline.sessions} sessions, "
                f"{baseline.sessions_with_findings} with findings; Ctrl-C stops"
            )

    try:
        for paths in changed_transcripts(
            watcher.projects_dir, debounce_ms=debounce_ms, on_watching=take_baseline
        ):
            for change in watcher.rescan(paths):
                if as_json:
                    _json_line(change.to_json())
                elif not app_ctx.quiet:
                    _say(change)
    except KeyboardInterrupt:
        pass
    if not as_json and not app_ctx.quiet:
        stderr.print("stopped watching")
