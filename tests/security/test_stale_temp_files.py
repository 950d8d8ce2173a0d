"""Low: a kill during `repair --write` leaves a temp file; the next write removes it (issue 13)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from riff.transcript.reader import read_transcript
from riff.transcript.write import apply_parent_changes

LINE = b'{"type":"user","parentUuid":"abc","uuid":"m","message":{"role":"user","content":"x"}}\n'

# A writer killed midway: it creates its temp file the way riff does, then dies.
KILLED_WRITER = """
import sys, time
from pathlib import Path
from riff.transcript.reader import read_transcript
from riff.transcript import write

path = Path(sys.argv[1])
def hang(*args, **kwargs):
    print("temp written", flush=True)
    time.sleep(60)
write.os.replace = hang
write.apply_parent_changes(path, {"m": None}, read_transcript(path).fingerprint, backup=False)
"""


def _temps(directory: Path) -> list[Path]:
    return sorted(p for p in directory.iterdir() if p.name.endswith(".riff-tmp"))


def test_the_temp_file_of_a_killed_write_is_removed_by_the_next_write(tmp_path: Path) -> None:
    path = tmp_path / "s.jsonl"
    path.write_bytes(LINE)
    writer = subprocess.Popen(
        [sys.executable, "-c", KILLED_WRITER, str(path)], stdout=subprocess.PIPE, text=True
    )
    assert writer.stdout is not None and writer.stdout.readline().strip() == "temp written"
    [left] = _temps(tmp_path)
    assert left.stat().st_size == len(LINE) - 1  # "abc" became null
    other = tmp_path / "other.jsonl"
    other.write_bytes(LINE)
    apply_parent_changes(other, {"m": None}, read_transcript(other).fingerprint, backup=False)
    assert _temps(tmp_path) == [left]  # its writer is alive: left alone
    writer.send_signal(signal.SIGKILL)
    writer.wait()
    apply_parent_changes(path, {"m": None}, read_transcript(path).fingerprint, backup=False)
    assert _temps(tmp_path) == []
    assert path.read_bytes() == LINE.replace(b'"abc"', b"null")


def test_an_old_temp_file_without_a_pid_is_removed_after_an_hour(tmp_path: Path) -> None:
    path = tmp_path / "s.jsonl"
    path.write_bytes(LINE)
    old = tmp_path / ".s.jsonl.k3j_x9.riff-tmp"
    recent = tmp_path / ".s.jsonl.q7w_e2.riff-tmp"
    for temp in (old, recent):
        temp.write_bytes(LINE)
    hour_ago = time.time() - 3700
    os.utime(old, (hour_ago, hour_ago))
    apply_parent_changes(path, {"m": None}, read_transcript(path).fingerprint, backup=False)
    assert _temps(tmp_path) == [recent]
