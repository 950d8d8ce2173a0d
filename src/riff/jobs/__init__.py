"""Background jobs that look after the store: fresh views, spot-checks, integrity, archive.

See docs/jobs.md. Each job runs on an APScheduler interval trigger (`riff jobs
run`) or once by hand (`riff jobs once NAME`); every run is recorded in the
append-only `job_runs` table (`riff jobs status`).
"""

from riff.jobs.context import JobContext, JobResult
from riff.jobs.records import JobRun, integrity_reports, job_runs, last_run
from riff.jobs.runner import (
    JOBS,
    JobRunner,
    UnknownJobError,
    build_scheduler,
    default_store_factory,
    next_run_time,
    run_once,
    run_scheduler,
    schedule_status,
    shared_store,
    trigger_for,
)

__all__ = [
    "JOBS",
    "JobContext",
    "JobResult",
    "JobRun",
    "JobRunner",
    "UnknownJobError",
    "build_scheduler",
    "default_store_factory",
    "integrity_reports",
    "job_runs",
    "last_run",
    "next_run_time",
    "run_once",
    "run_scheduler",
    "schedule_status",
    "shared_store",
    "trigger_for",
]
