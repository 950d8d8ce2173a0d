"""`riff jobs`: run the background jobs on their schedule, once by hand, or show their status."""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import Annotated

import typer
from rich.table import Table

from riff.cli.context import app_context, guarded
from riff.cli.errors import CliError, ExitCode
from riff.cli.output import safe, stderr, stdout
from riff.jobs import JOB_NAMES

jobs_app = typer.Typer(
    help="Background jobs: keep views fresh, verify integrity, archive.", no_args_is_help=True
)

JsonOption = Annotated[bool, typer.Option("--json", help="Print one JSON document on stdout.")]
_EXIT = {"ok": ExitCode.OK, "problems": ExitCode.PROBLEMS, "interrupted": ExitCode.PROBLEMS}


def _log_to_stderr(quiet: bool) -> None:
    logger = logging.getLogger("riff.jobs")
    if not any(getattr(h, "_riff", False) for h in logger.handlers):
        handler = logging.StreamHandler()
        handler.setFormatter(logging.Formatter("%(asctime)s riff.jobs %(levelname)s %(message)s"))
        handler._riff = True  # type: ignore[attr-defined]
        logger.addHandler(handler)
        logger.propagate = False
    logger.setLevel(logging.ERROR if quiet else logging.INFO)


@jobs_app.command("run")
@guarded
def run_cmd(ctx: typer.Context) -> None:
    """Run the scheduler in the foreground until Ctrl-C or SIGTERM."""
    from riff.jobs.runner import JobRunner, default_store_factory, run_scheduler

    app_ctx = app_context(ctx)
    _log_to_stderr(app_ctx.quiet)
    settings = app_ctx.settings
    runner = JobRunner(settings, default_store_factory(settings))
    if not app_ctx.quiet:
        stderr.print("riff jobs: scheduler running; Ctrl-C or SIGTERM stops it cleanly")
    run_scheduler(runner)
    if not app_ctx.quiet:
        stderr.print("riff jobs: stopped")


@jobs_app.command("once")
@guarded
def once_cmd(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help=f"One of: {', '.join(JOB_NAMES)}.")],
    json: JsonOption = False,
) -> None:
    """Run one job now; exit 1 if it found problems (integrity breaks, drift) or was stopped."""
    from riff.jobs.runner import JobRunner, default_store_factory, run_once

    app_ctx = app_context(ctx)
    out = app_ctx.output(json)
    if name not in JOB_NAMES:
        raise CliError(f"no job named {name!r}; choose one of: {', '.join(JOB_NAMES)}")
    _log_to_stderr(app_ctx.quiet)
    settings = app_ctx.settings
    runner = JobRunner(settings, default_store_factory(settings))
    run = run_once(runner, name)
    if out.json:
        out.emit_json(run.to_dict())
    else:
        colour = {"ok": "green", "problems": "red bold", "interrupted": "yellow"}.get(
            run.outcome, "red"
        )
        out.say(f"[{colour}]{safe(run.outcome)}[/]: {safe(name)}: {safe(run.summary)}")
    if run.outcome == "failed":
        raise CliError(f"job {name} failed: {run.summary}")
    raise typer.Exit(int(_EXIT[run.outcome]))


@jobs_app.command("status")
@guarded
def status_cmd(ctx: typer.Context, json: JsonOption = False) -> None:
    """Show each job's last run (outcome, summary) and its next run."""
    from riff.app.stores import open_event_store
    from riff.jobs.runner import schedule_status

    app_ctx = app_context(ctx)
    out = app_ctx.output(json)
    with open_event_store(app_ctx.settings) as store:
        rows = schedule_status(store, app_ctx.settings, datetime.now(UTC))
    if out.json:
        out.emit_json({"jobs": rows})
        return
    table = Table("job", "last run", "outcome", "summary", "next run")
    for row in rows:
        last = row["last_run"]
        table.add_row(
            safe(row["job"]),
            safe(last["started_at"]) if last else "never",
            safe(last["outcome"]) if last else "-",
            safe(last["summary"]) if last else "-",
            safe(row["next_run"]),
        )
    if not out.quiet:
        stdout.print(table)
