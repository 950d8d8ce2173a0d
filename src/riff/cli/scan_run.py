"""What `riff scan` does once its arguments are known, free of Typer.

Both ways into the command run this: the Typer command (riff.cli.scan_cmd.scan)
and riff.cli.scan_direct, which parses a plain `riff [options] scan …` itself
so that a scan starts without Typer, pydantic or Rich. Rich loads only for a
person's output (the table, the progress bar, an error line).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from riff.app.errors import AppError
from riff.app.scanning import ScanCache, ScanReport, scan_files
from riff.cli.errors import ExitCode
from riff.cli.output import Output, safe, stderr_console, stdout_console
from riff.transcript.discover import (
    SessionFile,
    describe_file,
    discover_sessions,
    refuse_if_not_a_file,
)

if TYPE_CHECKING:
    from riff.app.workspace import Workspace
    from riff.cli.context import AppContext

SEVERITY_STYLE = {"error": "red", "warning": "yellow", "info": "dim"}


def files_for(ws: Workspace, refs: list[str]) -> list[SessionFile]:
    """Every session by default; else each dir, file, or session id (prefix) named."""
    if not refs:
        return ws.sessions()
    files: list[SessionFile] = []
    for ref in refs:
        path = Path(ref)
        if path.is_dir():
            files += discover_sessions(path, follow_symlinks=ws.settings.follow_symlinks)
        elif path.is_file():
            files.append(describe_file(path))
        elif "/" in ref or ref.endswith(".jsonl"):
            refuse_if_not_a_file(path, ref)
            raise AppError(f"{ref}: no such file or directory")
        else:
            files.append(ws.resolve(ref))
    return files


def run_scan(
    out: Output,
    files: list[SessionFile],
    cache: ScanCache | None,
    quiet: bool,
    context: list[SessionFile] | None = None,
) -> ScanReport:
    """Scan `files`, with a progress bar on a terminal."""
    total_bytes = sum(f.size for f in files)
    if out.json or quiet or not stderr_console().is_terminal:
        return scan_files(files, cache=cache, context=context)
    from rich.progress import (
        BarColumn,
        DownloadColumn,
        Progress,
        TextColumn,
        TimeRemainingColumn,
    )

    with Progress(
        TextColumn("scanning [bold]{task.fields[files]}[/] files"),
        BarColumn(),
        DownloadColumn(),
        TimeRemainingColumn(),
        console=stderr_console(),
        transient=True,
    ) as progress:
        task = progress.add_task("scan", total=total_bytes, files=f"0/{len(files)}")

        def advance(done_files: int, done_bytes: int) -> None:
            progress.update(task, completed=done_bytes, files=f"{done_files}/{len(files)}")

        return scan_files(files, cache=cache, progress=advance, context=context)


def render_scan(report: ScanReport) -> None:
    from rich.table import Table

    table = Table(title="Sessions", title_justify="left", show_lines=False)
    table.add_column("session")
    table.add_column("project", overflow="fold")
    table.add_column("msgs", justify="right")
    table.add_column("findings")
    table.add_column("resume loses", justify="right")
    for session in report.sessions:
        counts: dict[str, int] = {}
        worst = "info"
        for finding in session["findings"]:
            counts[finding["kind"]] = counts.get(finding["kind"], 0) + 1
            if finding["severity"] == "error" or (
                finding["severity"] == "warning" and worst == "info"
            ):
                worst = finding["severity"]
        text = ", ".join(f"{k} {v}" for k, v in sorted(counts.items())) or "[green]healthy[/]"
        if counts:
            text = f"[{SEVERITY_STYLE[worst]}]{text}[/]"
        loss = session.get("resume_loss") or 0
        table.add_row(
            safe(session["session_id"][:8]),
            safe(session["project"]),
            str(session["messages"]),
            text,
            f"[red]{loss}[/]" if loss else "0",
        )
    stdout = stdout_console()
    stdout.print(table)
    totals = report.totals
    kinds = ", ".join(f"{k}: {v}" for k, v in totals["findings"].items()) or "none"
    stdout.print(
        f"[bold]{totals['sessions']}[/] sessions, [bold]{totals['sessions_with_findings']}[/] "
        f"with findings ({kinds}); resume would lose {totals['resume_loss']} messages. "
        f"[dim]{report.read} read, {report.cached} from cache[/]"
    )


def scan_command(
    app_ctx: AppContext, ws: Workspace, paths: list[str], *, no_cache: bool, json: bool
) -> int:
    """`riff scan PATHS…`: find the breaks, print them; the exit code (1: problems found)."""
    out = app_ctx.output(json)
    files = files_for(ws, paths)
    cache = None if no_cache else ScanCache(ws.settings.cache_dir / "scan.json")
    context = None
    if paths:
        try:  # a subagent file named alone still needs its session's files
            context = ws.sessions()
        except AppError:
            context = None  # no projects dir: files given by path stand alone
    report = run_scan(out, files, cache, app_ctx.quiet, context)
    if cache is not None:
        cache.save()
    if out.json:
        out.emit_json(report.to_json())
    elif not app_ctx.quiet:
        render_scan(report)
    return int(ExitCode.PROBLEMS if report.has_problems else ExitCode.OK)
