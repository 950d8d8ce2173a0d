"""The stale-views job: incremental where possible, full rebuild otherwise, oldest first."""

from __future__ import annotations

import random
from pathlib import Path

from surrealdb import RecordID

from riff.app.eventlog import EventLog
from riff.app.viewstore import rebuild
from riff.jobs import JobRunner, job_runs, shared_store
from riff.views import read_source
from tests.jobs.helpers import mem_settings, seed_sessions


def _runner(store: EventLog, tmp_path: Path, **settings: object) -> JobRunner:
    return JobRunner(
        mem_settings(tmp_path, **settings), lambda: shared_store(store), rng=random.Random(7)
    )


def test_refreshes_stale_views_incrementally_and_records_the_run(
    store: EventLog, tmp_path: Path
) -> None:
    seeded = seed_sessions(store, tmp_path, sessions=3, repairs=4)
    assert all(v["is_stale"] for v in store.view_summaries())
    run = _runner(store, tmp_path).run("stale-views")
    assert run.outcome == "ok" and run.details["remaining"] == 0
    assert [v["how"] for v in run.details["views"]] == ["incremental"] * 3
    for s in seeded:
        view = store.get_view(s.session_id)
        assert view is not None and not view.is_stale and view.through_seq == 4
        fresh = rebuild(store, s.session_id, read_source(s.path), save=False)
        assert view.materialization_digest == fresh.materialization_digest
    assert job_runs(store, "stale-views")[0] == run


def test_batch_limit_takes_the_oldest_first(store: EventLog, tmp_path: Path) -> None:
    seeded = seed_sessions(store, tmp_path, sessions=4, repairs=1)
    # Give the views known ages: the last seeded is the oldest.
    for age, s in enumerate(reversed(seeded)):
        store.recorder.conn.run(
            "UPDATE $vid SET updated_at = $t",
            {"vid": RecordID("sessions_materialized", s.session_id), "t": f"2026-01-0{age + 1}"},
        )
    run = _runner(store, tmp_path, job_stale_batch=2).run("stale-views")
    assert [v["session_id"] for v in run.details["views"]] == [
        seeded[3].session_id,
        seeded[2].session_id,
    ]
    assert run.details["remaining"] == 2 and "2 left" in run.summary
    stale = {v["session_id"] for v in store.view_summaries() if v["is_stale"]}
    assert stale == {seeded[0].session_id, seeded[1].session_id}


def test_falls_back_to_a_full_rebuild_from_the_file_then_the_stored_base(
    store: EventLog, tmp_path: Path
) -> None:
    seeded = seed_sessions(store, tmp_path, sessions=2, repairs=2)
    for s in seeded:
        view = store.get_view(s.session_id)
        assert view is not None
        # A head the log does not continue: the incremental path cannot apply.
        store.put_view(view.evolve(head_digest="c" * 64, through_seq=1, is_stale=True))
    seeded[1].path.unlink()
    run = _runner(store, tmp_path).run("stale-views")
    assert [v["how"] for v in run.details["views"]] == [
        "rebuilt from file" if s is seeded[0] else "rebuilt from stored base"
        for s in sorted(seeded, key=lambda s: s.session_id)
    ]
    for s in seeded:
        view = store.get_view(s.session_id)
        assert view is not None and view.through_seq == 2 and not view.is_stale
        assert view.head_digest == store.head(s.session_id).digest
