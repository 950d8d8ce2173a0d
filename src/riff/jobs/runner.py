"""Running jobs: once by hand, or on APScheduler interval triggers from the settings.

A job run opens the store, runs, appends a `job_runs` row and closes the
store again, so `riff jobs run` holds an embedded store's lock only while a
job works and other riff commands can use it in between. Jobs run one at a
time (one worker thread), each at most once at a time; a run that was missed
(the machine slept) is run once, not once per missed interval.

SIGINT and SIGTERM set a stop flag: the job in progress finishes the unit it
is on (or rolls it back) and records itself as interrupted; the scheduler
then shuts down.
"""

from __future__ import annotations

import contextlib
import random
import signal
import threading
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import datetime, timedelta
from types import FrameType
from typing import Any

from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.schedulers.base import BaseScheduler
from apscheduler.triggers.interval import IntervalTrigger

from riff.app.stores import EventLog, open_event_store
from riff.errors import RiffError
from riff.events.chain import Clock
from riff.events.model import format_event_timestamp
from riff.jobs import tasks
from riff.jobs.context import JobContext, JobResult, log, utc_now
from riff.jobs.records import JobRun, last_run, record_job_run
from riff.settings import Settings

StoreFactory = Callable[[], AbstractContextManager[EventLog]]
JobFunc = Callable[[JobContext], JobResult]


@dataclass(frozen=True, slots=True)
class JobSpec:
    name: str
    func: JobFunc
    description: str

    def interval(self, settings: Settings) -> timedelta:
        return INTERVALS[self.name](settings)


JOBS: dict[str, JobSpec] = {
    spec.name: spec
    for spec in (
        JobSpec("stale-views", tasks.stale_views, "rebuild views marked stale, oldest first"),
        JobSpec("spot-check", tasks.spot_check, "recompute random views; mark drift"),
        JobSpec("integrity", tasks.integrity, "verify every chain, view and archive segment"),
        JobSpec("archive", tasks.archive, "seal old events into archive segments"),
        JobSpec("checkpoint", tasks.checkpoint, "sign the transparency log's tree head"),
    )
}
INTERVALS: dict[str, Callable[[Settings], timedelta]] = {
    "stale-views": lambda s: timedelta(minutes=s.job_stale_interval_minutes),
    "spot-check": lambda s: timedelta(minutes=s.job_spot_check_interval_minutes),
    "integrity": lambda s: timedelta(days=s.job_integrity_interval_days),
    "archive": lambda s: timedelta(days=s.job_archive_interval_days),
    "checkpoint": lambda s: timedelta(minutes=s.job_checkpoint_interval_minutes),
}


class UnknownJobError(RiffError, ValueError):
    def __init__(self, name: str) -> None:
        super().__init__(f"no job named {name!r}; choose one of: {', '.join(JOBS)}")


def job_spec(name: str) -> JobSpec:
    spec = JOBS.get(name)
    if spec is None:
        raise UnknownJobError(name)
    return spec


def default_store_factory(settings: Settings) -> StoreFactory:
    return lambda: open_event_store(settings)


@contextlib.contextmanager
def shared_store(store: EventLog) -> Iterator[EventLog]:
    """A factory item for an already open store (mem:// in tests): not closed after the run."""
    yield store


@dataclass
class JobRunner:
    """Runs jobs by name with one settings object, store factory, clock and stop flag."""

    settings: Settings
    store_factory: StoreFactory
    clock: Clock = utc_now
    rng: random.Random | None = None
    stop: threading.Event | None = None
    progress: Callable[[str], None] | None = None

    def __post_init__(self) -> None:
        self.rng = self.rng or random.Random()
        self.stop = self.stop or threading.Event()
        self._lock = threading.Lock()

    def run(self, name: str, trigger: str = "manual") -> JobRun:
        """Run one job now and append its run to `job_runs`; never raises for a job failure."""
        spec = job_spec(name)
        assert self.rng is not None and self.stop is not None
        with self._lock, self.store_factory() as store:
            started = format_event_timestamp(self.clock())
            ctx = JobContext(store, self.settings, self.clock, self.rng, self.stop, self.progress)
            try:
                result = spec.func(ctx)
            except Exception as exc:  # a job failure is recorded, not raised into the scheduler
                log.exception("job %s failed", name)
                result = JobResult("failed", f"{type(exc).__name__}: {exc}".splitlines()[0])
            run = JobRun(
                job=name,
                trigger=trigger,
                started_at=started,
                finished_at=format_event_timestamp(self.clock()),
                outcome=result.outcome,
                summary=result.summary,
                details=result.details,
            )
            record_job_run(store, run)
        level = {"ok": 20, "interrupted": 30, "problems": 40, "failed": 40}[run.outcome]
        log.log(level, "job %s: %s: %s", name, run.outcome, run.summary)
        return run


