"""`riff demo`: the whole life of a repair on generated sessions, with the real store."""

from __future__ import annotations

import shutil
import tempfile
import time
from pathlib import Path
from typing import Annotated

import typer
from rich.panel import Panel
from rich.rule import Rule

from riff.app.logs import LogFilter, export_log, log_events
from riff.app.repairs import apply_plan, plan_repairs, revert_event
from riff.app.scanning import scan_files
from riff.app.sessions import load_session, repair_engine
from riff.app.workspace import Workspace
from riff.cli.context import app_context, guarded
from riff.cli.output import stdout
from riff.cli.repair_run import render_applied, render_plan
from riff.cli.scan_cmd import render_scan, render_suggestions
from riff.events import validate_event_immutability
from riff.events.audit import verify_export
from riff.settings import Settings

# The demo writes its own throwaway transcripts and repairs them a moment later:
# nothing else has them open, but they did change seconds ago.
DEMO_FILES_ARE_NOT_LIVE = True


def _score(score: float | None) -> str:
    return "—" if score is None else f"{score:.2f}"


def _step(number: int, title: str, what: str) -> None:
    stdout.print()
    stdout.print(Rule(f"[bold]{number}. {title}[/]", align="left"))
    stdout.print(f"[dim]{what}[/]")


@guarded
def demo(
    ctx: typer.Context,
    directory: Annotated[
        Path | None,
        typer.Option("--dir", help="Where to build the demo (default: a new temp dir)."),
    ] = None,
    keep: Annotated[bool, typer.Option("--keep", help="Keep the demo dir afterwards.")] = False,
    seed: Annotated[int, typer.Option("--seed", help="Seed of the generated sessions.")] = 7,
) -> None:
    """Walk through scan → suggest → repair → log → verify → revert → export on demo data.

    Uses the real embedded SurrealDB store in the demo dir; your own Claude Code
    data and riff store are not touched.
    """
    operator = app_context(ctx).settings.operator
    root = directory or Path(tempfile.mkdtemp(prefix="riff-demo-"))
    root.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    try:
        run_demo(root, operator=operator, seed=seed)
    finally:
        if directory is None and not keep:
            shutil.rmtree(root, ignore_errors=True)
    stdout.print(
        f"\n[bold green]demo finished[/] in {time.perf_counter() - started:.1f} s"
        + (f"; files kept in {root}" if directory is not None or keep else "")
    )


