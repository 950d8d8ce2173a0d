"""SIGKILL during a large append: the batch is all there or not there at all."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from riff.app.stores import open_event_store as open_store
from riff.events import validate_event_immutability
from tests.store.helpers import kv_settings
from tests.waiting import HANG_LIMIT

BATCH = 2000
CHILD = textwrap.dedent(
    """
    import sys
    from pathlib import Path
    sys.path.insert(0, sys.argv[3])
    from riff.settings import Settings
    from riff.app.stores import open_event_store as open_store
    from tests.store.helpers import chain_drafts
    store = open_store(Settings(db_url=sys.argv[1], data_dir=Path(sys.argv[2])))
    head = store.head("big")
    drafts = chain_drafts(int(sys.argv[4]), offset=head.seq)
    print("ready", flush=True)
    store.append("big", drafts)
    print("done", flush=True)
    store.close()
    """
)


def _run_child(settings_url: str, data_dir: Path, kill_after: float | None) -> str:
    root = str(Path(__file__).resolve().parents[2])
    child = subprocess.Popen(
        [sys.executable, "-c", CHILD, settings_url, str(data_dir), root, str(BATCH)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONPATH": root},
    )
    try:
        assert child.stdout is not None
        line = child.stdout.readline().strip()
        if line != "ready":
            child.kill()
            _, err = child.communicate(timeout=HANG_LIMIT)
            raise AssertionError(f"child did not start: {line!r}; stderr: {err[-2000:]}")
        if kill_after is None:
            _, err = child.communicate(timeout=HANG_LIMIT)
            assert child.returncode == 0, err[-2000:]
            return "finished"
        # Where in the append the kill lands is left to chance: both outcomes are checked.
        time.sleep(kill_after)
        child.send_signal(signal.SIGKILL)
        child.communicate(timeout=HANG_LIMIT)
        return "killed"
    finally:
        if child.poll() is None:  # a hang: never leave the child behind
            child.kill()
            child.communicate()


@pytest.mark.slow
def test_sigkill_mid_append_is_all_or_nothing(tmp_path: Path) -> None:
    settings = kv_settings(tmp_path)
    rng = random.Random(20261126)
    start = time.perf_counter()
    _run_child(settings.resolved_db_url, tmp_path, None)  # a committed batch to start from
    batch_seconds = time.perf_counter() - start
    expected_seq = BATCH
    outcomes: list[str] = []
    for _ in range(5):
        _run_child(settings.resolved_db_url, tmp_path, rng.uniform(0.0, batch_seconds))
        with open_store(settings) as store:
            seq = store.head("big").seq
            events = list(store.events("big"))
            assert seq in (expected_seq, expected_seq + BATCH), seq
            assert len(events) == seq and [e.seq for e in events] == list(range(1, seq + 1))
            result = validate_event_immutability(events)
            assert result.ok, result.breaks[:3]
            outcomes.append("present" if seq > expected_seq else "absent")
            expected_seq = seq
    assert outcomes  # which outcome each kill produced depends on timing; both are valid
