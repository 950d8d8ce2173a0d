"""The line check's read of a transcript in a forked child gives what reading it here does
(riff.app.file_reading). Run in a fresh interpreter: a test worker has threads, and a
process with threads does not fork (start() returns None then, also tested)."""

from __future__ import annotations

import subprocess
import sys
import threading
from pathlib import Path

from riff.app.file_reading import BackgroundReading
from riff.testing.synthetic import generate_session

_PROBE = """
import sys
from pathlib import Path
from riff.app.file_reading import BackgroundReading
from riff.transcript.line_check import read_every_line
for name in sys.argv[1:]:
    path = Path(name)
    reading = BackgroundReading.start(path)
    assert reading is not None, "a single-threaded process forks"
    assert reading.result() == read_every_line(path), name
    assert reading.result() is None  # asked once: the child is gone
    stopped = BackgroundReading.start(path)
    assert stopped is not None
    stopped.stop()  # killed or done: reaped either way
    assert stopped.result() is None
print("ok")
"""


def test_the_child_reads_what_this_process_would(tmp_path: Path) -> None:
    healthy = tmp_path / "healthy.jsonl"
    healthy.write_bytes(generate_session(200, seed=1).to_bytes())
    refused = tmp_path / "refused.jsonl"  # a line orjson refuses (the reader takes it)
    refused.write_bytes(healthy.read_bytes() + b'{"uuid":"x","n":1e400}\n')
    nul = tmp_path / "nul.jsonl"
    nul.write_bytes(healthy.read_bytes() + b"\x00\x00\n")
    result = subprocess.run(
        [sys.executable, "-c", _PROBE, str(healthy), str(refused), str(nul)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "ok"


def test_a_process_with_threads_does_not_fork(tmp_path: Path) -> None:
    path = tmp_path / "s.jsonl"
    path.write_bytes(generate_session(20, seed=2).to_bytes())
    stop = threading.Event()
    other = threading.Thread(target=stop.wait)
    other.start()
    try:
        assert BackgroundReading.start(path) is None
    finally:
        stop.set()
        other.join()