# ---------------------------------------------------------------- schedule


def trigger_for(spec: JobSpec, settings: Settings, anchor: datetime) -> IntervalTrigger:
    """Every interval from `anchor` (the job's last start, or when the scheduler started)."""
    return IntervalTrigger(
        seconds=spec.interval(settings).total_seconds(), start_date=anchor, timezone="UTC"
    )


def next_run_time(
    spec: JobSpec, settings: Settings, last: JobRun | None, now: datetime
) -> datetime:
    """When the scheduler runs `spec` next: now if it never ran or is overdue."""
    anchor = _run_start(last)
    # A run dated in the future (a skewed clock or a forged row) says nothing
    # about when the job last ran: run it now rather than never.
    if anchor is None or anchor > now:
        return now
    due = anchor + spec.interval(settings)
    if due <= now:
        return now
    fire = trigger_for(spec, settings, anchor).get_next_fire_time(None, now)
    return fire if isinstance(fire, datetime) else due


def _run_start(run: JobRun | None) -> datetime | None:
    """When `run` started, None when there is no run or its time is not a UTC timestamp."""
    if run is None:
        return None
    try:
        started = datetime.fromisoformat(run.started_at.replace("Z", "+00:00"))
    except (TypeError, ValueError):
        return None
    return started if started.tzinfo is not None else None


def schedule_status(store: EventLog, settings: Settings, now: datetime) -> list[dict[str, Any]]:
    """Per job: its interval, last run and next run (what `riff jobs status` shows)."""
    rows: list[dict[str, Any]] = []
    for spec in JOBS.values():
        last = last_run(store, spec.name)
        rows.append(
            {
                "job": spec.name,
                "description": spec.description,
                "interval_seconds": int(spec.interval(settings).total_seconds()),
                "last_run": last.to_dict() if last else None,
                "next_run": format_event_timestamp(next_run_time(spec, settings, last, now)),
            }
        )
    return rows


def build_scheduler(
    runner: JobRunner,
    *,
    last_runs: dict[str, JobRun | None] | None = None,
    now: datetime | None = None,
    scheduler: BaseScheduler | None = None,
) -> BaseScheduler:
    """A scheduler (not started) with one interval job per riff job, one worker thread."""
    moment = now or runner.clock()
    sched = scheduler or BackgroundScheduler(timezone="UTC")
    sched.configure(
        executors={"default": ThreadPoolExecutor(1)},
        job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": None},
        timezone="UTC",
    )
    for index, spec in enumerate(JOBS.values()):
        last = (last_runs or {}).get(spec.name)
        first = next_run_time(spec, runner.settings, last, moment)
        if first == moment:  # several due at once: run them in JOBS order (views first)
            first += timedelta(seconds=index)
        sched.add_job(
            runner.run,
            trigger=trigger_for(spec, runner.settings, first),
            args=[spec.name, "scheduled"],
            id=spec.name,
            name=spec.name,
            next_run_time=first,
        )
    return sched


@contextlib.contextmanager
def stop_on_signals(stop: threading.Event) -> Iterator[None]:
    """SIGINT/SIGTERM set `stop` instead of killing the process (main thread only)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def handler(signum: int, _frame: FrameType | None) -> None:
        log.warning("received %s; stopping after the unit in progress", signal.Signals(signum).name)
        stop.set()

    previous = {sig: signal.signal(sig, handler) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for sig, old in previous.items():
            signal.signal(sig, old)


def run_scheduler(
    runner: JobRunner, *, on_start: Callable[[BaseScheduler], None] | None = None
) -> None:
    """`riff jobs run`: schedule every job and block until SIGINT/SIGTERM (or runner.stop)."""
    assert runner.stop is not None
    with runner.store_factory() as store:
        last_runs = {name: last_run(store, name) for name in JOBS}
    sched = build_scheduler(runner, last_runs=last_runs)
    with stop_on_signals(runner.stop):
        sched.start()
        if on_start is not None:
            on_start(sched)
        try:
            while not runner.stop.wait(0.5):
                pass
        finally:
            # wait=True: the job in progress sees the stop flag and ends cleanly.
            sched.shutdown(wait=True)


def run_once(runner: JobRunner, name: str) -> JobRun:
    """`riff jobs once NAME`: run a job now; SIGINT/SIGTERM stop it cleanly."""
    assert runner.stop is not None
    job_spec(name)
    with stop_on_signals(runner.stop):
        return runner.run(name, "manual")


__all__ = [
    "INTERVALS",
    "JOBS",
    "JobRunner",
    "JobSpec",
    "UnknownJobError",
    "build_scheduler",
    "default_store_factory",
    "job_spec",
    "next_run_time",
    "run_once",
    "run_scheduler",
    "schedule_status",
    "shared_store",
    "stop_on_signals",
    "trigger_for",
]
