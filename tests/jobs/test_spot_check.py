"""The spot-check job: random views recomputed from the log and the file; drift is marked."""

from __future__ import annotations

import random
from pathlib import Path

import orjson
from surrealdb import RecordID

from riff.app.eventlog import EventLog
from riff.jobs import JobRunner, shared_store
from tests.jobs.helpers import mem_settings, seed_sessions


def _runner(store: EventLog, tmp_path: Path, seed: int, **kw: object) -> JobRunner:
    return JobRunner(
        mem_settings(tmp_path, **kw), lambda: shared_store(store), rng=random.Random(seed)
    )


def test_picks_sessions_from_the_injected_random_source(store: EventLog, tmp_path: Path) -> None:
    seeded = seed_sessions(store, tmp_path, sessions=6, repairs=1)
    _runner(store, tmp_path, 0).run("stale-views")
    run = _runner(store, tmp_path, 42, job_spot_check_sessions=3).run("spot-check")
    expected = random.Random(42).sample(sorted(s.session_id for s in seeded), 3)
    assert [s["session_id"] for s in run.details["sessions"]] == expected
    assert run.outcome == "ok" and run.details["drifted"] == []
    for entry in run.details["sessions"]:
        assert entry["stored_digest"] == entry["replay_digest"] == entry["file_digest"]


def test_a_view_edited_behind_riffs_back_is_found_and_marked(
    store: EventLog, tmp_path: Path
) -> None:
    seeded = seed_sessions(store, tmp_path, sessions=4, repairs=2)
    _runner(store, tmp_path, 0).run("stale-views")
    victim = seeded[2].session_id
    view = store.get_view(victim)
    assert view is not None
    message = sorted(k for k, v in view.parents.items() if v is not None)[5]
    # Someone rewrites one parent in the stored view directly, digest untouched.
    edited = dict(view.parents) | {message: None}
    store.recorder.conn.run(
        "UPDATE $vid SET parents = $p",
        {"vid": RecordID("sessions_materialized", victim), "p": orjson.dumps(edited).decode()},
    )
    run = _runner(store, tmp_path, 1, job_spot_check_sessions=10).run("spot-check")
    assert run.outcome == "problems"
    assert run.details["drifted"] == [victim]
    marked = store.get_view(victim)
    assert marked is not None and marked.drift_detected
    assert marked.drift_report is not None and message in marked.drift_report["view_parents_differ"]
    others = [store.get_view(s.session_id) for s in seeded if s.session_id != victim]
    assert not any(v is not None and v.drift_detected for v in others)


def test_a_transcript_edited_outside_riff_is_drift(store: EventLog, tmp_path: Path) -> None:
    seeded = seed_sessions(store, tmp_path, sessions=2, repairs=1)
    _runner(store, tmp_path, 0).run("stale-views")
    path = seeded[0].path
    lines = path.read_bytes().splitlines(keepends=True)
    path.write_bytes(b"".join(lines[: len(lines) // 2]))  # truncated on disk
    run = _runner(store, tmp_path, 3, job_spot_check_sessions=2).run("spot-check")
    assert run.details["drifted"] == [seeded[0].session_id]
    entry = next(e for e in run.details["sessions"] if e["session_id"] == seeded[0].session_id)
    assert entry["file_digest"] != entry["stored_digest"]
