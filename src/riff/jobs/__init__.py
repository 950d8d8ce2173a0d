"""Background jobs that look after the store: fresh views, spot-checks, integrity, archive.

See docs/jobs.md. Each job runs on an APScheduler interval trigger (`riff jobs
run`) or once by hand (`riff jobs once NAME`); every run is recorded in the
append-only `job_runs` table (`riff jobs status`).

The names below load on first use, so that naming the jobs (`JOB_NAMES`, for
the CLI's help) does not start APScheduler or open a store.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

# The jobs, in the order `riff jobs status` lists them (riff.jobs.runner.JOBS
# has these keys; a test holds them equal).
JOB_NAMES = ("stale-views", "spot-check", "integrity", "archive")

if TYPE_CHECKING:
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

_LAZY = {
    "JobContext": "riff.jobs.context",
    "JobResult": "riff.jobs.context",
    "JobRun": "riff.jobs.records",
    "integrity_reports": "riff.jobs.records",
    "job_runs": "riff.jobs.records",
    "last_run": "riff.jobs.records",
    **{
        name: "riff.jobs.runner"
        for name in (
            "JOBS",
            "JobRunner",
            "UnknownJobError",
            "build_scheduler",
            "default_store_factory",
            "next_run_time",
            "run_once",
            "run_scheduler",
            "schedule_status",
            "shared_store",
            "trigger_for",
        )
    },
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


__all__ = [
    "JOBS",
    "JOB_NAMES",
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
