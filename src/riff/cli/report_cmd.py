"""`riff report`: the dashboard (one HTML file) or, with --compliance, an auditor's package."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from riff.cli.common import workspace
from riff.cli.context import guarded
from riff.cli.errors import CliError
from riff.cli.output import Output, safe, stderr

PERIODS = ("auto", "day", "week")


def _write_atomically(path: Path, text: str) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(text, encoding="utf-8")
    tmp.replace(path)


def _summary(doc: dict[str, Any]) -> str:
    health, repairs, verification = doc["health"], doc["repairs"], doc["verification"]
    states = health["by_state"]
    return (
        f"{health['sessions']} sessions ({states['broken']} broken, {states['repaired']} "
        f"repaired), {repairs['events']} events; log "
        + ("intact" if verification["ok"] else f"BROKEN ({verification['break_count']} breaks)")
    )


@guarded
def report(
    ctx: typer.Context,
    output: Annotated[
        Path | None,
        typer.Option("--output", "-o", help="HTML file to write (a directory with --compliance)."),
    ] = None,
    since: Annotated[
        str | None, typer.Option("--since", help="Events from this UTC date or time.")
    ] = None,
    until: Annotated[
        str | None, typer.Option("--until", help="Events up to this UTC date or time (inclusive).")
    ] = None,
    operator: Annotated[str | None, typer.Option("--operator", help="Only this operator.")] = None,
    project: Annotated[
        str | None, typer.Option("--project", help="Only projects whose name contains this.")
    ] = None,
    session: Annotated[str | None, typer.Option("--session", help="One session only.")] = None,
    period: Annotated[
        str, typer.Option("--period", help="Events over time per day, week or auto.")
    ] = "auto",
    compliance: Annotated[
        bool,
        typer.Option(
            "--compliance", help="Write an auditor's package to the directory -o DIR instead."
        ),
    ] = False,
    no_scan: Annotated[
        bool, typer.Option("--no-scan", help="Leave out the projects dir (the log only).")
    ] = False,
    json: Annotated[bool, typer.Option("--json", help="Print the aggregates as JSON.")] = False,
) -> None:
    """The dashboard: health of the projects dir, repairs, the log's verification.

    Writes one self-contained HTML file (-o); --json prints the same aggregates.
    """
    from riff.app.analytics import DashboardFilter, normalize_time
    from riff.events.chain import utc_now
    from riff.events.model import format_event_timestamp

    if period not in PERIODS:
        raise CliError(f"--period {period!r}: use one of {', '.join(PERIODS)}")
    if output is None and not json:
        raise CliError(
            "give -o FILE.html for the dashboard (or -o DIR with --compliance), or --json"
        )
    if compliance and output is None:
        raise CliError("--compliance needs -o DIR, the directory to write the package to")
    flt = DashboardFilter(
        since=normalize_time(since, "--since"),
        until=normalize_time(until, "--until", end=True),
        operator=operator,
        project=project,
        session=session,
        period=period,  # type: ignore[arg-type]
    )
    with workspace(ctx) as (app_ctx, ws):
        out = app_ctx.output(json)
        generated_at = format_event_timestamp(utc_now())
        if compliance:
            from riff.app.compliance import write_compliance_package
            from riff.report.dashboard import render_dashboard

            assert output is not None
            package = write_compliance_package(
                ws,
                output,
                flt,
                generated_at=generated_at,
                render_html=lambda doc: render_dashboard(doc, title="riff compliance report"),
                scan=not no_scan,
            )
            if out.json:
                out.emit_json(package.to_json())
            else:
                out.say(
                    f"wrote {safe(output)}: {safe(', '.join(package.files))}; "
                    f"{package.events_in_period} "
                    f"events in the period (each with an inclusion proof), "
                    f"{package.events_exported} exported (whole chains), checkpoint of "
                    f"{package.checkpoint['size'] if package.checkpoint else 0} events; check it "
                    f"with `riff verify {safe(output)} --key VKEY`"
                )
            return
        doc = _collect(ws, flt, generated_at, out, scan=not no_scan)
        if output is not None:
            from riff.report.dashboard import render_dashboard

            _write_atomically(output, render_dashboard(doc))
            out.note(f"wrote {safe(output)}: {_summary(doc)}")
        if out.json:
            out.emit_json(doc)
        elif output is None:
            out.say(_summary(doc))


def _collect(ws: Any, flt: Any, generated_at: str, out: Output, *, scan: bool) -> dict[str, Any]:
    from riff.app.analytics import collect_dashboard

    if out.quiet or not stderr.is_terminal:
        return collect_dashboard(ws, flt, generated_at=generated_at, scan=scan)
    with stderr.status("building the dashboard") as status:
        return collect_dashboard(
            ws, flt, generated_at=generated_at, scan=scan, stage=lambda text: status.update(text)
        )
