"""`riff report`: an HTML page of what was repaired, by whom and why, and the verdict."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from riff.app.logs import LogFilter, report_sections
from riff.cli.common import workspace
from riff.cli.context import guarded


@guarded
def report(
    ctx: typer.Context,
    output: Annotated[Path, typer.Option("--output", "-o", help="HTML file to write.")],
    session: Annotated[str | None, typer.Option("--session", help="One session only.")] = None,
    operator: Annotated[str | None, typer.Option("--operator", help="Only this operator.")] = None,
    since: Annotated[str | None, typer.Option("--since", help="From this UTC time.")] = None,
    until: Annotated[str | None, typer.Option("--until", help="Up to this UTC time.")] = None,
) -> None:
    """An HTML report: what was repaired, by whom and why, with the log's verification."""
    from riff.app.integrity import verify_database
    from riff.events.chain import utc_now
    from riff.events.model import format_event_timestamp
    from riff.report.html import render_report

    with workspace(ctx) as (app_ctx, ws):
        flt = LogFilter(session, operator, None, since, until)
        sections = report_sections(ws, flt)
        verification = verify_database(ws.store)
        filters = {k: v for k, v in (("session", session), ("operator", operator),
                                     ("since", since), ("until", until)) if v}  # fmt: skip
        page = render_report(
            sections,
            verification,
            title="riff repair report",
            generated_at=format_event_timestamp(utc_now()),
            store_url=ws.store.url,
            filters=filters,
        )
        tmp = output.with_name(f".{output.name}.tmp")
        tmp.write_text(page, encoding="utf-8")
        tmp.replace(output)
        app_ctx.output().say(
            f"wrote {output}: {sum(len(s.events) for s in sections)} events in "
            f"{len(sections)} sessions; log {'intact' if verification.ok else 'BROKEN'}"
        )
