"""Live-file safety: riff does not rewrite a transcript another process is writing.

Real child processes hold the file open; the check reads /proc (Linux) and
the file's mtime. A reader must not block a write; a writer must, with one
line naming the process, until --force-live.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from riff.app.demo import DemoSession
from riff.app.live_files import (
    LiveFileError,
    live_reason,
    note_own_write,
    refuse_if_live,
    writers_of,
)
from tests.cli.test_end_to_end import riff, riff_json

needs_proc = pytest.mark.skipif(not Path("/proc/self/fdinfo").is_dir(), reason="no /proc")


@contextmanager
def holding(path: Path, mode: str) -> Iterator[subprocess.Popen[str]]:
    """A child process that opens `path` in `mode` and keeps it open until killed."""
    proc = subprocess.Popen(
        [
            sys.executable,
            "-c",
            f"f = open({str(path)!r}, {mode!r}); print('open', flush=True); "
            "import sys; sys.stdin.read()",
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None and proc.stdout.readline().strip() == "open"
        yield proc
    finally:
        proc.kill()
        proc.wait()


def age(path: Path, seconds: float = 60) -> None:
    past = time.time() - seconds
    os.utime(path, (past, past))


def broken(demo_sessions: list[DemoSession]) -> DemoSession:
    return next(s for s in demo_sessions if s.breakages)


@needs_proc
def test_a_writer_is_named_and_a_reader_is_not(tmp_path: Path) -> None:
    path = tmp_path / "s.jsonl"
    path.write_bytes(b"{}\n")
    age(path)
    with holding(path, "rb"):
        assert writers_of(path) == []
        assert live_reason(path) is None
        refuse_if_live(path)  # a reader (tail -f, an editor viewing it) does not block
    with holding(path, "ab") as proc:
        writers = writers_of(path)
        assert [w.pid for w in writers] == [proc.pid]
        assert "python" in writers[0].command
        with pytest.raises(LiveFileError) as refused:
            refuse_if_live(path)
        message = str(refused.value)
        assert f"process {proc.pid} (" in message and "--force-live" in message
        assert "\n" not in message
        refuse_if_live(path, force_live=True)
    with holding(path, "r+b") as proc:
        assert [w.pid for w in writers_of(path)] == [proc.pid]


def test_a_file_changed_a_moment_ago_is_live(tmp_path: Path) -> None:
    path = tmp_path / "s.jsonl"
    path.write_bytes(b"{}\n")
    reason = live_reason(path, quiet_seconds=3600)
    assert reason is not None and "changed" in reason
    with pytest.raises(LiveFileError, match="quiet for 3600 s"):
        refuse_if_live(path, quiet_seconds=3600)
    age(path, 7200)
    refuse_if_live(path, quiet_seconds=3600)


@needs_proc
def test_repair_write_refuses_a_file_open_for_writing(
    demo_sessions: list[DemoSession],
) -> None:
    target = broken(demo_sessions)
    before = target.path.read_bytes()
    with holding(target.path, "ab") as proc:
        refused = riff("repair", target.session_id, "--write", "--yes")
        assert refused.exit_code == 2
        lines = refused.stderr.strip().splitlines()
        assert len(lines) == 1 and str(proc.pid) in lines[0] and "--force-live" in lines[0]
        assert target.path.read_bytes() == before  # nothing written
        assert riff_json("log", target.session_id)["events"] == []  # nothing recorded

        forced = riff_json("repair", target.session_id, "--write", "--yes", "--force-live")
        assert forced["written"] is True and forced["events"]
    assert target.path.read_bytes() != before


@needs_proc
def test_a_reader_does_not_block_repair_and_revert(demo_sessions: list[DemoSession]) -> None:
    target = broken(demo_sessions)
    before = target.path.read_bytes()
    with holding(target.path, "rb"):
        done = riff_json("repair", target.session_id, "--write", "--yes")
        assert done["written"] is True
        undone = riff_json("revert", done["events"][-1]["event_id"], "--write")
        assert undone["written"] is True
    assert target.path.read_bytes() != before  # one repair of the plan is still in effect


def test_the_quiet_window_comes_from_the_settings(
    demo_sessions: list[DemoSession], monkeypatch: pytest.MonkeyPatch
) -> None:
    target = broken(demo_sessions)
    before = target.path.read_bytes()
    monkeypatch.setenv("RIFF_LIVE_QUIET_SECONDS", "3600")
    refused = riff("repair", target.session_id, "--write", "--yes")
    assert refused.exit_code == 2 and "changed" in refused.stderr
    assert target.path.read_bytes() == before
    age(target.path, 7200)
    assert riff_json("repair", target.session_id, "--write", "--yes")["written"] is True


def test_a_change_riff_made_itself_is_not_live_but_one_after_it_is(tmp_path: Path) -> None:
    path = tmp_path / "s.jsonl"
    path.write_bytes(b"{}\n")
    note_own_write(path)  # as after riff's own atomic replace
    refuse_if_live(path, quiet_seconds=3600)  # an undo right after a repair goes ahead
    with path.open("ab") as handle:  # then another writer appends
        handle.write(b"{}\n")
    with pytest.raises(LiveFileError, match="changed"):
        refuse_if_live(path, quiet_seconds=3600)
