"""What the jobs leave in the database: job runs and integrity reports (both append-only)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from riff.app.stores import EventLog
from riff.events.verify import ValidationResult

OUTCOMES = ("ok", "problems", "failed", "interrupted")


@dataclass(frozen=True, slots=True)
class JobRun:
    """One finished (or interrupted, or failed) run of a job."""

    job: str
    trigger: str  # "manual" or "scheduled"
    started_at: str
    finished_at: str
    outcome: str
    summary: str
    details: dict[str, Any] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return self.outcome == "ok"

    def to_dict(self) -> dict[str, Any]:
        return {
            "job": self.job,
            "trigger": self.trigger,
            "started_at": self.started_at,
            "finished_at": self.finished_at,
            "outcome": self.outcome,
            "summary": self.summary,
            "details": self.details,
        }


def record_job_run(store: EventLog, run: JobRun) -> None:
    store.add_rows("job_runs", [run.to_dict()])


def _row_to_run(row: dict[str, Any]) -> JobRun:
    return JobRun(
        job=row["job"],
        trigger=row["trigger"],
        started_at=row["started_at"],
        finished_at=row["finished_at"],
        outcome=row["outcome"],
        summary=row["summary"],
        details=dict(row.get("details") or {}),
    )


def last_run(store: EventLog, job: str) -> JobRun | None:
    rows = store.rows("job_runs", where={"job": job}, newest_first_by="started_at", limit=1)
    return _row_to_run(rows[0]) if rows else None


def job_runs(store: EventLog, job: str, limit: int = 20) -> list[JobRun]:
    """The latest runs of `job`, newest first."""
    rows = store.rows("job_runs", where={"job": job}, newest_first_by="started_at", limit=limit)
    return [_row_to_run(r) for r in rows]


def record_integrity_report(
    store: EventLog, result: ValidationResult, checked_at: str, views_checked: int
) -> dict[str, Any]:
    """Append the verdict of a database-wide verification; returns the row as stored."""
    row: dict[str, Any] = {
        "checked_at": checked_at,
        "ok": result.ok,
        "sessions_checked": result.sessions_checked,
        "events_checked": result.events_checked,
        "views_checked": views_checked,
        "heads": [
            {"session_id": sid, "seq": head.seq, "digest": head.digest}
            for sid, head in sorted(result.heads.items())
        ],
        "breaks": [b.to_dict() for b in result.breaks],
        "break_count": len(result.breaks),
    }
    store.add_rows("integrity_reports", [row])
    return row


def integrity_reports(store: EventLog, limit: int = 10) -> list[dict[str, Any]]:
    """The latest integrity reports, newest first."""
    return store.rows("integrity_reports", newest_first_by="checked_at", limit=limit)
