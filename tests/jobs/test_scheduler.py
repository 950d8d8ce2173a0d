"""The schedule, with a controlled clock: fire times are computed from a given `now`."""

from __future__ import annotations

import random
import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path

from apscheduler.schedulers.background import BackgroundScheduler

from riff.app.eventlog import EventLog
from riff.jobs import (
    JOBS,
    JobRun,
    JobRunner,
    build_scheduler,
    job_runs,
    next_run_time,
    run_scheduler,
    schedule_status,
    shared_store,
    trigger_for,
)
from tests.jobs.helpers import mem_settings
from tests.waiting import wait_for

NOW = datetime(2026, 3, 10, 12, 0, tzinfo=UTC)


def _run(job: str, started: datetime) -> JobRun:
    stamp = started.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    return JobRun(job, "scheduled", stamp, stamp, "ok", "fine")


def test_intervals_come_from_the_settings(tmp_path: Path) -> None:
    settings = mem_settings(tmp_path, job_stale_interval_minutes=7, job_integrity_interval_days=3)
    trigger = trigger_for(JOBS["stale-views"], settings, NOW)
    fires = [trigger.get_next_fire_time(None, NOW)]
    for _ in range(3):
        fires.append(trigger.get_next_fire_time(fires[-1], fires[-1]))
    assert fires == [NOW + timedelta(minutes=7 * k) for k in range(4)]
    weekly = trigger_for(JOBS["archive"], settings, NOW)
    assert weekly.get_next_fire_time(NOW, NOW) == NOW + timedelta(days=7)
    assert JOBS["integrity"].interval(settings) == timedelta(days=3)
    assert JOBS["spot-check"].interval(settings) == timedelta(hours=1)


def test_next_run_follows_the_last_run(tmp_path: Path) -> None:
    settings = mem_settings(tmp_path)
    spec = JOBS["stale-views"]
    assert next_run_time(spec, settings, None, NOW) == NOW  # never ran: due now
    last = _run("stale-views", NOW - timedelta(minutes=2))
    assert next_run_time(spec, settings, last, NOW) == NOW + timedelta(minutes=3)
    overdue = _run("stale-views", NOW - timedelta(hours=5))
    assert next_run_time(spec, settings, overdue, NOW) == NOW  # missed runs: once, now
    weekly = _run("integrity", NOW - timedelta(days=1))
    assert next_run_time(JOBS["integrity"], settings, weekly, NOW) == NOW + timedelta(days=6)


def test_scheduler_jobs_start_where_the_last_runs_left_off(store: EventLog, tmp_path: Path) -> None:
    settings = mem_settings(tmp_path)
    runner = JobRunner(settings, lambda: shared_store(store), clock=lambda: NOW)
    last = {"integrity": _run("integrity", NOW - timedelta(days=2))}
    sched = build_scheduler(runner, last_runs=last, now=NOW, scheduler=BackgroundScheduler())
    jobs = {job.id: job for job in sched.get_jobs()}
    assert set(jobs) == set(JOBS)
    assert jobs["integrity"].next_run_time == NOW + timedelta(days=5)
    assert jobs["stale-views"].next_run_time == NOW
    after = jobs["integrity"].trigger.get_next_fire_time(
        jobs["integrity"].next_run_time, jobs["integrity"].next_run_time
    )
    assert after == NOW + timedelta(days=12)
    # `riff jobs status` shows the same schedule.
    store.recorder.conn.run("CREATE job_runs CONTENT $r", {"r": last["integrity"].to_dict()})
    status = {row["job"]: row for row in schedule_status(store, settings, NOW)}
    assert status["integrity"]["next_run"] == "2026-03-15T12:00:00.000000Z"
    assert status["archive"]["last_run"] is None


def test_run_scheduler_runs_due_jobs_then_stops_cleanly(store: EventLog, tmp_path: Path) -> None:
    stop = threading.Event()
    runner = JobRunner(
        mem_settings(tmp_path), lambda: shared_store(store), rng=random.Random(0), stop=stop
    )
    seen: list[str] = []

    def watch(sched: object) -> None:
        def wait_then_stop() -> None:
            try:
                wait_for(lambda: all(job_runs(store, name) for name in JOBS), "every job's run")
            finally:  # a job that never ran shows in `seen`; the scheduler stops either way
                seen.extend(name for name in JOBS if job_runs(store, name))
                stop.set()

        threading.Thread(target=wait_then_stop, daemon=True).start()

    run_scheduler(runner, on_start=watch)
    assert sorted(seen) == sorted(JOBS)
    assert all(job_runs(store, name)[0].trigger == "scheduled" for name in JOBS)
