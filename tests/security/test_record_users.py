"""Medium: record users append and read events only; job records dated 2999/9999 (issue 13)."""

from __future__ import annotations

import contextlib
from datetime import UTC, datetime
from pathlib import Path

import pytest

from riff.app.eventlog import EventLog
from riff.jobs import JOBS, schedule_status
from riff.jobs.records import JobRun
from riff.jobs.runner import next_run_time
from riff.settings import Settings
from riff.store import QueryFailed
from tests.security.helpers import sign_in_as_record_user, sign_in_as_root
from tests.store.helpers import chain_drafts

NOW = datetime(2026, 3, 10, 12, 0, tzinfo=UTC)
FORGED_RUN = {
    "job": "integrity",
    "trigger": "manual",
    "started_at": "9999-12-31T23:59:59.000000Z",
    "finished_at": "9999-12-31T23:59:59.000000Z",
    "outcome": "ok",
    "summary": "all good",
    "details": {},
}
FORGED_REPORT = {
    "checked_at": "2999-01-01T00:00:00.000000Z",
    "ok": True,
    "sessions_checked": 0,
    "events_checked": 0,
    "views_checked": 0,
    "heads": [],
    "breaks": [],
    "break_count": 0,
}


def _rows(store: EventLog, table: str) -> list[object]:
    sign_in_as_root(store)
    return list(store.recorder.conn.one(f"SELECT * FROM {table}") or [])


@pytest.mark.parametrize(
    ("table", "row"),
    [
        ("job_runs", FORGED_RUN),
        ("integrity_reports", FORGED_REPORT),
        (
            "sessions_materialized",
            {
                "session_id": "s1",
                "base_parents": "{}",
                "parents": "{}",
                "timestamps": "{}",
                "through_seq": 0,
                "head_digest": "0" * 64,
                "materialization_digest": "0" * 64,
                "updated_at": "x",
            },
        ),
    ],
)
def test_a_record_user_cannot_write_the_jobs_tables(
    store: EventLog, table: str, row: dict[str, object]
) -> None:
    sign_in_as_record_user(store, "mallory", "pw")
    with contextlib.suppress(QueryFailed):
        store.recorder.conn.run(f"CREATE {table} CONTENT $row", {"row": row})
    assert _rows(store, table) == []


def test_a_record_user_cannot_edit_a_view(store: EventLog) -> None:
    store.append("s1", chain_drafts(1))
    store.recorder.conn.run(
        "CREATE sessions_materialized:s1 CONTENT $row",
        {
            "row": {
                "session_id": "s1",
                "base_parents": "{}",
                "parents": "{}",
                "timestamps": "{}",
                "through_seq": 1,
                "head_digest": "0" * 64,
                "materialization_digest": "0" * 64,
                "updated_at": "x",
            }
        },
    )
    sign_in_as_record_user(store, "mallory", "pw")
    with contextlib.suppress(QueryFailed):
        store.recorder.conn.run(
            "UPDATE sessions_materialized SET through_seq = 9, drift_detected = true"
        )
    [view] = _rows(store, "sessions_materialized")
    assert isinstance(view, dict) and view["through_seq"] == 1 and not view["drift_detected"]


def test_job_run_times_must_be_timestamps(store: EventLog) -> None:
    with pytest.raises(QueryFailed, match="started_at"):
        store.recorder.conn.run(
            "CREATE job_runs CONTENT $row", {"row": FORGED_RUN | {"started_at": "soon"}}
        )


@pytest.mark.parametrize("year", [2999, 9999])
def test_a_run_dated_in_the_future_does_not_stop_the_jobs(year: int) -> None:
    forged = JobRun(**(FORGED_RUN | {"started_at": f"{year}-12-31T23:59:59.000000Z"}))  # type: ignore[arg-type]
    assert next_run_time(JOBS["integrity"], Settings(), forged, NOW) == NOW


def test_jobs_status_survives_a_forged_run(store: EventLog, tmp_path: Path) -> None:
    store.recorder.conn.run("CREATE job_runs CONTENT $row", {"row": FORGED_RUN})
    rows = {r["job"]: r for r in schedule_status(store, Settings(data_dir=tmp_path), NOW)}
    assert rows["integrity"]["next_run"] == "2026-03-10T12:00:00.000000Z"


def test_a_view_behind_a_record_users_appends_is_refreshed_by_the_job(
    store: EventLog, tmp_path: Path
) -> None:
    import random

    from riff.jobs import JobRunner, shared_store
    from tests.jobs.helpers import append_repairs, mem_settings, seed_sessions

    [seeded] = seed_sessions(store, tmp_path, sessions=1, repairs=0)
    sign_in_as_record_user(store, "alice", "pw-alice")
    append_repairs(store, seeded.session_id, 2)  # cannot mark the view stale
    sign_in_as_root(store)
    [summary] = store.view_summaries()
    assert summary["through_seq"] == 0 and not summary["is_stale"]
    runner = JobRunner(mem_settings(tmp_path), lambda: shared_store(store), rng=random.Random(1))
    run = runner.run("stale-views")
    assert [v["session_id"] for v in run.details["views"]] == [seeded.session_id]
    view = store.get_view(seeded.session_id)
    assert view is not None and view.through_seq == 2
