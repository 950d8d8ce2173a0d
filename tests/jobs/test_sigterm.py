"""SIGTERM during a job (a real subprocess on a surrealkv store) leaves the store consistent."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

from riff.app.integrity import verify_database
from riff.app.stores import open_event_store
from riff.app.viewstore import rebuild
from riff.jobs import job_runs
from riff.views import read_source
from tests.jobs.helpers import kv_settings, seed_sessions
from tests.waiting import HANG_LIMIT

CHILD = textwrap.dedent(
    """
    import sys, time
    from pathlib import Path
    from riff.jobs import JobRunner, default_store_factory, run_once
    from riff.settings import Settings
    settings = Settings(db_url=sys.argv[1], data_dir=Path(sys.argv[2]))

    def progress(message):
        print("step", message, flush=True)
        # The test signals on reading this line: hold the job after its first unit
        # until the signal has landed, so the stop comes mid-job on any machine.
        while not runner.stop.is_set():
            time.sleep(0.01)

    runner = JobRunner(settings, default_store_factory(settings), progress=progress)
    print("ready", flush=True)
    run = run_once(runner, "stale-views")
    print("outcome", run.outcome, flush=True)
    """
)


def test_sigterm_mid_job_stops_cleanly_and_leaves_the_store_consistent(tmp_path: Path) -> None:
    settings = kv_settings(tmp_path, job_stale_batch=20)
    with open_event_store(settings) as store:
        seeded = seed_sessions(store, tmp_path, sessions=12, repairs=1, messages=20)
    root = str(Path(__file__).resolve().parents[2])
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([*sys.path, root])}
    child = subprocess.Popen(
        [sys.executable, "-c", CHILD, settings.resolved_db_url, str(tmp_path)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    try:
        assert child.stdout is not None
        lines = [child.stdout.readline().strip(), child.stdout.readline().strip()]
        if not lines[1].startswith("step"):
            child.kill()
            _, err = child.communicate(timeout=HANG_LIMIT)
            raise AssertionError(f"child did not start: {lines!r}; stderr: {err[-2000:]}")
        child.send_signal(signal.SIGTERM)
        out, err = child.communicate(timeout=HANG_LIMIT)
    finally:
        if child.poll() is None:  # a hang: never leave the child behind
            child.kill()
            child.communicate()
    assert child.returncode == 0, err[-2000:]
    assert "outcome interrupted" in out, out
    with open_event_store(settings) as store:
        run = job_runs(store, "stale-views")[0]
        assert run.outcome == "interrupted"
        done = {v["session_id"] for v in run.details["views"]}
        assert len(done) == 1  # the unit in progress when the signal came, nothing after
        summaries = {v["session_id"]: v for v in store.view_summaries()}
        for s in seeded:
            view = store.get_view(s.session_id)
            assert view is not None
            assert view.is_stale == (s.session_id not in done)
            if s.session_id in done:
                fresh = rebuild(store, s.session_id, read_source(s.path), save=False)
                assert view.materialization_digest == fresh.materialization_digest
        assert len(summaries) == len(seeded)
        assert verify_database(store).ok