def run_demo(root: Path, *, operator: str, seed: int = 7) -> None:
    from riff.app.demo import build_demo_projects, database_refusals  # the generator: demo only

    projects = root / "projects"
    settings = Settings(
        data_dir=root / "riff-data", projects_dir=projects, db_url="", operator=operator
    )
    stdout.print(
        Panel.fit(
            "riff finds where Claude Code transcripts are broken, suggests the right parent for\n"
            "each orphaned message, and records every repair as an immutable, hash-chained\n"
            f"event. Demo data: [bold]{projects}[/]\n"
            f"Event store (embedded SurrealDB): [bold]{settings.resolved_db_url}[/]",
            title="riff demo",
        )
    )
    demo_sessions = build_demo_projects(projects, seed=seed)
    with Workspace(settings) as ws:
        _step(1, "Scan", "Read every session once, streaming; find what `claude --resume` loses.")
        before = scan_files(ws.sessions())
        render_scan(before)
        lost_before = {s["session_id"]: s.get("resume_loss") or 0 for s in before.sessions}

        broken = [s for s in demo_sessions if "orphan" in s.breakages]
        first = load_session(ws, broken[0].session_id)
        _step(2, "Suggest", "Rank parent candidates for each orphan and show the evidence.")
        orphans = repair_engine().suggest_all(first.transcript, k=3)
        render_suggestions(first, [(o.message_id, o.line, o.candidates) for o in orphans])

        _step(
            3,
            "Repair",
            "Append each repair as an event (validated: parent exists, no cycle, time order), "
            "update the view, and rewrite the file safely (backup + atomic replace).",
        )
        repaired: list[str] = []
        for demo_session in broken:
            state = load_session(ws, demo_session.session_id)
            plan = plan_repairs(state, min_score=settings.min_score)
            render_plan(plan)
            result = apply_plan(
                ws,
                plan,
                operator=operator,
                reason="riff demo: best candidate",
                write=True,
                force_live=DEMO_FILES_ARE_NOT_LIVE,
            )
            render_applied(result)
            repaired.append(state.session_id)

        _step(4, "Log", "Every event with its derived status; nothing is ever updated in place.")
        rows = list(log_events(ws, LogFilter()))
        for event, reverted in rows:
            stdout.print(
                f"  {event.session_id[:8]} seq {event.seq} {event.kind:<6} {event.message_id[:8]} "
                f"→ {str(event.new_parent_uuid)[:8]}  by {event.operator}  score "
                f"{_score(event.similarity_score)}  "
                f"{'reverted' if reverted else 'active'}  digest {event.event_digest[:12]}…",
                highlight=False,
            )

        _step(5, "Verify", "Recompute every digest and walk every chain in the store.")
        check = validate_event_immutability(ws.store.all_events())
        stdout.print(
            f"  [green]intact[/]: {check.events_checked} events in {check.sessions_checked} "
            "sessions, every digest and link verified"
            if check.ok
            else f"  [red]BROKEN[/]: {check.breaks}"
        )
        stdout.print("  The database itself refuses changes, even for root:")
        for refusal in database_refusals(ws):
            what = refusal.statement.split(" SET ")[0] + (
                " …" if " SET " in refusal.statement else ""
            )
            if not refusal.refused:
                stdout.print(f"  [red]{what} went through?![/]")
                continue
            why = " (every field is READONLY)" if what.startswith("UPDATE") else ""
            stdout.print(f"  {what} → [red]refused[/]: {refusal.reason}{why}")

        _step(6, "Revert", "Undo is a new event that mirrors the old one; the log only grows.")
        target = rows[0][0]
        revert, _ = revert_event(
            ws,
            target.event_id,
            operator=operator,
            reason="riff demo: undo",
            write=True,
            force_live=DEMO_FILES_ARE_NOT_LIVE,
        )
        stdout.print(
            f"  revert {revert.event_id} (seq {revert.seq}) undoes {target.event_id}; "
            f"{target.message_id[:8]} is back under {str(revert.new_parent_uuid)[:8]}"
        )
        again, _ = revert_event(
            ws,
            revert.event_id,
            operator=operator,
            reason="riff demo: redo",
            write=True,
            force_live=DEMO_FILES_ARE_NOT_LIVE,
        )
        stdout.print(f"  a revert of the revert ({again.event_id}) re-applies the repair")

        _step(7, "Export and verify", "An auditor checks the export with no database at all.")
        export_path = root / "riff-export.jsonl"
        count = export_log(ws, export_path, session=None, fmt="jsonl")
        report = verify_export(export_path)
        stdout.print(
            f"  exported {count} events to {export_path.name}: "
            + ("[green]intact[/]" if report.ok else f"[red]{len(report.breaks)} breaks[/]")
        )
        tampered = root / "tampered.jsonl"
        tampered.write_bytes(
            export_path.read_bytes().replace(f'"{operator}"'.encode(), b'"mallory"', 1)
        )
        bad = verify_export(tampered)
        stdout.print("  a copy with one operator changed to 'mallory':")
        for brk in bad.breaks[:2]:
            stdout.print(f"    [red]✗[/] {brk}", highlight=False)

        _step(8, "Resume", "Scan the rewritten files: each repaired session loads as one chain.")
        ws.forget_sessions()
        after = {s["session_id"]: s for s in scan_files(ws.sessions()).sessions}
        for session_id in repaired:
            scan = after[session_id]
            orphans_left = sum(1 for f in scan["findings"] if f["kind"] == "orphan")
            chain = load_session(ws, session_id).resume_chain()
            stdout.print(
                f"  {session_id[:8]}: resume lost {lost_before.get(session_id, 0)} messages "
                f"before; now it loses {scan.get('resume_loss') or 0} and loads a chain of "
                f"{len(chain)} lines from the last compaction on; {orphans_left} orphans left"
            )
