"""`riff watch --json` as a real process: a break written into a transcript is reported."""

from __future__ import annotations

import os
import queue
import signal
import subprocess
import sys
import threading
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import orjson
import pytest

from riff.app.demo import DemoSession
from tests.hooks.conftest import pick, wait_until

RIFF = Path(sys.executable).with_name("riff")
BOUND_SECONDS = 120  # generous: the suite shares two cores with other work


class Watcher:
    """A running `riff watch --json` and the JSON lines it has printed."""

    def __init__(self, proc: subprocess.Popen[bytes]) -> None:
        self.proc = proc
        self.lines: queue.Queue[dict[str, Any]] = queue.Queue()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for raw in self.proc.stdout:
            self.lines.put(orjson.loads(raw))

    def wait_for(self, wanted: Callable[[dict[str, Any]], bool]) -> dict[str, Any]:
        """The first line `wanted` accepts; fails if the watcher exits or is silent too long."""
        found: list[dict[str, Any]] = []

        def arrived() -> bool:
            if self.proc.poll() is not None:
                pytest.fail("riff watch exited")
            try:
                line = self.lines.get(timeout=0.5)
            except queue.Empty:
                return False
            if wanted(line):
                found.append(line)
            return bool(found)

        wait_until(arrived, "riff watch printed it", bound=BOUND_SECONDS)
        return found[0]


@pytest.fixture
def watcher(demo: list[DemoSession], riff_env: dict[str, str]) -> Iterator[Watcher]:
    proc = subprocess.Popen(
        [str(RIFF), "watch", "--json", "--debounce-ms", "200"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        yield Watcher(proc)
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.wait()


def append_dangling_row(path: Path) -> str:
    """What a broken write looks like: a new row whose parent is nowhere in the file."""
    last = orjson.loads(path.read_bytes().rstrip(b"\n").rsplit(b"\n", 1)[-1])
    row = {
        **last,
        "uuid": str(uuid.uuid4()),
        "parentUuid": str(uuid.uuid4()),
        "type": "user",
        "message": {"role": "user", "content": "and now?"},
    }
    with path.open("ab") as handle:
        handle.write(orjson.dumps(row) + b"\n")
    return str(row["uuid"])


def test_a_break_written_while_watching_is_reported(
    watcher: Watcher, demo: list[DemoSession]
) -> None:
    ready = watcher.wait_for(lambda line: line["event"] == "ready")
    assert ready["sessions"] == len(demo) and ready["sessions_with_findings"] == 4

    healthy = pick(demo, ())
    orphan = append_dangling_row(healthy.path)
    change = watcher.wait_for(
        lambda line: line["event"] == "changed" and line["session_id"] == healthy.session_id
    )
    assert [(f["kind"], f["message_ids"]) for f in change["new"]] == [("orphan", [orphan])]
    assert change["repair"] == f"riff repair {healthy.session_id} --write"
    assert change["resolved"] == []

    # Ctrl-C ends it cleanly: exit 0, no traceback.
    watcher.proc.send_signal(signal.SIGINT)
    assert watcher.proc.wait(timeout=BOUND_SECONDS) == 0
    assert watcher.proc.stderr is not None
    assert b"Traceback" not in watcher.proc.stderr.read()


def test_a_repaired_and_a_removed_session_are_reported(
    watcher: Watcher, demo: list[DemoSession]
) -> None:
    watcher.wait_for(lambda line: line["event"] == "ready")
    torn = pick(demo, ("malformed_line", "truncated_line"))
    broken = pick(demo, ("orphan", "orphan"))
    lines = torn.path.read_bytes().split(b"\n")
    good = [line for line in lines if line.strip() and _parses(line)]
    torn.path.write_bytes(b"\n".join(good) + b"\n")
    change = watcher.wait_for(
        lambda line: line["event"] == "changed" and line["session_id"] == torn.session_id
    )
    assert {f["kind"] for f in change["resolved"]} >= {"malformed_line", "truncated_line"}
    os.unlink(broken.path)
    gone = watcher.wait_for(lambda line: line["event"] == "removed")
    assert gone["session_id"] == broken.session_id
    assert {f["kind"] for f in gone["resolved"]} == {"orphan"}


def _parses(line: bytes) -> bool:
    try:
        orjson.loads(line)
    except orjson.JSONDecodeError:
        return False
    return True
