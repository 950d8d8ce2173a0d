"""Every bad input a user can give: one line on stderr, exit 2, nothing changed."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from riff.app.demo import DemoSession
from riff.app.repairs import apply_plan, plan_repairs
from riff.app.sessions import load_session
from riff.app.workspace import Workspace
from riff.cli.app import app
from riff.settings import load_settings
from riff.transcript import TranscriptChangedError
from tests.waiting import HANG_LIMIT

runner = CliRunner()


def _fails_cleanly(*args: str, fragment: str) -> None:
    result = runner.invoke(app, list(args))
    assert result.exit_code == 2, (result.exit_code, result.output)
    assert "Traceback" not in result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error:"), result.stderr
    assert fragment in lines[0]


def test_missing_session(demo_sessions: list[DemoSession]) -> None:
    _fails_cleanly("suggest", "no-such-session", fragment="no-such-session")
    _fails_cleanly("repair", "ffffffff", "--yes", fragment="ffffffff")


def test_unknown_event(demo_sessions: list[DemoSession]) -> None:
    _fails_cleanly("revert", "01a2ffff-0000-7000-8000-000000000000", "--yes",
                   fragment="riff log")  # fmt: skip


def test_bad_database_url(demo_sessions: list[DemoSession]) -> None:
    _fails_cleanly("--db", "postgres://x", "log", fragment="postgres://x")
    _fails_cleanly("--db", "ws://127.0.0.1:9", "log", fragment="ws://127.0.0.1:9")


def test_unreadable_and_missing_files(tmp_path: Path, riff_env: dict[str, str]) -> None:
    _fails_cleanly("verify", str(tmp_path), fragment=str(tmp_path))
    _fails_cleanly("scan", str(tmp_path / "nope.jsonl"), fragment="nope.jsonl")
    _fails_cleanly("--projects-dir", str(tmp_path / "none"), "scan", fragment="riff demo")


def test_a_path_that_is_no_file_is_named_for_what_it_is(
    tmp_path: Path, riff_env: dict[str, str]
) -> None:
    # Reading a pipe or a device would block or never end; a dangling link is not "missing".
    Path(riff_env["RIFF_PROJECTS_DIR"]).mkdir()
    pipe = tmp_path / "pipe.jsonl"
    os.mkfifo(pipe)
    dangling = tmp_path / "dangling.jsonl"
    dangling.symlink_to(tmp_path / "nowhere")
    loop = tmp_path / "loop.jsonl"
    loop.symlink_to(loop)
    cases = [
        (pipe, "a named pipe, not a file"),
        (Path("/dev/null"), "a character device, not a file"),
        (dangling, "a symlink that leads nowhere"),
        (loop, "cannot be read"),
    ]
    for path, what in cases:
        for command in ("scan", "show", "suggest", "repair"):
            _fails_cleanly(command, str(path), fragment=f"{path}: {what}")
    _fails_cleanly("show", str(tmp_path), fragment="a directory, not a file")


def test_bad_config_value(riff_env: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RIFF_MIN_SCORE", "high")
    result = runner.invoke(app, ["log"])
    assert result.exit_code == 2 and "RIFF_MIN_SCORE" in result.stderr


def test_store_in_use_by_another_process(demo_sessions: list[DemoSession]) -> None:
    holder = subprocess.Popen(
        [sys.executable, "-c",
         "import sys\n"
         "from riff.settings import load_settings\n"
         "from riff.store import open_store\n"
         "store = open_store(load_settings())\n"
         "print('ready', flush=True)\n"
         "sys.stdin.readline()\n"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        env=os.environ.copy(),
    )  # fmt: skip
    try:
        assert holder.stdout is not None
        assert holder.stdout.readline().strip() == b"ready"
        # In a process of its own: a riff that waited for the lock instead of failing
        # would run into the hang bound here rather than block the suite.
        result = subprocess.run(
            [sys.executable, "-m", "riff.cli.main", "log"],
            capture_output=True,
            text=True,
            timeout=HANG_LIMIT,
            env=os.environ.copy(),
        )
        assert result.returncode == 2, (result.returncode, result.stdout, result.stderr)
        assert "Traceback" not in result.stdout + result.stderr
        lines = result.stderr.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("error:"), result.stderr
        assert f"in use by process {holder.pid}" in lines[0]
    finally:
        holder.kill()
        holder.wait()
    assert runner.invoke(app, ["log"]).exit_code == 0  # released when the holder died


def test_transcript_changed_during_repair_changes_nothing(
    demo_sessions: list[DemoSession],
) -> None:
    target = next(s for s in demo_sessions if "orphan" in s.breakages)
    with Workspace(load_settings()) as ws:
        state = load_session(ws, target.session_id)
        plan = plan_repairs(state, min_score=0.0)
        assert plan.items
        # Claude Code appends a line after riff read the file.
        with target.path.open("ab") as fh:
            fh.write(b'{"type":"queue-operation","operation":"enqueue"}\n')
        before = target.path.read_bytes()
        with pytest.raises(TranscriptChangedError, match="changed since it was read"):
            apply_plan(ws, plan, operator="alice", write=True)
        assert list(ws.store.all_events()) == []
        assert target.path.read_bytes() == before
