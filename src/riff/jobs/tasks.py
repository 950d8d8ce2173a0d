"""The four jobs. Each works in units (a view, a session, a segment) that are each
atomic in the store, and checks the stop flag between units, so a stop leaves
the store consistent: finished units stay, the unit in progress is not begun
or is rolled back (the archive's temp segment is removed)."""

from __future__ import annotations

from typing import Any

from riff.app.archive import ArchiveInterrupted, archive_events, list_checkpoints, verify_archive
from riff.app.integrity import verify_database
from riff.app.views import refresh_view, spot_check_view
from riff.app.views import stale_views as find_stale_views
from riff.errors import Interrupted
from riff.jobs.context import JobContext, JobResult, log
from riff.jobs.records import record_integrity_report


def stale_views(ctx: JobContext) -> JobResult:
    """Bring up to `job_stale_batch` stale views up to date, oldest first."""
    stale = find_stale_views(ctx.store)
    batch = stale[: max(0, ctx.settings.job_stale_batch)]
    done: list[dict[str, Any]] = []
    for row in batch:
        if ctx.should_stop():
            return JobResult(
                "interrupted",
                f"stopped after {len(done)} of {len(batch)} stale views",
                {"views": done, "remaining": len(stale) - len(done)},
            )
        sid = str(row["session_id"])
        refreshed = refresh_view(ctx.store, sid, clock=ctx.clock)
        if refreshed is None:
            continue
        how, updated = refreshed
        done.append({"session_id": sid, "how": how, "through_seq": updated.through_seq})
        ctx.step(f"view {sid}: {how} through seq {updated.through_seq}")
    left = len(stale) - len(done)
    return JobResult(
        "ok",
        f"refreshed {len(done)} stale view(s)"
        + (f", {left} left for the next run" if left else ""),
        {"views": done, "remaining": left},
    )


def spot_check(ctx: JobContext) -> JobResult:
    """Recompute `job_spot_check_sessions` random views from the log and the file; mark drift."""
    sessions = sorted(str(r["session_id"]) for r in ctx.store.view_summaries())
    chosen = ctx.rng.sample(sessions, min(ctx.settings.job_spot_check_sessions, len(sessions)))
    checked: list[dict[str, Any]] = []
    drifted: list[str] = []
    for sid in chosen:
        if ctx.should_stop():
            return JobResult(
                "interrupted",
                f"stopped after {len(checked)} sessions",
                {"sessions": checked, "drifted": drifted},
            )
        checked_view = spot_check_view(ctx.store, sid, clock=ctx.clock)
        if checked_view is None:
            continue
        report, file_digest, path = checked_view
        entry = {
            "session_id": sid,
            "drift": report.drift_detected,
            "summary": report.summary(),
            "stored_digest": report.stored_digest,
            "replay_digest": report.recomputed_digest,
            "file_digest": file_digest,
            "source": str(path) if path else None,
        }
        checked.append(entry)
        if report.drift_detected:
            drifted.append(sid)
            log.warning("spot-check: %s", report.summary())
        ctx.step(report.summary())
    outcome = "problems" if drifted else "ok"
    summary = f"checked {len(checked)} view(s), {len(drifted)} drifted"
    if drifted:
        summary += ": " + ", ".join(drifted)
    return JobResult(outcome, summary, {"sessions": checked, "drifted": drifted})


def integrity(ctx: JobContext) -> JobResult:
    """Verify every chain, view and archive segment; append an integrity report."""
    checked_at = ctx.now()
    try:
        result = verify_database(ctx.store, should_stop=ctx.should_stop)
        archive: dict[str, Any] | None = None
        if list_checkpoints(ctx.store):
            verified = verify_archive(
                ctx.store, ctx.settings.resolved_archive_dir, should_stop=ctx.should_stop
            )
            result.breaks.extend(verified.result.breaks)
            archive = {
                "segments_checked": verified.segments_checked,
                "checkpoints_checked": verified.checkpoints_checked,
                "unreferenced_segments": verified.unreferenced,
            }
    except Interrupted as exc:
        # No report: a partial verification is not a verdict.
        return JobResult("interrupted", f"stopped before the verdict ({exc})")
    record_integrity_report(ctx.store, result, checked_at, result.views_checked)
    details = {**result.to_dict(), "checked_at": checked_at, "archive": archive}
    if not result.ok:
        log.error(
            "INTEGRITY BREAK: %d break(s) in %d events of %d sessions; first: %s",
            len(result.breaks),
            result.events_checked,
            result.sessions_checked,
            result.breaks[0],
        )
        return JobResult(
            "problems",
            f"{len(result.breaks)} break(s) in {result.events_checked} events of "
            f"{result.sessions_checked} sessions; first: {result.breaks[0]}",
            details,
        )
    return JobResult(
        "ok",
        f"intact: {result.events_checked} events in {result.sessions_checked} sessions, "
        f"{result.views_checked} views",
        details,
    )


def checkpoint(ctx: JobContext) -> JobResult:
    """Sign the transparency log's tree head (docs/transparency-log.md), unless unchanged."""
    from riff.app.checkpoints import make_checkpoint
    from riff.errors import ProblemsFound

    try:
        made = make_checkpoint(ctx.store, ctx.settings, now=ctx.clock())
    except ProblemsFound as exc:
        log.error("CHECKPOINT REFUSED: %s", exc)
        return JobResult("problems", str(exc))
    size = made.checkpoint.size
    if not made.created:
        return JobResult("ok", f"unchanged since the checkpoint of {size} events", made.to_dict())
    return JobResult("ok", f"signed checkpoint of {size} events: {made.path}", made.to_dict())


def archive(ctx: JobContext) -> JobResult:
    """Seal events older than `archive_after_days` into a segment and checkpoint it."""
    try:
        result = archive_events(
            ctx.store,
            ctx.settings.resolved_archive_dir,
            older_than_days=ctx.settings.archive_after_days,
            now=ctx.clock(),
            should_stop=ctx.should_stop,
        )
    except ArchiveInterrupted as exc:
        return JobResult("interrupted", f"nothing archived ({exc})")
    if result.segment is None:
        return JobResult(
            "ok", f"nothing to archive (no events before {result.cutoff})", result.to_dict()
        )
    ctx.step(f"archived {result.events_archived} events to {result.segment.name}")
    return JobResult(
        "ok",
        f"archived {result.events_archived} event(s) of {len(result.checkpoints)} session(s) "
        f"to {result.segment.name}",
        result.to_dict(),
    )


__all__ = ["archive", "integrity", "spot_check", "stale_views"]
