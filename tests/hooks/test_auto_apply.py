"""`riff guard --auto`: sure repairs only, as riff-guard events, never while the file is written."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson
import pytest
from typer.testing import CliRunner

from riff.app.demo import DemoSession
from riff.app.guard import apply_auto_repairs, apply_when_quiet
from riff.app.live_files import live_reason, writers_of
from riff.cli.main import app
from riff.settings import Settings
from tests.hooks.conftest import hook_input, pick, wait_until

RIFF = Path(sys.executable).with_name("riff")
ORPHANS = ("orphan", "orphan")


def age(path: Path, seconds: float = 60) -> None:
    """Make the file look untouched for a while (as after Claude Code has gone quiet)."""
    past = time.time() - seconds
    os.utime(path, (past, past))


def log_events(session_id: str) -> list[dict[str, Any]]:
    done = CliRunner().invoke(app, ["log", session_id, "--json"])
    assert done.exit_code == 0, done.output
    events: list[dict[str, Any]] = orjson.loads(done.stdout)["events"]
    return events


def scan_kinds(path: Path) -> list[str]:
    done = CliRunner().invoke(app, ["scan", str(path), "--json"])
    return [f["kind"] for f in orjson.loads(done.stdout)["sessions"][0]["findings"]]


@pytest.fixture
def writer(demo: list[DemoSession]) -> Iterator[tuple[subprocess.Popen[str], Path]]:
    """Another process holding the broken transcript open for appending, as a writer would."""
    path = pick(demo, ORPHANS).path
    proc = subprocess.Popen(
        [
            sys.executable,
            "-c",
            f"f = open({str(path)!r}, 'ab'); print('open', flush=True); "
            "import time; time.sleep(300)",
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None and proc.stdout.readline().strip() == "open"
    try:
        yield proc, path
    finally:
        proc.kill()
        proc.wait()


def test_a_file_open_for_writing_is_left_alone(
    writer: tuple[subprocess.Popen[str], Path], settings: Settings
) -> None:
    proc, path = writer
    age(path)
    before = path.read_bytes()
    assert [w.pid for w in writers_of(path)] == [proc.pid]
    reason = live_reason(path)
    assert reason is not None and str(proc.pid) in reason
    result = apply_auto_repairs(settings, path)
    assert result.applied == 0 and result.skipped and "open for writing" in result.skipped
    assert path.read_bytes() == before


def test_a_file_changed_seconds_ago_is_left_alone(
    demo: list[DemoSession], settings: Settings
) -> None:
    path = pick(demo, ORPHANS).path
    before = path.read_bytes()
    result = apply_auto_repairs(settings, path, quiet_seconds=30)
    assert result.skipped and "changed" in result.skipped
    assert path.read_bytes() == before


def test_a_quiet_file_gets_the_sure_repairs_as_riff_guard_events(
    demo: list[DemoSession], settings: Settings
) -> None:
    broken = pick(demo, ORPHANS)
    age(broken.path)
    original = broken.path.read_bytes()
    result = apply_auto_repairs(settings, broken.path)
    assert result.skipped is None and result.applied == 2 and result.refused == 0
    assert result.backup is not None and Path(result.backup).read_bytes() == original
    events = log_events(broken.session_id)
    assert [e["operator"] for e in events] == ["riff-guard", "riff-guard"]
    truths = {t.message_id: t.true_parent for t in broken.truths}
    assert {e["message_id"]: e["new_parent_uuid"] for e in events} == truths
    assert "orphan" not in scan_kinds(broken.path)


def test_repairs_below_the_threshold_are_not_applied(
    demo: list[DemoSession], riff_env: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from riff.settings import load_settings
    from riff.transcript.suggest import CALIBRATION

    # Above the highest score the calibration gives: nothing is sure enough.
    monkeypatch.setenv("RIFF_MIN_SCORE", str(CALIBRATION[-1][1] + 0.0001))
    strict = load_settings()
    broken = pick(demo, ORPHANS)
    age(broken.path)
    before = broken.path.read_bytes()
    result = apply_auto_repairs(strict, broken.path)
    assert result.applied == 0
    assert broken.path.read_bytes() == before


def test_the_deferred_apply_waits_for_claude_code_to_exit(
    demo: list[DemoSession], settings: Settings
) -> None:
    broken = pick(demo, ORPHANS)
    age(broken.path)
    claude = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(1.5)"])
    result = apply_when_quiet(
        settings,
        broken.path,
        wait_for_pid=claude.pid,
        quiet_seconds=0,
        poll_seconds=0.1,
        max_wait_seconds=120,
    )
    assert claude.poll() is not None  # it applied only once the process had ended
    assert result.applied == 2


def test_guard_auto_from_a_hook_repairs_after_the_session_is_over(
    demo: list[DemoSession], riff_env: dict[str, str]
) -> None:
    broken = pick(demo, ORPHANS)
    # Claude Code runs hooks through a shell; here a short-lived Python stands in for it.
    fake_claude = (
        "import subprocess, sys\n"
        f"done = subprocess.run(['sh', '-c', {str(RIFF)!r} + ' guard --auto'],\n"
        "                      input=sys.stdin.buffer.read(), capture_output=True)\n"
        "sys.stdout.buffer.write(done.stdout)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", fake_claude],
        input=hook_input("SessionEnd", broken, reason="prompt_input_exit"),
        capture_output=True,
        timeout=120,
        check=True,
    )
    assert "--auto applies" in orjson.loads(done.stdout)["systemMessage"]
    log = Path(riff_env["RIFF_DATA_DIR"]) / "guard.log"
    wait_until(lambda: log.exists() and "applied" in log.read_text(), "guard --auto applied")
    assert "applied 2 repair(s)" in log.read_text()
    assert [e["operator"] for e in log_events(broken.session_id)] == ["riff-guard"] * 2
    assert "orphan" not in scan_kinds(broken.path)
